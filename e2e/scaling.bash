# Scaling and rolling upgrades with a writer running, for e2e/run (sourced after
# e2e/lib.bash and e2e/failover.bash): no acknowledged write lost, no pod restarted
# by a replica-count change, each pod restarted exactly once by a rolling upgrade.
# Uses NS, RELEASE, CHART, VERSION, PLAIN_HTTP, VALUES_ARGS, PULL_POLICY and
# HELM_EXTRA of the caller. Each step appends "suite step start end wall_s" to
# $E2E_LOG_DIR/scaling-steps.tsv; scaling_table prints the write unavailability the
# probe saw during each step.

# Long enough for every step; the probe is stopped (SIGTERM: it reads back and reports) at the end.
E2E_SCALE_PROBE_SECONDS="${E2E_SCALE_PROBE_SECONDS:-1800}"

now_iso() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }

# timed_step SUITE STEP COMMAND...: runs COMMAND and records when it ran.
timed_step() {
  local suite=$1 step=$2 start started=$SECONDS; shift 2
  start=$(now_iso)
  "$@"
  printf '%s\t%s\t%s\t%s\t%s\n' "$suite" "$step" "$start" "$(now_iso)" "$((SECONDS - started))" >>"$E2E_LOG_DIR/scaling-steps.tsv"
}

# release_upgrade HELM ARGS...: helm upgrade of the suite's release with its values files;
# the step's ARGS come last, so they win over the run's extra args (e.g. --set image=...).
release_upgrade() {
  helm upgrade "$RELEASE" "$CHART" ${VERSION:+--version "$VERSION"} "${PLAIN_HTTP[@]}" --namespace "$NS" \
    "${VALUES_ARGS[@]}" --timeout 10m --wait "${PULL_POLICY[@]}" "${HELM_EXTRA[@]}" "$@" && return 0
  local rc=$? pod
  # A failed hook Job says why only in its pods' logs (kept: failed hook Jobs are not deleted).
  echo "the upgrade failed; data pods and the hook Jobs' pods:"
  kubectl -n "$NS" get pods -o wide 2>&1 || true
  for pod in $(kubectl -n "$NS" get pods -l app.kubernetes.io/component=hook -o name 2>/dev/null); do
    echo "--- last lines of $pod:"
    kubectl -n "$NS" logs "$pod" --tail=15 2>&1 || true
  done
  return $rc
}

# stop_probe NAME REPORT: SIGTERM to the probe (it stops, reads every acknowledged write
# back and prints its report), then waits for the report.
stop_probe() {
  kubectl -n "$NS" exec "$1" -- sh -c 'kill -TERM 1'
  wait_probe_report "$1" 180 "$2"
}

# probe_ok REPORT: every acknowledged write read back, writes going at the end.
probe_ok() {
  jq -c '{ackedWrites, failedWrites, unavailableMs, longestUnavailableMs, missingAckedWrites, verified}' "$1"
  jq -e '.verified == true' "$1" >/dev/null || { echo "probe could not read every acknowledged write back"; return 1; }
  jq -e '.missingAckedWrites == 0' "$1" >/dev/null || { echo "acknowledged writes lost: $(jq -c .missingIds "$1")"; return 1; }
  jq -e '.ackedWrites > 0 and ([.windows[] | select(.ongoing)] | length) == 0' "$1" >/dev/null ||
    { echo "writes did not resume before the probe ended"; return 1; }
}

# watch_pod_uids FILE: records "name uid" of every data pod event until killed. Run with &:
# exec makes the background job kubectl itself, so killing its PID stops the watch.
watch_pod_uids() {
  exec kubectl -n "$NS" get pods -l app.kubernetes.io/component=valkey --watch --output-watch-events \
    -o jsonpath='{.object.metadata.name} {.object.metadata.uid}{"\n"}' >"$1" 2>/dev/null
}

# --- Sentinel mode -------------------------------------------------------------------

