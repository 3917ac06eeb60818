# Upgrade suite for e2e/run (sourced after e2e/lib.bash and e2e/failover.bash): a
# Sentinel release of the previous version (0.1.0: Valkey 8.0 image, its reconciler and
# chart, published by e2e/previous-release.bash) with persistence rdb,aof holds keys;
# `helm upgrade` to the chart under test (CHART/VERSION, from OCI) rolls every pod to the
# new image; then every pod must run Valkey $VALKEY_SERIES and every key must read back.
# Uses NS, RELEASE, CHART, VERSION, PLAIN_HTTP, PULL_POLICY and HELM_EXTRA of the caller
# (HELM_EXTRA, e.g. --set image=..., applies to the upgrade only: the old release runs
# its own chart's defaults, the 0.1.0 images).

E2E_UPGRADE_KEYS="${E2E_UPGRADE_KEYS:-3000}"
# 1 primary + 2 replicas, persistence rdb,aof; each chart's defaults otherwise.
UPGRADE_VALUES=(-f "$REPO_ROOT/e2e/values/upgrade-values.yaml")

upgrade_previous_release_published() {
  local chart
  chart=$("$REPO_ROOT/e2e/previous-release.bash")
  echo "previous release chart: $chart"
  [[ -s "$chart" ]]
}

upgrade_install_previous() {
  local chart
  chart=$("$REPO_ROOT/e2e/previous-release.bash")
  kubectl create namespace "$NS"
  kubectl label namespace "$NS" pod-security.kubernetes.io/enforce=restricted \
    pod-security.kubernetes.io/enforce-version=latest
  helm install "$RELEASE" "$chart" --namespace "$NS" "${UPGRADE_VALUES[@]}" --timeout 5m "${PULL_POLICY[@]}"
  workloads_ready
}

data_pods() { kubectl -n "$NS" get pods -l app.kubernetes.io/component=valkey -o name | sed 's|^pod/||'; }

# pods_run_valkey SERIES: every data pod's valkey and sentinel containers run SERIES.x,
# by the binary (valkey-server --version) and by the running server (INFO server).
pods_run_valkey() {
  local want=$1 pod binary server sentinel bad=0
  for pod in $(data_pods); do
    binary=$(kubectl -n "$NS" exec "$pod" -c valkey -- valkey-server --version)
    server=$(valkey_cli "$pod" INFO server | tr -d '\r' | sed -n 's/^valkey_version://p')
    sentinel=$(sentinel_cli "$pod" INFO server | tr -d '\r' | sed -n 's/^valkey_version://p')
    echo "$pod: binary '$binary'; valkey INFO valkey_version:$server; sentinel INFO valkey_version:$sentinel"
    [[ "$binary" == "Valkey server v=$want."* && "$server" == "$want."* && "$sentinel" == "$want."* ]] || bad=1
  done
  ((bad == 0))
}

# The keys: E2E_UPGRADE_KEYS strings and one hash, sorted set and list of 200 each
# (their encodings differ between RDB versions, so each type must survive the upgrade).
upgrade_write_keys() {
  local primary i ok
  wait_sentinel_settled 240 2
  primary=$(primary_pod)
  ok=$( {
    for ((i = 0; i < E2E_UPGRADE_KEYS; i++)); do echo "SET upgrade:key:$i value-$i"; done
    for ((i = 0; i < 200; i++)); do
      echo "HSET upgrade:hash field-$i $i"; echo "ZADD upgrade:zset $i member-$i"; echo "RPUSH upgrade:list item-$i"
    done
  } | valkey_cli_stdin "$primary" | tr -d '\r' | grep -c -E '^(OK|[0-9]+)$' || true)
  echo "$ok/$((E2E_UPGRADE_KEYS + 600)) writes acknowledged by $primary"
  ((ok == E2E_UPGRADE_KEYS + 600))
  upgrade_replicas_in_sync "$primary"
  upgrade_keys_read_back
}

