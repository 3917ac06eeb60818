# Cluster-mode scenario for e2e/run (sourced after e2e/lib.bash and e2e/failover.bash):
# keys written through the cluster survive `helm upgrade` to one more master and back,
# which runs the chart's scale-up / scale-down hook Jobs. Uses NS, RELEASE, CHART,
# VERSION, PLAIN_HTTP, VALUES_ARGS and HELM_EXTRA of the caller.

E2E_CLUSTER_KEYS="${E2E_CLUSTER_KEYS:-200}"

# True when the reconciler source wires the cluster commands into its Main (the images
# under test are built from this tree).
reconciler_has_cluster_commands() {
  grep -rqs 'ScaleUpCommand\|"scale-up"' "$REPO_ROOT"/reconciler/src/main/java/io/valkeyk8s/reconciler/Main.java
}

cluster_masters() {
  valkey_cli "$RELEASE-0" CLUSTER NODES | tr -d '\r' | awk '$3 ~ /master/ && $3 !~ /fail/ && $8 == "connected" && NF >= 9 {n++} END {print n+0}'
}

# wait_cluster_ok MASTERS TIMEOUT_S: cluster_state ok, MASTERS masters owning slots, all 16384 slots assigned.
wait_cluster_ok() {
  local want=$1 deadline=$((SECONDS + $2)) info masters=""
  while ((SECONDS < deadline)); do
    info=$(valkey_cli "$RELEASE-0" CLUSTER INFO 2>/dev/null | tr -d '\r' || true)
    masters=$(cluster_masters 2>/dev/null || true)
    if grep -q '^cluster_state:ok' <<<"$info" && grep -q '^cluster_slots_assigned:16384' <<<"$info" && [[ "$masters" == "$want" ]]; then
      echo "cluster ok with $masters masters owning slots"
      return 0
    fi
    sleep 2
  done
  echo "cluster not ok with $want masters after $2 s (masters owning slots: ${masters:-?})"
  grep -E 'cluster_state|slots_assigned|known_nodes|cluster_size' <<<"$info" || true
  valkey_cli "$RELEASE-0" CLUSTER NODES || true
  return 1
}

write_cluster_keys() {
  local i
  local ok
  # -c follows MOVED and says so on a line "-> Redirected ..." of its own.
  ok=$(for ((i = 0; i < E2E_CLUSTER_KEYS; i++)); do echo "SET e2e:key:$i value-$i"; done |
    valkey_cli_stdin "$RELEASE-0" -c | tr -d '\r' | grep -v '^-> Redirected' | grep -c '^OK$' || true)
  echo "wrote $ok/$E2E_CLUSTER_KEYS keys"
  ((ok == E2E_CLUSTER_KEYS))
}

# check_cluster_keys: every key reads back with its value (through -c, from whichever shard owns it).
check_cluster_keys() {
  local i got bad
  got=$(for ((i = 0; i < E2E_CLUSTER_KEYS; i++)); do echo "GET e2e:key:$i"; done |
    valkey_cli_stdin "$RELEASE-0" -c | tr -d '\r' | grep -v '^-> Redirected')
  bad=$(paste <(seq 0 $((E2E_CLUSTER_KEYS - 1))) <(printf '%s\n' "$got") | awk '$2 != "value-" $1' | wc -l)
  echo "$((E2E_CLUSTER_KEYS - bad))/$E2E_CLUSTER_KEYS keys read back with their value"
  ((bad == 0))
}

cluster_initial_keys() {
  local masters
  masters=$(installed_masters)
  wait_cluster_ok "$masters" 300
  write_cluster_keys
  check_cluster_keys
}

# The masters of the installed values (the steps below move from and back to them).
installed_masters() { helm get values "$RELEASE" -n "$NS" --all --revision 1 -o json | jq -r '.cluster.masters'; }

# statefulset_settled: the StatefulSet has as many pods as it wants (scale-down removed them).
statefulset_settled() {
  [[ "$(kubectl -n "$NS" get statefulset "$RELEASE" -o jsonpath='{.status.replicas}')" == \
    "$(kubectl -n "$NS" get statefulset "$RELEASE" -o jsonpath='{.spec.replicas}')" ]] ||
    { echo "StatefulSet $RELEASE not settled: $(kubectl -n "$NS" get statefulset "$RELEASE" -o jsonpath='{.status.replicas}/{.spec.replicas}')"; return 1; }
}