# move_primary_to POD: a coordinated Sentinel failover that picks POD (lowest replica-priority)
# without losing an acknowledged write; returns once POD carries the label.
move_primary_to() {
  local target=$1 pod master old deadline
  old=$(primary_pod)
  master=$(kubectl -n "$NS" exec "$target" -c sentinel -- printenv SENTINEL_MASTER_NAME)
  for pod in $(kubectl -n "$NS" get pods -l app.kubernetes.io/component=valkey -o name | sed 's|^pod/||'); do
    [[ "$pod" == "$old" ]] && continue
    valkey_cli "$pod" CONFIG SET replica-priority "$([[ "$pod" == "$target" ]] && echo 1 || echo 100)" >/dev/null
  done
  # Sentinel reads a replica's priority with its INFO every 10 s.
  sleep 11
  # One coordinated failover (Valkey 9): the old primary pauses writes, waits until the target has
  # them all and turns itself into a replica before the paused writes go on (refused there). A
  # pause + forced failover by hand left a moment after the unpause in which writes still reaching
  # the old pod through a stale route were acknowledged there and lost (12 in one run).
  sentinel_cli "$target" SENTINEL FAILOVER "$master" COORDINATED
  deadline=$((SECONDS + 15))
  until [[ "$(valkey_cli "$target" ROLE | head -n 1 | tr -d '\r')" == master ]] || ((SECONDS >= deadline)); do
    sleep 0.1
  done
  wait_primary_moved "$old" 25 >/dev/null || true
  [[ "$(primary_pod)" == "$target" ]] || { echo "primary is $(primary_pod), not $target"; return 1; }
  valkey_cli "$target" CONFIG SET replica-priority 100 >/dev/null
  echo "primary moved to $target (SENTINEL FAILOVER COORDINATED)"
}

# The writer runs through: replicas 2 -> 4, the primary moved to the highest ordinal,
# replicas 4 -> 2 (the primary's pod departs), a rolling image upgrade.
sentinel_scaling() {
  # shellcheck disable=SC2153 # SUITE is set by e2e/run
  local suite=$SUITE base replicas before after name=probe-scaling report image rolled uids_log watcher run_id
  base=$(kubectl -n "$NS" get statefulset "$RELEASE" -o jsonpath='{.spec.replicas}')
  replicas=$((base - 1))
  report="$E2E_LOG_DIR/probe-$suite-scaling.json"
  run_id="scaling-$(date +%s)"
  wait_sentinel_settled 240 "$replicas"
  start_probe "$name" "$run_id" "$E2E_SCALE_PROBE_SECONDS"
  # A failing step ends the case's subshell: stop the probe then too, so that the table shows
  # what the writer saw up to the failure.
  trap 'stop_probe "$name" "$report" >/dev/null 2>&1 || true; save_reconciler_logs "$suite-scaling"' EXIT
  wait_probe_writing "$(primary_pod)" "$run_id" 120

  before=$(pod_states)
  timed_step "$suite" "replicas $replicas -> $((replicas + 2))" \
    release_upgrade --set cluster.replicasPerMaster=$((replicas + 2))
  wait_sentinel_settled 240 $((replicas + 2))
  after=$(pod_states)
  echo "pods after scale-up:"; printf '%s\n' "$after"
  unchanged_pods "$before" "$after"

  timed_step "$suite" "primary moved to the highest ordinal" move_primary_to "$RELEASE-$((replicas + 2))"
  wait_sentinel_settled 240 $((replicas + 2))

  before=$(pod_states)
  timed_step "$suite" "replicas $((replicas + 2)) -> $replicas (the primary's pod departs)" \
    release_upgrade --set cluster.replicasPerMaster="$replicas"
  wait_sentinel_settled 240 "$replicas"
  after=$(pod_states)
  echo "pods after scale-down:"; printf '%s\n' "$after"
  [[ $(wc -l <<<"$after") == "$base" ]] || { echo "expected $base pods"; return 1; }
  unchanged_pods "$before" "$after"

  # A rolling upgrade to another image tag of the same build: every pod restarts once.
  image=$(helm get values "$RELEASE" -n "$NS" --all -o json | jq -r .image)
  rolled="${image%:*}:rolled-$(date +%s)"
  docker tag "$image" "$rolled" && docker push -q "$rolled" >/dev/null
  before=$(pod_states)
  uids_log="$E2E_LOG_DIR/scaling-uids-$RELEASE.log"
  watch_pod_uids "$uids_log" &
  watcher=$!
  timed_step "$suite" "rolling image upgrade of $base pods" \
    release_upgrade --set cluster.replicasPerMaster="$replicas" --set image="$rolled"
  wait_sentinel_settled 240 "$replicas"
  kill "$watcher" 2>/dev/null || true
  after=$(pod_states)
  echo "pods after the rolling upgrade:"; printf '%s\n' "$after"
  # Every pod is new, and none was replaced twice.
  join <(printf '%s\n' "$before") <(printf '%s\n' "$after") | awk '$2 == $4 {print "pod " $1 " was not replaced"; bad = 1} END {exit bad}'
  sort -u "$uids_log" | awk '{n[$1]++} END {for (p in n) if (n[p] > 2) {print "pod " p " had " n[p] " UIDs during the roll"; bad = 1}; exit bad}'
  kubectl -n "$NS" get pods -l app.kubernetes.io/component=valkey -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}' |
    grep -qvxF "$rolled" && { echo "a pod does not run $rolled"; return 1; }

  trap - EXIT
  save_reconciler_logs "$suite-scaling"
  stop_probe "$name" "$report"
  probe_ok "$report"
}

