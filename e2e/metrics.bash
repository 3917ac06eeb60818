# Metrics scenarios for e2e/run (sourced after e2e/lib.bash and e2e/failover.bash), for a
# suite whose release has metrics.enabled. A real Prometheus (Debian's 3.x,
# scripts/tools/prometheus.bash) and kube-state-metrics (built by scripts/setup) run on
# the host for the suite. Prometheus finds the pods through the cluster's API with the
# chart's own scrape jobs (chart/files/monitoring/prometheus-scrape.yaml, plus the
# cluster's kubeconfig and the suite's namespace), scrapes them by pod IP (the host
# routes to the local cluster's pod network) and evaluates the chart's alert rules
# (files/monitoring/valkey-rules.yaml) as they are shipped.
#
# metrics_begin (right after the pods are Ready, so Prometheus sees every later
# failover): every exporter and reconciler target up, the key series present and true.
# metrics_end (after the mode's scenarios): the alerts firing are exactly the ones the
# earlier scenarios explain; Sentinel mode: kill -9 moves the failover counter and the
# label-move histogram, a replica that cannot authenticate fires ValkeyReplicationLinkDown,
# the reconciler scaled to 0 and the primary killed fire ValkeyLabelledPodNotPrimary (or
# ValkeyNoPrimaryLabel) and ValkeyReconcilerNotLeading; cluster mode: kube-state-metrics
# sees the hook Jobs as the release's, a whole shard stopped fires
# ValkeyClusterSlotsNotCovered and ValkeyClusterStateNotOk; every mode: every dashboard
# query returns data. Each alert must also resolve once the fault is repaired.
# Alerts not provoked live (replication lag, memory, several labelled pods, cluster
# failover storm, reconciler not ready, hook Job failed, Sentinels disconnected) are
# covered by the promtool tests (chart/tests/monitoring/rules-test.yaml).
#
# Uses NS, RELEASE, SUITE of the caller. Environment: E2E_METRICS_INTERVAL (scrape and
# rule evaluation interval, default 5s).

E2E_METRICS_INTERVAL="${E2E_METRICS_INTERVAL:-5s}"
MONITORING_DIR="$REPO_ROOT/chart/files/monitoring"

# True when the release under test has metrics.enabled.
metrics_on() {
  [[ "$(helm get values "$RELEASE" -n "$NS" --all -o json 2>/dev/null | jq -r '.metrics.enabled')" == true ]]
}

metrics_mode() {
  kubectl -n "$NS" get statefulset "$RELEASE" -o jsonpath='{.metadata.labels.valkey\.io/mode}'
}

# --- Prometheus and kube-state-metrics on the host -------------------------------------

