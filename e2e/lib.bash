# JUnit bookkeeping and Kubernetes waits for the end-to-end suite. Sourced by e2e/run.

# shellcheck source=../scripts/lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/common.bash"

E2E_CASES=()      # <testcase> elements, in run order
E2E_FAILED=0
E2E_LOG_DIR="${E2E_LOG_DIR:-$REPO_ROOT/build/e2e-logs}"
mkdir -p "$E2E_LOG_DIR"

xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }

# run_case SUITE NAME COMMAND...: runs COMMAND (errexit on) with its output in a log,
# records a <testcase>; the log's tail becomes the failure message; sets CASE_STATUS.
# Call it as a plain statement, never inside if/&&/||: bash ignores errexit in
# everything a condition runs, so a failing step inside COMMAND would go unnoticed.
run_case() {
  local suite=$1 name=$2; shift 2
  local log started status elapsed
  log="$E2E_LOG_DIR/${suite//[^a-zA-Z0-9]/-}--${name//[^a-zA-Z0-9]/-}.log"
  started=$(date +%s.%N)
  ( set -euo pipefail; "$@" ) >"$log" 2>&1
  status=$?
  # shellcheck disable=SC2034  # read by the caller
  CASE_STATUS=$status
  elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
  local xml
  xml="<testcase classname=\"e2e.$(xml_escape <<<"$suite")\" name=\"$(xml_escape <<<"$name")\" time=\"$elapsed\">"
  if ((status == 0)); then
    info "ok    $suite: $name (${elapsed%.*} s)"
  else
    E2E_FAILED=$((E2E_FAILED + 1))
    info "FAIL  $suite: $name (${elapsed%.*} s; log $log)"
    tail -15 "$log" | sed 's/^/        | /' >&2
    xml+="<failure message=\"exit $status\">$(tail -40 "$log" | xml_escape)</failure>"
  fi
  E2E_CASES+=("$xml</testcase>")
}

# skip_case SUITE NAME REASON: records a skipped case (an earlier step it needs failed).
skip_case() {
  info "skip  $1: $2 ($3)"
  E2E_CASES+=("<testcase classname=\"e2e.$(xml_escape <<<"$1")\" name=\"$(xml_escape <<<"$2")\"><skipped message=\"$(xml_escape <<<"$3")\"/></testcase>")
}

write_report() {
  local file=$1
  mkdir -p "$(dirname "$file")"
  {
    printf '<?xml version="1.0" encoding="UTF-8"?>\n'
    printf '<testsuite name="e2e" tests="%d" failures="%d">\n' "${#E2E_CASES[@]}" "$E2E_FAILED"
    printf '%s\n' "${E2E_CASES[@]}"
    printf '</testsuite>\n'
  } >"$file"
}

# wait_pods_ready NAMESPACE SELECTOR COUNT TIMEOUT_S: COUNT pods exist and all are Ready.
wait_pods_ready() {
  local ns=$1 selector=$2 want=$3 timeout=$4 deadline ready total
  deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    # A pod being deleted (the old reconciler pod after a rollout) is on its way out: not counted.
    read -r total ready < <(kubectl -n "$ns" get pods -l "$selector" -o json 2>/dev/null |
      jq -r '[.items[] | select(.metadata.deletionTimestamp == null)] |
        "\(length) \([.[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length)"' ||
      echo "0 0")
    if ((total == want && ready == want)); then
      echo "$want/$want pods Ready ($selector)"
      return 0
    fi
    sleep 2
  done
  echo "timed out after $timeout s: $ready of $want pods Ready ($total exist) for $selector"
  kubectl -n "$ns" get pods -o wide || true
  kubectl -n "$ns" get events --sort-by=.lastTimestamp | tail -20 || true
  return 1
}

# kill_container NAMESPACE POD CONTAINER: SIGKILL to the container's processes, like
# kill -9 on the node. On the local cluster through its containerd (no tool needed
# in the image); on another cluster through `kubectl exec ... kill -9 1`.
kill_container() {
  local ns=$1 pod=$2 container=$3 id sock="$VALKEY_K8S_CACHE/cluster/containerd/containerd.sock"
  id=$(kubectl -n "$ns" get pod "$pod" -o jsonpath="{.status.containerStatuses[?(@.name==\"$container\")].containerID}")
  [[ -n "$id" ]] || { echo "pod $ns/$pod has no running container $container"; return 1; }
  if [[ "$KUBECONFIG" == "$VALKEY_K8S_CACHE/cluster/kubeconfig" && -S "$sock" ]]; then
    ctr --address "$sock" --namespace k8s.io tasks kill --all --signal SIGKILL "${id#containerd://}"
  else
    kubectl -n "$ns" exec "$pod" -c "$container" -- sh -c 'kill -9 1'
  fi
  echo "killed $container in $ns/$pod (${id#*://})"
}

# restart_count NAMESPACE POD CONTAINER
restart_count() {
  kubectl -n "$1" get pod "$2" -o jsonpath="{.status.containerStatuses[?(@.name==\"$3\")].restartCount}"
}