# scaling_table: per recorded step, its wall time and what the probe of its suite saw
# (windows that overlap the step): milliseconds of failing writes, failed writes.
scaling_table() {
  local steps=$E2E_LOG_DIR/scaling-steps.tsv suite step start end wall report
  printf '| suite | step | wall time (s) | writes failing (ms) | failed writes |\n|---|---|---|---|---|\n'
  while IFS=$'\t' read -r suite step start end wall; do
    report="$E2E_LOG_DIR/probe-$suite-scaling.json"
    [[ -s "$report" ]] || { echo "| $suite | $step | $wall | no probe report | |"; continue; }
    jq -r --arg s "$suite" --arg st "$step" --arg a "$start" --arg b "$end" --arg w "$wall" \
      '[.windows[] | select((.end // "9") >= $a and .start <= $b)] as $x
       | "| \($s) | \($st) | \($w) | \($x | map(.durationMs) | add // 0) | \($x | map(.failedWrites) | add // 0) |"' "$report"
  done <"$steps"
}

# --- cluster mode --------------------------------------------------------------------

E2E_CLUSTER_BULK_KEYS="${E2E_CLUSTER_BULK_KEYS:-50000}"

# test_server_run NAME ARGS...: runs the test server once in a pod (restricted) with the
# release's client credentials (and the probe's TLS options), prints its output, returns its exit status.
test_server_run() {
  local name=$1 phase="" deadline; shift
  kubectl -n "$NS" delete pod "$name" --ignore-not-found --wait=true >/dev/null
  kubectl -n "$NS" apply -f - >/dev/null <<EOT
apiVersion: v1
kind: Pod
metadata:
  name: $name
  labels: {app.kubernetes.io/name: valkey-test-server, app.kubernetes.io/part-of: $RELEASE}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: test-server
      image: $E2E_TEST_SERVER_IMAGE
      imagePullPolicy: Always
      args: [$(printf '"%s", ' "$@" | sed 's/, $//')]
      env:
        - {name: VALKEY_HOST, value: $RELEASE}
        - {name: VALKEY_PORT, value: "6379"}
        - {name: VALKEY_USERNAME, value: client}
        - name: VALKEY_PASSWORD
          valueFrom: {secretKeyRef: {name: $RELEASE-credentials, key: clientPassword}}
        - {name: JAVA_TOOL_OPTIONS, value: "-XX:MaxRAMPercentage=75 -Djava.io.tmpdir=/tmp"}$(probe_tls_env)
      resources: {requests: {cpu: 50m, memory: 128Mi}, limits: {memory: 512Mi}}
      securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}
      volumeMounts: [{name: tmp, mountPath: /tmp}$(probe_tls_mounts)]
  volumes: [{name: tmp, emptyDir: {sizeLimit: 64Mi}}$(probe_tls_volumes)]