metrics_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts kube-state-metrics and Prometheus; their pids go to $METRICS_DIR/pids (cases run
# in subshells), the Prometheus URL to $METRICS_DIR/url.
metrics_start() {
  local ksm_port ksm_telemetry prom_port deadline
  if ! command -v prometheus >/dev/null || ! command -v kube-state-metrics >/dev/null; then
    echo "prometheus or kube-state-metrics missing: run scripts/setup --cluster"; return 1
  fi
  ksm_port=$(metrics_free_port); ksm_telemetry=$(metrics_free_port); prom_port=$(metrics_free_port)
  kube-state-metrics --kubeconfig "$KUBECONFIG" --namespaces "$NS" --resources deployments,jobs,pods,statefulsets \
    --host 127.0.0.1 --port "$ksm_port" --telemetry-host 127.0.0.1 --telemetry-port "$ksm_telemetry" \
    >"$METRICS_DIR/kube-state-metrics.log" 2>&1 &
  echo $! >>"$METRICS_DIR/pids"
  cp "$MONITORING_DIR/valkey-rules.yaml" "$METRICS_DIR/"
  # The chart's scrape jobs, pointed at this cluster and namespace, plus kube-state-metrics.
  python3 - "$MONITORING_DIR/prometheus-scrape.yaml" "$METRICS_DIR/prometheus.yml" \
    "$KUBECONFIG" "$NS" "127.0.0.1:$ksm_port" "$E2E_METRICS_INTERVAL" <<'PY'
import sys, yaml
source, out, kubeconfig, namespace, ksm, interval = sys.argv[1:]
config = yaml.safe_load(open(source))
for job in config["scrape_configs"]:
    for sd in job["kubernetes_sd_configs"]:
        sd["kubeconfig_file"] = kubeconfig
        sd["namespaces"] = {"names": [namespace]}
config["scrape_configs"].append({"job_name": "kube-state-metrics", "honor_labels": True,
                                 "static_configs": [{"targets": [ksm]}]})
config["global"] = {"scrape_interval": interval, "scrape_timeout": "4s", "evaluation_interval": interval}
config["rule_files"] = ["valkey-rules.yaml"]
yaml.safe_dump(config, open(out, "w"), sort_keys=False)
PY
  promtool check config "$METRICS_DIR/prometheus.yml"
  prometheus --config.file="$METRICS_DIR/prometheus.yml" --storage.tsdb.path="$METRICS_DIR/data" \
    --web.listen-address="127.0.0.1:$prom_port" --storage.tsdb.retention.time=6h \
    >"$METRICS_DIR/prometheus.log" 2>&1 &
  echo $! >>"$METRICS_DIR/pids"
  echo "http://127.0.0.1:$prom_port" >"$METRICS_DIR/url"
  deadline=$((SECONDS + 60))
  until curl -fsS --max-time 2 "http://127.0.0.1:$prom_port/-/ready" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { tail -20 "$METRICS_DIR/prometheus.log"; echo "Prometheus not ready after 60 s"; return 1; }
    sleep 1
  done
  until curl -fsS --max-time 2 "http://127.0.0.1:$ksm_port/metrics" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { tail -20 "$METRICS_DIR/kube-state-metrics.log"; echo "kube-state-metrics not answering after 60 s"; return 1; }
    sleep 1
  done
  echo "$(prometheus --version | head -1) at http://127.0.0.1:$prom_port, kube-state-metrics $(kube-state-metrics version 2>&1 | awk 'NR == 1 {print $3}') at 127.0.0.1:$ksm_port; namespace $NS, every $E2E_METRICS_INTERVAL"
}

# Stops what metrics_start started, by pid.
metrics_stop() {
  local pid
  [[ -n "${METRICS_DIR:-}" && -s "$METRICS_DIR/pids" ]] || return 0
  while read -r pid; do
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  done <"$METRICS_DIR/pids"
  : >"$METRICS_DIR/pids"
}

# --- queries ---------------------------------------------------------------------------

prom_api() { # PATH [curl args...]
  curl -fsS --max-time 15 "$(cat "$METRICS_DIR/url")/api/v1/$1" "${@:2}"
}
# prom_query EXPR: the samples of an instant query, one JSON object a line.
prom_query() { prom_api query --data-urlencode "query=$1" | jq -c '.data.result[]'; }
# prom_value EXPR: the value of the first sample, empty when there is none.
prom_value() { prom_api query --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // empty'; }

# Selector of this release's series.
sel() { printf 'namespace="%s", valkey_name="%s"%s' "$NS" "$RELEASE" "${1:+, $1}"; }

METRICS_FAILS=0
# expect LABEL EXPR WANT: the first sample of EXPR equals WANT (numbers compared as numbers).
expect() {
  local got
  got=$(prom_value "$2" || true)
  if [[ -n "$got" ]] && python3 -c 'import sys; a, b = sys.argv[1:]; sys.exit(0 if float(a) == float(b) else 1)' "$got" "$3" 2>/dev/null; then
    echo "ok: $1 = $got"
  else
    echo "FAIL: $1: got '${got:-no data}', want $3   ($2)"; METRICS_FAILS=$((METRICS_FAILS + 1))
  fi
}

# wait_expect TIMEOUT LABEL EXPR WANT: expect, retried until it holds or TIMEOUT s pass.
wait_expect() {
  local timeout=$1 deadline=$((SECONDS + $1)) got; shift
  while ((SECONDS < deadline)); do
    got=$(prom_value "$2" || true)
    if [[ -n "$got" ]] && python3 -c 'import sys; a, b = sys.argv[1:]; sys.exit(0 if float(a) == float(b) else 1)' "$got" "$3" 2>/dev/null; then
      echo "ok: $1 = $got"; return 0
    fi
    sleep 2
  done
  echo "FAIL: $1: got '${got:-no data}' after $timeout s, want $3   ($2)"
  METRICS_FAILS=$((METRICS_FAILS + 1))
  return 1
}

firing_alerts() { # the names of this release's firing alerts, one a line, sorted
  prom_query "ALERTS{$(sel), alertstate=\"firing\"}" | jq -r '.metric.alertname' | sort -u
}

# wait_alert TIMEOUT ALERTNAME...: until one of the alerts fires for this release.
wait_alert() {
  local timeout=$1 started=$SECONDS names; shift
  names=$(IFS='|'; echo "$*")
  while ((SECONDS - started < timeout)); do
    if [[ -n "$(prom_value "count(ALERTS{$(sel), alertname=~\"$names\", alertstate=\"firing\"})" || true)" ]]; then
      echo "firing after $((SECONDS - started)) s: $(prom_query "ALERTS{$(sel), alertname=~\"$names\", alertstate=\"firing\"}" | jq -r '.metric | del(.__name__, .alertstate) | tostring' | tr '\n' ' ')"
      return 0
    fi
    sleep 3
  done
  echo "none of $* fired within $timeout s; firing now: $(firing_alerts | tr '\n' ' ')"
  prom_query "ALERTS{$(sel)}" | head -20
  return 1
}

# wait_resolved TIMEOUT ALERTNAME...: until none of the alerts is pending or firing.
wait_resolved() {
  local timeout=$1 started=$SECONDS names; shift
  names=$(IFS='|'; echo "$*")
  while ((SECONDS - started < timeout)); do
    if [[ -z "$(prom_value "count(ALERTS{$(sel), alertname=~\"$names\"})" || true)" ]]; then
      echo "resolved after $((SECONDS - started)) s: $*"
      return 0
    fi
    sleep 3
  done
  echo "still pending or firing after $timeout s: $(prom_query "ALERTS{$(sel), alertname=~\"$names\"}" | jq -r '.metric.alertname' | tr '\n' ' ')"
  return 1
}

# signal_container NAMESPACE POD CONTAINER SIGNAL: like kill_container, any signal.
signal_container() {
  local ns=$1 pod=$2 container=$3 signal=$4 id sock="$VALKEY_K8S_CACHE/cluster/containerd/containerd.sock"
  id=$(kubectl -n "$ns" get pod "$pod" -o jsonpath="{.status.containerStatuses[?(@.name==\"$container\")].containerID}")
  [[ -n "$id" ]] || { echo "pod $ns/$pod has no running container $container"; return 1; }
  if [[ "$KUBECONFIG" == "$VALKEY_K8S_CACHE/cluster/kubeconfig" && -S "$sock" ]]; then
    ctr --address "$sock" --namespace k8s.io tasks kill --all --signal "$signal" "${id#containerd://}"
  else
    kubectl -n "$ns" exec "$pod" -c "$container" -- sh -c "kill -$signal 1"
  fi
  echo "sent $signal to $container in $ns/$pod"
}

# --- cases ----------------------------------------------------------------------------

# Every exporter and reconciler target of the release up; the series the rules and the
# dashboard read are there and say what kubectl and valkey-cli say.
metrics_targets_up() {
  local mode pods reconcilers primary replicas masters labelled=0
  mode=$(metrics_mode)
  pods=$(kubectl -n "$NS" get statefulset "$RELEASE" -o jsonpath='{.spec.replicas}')
  reconcilers=$(kubectl -n "$NS" get deployment "$RELEASE-reconciler" -o jsonpath='{.spec.replicas}' 2>/dev/null || echo 0)
  [[ "$mode" != sentinel ]] || labelled=1   # the labelled pod's exporter again, through <name>-metrics-primary
  wait_expect 180 "targets up (exporter of every data pod, labelled pod, reconciler)" \
    "count(up{$(sel)} == 1)" $((pods + labelled + reconcilers)) || true
  prom_api targets | jq -r '.data.activeTargets[] | "\(.scrapePool)\t\(.labels.pod)\t\(.health)\t\(.lastError)"' | sort
  expect "targets in all (none down)" "count(up{$(sel)})" $((pods + labelled + reconcilers))
  expect "exporter targets" "count(up{$(sel), job=\"valkey-exporter\"})" "$pods"
  expect "redis_up == 1" "count(redis_up{$(sel)} == 1)" "$pods"
  expect "redis_instance_info" "count(redis_instance_info{$(sel), valkey_mode=\"$mode\"})" "$pods"
  expect "redis_memory_used_bytes" "count(redis_memory_used_bytes{$(sel)} > 0)" "$pods"
  expect "redis_commands_processed_total" "count(redis_commands_processed_total{$(sel)})" "$pods"
  expect "kube-state-metrics: StatefulSet ready replicas" \
    "max(kube_statefulset_status_replicas_ready{namespace=\"$NS\", statefulset=\"$RELEASE\"})" "$pods"
  case "$mode" in
    sentinel)
      replicas=$((pods - 1))
      primary=$(primary_pod)
      expect "exactly one labelled pod (valkey_labelled_pod_up)" "count(valkey_labelled_pod_up{$(sel)} == 1)" 1
      expect "the labelled pod is $primary (kubectl)" "count(valkey_labelled_pod_up{$(sel "pod=\"$primary\"")})" 1
      expect "$primary reports role master (valkey_labelled_pod_info)" "count(valkey_labelled_pod_info{$(sel "pod=\"$primary\", role=\"master\"")})" 1
      expect "only those two series through <name>-metrics-primary" "count({$(sel 'job="valkey-primary-label"'), __name__!~\"up|scrape_.*\"})" 2
      expect "redis_connected_slaves of $primary" "max(redis_connected_slaves{$(sel "pod=\"$primary\"")})" "$replicas"
      wait_expect 60 "redis_master_link_up == 1 on every replica" "count(redis_master_link_up{$(sel)} == 1)" "$replicas" || true
      expect "redis_connected_slave_lag_seconds per replica" "count(redis_connected_slave_lag_seconds{$(sel "pod=\"$primary\"")})" "$replicas"
      expect "valkey_reconciler_leader" "max(valkey_reconciler_leader{$(sel)})" 1
      expect "valkey_reconciler_sentinels_known" "max(valkey_reconciler_sentinels_known{$(sel)})" "$pods"
      wait_expect 60 "valkey_reconciler_sentinels_connected" "max(valkey_reconciler_sentinels_connected{$(sel)})" "$pods" || true
      expect "valkey_reconciler_failovers_total present" "count(valkey_reconciler_failovers_total{$(sel)})" "$reconcilers"
      expect "valkey_reconciler_label_move_seconds histogram present" "count(valkey_reconciler_label_move_seconds_count{$(sel)})" "$reconcilers"
      expect "kube-state-metrics: reconciler available" \
        "max(kube_deployment_status_replicas_available{namespace=\"$NS\", deployment=\"$RELEASE-reconciler\"})" "$reconcilers"
      ;;
    cluster)
      masters=$(helm get values "$RELEASE" -n "$NS" --all -o json | jq -r '.cluster.masters')
      wait_expect 120 "redis_cluster_state == 1 on every node" "count(redis_cluster_state{$(sel)} == 1)" "$pods" || true
      expect "slots ok" "max(redis_cluster_slots_ok{$(sel)})" 16384
      expect "nodes reporting role master" "count(redis_instance_info{$(sel 'role="master"')})" "$masters"
      expect "valkey_reconciler_leader" "max(valkey_reconciler_leader{$(sel)})" 1
      wait_expect 60 "valkey_cluster_state_ok (healer)" "max(valkey_cluster_state_ok{$(sel)})" 1 || true
      expect "valkey_cluster_nodes_reachable (healer)" "max(valkey_cluster_nodes_reachable{$(sel)})" "$pods"
      ;;
  esac
  ((METRICS_FAILS == 0))
}

