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
  log="${name//[^a-zA-Z0-9]/-}"
  # A file name has at most 255 bytes: the longest case names are cut (their start stays unique).
  log="$E2E_LOG_DIR/${suite//[^a-zA-Z0-9]/-}--${log:0:160}.log"
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

# pod_states: "name uid container=restarts,..." of every data pod in $NS, sorted by name.
pod_states() {
  kubectl -n "$NS" get pods -l app.kubernetes.io/component=valkey -o \
    jsonpath='{range .items[*]}{.metadata.name} {.metadata.uid} {range .status.containerStatuses[*]}{.name}={.restartCount},{end}{"\n"}{end}' |
    sort
}

# unchanged_pods BEFORE AFTER: every pod in both lists kept its UID and restart counts.
unchanged_pods() {
  join <(printf '%s\n' "$1") <(printf '%s\n' "$2") |
    awk '$2 != $4 || $3 != $5 { printf "pod %s restarted or replaced: uid %s -> %s, restarts %s -> %s\n", $1, $2, $4, $3, $5; bad = 1 }
         END { exit bad }'
}

# same_pods BEFORE AFTER: the same data pods, none restarted or replaced (prints them).
same_pods() {
  [[ "$(awk '{print $1}' <<<"$1")" == "$(awk '{print $1}' <<<"$2")" ]] ||
    { echo "the data pods changed:"; diff <(echo "$1") <(echo "$2") || true; return 1; }
  unchanged_pods "$1" "$2" || return 1
  echo "no data pod restarted or replaced (same UIDs, restart counts):"
  echo "$2"
}

# save_reconciler_logs NAME [KUBECTL-LOGS-ARGS...]: every reconciler pod's log of this release
# to $E2E_LOG_DIR/reconciler-NAME.log, for whoever studies a step afterwards.
save_reconciler_logs() {
  local name=$1; shift
  kubectl -n "$NS" logs -l "app.kubernetes.io/component=reconciler,app.kubernetes.io/instance=$RELEASE" \
    --prefix --tail=-1 "$@" >"$E2E_LOG_DIR/reconciler-$name.log" 2>&1 || true
}