# upgrade_replicas_in_sync PRIMARY: both replicas online at the primary's replication offset.
upgrade_replicas_in_sync() {
  local primary=$1 deadline=$((SECONDS + 60)) info offset synced
  while ((SECONDS < deadline)); do
    info=$(valkey_cli "$primary" INFO replication | tr -d '\r')
    offset=$(sed -n 's/^master_repl_offset://p' <<<"$info")
    synced=$(grep -E '^slave[0-9]+:' <<<"$info" | grep -c "state=online,offset=$offset," || true)
    if ((synced == 2)); then echo "2 replicas at offset $offset of $primary"; return 0; fi
    sleep 1
  done
  echo "replicas not in sync with $primary after 60 s:"; grep -E '^(slave[0-9]+|master_repl_offset):' <<<"$info"
  return 1
}

# Every key with its value on the primary; every replica holds as many keys.
upgrade_keys_read_back() {
  local primary got bad pod size want=$((E2E_UPGRADE_KEYS + 3))
  primary=$(primary_pod)
  [[ -n "$primary" && "$primary" != *" "* ]] || { echo "no single labelled primary: '$primary'"; return 1; }
  got=$(for ((i = 0; i < E2E_UPGRADE_KEYS; i++)); do echo "GET upgrade:key:$i"; done | valkey_cli_stdin "$primary" | tr -d '\r')
  bad=$(paste <(seq 0 $((E2E_UPGRADE_KEYS - 1))) <(printf '%s\n' "$got") | awk '$2 != "value-" $1' | wc -l)
  echo "$((E2E_UPGRADE_KEYS - bad))/$E2E_UPGRADE_KEYS string keys read back with their value from $primary"
  ((bad == 0))
  [[ "$(valkey_cli "$primary" HLEN upgrade:hash | tr -d '\r')" == 200 &&
    "$(valkey_cli "$primary" HGET upgrade:hash field-199 | tr -d '\r')" == 199 ]]
  [[ "$(valkey_cli "$primary" ZCARD upgrade:zset | tr -d '\r')" == 200 &&
    "$(valkey_cli "$primary" ZSCORE upgrade:zset member-123 | tr -d '\r')" == 123 ]]
  [[ "$(valkey_cli "$primary" LLEN upgrade:list | tr -d '\r')" == 200 &&
    "$(valkey_cli "$primary" LINDEX upgrade:list 150 | tr -d '\r')" == item-150 ]]
  echo "hash, sorted set and list of 200 each intact on $primary"
  upgrade_replicas_in_sync "$primary"
  for pod in $(data_pods); do
    size=$(valkey_cli "$pod" DBSIZE | tr -d '\r')
    echo "$pod: $size keys"
    [[ "$size" == "$want" ]]
  done
}

# shellcheck disable=SC2153 # CHART, VERSION: set by e2e/run
upgrade_helm_upgrade() {
  local revision
  helm upgrade "$RELEASE" "$CHART" ${VERSION:+--version "$VERSION"} "${PLAIN_HTTP[@]}" --namespace "$NS" \
    "${UPGRADE_VALUES[@]}" --timeout 10m --wait "${PULL_POLICY[@]}" "${HELM_EXTRA[@]}"
  helm history "$RELEASE" -n "$NS" --max 2
  revision=$(kubectl -n "$NS" get statefulset "$RELEASE" -o jsonpath='{.status.updateRevision}')
  kubectl -n "$NS" rollout status statefulset "$RELEASE" --timeout="${E2E_READY_TIMEOUT:-300}s"
  workloads_ready
  [[ "$(kubectl -n "$NS" get statefulset "$RELEASE" -o jsonpath='{.status.currentRevision}')" == "$revision" ]]
  wait_sentinel_settled 240 2
}

# Every upgraded pod started by loading the data the 0.1.0 pod persisted on its volume
# (the AOF with its RDB preamble, written by Valkey 8.0), not only by resyncing.
upgrade_pods_loaded_their_volume() {
  local pod log bad=0
  for pod in $(data_pods); do
    log=$(kubectl -n "$NS" logs "$pod" -c valkey)
    grep -E 'Loading RDB produced by|keys loaded|DB loaded from' <<<"$log" | head -4 | sed "s|^|$pod: |"
    grep -q 'DB loaded from append only file' <<<"$log" || { echo "$pod: did not load an append only file at start"; bad=1; }
  done
  ((bad == 0))
}