# The alerts firing now are the ones the suite's earlier scenarios explain: in Sentinel
# mode those made several failovers in a few minutes, so ValkeyFailoverStorm must fire; in
# cluster mode the scaling sequence hands primaries over, so ValkeyClusterFailoverStorm
# does; nothing else may.
metrics_only_explained_alerts() {
  local mode failovers explained=() tolerated=() firing name
  mode=$(metrics_mode)
  if [[ "$mode" == sentinel ]]; then
    # The rule's own expression; increase() extrapolates, so near the threshold either way is right.
    failovers=$(prom_value "max(increase(valkey_reconciler_failovers_total{$(sel)}[15m]))")
    echo "failovers in the last 15 minutes (increase): ${failovers:-none}"
    if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 3.5 else 1)' "${failovers:-0}"; then
      explained+=(ValkeyFailoverStorm)
      wait_alert 60 ValkeyFailoverStorm
    elif python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 2.5 else 1)' "${failovers:-0}"; then
      tolerated+=(ValkeyFailoverStorm)
    fi
  elif [[ "$mode" == cluster ]]; then
    # The rule's own expression: role changes of the nodes in 15 minutes. The scaling case's
    # rolling restart and scale-downs hand primaries over, so ValkeyClusterFailoverStorm fires
    # after the whole sequence; near its threshold of 6 either way is right (1 m resolution).
    failovers=$(prom_value "sum(changes((max by (pod) (redis_instance_info{$(sel), valkey_mode=\"cluster\", role=\"master\"}) or 0 * max by (pod) (redis_instance_info{$(sel), valkey_mode=\"cluster\"}))[15m:1m]))")
    echo "cluster role changes in the last 15 minutes: ${failovers:-none}"
    if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 7 else 1)' "${failovers:-0}"; then
      explained+=(ValkeyClusterFailoverStorm)
      wait_alert 60 ValkeyClusterFailoverStorm
    elif python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 4 else 1)' "${failovers:-0}"; then
      tolerated+=(ValkeyClusterFailoverStorm)
    fi
  fi
  firing=$(firing_alerts)
  echo "firing: ${firing:-none}; explained: ${explained[*]:-none}; either way: ${tolerated[*]:-none}"
  for name in $firing; do
    [[ " ${explained[*]} ${tolerated[*]} " == *" $name "* ]] ||
      { echo "unexplained alert $name"; prom_query "ALERTS{$(sel), alertname=\"$name\"}"; return 1; }
  done
  for name in "${explained[@]}"; do grep -qx "$name" <<<"$firing" || { echo "$name should fire"; return 1; }; done
}