EOT
  deadline=$((SECONDS + 600))
  while ((SECONDS < deadline)); do
    phase=$(kubectl -n "$NS" get pod "$name" -o jsonpath='{.status.phase}' 2>/dev/null || true)
    [[ "$phase" == Succeeded || "$phase" == Failed ]] && break
    sleep 1
  done
  kubectl -n "$NS" logs "$name" 2>&1 | grep -v '^[0-9]\{4\}-' || true
  kubectl -n "$NS" delete pod "$name" --wait=false >/dev/null 2>&1 || true
  [[ "$phase" == Succeeded ]]
}

# start_cluster_probe NAME RUN_ID SECONDS: a probe writing through a cluster client, Ready, with
# its first writes acknowledged and read back (within 60 s).
start_cluster_probe() {
  local out deadline
  # --http-port=8080 in one word: the manifest's args list would read a lone 8080 as a number.
  # The cluster probe was OOM-killed at 384Mi (75 % heap) during a rolling restart: more room,
  # and half of it for the heap so Netty's buffers and the JVM fit beside it.
  E2E_PROBE_MEMORY_LIMIT=768Mi E2E_PROBE_RAM_PERCENT=50 start_probe "$1" "$2" "$3" --cluster --http-port=8080
  kubectl -n "$NS" wait --for=condition=Ready "pod/$1" --timeout=120s || return 1
  deadline=$((SECONDS + 60))
  while :; do
    out=$(probe_checkpoint "$1") || { echo "$out"; return 1; }
    grep '^{' <<<"$out" | tail -n 1 | jq -e '.ackedWrites > 0' >/dev/null && break
    ((SECONDS < deadline)) || { echo "$out"; echo "probe $1 had no write acknowledged within 60 s"; return 1; }
    sleep 1
  done
  echo "$out"
}

# probe_checkpoint NAME: the running probe reads back every write acknowledged so far. The
# API server's proxy to the pod is retried a few times (a busy node drops it now and then);
# when it never answers, the probe pod's state and last log lines say why.
probe_checkpoint() {
  local out="" try
  # Up to 60 s: on a loaded 2-core machine the probe's JVM took over 27 s to listen.
  for try in $(seq 1 20); do
    out=$(kubectl get --raw "/api/v1/namespaces/$NS/pods/$1:8080/proxy/verify" 2>&1) && break
    echo "probe /verify not reached (try $try of 20): $out"
    out=""
    sleep 3
  done
  if [[ -z "$out" ]]; then
    kubectl -n "$NS" get pod "$1" -o wide 2>&1 || true
    kubectl -n "$NS" get pod "$1" -o jsonpath='{.status.containerStatuses[0].state}{"\n"}{.status.containerStatuses[0].lastState}{"\n"}' 2>&1 || true
    kubectl -n "$NS" logs "$1" --tail=20 2>&1 || true
    return 1
  fi
  jq -c '{ackedWrites, failedWrites, unavailableMs, missingAckedWrites, verified}' <<<"$out"
  jq -e '.verified == true and .missingAckedWrites == 0' <<<"$out" >/dev/null ||
    { echo "acknowledged writes missing so far: $(jq -c .missingIds <<<"$out")"; return 1; }
}

# cluster_step_checks MASTERS REPLICAS PROBE: the cluster is ok with that topology and the
# StatefulSet settled, the first keys (cluster_initial_keys) and every bulk key read back, and
# so does every write the probe got acknowledged.
cluster_step_checks() {
  wait_cluster_ok "$1" 600
  wait_cluster_replicas "$1" "$2" 300
  statefulset_settled
  check_cluster_keys
  bulk_keys_check
  probe_checkpoint "$3"
}

