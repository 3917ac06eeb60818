# Failover scenarios with the test server's probe, for Sentinel-mode releases. Sourced
# by e2e/run, e2e/bench and scripts/up (after e2e/lib.bash); every function takes the
# namespace NS and the release RELEASE from the caller.
#
# A scenario: a probe pod writes through the <release> Service; once its writes land,
# DISRUPT runs against the primary pod; the primary label must move to another pod;
# the probe ends after its duration, reads every acknowledged write back and prints
# its JSON report (test-server/README.md), which is kept in $E2E_LOG_DIR.

E2E_TEST_SERVER_IMAGE="${E2E_TEST_SERVER_IMAGE:-${REGISTRY:-localhost:5000}/valkey-k8s/test-server:${IMAGE_TAG:-0.2.0}}"
E2E_PROBE_SECONDS="${E2E_PROBE_SECONDS:-30}"

primary_pod() { kubectl -n "$NS" get pods -l valkey-master=true -o jsonpath='{.items[*].metadata.name}'; }

secret_value() { # SECRET KEY
  kubectl -n "$NS" get secret "$1" -o jsonpath="{.data.$2}" | base64 -d
}

# Run first by the container's shell: when the pod has TLS on (the chart's VALKEY_TLS* env),
# valkey-cli gets --tls with the CA and the pod's own certificate (which allows client auth).
# shellcheck disable=SC2016  # expanded by the container's shell
CLI_TLS_PREFIX='if [ "${VALKEY_TLS:-}" = true ]; then set -- --tls --cacert "$VALKEY_TLS_CA_FILE" --cert "$VALKEY_TLS_CERT_FILE" --key "$VALKEY_TLS_KEY_FILE" "$@"; fi; '

# valkey_cli POD ARGS...: valkey-cli as the admin user inside POD's valkey container
# (its password is in the container's environment; the password never is on a command line).
# shellcheck disable=SC2016  # expanded by the container's shell
valkey_cli() {
  local pod=$1; shift
  kubectl -n "$NS" exec "$pod" -c valkey -- \
    sh -c "$CLI_TLS_PREFIX"'REDISCLI_AUTH="$VALKEY_ADMIN_PASSWORD" exec valkey-cli --no-auth-warning --user admin "$@"' valkey-cli "$@"
}
# valkey_cli_stdin POD ARGS...: the same, commands read from stdin (one a line).
# shellcheck disable=SC2016  # expanded by the container's shell
valkey_cli_stdin() {
  local pod=$1; shift
  kubectl -n "$NS" exec -i "$pod" -c valkey -- \
    sh -c "$CLI_TLS_PREFIX"'REDISCLI_AUTH="$VALKEY_ADMIN_PASSWORD" exec valkey-cli --no-auth-warning --user admin "$@"' valkey-cli "$@"
}

# sentinel_cli POD ARGS...: valkey-cli to POD's own Sentinel.
# shellcheck disable=SC2016  # expanded by the container's shell
sentinel_cli() {
  local pod=$1; shift
  kubectl -n "$NS" exec "$pod" -c sentinel -- \
    sh -c "$CLI_TLS_PREFIX"'REDISCLI_AUTH="$VALKEY_SENTINEL_PASSWORD" exec valkey-cli --no-auth-warning -p 26379 "$@"' valkey-cli "$@"
}