# kill -9 of the primary: the reconciler's failover counter and label-move histogram move,
# as Prometheus sees them.
metrics_kill9_moves_counters() {
  local replicas old new failovers moves deadline p95
  replicas=$(( $(kubectl -n "$NS" get statefulset "$RELEASE" -o jsonpath='{.spec.replicas}') - 1 ))
  wait_sentinel_settled 240 "$replicas"
  failovers=$(prom_value "max(valkey_reconciler_failovers_total{$(sel)})")
  moves=$(prom_value "max(valkey_reconciler_label_move_seconds_count{$(sel)})")
  echo "before: failovers_total ${failovers:-?}, label_move_seconds_count ${moves:-?}"
  [[ -n "$failovers" && -n "$moves" ]]
  old=$(primary_pod)
  kill_container "$NS" "$old" valkey
  deadline=$((SECONDS + ${E2E_FAILOVER_TIMEOUT:-60}))
  until new=$(primary_pod) && [[ -n "$new" && "$new" != "$old" && "$new" != *" "* ]]; do
    ((SECONDS < deadline)) || { echo "the primary label did not leave $old"; return 1; }
    sleep 0.5
  done
  echo "primary label: $old -> $new"
  wait_expect 60 "failovers_total moved by 1" "max(valkey_reconciler_failovers_total{$(sel)}) - $failovers" 1
  wait_expect 60 "label_move_seconds_count moved by 1" "max(valkey_reconciler_label_move_seconds_count{$(sel)}) - $moves" 1
  p95=$(prom_value "histogram_quantile(0.95, sum by (le) (increase(valkey_reconciler_label_move_seconds_bucket{$(sel)}[2m])))")
  echo "label-move p95 over the last 2 minutes (Prometheus, from the histogram): ${p95:-none} s"
  python3 -c 'import math, sys; v = float(sys.argv[1]); sys.exit(0 if math.isfinite(v) and v > 0 else 1)' "${p95:-nan}"
  ((METRICS_FAILS == 0))
}