# bulk_keys_check: every bulk key reads back. A check that could not reach the cluster at all
# (every key "NOT read", none missing or wrong: a connect timeout on a busy node) runs once more.
bulk_keys_check() {
  local out
  if out=$(test_server_run keys-check keys check --cluster --timeout 15s --count "$E2E_CLUSTER_BULK_KEYS" --prefix bulk); then
    echo "$out"
    return 0
  fi
  echo "$out"
  grep -q ' 0 ok, 0 missing, 0 wrong, [0-9]* NOT read' <<<"$out" || return 1
  echo "keys check reached no node; once more"
  test_server_run keys-check keys check --cluster --timeout 15s --count "$E2E_CLUSTER_BULK_KEYS" --prefix bulk
}

# wait_cluster_replicas MASTERS REPLICAS TIMEOUT_S: every master has REPLICAS connected replicas in sync.
wait_cluster_replicas() {
  local want=$1 per=$2 deadline=$((SECONDS + $3)) counts=""
  while ((SECONDS < deadline)); do
    counts=$(valkey_cli "$RELEASE-0" CLUSTER NODES | tr -d '\r' | awk '
      $3 ~ /master/ && $3 !~ /fail/ && NF >= 9 {m[$1] = 0}
      $3 ~ /slave/ && $3 !~ /fail/ && $8 == "connected" {r[$4]++}
      END {for (id in m) printf "%d ", r[id] + 0}')
    if [[ $(wc -w <<<"$counts") == "$want" ]] && ! grep -qvw "$per" <<<"$(tr ' ' '\n' <<<"$counts" | grep .)"; then
      echo "every one of $want masters has $per replica(s)"
      return 0
    fi
    sleep 2
  done
  echo "replicas per master: ${counts:-?} (want $want masters x $per)"
  return 1
}

# watch_slot_coverage FILE: every 2 s until killed, how each node sees the cluster, one line a
# node: "<time> <node address> <cluster_state> <slots assigned in its view>", for whoever studies
# a window of failing writes (a cluster client adopts one node's view). Run with &.
# shellcheck disable=SC2016  # expanded by the container's shell
watch_slot_coverage() {
  while :; do
    kubectl -n "$NS" exec "$RELEASE-0" -c valkey -- sh -c '
      export REDISCLI_AUTH="$VALKEY_ADMIN_PASSWORD"
      [ "${VALKEY_TLS:-false}" = true ] &&
        set -- --tls --cacert "${VALKEY_TLS_CA_FILE:-/etc/valkey/tls/ca.crt}" --cert "${VALKEY_TLS_CERT_FILE:-/etc/valkey/tls/tls.crt}" --key "${VALKEY_TLS_KEY_FILE:-/etc/valkey/tls/tls.key}"
      now=$(date -u +%H:%M:%S)
      for node in $(valkey-cli --no-auth-warning --user admin "$@" CLUSTER NODES | awk "{split(\$2, a, \"@\"); print a[1]}"); do
        info=$(timeout 2 valkey-cli --no-auth-warning --user admin "$@" -h "${node%:*}" -p "${node##*:}" CLUSTER INFO | tr -d "\r" |
          awk -F: "/^cluster_state|^cluster_slots_assigned/ {printf \"%s \", \$2}")
        echo "$now $node ${info:-unreachable}"
      done' >>"$1" 2>&1
    sleep 2
  done
}

# Steps of cluster_scaling: "masters" = masters +E2E_CLUSTER_MASTERS_STEP (default 2) and back,
# "replicas" = replicasPerMaster +1 and back, "crash" = kill -9 of a primary's valkey container,
# "roll" = a rolling restart: the whole sequence in both cluster suites.
# E2E_CLUSTER_SCALING=quick runs the shorter subset for local iterations (cluster-default
# "masters crash roll", the others "masters crash"); E2E_CLUSTER_SCALING="STEP ..." runs those.
E2E_CLUSTER_MASTERS_STEP="${E2E_CLUSTER_MASTERS_STEP:-2}"
cluster_scaling_steps() { # SUITE
  case "${E2E_CLUSTER_SCALING:-full}" in
    full) echo "masters replicas crash roll" ;;
    quick) if [[ "$1" == cluster-default ]]; then echo "masters crash roll"; else echo "masters crash"; fi ;;
    *) echo "$E2E_CLUSTER_SCALING" ;;
  esac
}