# sentinels_ready POD... REPLICAS: every POD's Sentinel knows the other Sentinels and
# REPLICAS replicas it would promote (flags "slave", link up): a Sentinel that just
# started refuses a failover with NOGOODSLAVE until it has seen them.
sentinels_ready() {
  local want=${*: -1} pod master good others
  for pod in "${@:1:$#-1}"; do
    master=$(kubectl -n "$NS" exec "$pod" -c sentinel -- printenv SENTINEL_MASTER_NAME 2>/dev/null || echo myprimary)
    others=$(sentinel_cli "$pod" SENTINEL MASTER "$master" 2>/dev/null | tr -d '\r' | awk 'NR % 2 {k = $0; next} k == "num-other-sentinels" {print}')
    good=$(sentinel_cli "$pod" SENTINEL REPLICAS "$master" 2>/dev/null | tr -d '\r' | awk '
      NR % 2 {k = $0; next}
      k == "name" {n++} {v[n, k] = $0}
      END { for (i = 1; i <= n; i++) if (v[i, "flags"] == "slave" && v[i, "master-link-status"] == "ok" && v[i, "master-link-down-time"] == "0") g++; print g + 0 }')
    [[ "$others" == "$want" && "$good" == "$want" ]] || { echo "Sentinel of $pod: ${others:-?} other Sentinels, $good good replicas"; return 1; }
  done
}

# wait_sentinel_settled TIMEOUT_S REPLICAS: every data pod Ready, exactly one labelled
# primary, which reports REPLICAS replicas online and in sync, and every Sentinel
# ready to promote one (so the next failover has a caught-up replica to promote).
wait_sentinel_settled() {
  local timeout=$1 want=$2 deadline primary pods ready info online names
  deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    pods=$(kubectl -n "$NS" get pods -l app.kubernetes.io/component=valkey --no-headers 2>/dev/null | wc -l)
    ready=$(kubectl -n "$NS" get pods -l app.kubernetes.io/component=valkey \
      -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null | grep -c '^True$' || true)
    primary=$(primary_pod 2>/dev/null || true)
    if ((pods == want + 1 && ready == pods)) && [[ -n "$primary" && "$primary" != *" "* ]]; then
      info=$(valkey_cli "$primary" INFO replication 2>/dev/null | tr -d '\r' || true)
      online=$(grep -c '^slave[0-9]*:.*state=online' <<<"$info" || true)
      mapfile -t names < <(kubectl -n "$NS" get pods -l app.kubernetes.io/component=valkey -o name | sed 's|^pod/||')
      if grep -q '^role:master' <<<"$info" && ((online == want)) && sentinels_ready "${names[@]}" "$want"; then
        echo "settled: $primary is primary with $online replicas online; every Sentinel can promote one"
        return 0
      fi
    fi
    sleep 1
  done
  echo "not settled after $timeout s: $ready/$pods pods Ready, primary label on '${primary:-}'"
  kubectl -n "$NS" get pods -o wide -L valkey-master || true
  return 1
}

# start_probe NAME RUN_ID [SECONDS [PROBE ARGS...]]: a probe pod (restricted Pod Security)
# writing through the Service for SECONDS (default E2E_PROBE_SECONDS).
start_probe() {
  local name=$1 run_id=$2 seconds=${3:-$E2E_PROBE_SECONDS} extra=""
  (($# > 3)) && extra=$(printf ', %s' "${@:4}")
  kubectl -n "$NS" delete pod "$name" --ignore-not-found --wait=true >/dev/null
  kubectl -n "$NS" apply -f - <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $name
  labels: {app.kubernetes.io/name: valkey-test-server, app.kubernetes.io/part-of: $RELEASE}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    seccompProfile: {type: RuntimeDefault}
  containers:
    - name: probe
      image: $E2E_TEST_SERVER_IMAGE
      imagePullPolicy: Always
      args: [probe, --json, --interval, 20ms, --duration, ${seconds}s, --verify-timeout, 20s, --run-id, $run_id$extra]
      env:
        - {name: VALKEY_HOST, value: $RELEASE}
        - {name: VALKEY_PORT, value: "6379"}
        - {name: VALKEY_USERNAME, value: client}
        - name: VALKEY_PASSWORD
          valueFrom: {secretKeyRef: {name: $RELEASE-credentials, key: clientPassword}}
        - {name: JAVA_TOOL_OPTIONS, value: "-XX:MaxRAMPercentage=${E2E_PROBE_RAM_PERCENT:-75} -Djava.io.tmpdir=/tmp"}$(probe_tls_env)
      resources:
        requests: {cpu: 50m, memory: 128Mi}
        limits: {memory: ${E2E_PROBE_MEMORY_LIMIT:-384Mi}}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        runAsNonRoot: true
        capabilities: {drop: [ALL]}
      volumeMounts: [{name: tmp, mountPath: /tmp}$(probe_tls_mounts)]
  volumes: [{name: tmp, emptyDir: {sizeLimit: 64Mi}}$(probe_tls_volumes)]
EOF
}

# The probe's TLS options when E2E_PROBE_TLS is true (set by e2e/run and e2e/bench for a
# release with TLS on): the CA and the client certificate of Secret valkey-tls-client
# (e2e/tls.bash), which servers with tls.authClients yes require.
probe_tls_env() {
  [[ "${E2E_PROBE_TLS:-false}" == true ]] || return 0
  printf '\n        - {name: VALKEY_TLS, value: "true"}'
  printf '\n        - {name: VALKEY_TLS_%s_FILE, value: /etc/valkey-tls/%s}' CA ca.crt CERT tls.crt KEY tls.key
}
probe_tls_mounts() {
  [[ "${E2E_PROBE_TLS:-false}" != true ]] || printf ', {name: tls, mountPath: /etc/valkey-tls, readOnly: true}'
}
probe_tls_volumes() {
  [[ "${E2E_PROBE_TLS:-false}" != true ]] || printf ', {name: tls, secret: {secretName: valkey-tls-client}}'
}

# wait_probe_writing PRIMARY RUN_ID TIMEOUT_S: the probe's first writes are on the primary.
# Any of its first 500 ids counts: its very first writes fail when the probe pod's DNS is
# not answering yet (seen once: ids 1-6 failed, "valkey/<unresolved>"), and no later id
# would ever make ids 1-3 exist.
wait_probe_writing() {
  local primary=$1 run_id=$2 deadline=$((SECONDS + $3)) n keys=()
  mapfile -t keys < <(seq -f "probe:{$run_id}:%g" 1 500)
  while ((SECONDS < deadline)); do
    n=$(valkey_cli "$primary" EXISTS "${keys[@]}" 2>/dev/null | tr -d '\r' || true)
    if [[ "$n" =~ ^[1-9] ]]; then echo "probe $run_id is writing to $primary"; return 0; fi
    sleep 0.5
  done
  echo "probe $run_id wrote nothing to $primary within $3 s"
  return 1
}

# wait_primary_moved OLD TIMEOUT_S: prints the new primary pod once the label is on exactly one other pod.
wait_primary_moved() {
  local old=$1 deadline=$((SECONDS + $2)) new=""
  while ((SECONDS < deadline)); do
    new=$(primary_pod 2>/dev/null || true)
    if [[ -n "$new" && "$new" != "$old" && "$new" != *" "* ]]; then echo "$new"; return 0; fi
    sleep 0.25
  done
  return 1
}

# wait_probe_report NAME TIMEOUT_S OUT_JSON: waits for the probe pod to end, saves its JSON report.
wait_probe_report() {
  local name=$1 deadline=$((SECONDS + $2)) out=$3 phase=""
  while ((SECONDS < deadline)); do
    phase=$(kubectl -n "$NS" get pod "$name" -o jsonpath='{.status.phase}' 2>/dev/null || true)
    [[ "$phase" == Succeeded || "$phase" == Failed ]] && break
    sleep 1
  done
  kubectl -n "$NS" logs "$name" >"$out.log" 2>&1 || true
  # stdout's report is pretty-printed JSON from a line "{" to a line "}". kubectl logs merges
  # stderr in by line, so log lines the probe's shutdown wrote meanwhile can sit inside it
  # (cluster-persistence, 2026-12-03: "WARN RedisChannelHandler - Connection is already closed"
  # 3220 lines into the report): keep only the lines Jackson's pretty printer writes.
  sed -n '/^{/,/^}/p' "$out.log" | grep -E '^([{}]|[[:space:]]+(["{}]|\[|\]|[0-9-]|true|false|null))' |
    jq -c . >"$out" 2>/dev/null || true
  [[ "$phase" == Succeeded || "$phase" == Failed ]] || { echo "probe $name still $phase after $2 s"; return 1; }
  [[ -s "$out" ]] || { echo "probe $name printed no JSON report (phase $phase):"; tail -20 "$out.log"; return 1; }
  echo "probe $name ended: $phase"
}

# evict_pod POD TIMEOUT_S: the Eviction API (what `kubectl drain` calls); the PDB may
# refuse (429) while a pod is not Ready, so retries until it is accepted.
evict_pod() {
  local pod=$1 deadline=$((SECONDS + $2)) out
  while ((SECONDS < deadline)); do
    if out=$(kubectl create --raw "/api/v1/namespaces/$NS/pods/$pod/eviction" -f - 2>&1 <<EOF
{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"$pod","namespace":"$NS"}}
EOF
    ); then
      echo "evicted $NS/$pod through the Eviction API (PDB allowed it)"
      return 0
    fi
    echo "eviction of $pod refused, retrying: $out"
    sleep 1
  done
  return 1
}

# The disruptions: each gets the primary pod's name.
disrupt_kill9() { kill_container "$NS" "$1" valkey; }
disrupt_delete() { kubectl -n "$NS" delete pod "$1" --wait=false; }
disrupt_evict() { evict_pod "$1" 60; }

# failover_scenario SCENARIO DISRUPT_FN REPLICAS: runs one probe through one disruption;
# asserts the label moved, writes resumed (no window still open at the end) and no
# acknowledged write is missing. Appends a summary line to $E2E_LOG_DIR/failover-summary.tsv.
failover_scenario() {
  local scenario=$1 disrupt=$2 replicas=$3 run_id name old new report summary disrupted_at
  run_id="$scenario-$(date +%s)"
  name="probe-$scenario"
  report="$E2E_LOG_DIR/probe-${SUITE:-$RELEASE}-$scenario.json"
  wait_sentinel_settled 240 "$replicas"
  old=$(primary_pod)
  start_probe "$name" "$run_id"
  wait_probe_writing "$old" "$run_id" 120
  sleep 2 # a few hundred acknowledged writes before the disruption
  disrupted_at=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
  "$disrupt" "$old"
  new=$(wait_primary_moved "$old" "${E2E_FAILOVER_TIMEOUT:-60}") || { echo "primary label did not leave $old"; return 1; }
  echo "primary: $old -> $new"
  wait_probe_report "$name" $((E2E_PROBE_SECONDS + 90)) "$report"
  jq -c '{ackedWrites, failedWrites, unavailableMs, longestUnavailableMs, missingAckedWrites, verified,
          windows: [.windows[] | {durationMs, errorKind, failedWrites, ongoing}]}' "$report"
  summary=$(report_summary "$report" "$scenario" "$old" "$new" "$disrupted_at")
  printf '%s\n' "$summary" >>"$E2E_LOG_DIR/failover-summary.tsv"
  # What the reconciler and the new primary's Sentinel did, for whoever studies the pause.
  save_reconciler_logs "${SUITE:-$RELEASE}-$scenario" --since=3m
  kubectl -n "$NS" logs "$new" -c sentinel --since=3m >"$E2E_LOG_DIR/sentinel-$new-$scenario.log" 2>&1 || true
  kubectl -n "$NS" delete pod "$name" --ignore-not-found --wait=false >/dev/null
  if [[ "$scenario" == kill9 ]]; then
    fast_failover_as_configured "$old" "$E2E_LOG_DIR/reconciler-${SUITE:-$RELEASE}-$scenario.log" || return 1
  fi
  jq -e '.verified == true' "$report" >/dev/null || { echo "probe could not read every acknowledged write back"; return 1; }
  if [[ "$scenario" == kill9 ]] && ! min_replicas_to_write_set; then
    # Without min-replicas-to-write a write is acknowledged before any replica has it: a kill -9
    # may lose the last ones. Counted and printed, not asserted; planned operations must lose 0.
    echo "kill -9 without min-replicas-to-write: $(jq .missingAckedWrites "$report") acknowledged writes lost (not asserted)"
  else
    jq -e '.missingAckedWrites == 0' "$report" >/dev/null || { echo "acknowledged writes lost: $(jq -c .missingIds "$report")"; return 1; }
  fi
  jq -e '.ackedWrites > 0 and ([.windows[] | select(.ongoing)] | length) == 0' "$report" >/dev/null ||
    { echo "writes did not resume through Service $RELEASE before the probe ended"; return 1; }
  echo "ok: writes resumed on $new, $(jq .missingAckedWrites "$report") acknowledged writes lost, unavailable $(jq .unavailableMs "$report") ms"
}

# fast_failover_as_configured OLD RECONCILER_LOG: after a kill -9 of OLD, the reconciler's crash
# fast path did what the release's values call for. It asks a Sentinel to fail over only while
# every Sentinel has 3 s left before its down-after (FastFailover.MARGIN_MS). Under 3000 ms that
# never holds, so it must not have fired. From 4000 ms it saw the crash (the refused connection,
# or the kubelet's report) and decided: fired, or skipped because the evidence came too late
# (e2e/bench at 5000 ms with the kubelet's report alone: 2 of 10 runs); which one is printed.
# With the fast path off it must not have fired.
fast_failover_as_configured() {
  local old=$1 log=$2 values enabled down_after outcome
  values=$(helm get values "$RELEASE" -n "$NS" --all -o json)
  enabled=$(jq -r '.sentinel.fastFailover' <<<"$values")
  down_after=$(jq -r '.sentinel.downAfterMilliseconds | tonumber' <<<"$values")
  outcome=$(fast_path_outcome "$old" "$log")
  echo "crash fast path (sentinel.fastFailover=$enabled, down-after $down_after ms): $outcome"
  sed -n -E "/action=fast-failover(-skipped)? pod=$old /{s/.*action=/  action=/p;q}" "$log"
  if [[ "$enabled" != true ]] || ((down_after < 3000)); then
    [[ "$outcome" != fired ]] || { echo "the fast path fired (sentinel.fastFailover=$enabled, down-after $down_after ms)"; return 1; }
  elif ((down_after >= 4000)); then
    [[ "$outcome" != none ]] || { echo "the reconciler did not act on $old's crash (no refused connection, no kubelet report)"; return 1; }
  fi
}

# fast_path_outcome OLD RECONCILER_LOG: what the crash fast path did about OLD, from the
# reconciler's log lines: fired, skipped or none.
fast_path_outcome() {
  if grep -q "action=fast-failover pod=$1 " "$2"; then echo fired
  elif grep -q "action=fast-failover-skipped pod=$1 " "$2"; then echo skipped
  else echo none; fi
}

# min_replicas_to_write_set: the release acknowledges a write only once a replica has it.
min_replicas_to_write_set() {
  helm get values "$RELEASE" -n "$NS" --all -o json | jq -e '(.sentinel.minReplicasToWrite // 0) > 0' >/dev/null
}

# report_summary REPORT SCENARIO OLD NEW DISRUPTED_AT: one tab-separated line; only the
# windows that end after the disruption count (a slow first connect of the probe's JVM
# is not the failover's).
report_summary() {
  jq -r --arg s "$2" --arg o "$3" --arg n "$4" --arg t "$5" \
    '[.windows[] | select(.end == null or .end >= $t)] as $w
     | [$s, $o, $n, ($w | map(.durationMs) | add // 0), ($w | map(.durationMs) | max // 0), ($w | length),
        ([$w[] | .errors | keys[]] | unique | join(",")), .ackedWrites, .missingAckedWrites] | @tsv' "$1"
}

# print_failover_table SUMMARY_TSV: the summary lines as a markdown table.
print_failover_table() {
  printf '| scenario | primary before | after | writes failing (ms) | longest window (ms) | windows | errors | acknowledged writes | acknowledged lost |\n'
  printf '|---|---|---|---|---|---|---|---|---|\n'
  awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9}' "$1"
}