# Every query of the chart's dashboard that this mode must answer returns data.
metrics_dashboard() {
  local mode line expr panel n got empty=0 total=0
  mode=$(metrics_mode)
  while read -r line; do
    panel=$(jq -r .panel <<<"$line"); expr=$(jq -r .expr <<<"$line")
    total=$((total + 1))
    n=$(prom_api query --data-urlencode "query=$expr" | jq '.data.result | length')
    got=$(prom_api query --data-urlencode "query=$expr" | jq -rc '[.data.result[] | .value[1]] | .[:4] | join(",")')
    if ((n > 0)); then echo "ok: $panel: $n series ($got)"
    else echo "EMPTY: $panel: $expr"; empty=$((empty + 1)); fi
  done < <(python3 "$REPO_ROOT/e2e/dashboard_queries.py" "$MONITORING_DIR/valkey-dashboard.json" "$NS" "$RELEASE" "$mode")
  echo "$((total - empty)) of $total $mode queries returned data"
  ((total > 0 && empty == 0))
}

# A replica that can no longer authenticate to its primary (its replication user changed
# under it): ValkeyReplicationLinkDown fires; with the user back, it resolves.
metrics_alert_link_down() {
  local replica firing
  replica=$(kubectl -n "$NS" get pods -l "app.kubernetes.io/component=valkey,valkey-master!=true" -o jsonpath='{.items[0].metadata.name}')
  [[ -n "$replica" ]] || { echo "no replica pod"; return 1; }
  # masteruser, not masterauth: the credentials sidecar puts the mounted masterauth back within
  # a minute (it keeps the pod matching its Secret), before the alert's 1 m could pass.
  valkey_cli "$replica" CONFIG SET masteruser "not-a-user"
  valkey_cli "$replica" CLIENT KILL TYPE master
  wait_alert 180 ValkeyReplicationLinkDown
  firing=$(prom_query "ALERTS{$(sel), alertname=\"ValkeyReplicationLinkDown\", alertstate=\"firing\"}")
  grep -q "\"pod\":\"$replica\"" <<<"$firing" || { echo "ValkeyReplicationLinkDown fires, but not for $replica"; return 1; }
  valkey_cli "$replica" CONFIG SET masteruser replication
  wait_expect 60 "$replica's link up again" "max(redis_master_link_up{$(sel "pod=\"$replica\"")})" 1
  wait_resolved 120 ValkeyReplicationLinkDown
}