# cluster_primary_pod: the first data pod (by ordinal) whose Valkey answers ROLE master.
cluster_primary_pod() {
  local pod
  for pod in $(kubectl -n "$NS" get pods -l app.kubernetes.io/component=valkey -o name | sed 's|^pod/||' | sort -t- -k2 -n); do
    if [[ "$(valkey_cli "$pod" ROLE 2>/dev/null | head -1 | tr -d '\r')" == master ]]; then
      echo "$pod"
      return 0
    fi
  done
  echo "no data pod answers ROLE master" >&2
  return 1
}

# cluster_crash POD: kill -9 of the pod's valkey container (a primary); returns once the kubelet
# restarted it and the pod is Ready again (readiness: rejoined and in sync).
cluster_crash() {
  local pod=$1 restarts deadline=$((SECONDS + 180))
  restarts=$(restart_count "$NS" "$pod" valkey)
  kill_container "$NS" "$pod" valkey
  until (($(restart_count "$NS" "$pod" valkey) > restarts)); do
    ((SECONDS < deadline)) || { echo "the valkey container of $pod was not restarted within 180 s"; return 1; }
    sleep 1
  done
  kubectl -n "$NS" wait --for=condition=Ready "pod/$pod" --timeout=300s >/dev/null
  echo "$pod: valkey restarted ($restarts -> $(restart_count "$NS" "$pod" valkey)), Ready"
}

# crashed_pods_ok BEFORE AFTER POD: the pod kept its UID and its valkey container restarted
# exactly once; every other pod is unchanged. Without persistence the restarted node has no data
# and must have rejoined as a replica (never an empty primary).
crashed_pods_ok() {
  local before=$1 after=$2 pod=$3 role
  unchanged_pods "$(grep -v "^$pod " <<<"$before")" "$(grep -v "^$pod " <<<"$after")" || return 1
  join <(grep "^$pod " <<<"$before") <(grep "^$pod " <<<"$after") | awk '
    { split($3, b, /[=,]/); split($5, a, /[=,]/); rb = ""; ra = ""
      for (i = 1; i < length(b); i += 2) if (b[i] == "valkey") rb = b[i + 1]
      for (i = 1; i < length(a); i += 2) if (a[i] == "valkey") ra = a[i + 1]
      if ($2 != $4) { print "pod " $1 " was replaced: uid " $2 " -> " $4; exit 1 }
      if (ra != rb + 1) { print "pod " $1 ": valkey restarts " rb " -> " ra ", expected one restart"; exit 1 }
      print "pod " $1 ": same UID, valkey restarted once (" rb " -> " ra ")" }' || return 1
  role=$(valkey_cli "$pod" ROLE | head -1 | tr -d '\r')
  echo "$pod is $role after the restart"
  if [[ "$(helm get values "$RELEASE" -n "$NS" --all -o json | jq -r '.persistence // "none"')" == none && "$role" != slave ]]; then
    echo "$pod came back without data as $role, not as a replica"
    return 1
  fi
}