# The reconciler scaled to 0, then kill -9 of the primary: Sentinel fails over, nothing
# moves the label, the old primary comes back as a replica and keeps it. Then the
# reconciler comes back, moves the label, and the alerts resolve.
metrics_alert_reconciler_gone() {
  local replicas old deadline new role
  replicas=$(( $(kubectl -n "$NS" get statefulset "$RELEASE" -o jsonpath='{.spec.replicas}') - 1 ))
  wait_sentinel_settled 240 "$replicas"
  kubectl -n "$NS" scale deployment "$RELEASE-reconciler" --replicas=0
  deadline=$((SECONDS + 120))
  while kubectl -n "$NS" get pods -l app.kubernetes.io/component=reconciler --no-headers 2>/dev/null | grep -q .; do
    ((SECONDS < deadline)) || { echo "reconciler pods still there after 120 s"; return 1; }
    sleep 1
  done
  echo "reconciler scaled to 0, its pods gone"
  old=$(primary_pod)
  kill_container "$NS" "$old" valkey
  wait_alert 240 ValkeyLabelledPodNotPrimary ValkeyNoPrimaryLabel
  wait_alert 240 ValkeyReconcilerNotLeading
  kubectl -n "$NS" scale deployment "$RELEASE-reconciler" --replicas=1
  kubectl -n "$NS" rollout status deployment "$RELEASE-reconciler" --timeout=180s
  deadline=$((SECONDS + 120))
  while ((SECONDS < deadline)); do
    new=$(primary_pod)
    if [[ -n "$new" && "$new" != *" "* ]]; then
      role=$(valkey_cli "$new" ROLE 2>/dev/null | head -1 | tr -d '\r' || true)
      [[ "$role" == master ]] && break
    fi
    sleep 1
  done
  echo "primary label on ${new:-none} (role ${role:-?}); was on $old"
  [[ "$role" == master ]]
  wait_resolved 180 ValkeyLabelledPodNotPrimary ValkeyNoPrimaryLabel ValkeyReconcilerNotLeading
}

# The hook Jobs of a cluster release, as kube-state-metrics reports them, are joined to
# the release by ValkeyHookJobFailed's expression (its failing side is a promtool test).
metrics_hook_jobs_seen() {
  local jobs expr
  jobs=$(kubectl -n "$NS" get jobs -l app.kubernetes.io/component=hook -o name | wc -l)
  echo "$jobs hook Job(s) in $NS: $(kubectl -n "$NS" get jobs -l app.kubernetes.io/component=hook -o name | tr '\n' ' ')"
  ((jobs > 0))
  expr="label_replace(kube_job_complete{namespace=\"$NS\", condition=\"true\", job_name=~\".+-(init|scale-up|scale-down)\"}, \"valkey_name\", \"\$1\", \"job_name\", \"(.+)-(init|scale-up|scale-down)\") > 0 and on (namespace, valkey_name) count by (namespace, valkey_name) (redis_up{$(sel)})"
  wait_expect 60 "completed hook Jobs joined to $RELEASE" "count($expr)" "$jobs"
  expect "failed hook Jobs" "count(kube_job_failed{namespace=\"$NS\", condition=\"true\"} == 1) or vector(0)" 0
  ((METRICS_FAILS == 0))
}