# The writer runs through the suite's steps (cluster_scaling_steps); after each one every bulk
# key and every acknowledged write is read back and no pod was replaced by a scale.
cluster_scaling() {
  # shellcheck disable=SC2153 # SUITE is set by e2e/run
  local suite=$SUITE masters replicas name=probe-scaling run_id report before after uids_log watcher coverage step plus victim
  masters=$(installed_masters)
  replicas=$(helm get values "$RELEASE" -n "$NS" --all --revision 1 -o json | jq -r '.cluster.replicasPerMaster')
  plus=$E2E_CLUSTER_MASTERS_STEP
  report="$E2E_LOG_DIR/probe-$suite-scaling.json"
  run_id="scaling-$(date +%s)"
  echo "steps: $(cluster_scaling_steps "$suite")"
  wait_cluster_ok "$masters" 300
  test_server_run keys-load keys load --cluster --timeout 15s --count "$E2E_CLUSTER_BULK_KEYS" --prefix bulk
  watch_slot_coverage "$E2E_LOG_DIR/slot-coverage-$suite.log" &
  coverage=$!
  # A failing step ends the case at once: the probe and the watchers still stop (and report).
  trap 'kill "${watcher:-}" "$coverage" 2>/dev/null || true; stop_probe "$name" "$report" >/dev/null 2>&1 || true; save_reconciler_logs "$suite-scaling"' EXIT
  start_cluster_probe "$name" "$run_id" "$E2E_SCALE_PROBE_SECONDS"

  before=$(pod_states)
  for step in $(cluster_scaling_steps "$suite"); do
    case "$step" in
      masters)
        timed_step "$suite" "masters $masters -> $((masters + plus))" \
          release_upgrade --set cluster.masters=$((masters + plus)) --set cluster.replicasPerMaster="$replicas"
        cluster_step_checks $((masters + plus)) "$replicas" "$name"
        unchanged_pods "$before" "$(pod_states)"

        timed_step "$suite" "masters $((masters + plus)) -> $masters" \
          release_upgrade --set cluster.masters="$masters" --set cluster.replicasPerMaster="$replicas"
        cluster_step_checks "$masters" "$replicas" "$name"
        unchanged_pods "$before" "$(pod_states)"
        ;;
      replicas)
        timed_step "$suite" "replicasPerMaster $replicas -> $((replicas + 1))" \
          release_upgrade --set cluster.masters="$masters" --set cluster.replicasPerMaster=$((replicas + 1))
        cluster_step_checks "$masters" $((replicas + 1)) "$name"
        unchanged_pods "$before" "$(pod_states)"

        timed_step "$suite" "replicasPerMaster $((replicas + 1)) -> $replicas" \
          release_upgrade --set cluster.masters="$masters" --set cluster.replicasPerMaster="$replicas"
        cluster_step_checks "$masters" "$replicas" "$name"
        unchanged_pods "$before" "$(pod_states)"
        ;;
      crash)
        victim=$(cluster_primary_pod) || return 1
        timed_step "$suite" "kill -9 of a primary's valkey container" cluster_crash "$victim"
        cluster_step_checks "$masters" "$replicas" "$name"
        crashed_pods_ok "$before" "$(pod_states)" "$victim"
        before=$(pod_states)
        ;;
      roll)
        uids_log="$E2E_LOG_DIR/scaling-uids-$suite.log"
        watch_pod_uids "$uids_log" &
        watcher=$!
        timed_step "$suite" "rolling restart of $((masters * (replicas + 1))) pods" \
          release_upgrade --set cluster.masters="$masters" --set cluster.replicasPerMaster="$replicas" \
          --set-string "podAnnotations.e2e/restarted=$(date +%s)"
        cluster_step_checks "$masters" "$replicas" "$name"
        kill "$watcher" 2>/dev/null || true
        after=$(pod_states)
        join <(printf '%s\n' "$before") <(printf '%s\n' "$after") | awk '$2 == $4 {print "pod " $1 " was not replaced"; bad = 1} END {exit bad}'
        sort -u "$uids_log" | awk '{n[$1]++} END {for (p in n) if (n[p] > 2) {print "pod " p " had " n[p] " UIDs during the roll"; bad = 1}; exit bad}'
        ;;
    esac
  done

  trap - EXIT
  save_reconciler_logs "$suite-scaling"
  kill "$coverage" 2>/dev/null || true
  # Each node's view that left slots uncovered, once per node and minute (the full log is beside it).
  awk '$3 != "ok" || $4 != 16384 {k = $2 " " substr($1, 1, 5); if (!(k in seen)) {seen[k]; print "view not covering every slot:", $0}}' \
    "$E2E_LOG_DIR/slot-coverage-$suite.log" | head -20 || true
  stop_probe "$name" "$report"
  probe_ok "$report"
}