# SIGSTOP of both nodes of one shard: its slots are served by nobody, every other node
# sees cluster_state fail. SIGCONT: the cluster is ok again and the alerts resolve.
metrics_alert_shard_stopped() {
  local shard pods p masters rc=0
  shard=$(kubectl -n "$NS" get pod "$RELEASE-0" -o jsonpath='{.metadata.labels.valkey-shard}')
  [[ -n "$shard" ]] || { echo "$RELEASE-0 has no valkey-shard label"; return 1; }
  mapfile -t pods < <(kubectl -n "$NS" get pods -l "app.kubernetes.io/instance=$RELEASE,valkey-shard=$shard" -o name | sed 's|^pod/||')
  echo "shard $shard: ${pods[*]}"
  ((${#pods[@]} >= 1))
  for p in "${pods[@]}"; do signal_container "$NS" "$p" valkey SIGSTOP; done
  wait_alert 240 ValkeyClusterSlotsNotCovered || rc=1
  wait_alert 120 ValkeyClusterStateNotOk || rc=1
  for p in "${pods[@]}"; do signal_container "$NS" "$p" valkey SIGCONT; done
  masters=$(helm get values "$RELEASE" -n "$NS" --all -o json | jq -r '.cluster.masters')
  wait_cluster_ok "$masters" 300
  wait_resolved 180 ValkeyClusterSlotsNotCovered ValkeyClusterStateNotOk
  return $rc
}

# --- the hooks e2e/run calls -------------------------------------------------------------

# Right after the pods are Ready.
metrics_begin() {
  METRICS_DIR="$E2E_LOG_DIR/metrics-$SUITE"
  rm -rf "$METRICS_DIR"; mkdir -p "$METRICS_DIR"
  trap metrics_stop EXIT
  run_case "$SUITE" "metrics: Prometheus and kube-state-metrics on the host, discovering the release" metrics_start
  METRICS_STARTED=$CASE_STATUS
  if ((METRICS_STARTED == 0)); then
    run_case "$SUITE" "metrics: every exporter and reconciler target up, key series present" metrics_targets_up
  else
    skip_case "$SUITE" "metrics: every exporter and reconciler target up, key series present" "Prometheus did not start"
  fi
}

# After the mode's scenarios, before the uninstall.
metrics_end() {
  local mode
  if ((METRICS_STARTED != 0)); then
    skip_case "$SUITE" "metrics: scenarios" "Prometheus did not start"
    metrics_stop; trap - EXIT; return 0
  fi
  mode=$(metrics_mode)
  run_case "$SUITE" "metrics: the alerts firing are those the earlier scenarios explain" metrics_only_explained_alerts
  case "$mode" in
    sentinel)
      run_case "$SUITE" "metrics: kill -9 of the primary moves the failover counter and the label-move histogram" metrics_kill9_moves_counters
      run_case "$SUITE" "metrics: every dashboard query returns data" metrics_dashboard
      run_case "$SUITE" "metrics: a replica that cannot authenticate fires ValkeyReplicationLinkDown, resolved when repaired" metrics_alert_link_down
      run_case "$SUITE" "metrics: reconciler scaled to 0 + kill -9 fires labelled-pod-not-primary and not-leading, resolved when back" metrics_alert_reconciler_gone
      ;;
    cluster)
      run_case "$SUITE" "metrics: kube-state-metrics' hook Jobs are joined to the release (ValkeyHookJobFailed's input)" metrics_hook_jobs_seen
      run_case "$SUITE" "metrics: every dashboard query returns data" metrics_dashboard
      run_case "$SUITE" "metrics: a whole shard stopped fires slots-not-covered and cluster-state-not-ok, resolved when resumed" metrics_alert_shard_stopped
      ;;
    *)
      run_case "$SUITE" "metrics: every dashboard query returns data" metrics_dashboard
      ;;
  esac
  metrics_stop
  trap - EXIT
}
