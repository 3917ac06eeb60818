# Password rotation without restarts, for Sentinel-mode and cluster-mode releases. Sourced by
# e2e/run (after e2e/lib.bash and e2e/failover.bash); takes NS, RELEASE and SUITE from the caller.
#
# The client password changes in the Secret while a probe writes (through the Service, or
# through a cluster client in cluster mode):
# every data pod takes the new one (the kubelet refreshes the mounted Secret, the
# credentials sidecar adds it with ACL SETUSER), the old one still works during the grace
# period, no pod restarts, and the probe's acknowledged writes are all there.

E2E_ROTATION_TIMEOUT="${E2E_ROTATION_TIMEOUT:-180}"

# client_ping POD WHICH [HOST]: PING as the client user from POD's valkey container, with
# the mounted (new) password ("mounted") or the one the container started with ("env");
# to HOST (default this pod's own server). The password stays inside the container.
# shellcheck disable=SC2016  # expanded by the container's shell
client_ping() {
  local source='$(cat /etc/valkey/credentials/client)'
  [[ "$2" == env ]] && source='$VALKEY_CLIENT_PASSWORD'
  kubectl -n "$NS" exec "$1" -c valkey -- sh -c \
    "$CLI_TLS_PREFIX""VALKEYCLI_AUTH=\"$source\" exec valkey-cli --no-auth-warning --user client \"\$@\" PING 2>&1 | head -n 1" \
    valkey-cli -h "${3:-localhost}" | tr -d '\r'
}

password_rotation_scenario() {
  local run_id name report before after pod new_sha patched pods waited
  run_id="rotation-$(date +%s)"
  name="probe-rotation"
  report="$E2E_LOG_DIR/probe-${SUITE:-$RELEASE}-rotation.json"
  before=$(pod_states)
  mapfile -t pods < <(awk '{print $1}' <<<"$before")
  if [[ "$SUITE" == cluster* ]]; then
    start_cluster_probe "$name" "$run_id" 150 || return 1
  else
    start_probe "$name" "$run_id" 150
    wait_probe_writing "$(primary_pod)" "$run_id" 120
  fi
  local password
  password=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)
  new_sha=$(printf '%s' "$password" | sha256sum | cut -c1-64)
  kubectl -n "$NS" patch secret "$RELEASE-credentials" --type merge \
    -p "{\"data\":{\"clientPassword\":\"$(printf '%s' "$password" | base64 -w0)\"}}" >/dev/null
  patched=$SECONDS
  echo "client password changed in Secret $RELEASE-credentials"
  for pod in "${pods[@]}"; do
    until [[ "$(kubectl -n "$NS" exec "$pod" -c valkey -- sh -c 'sha256sum </etc/valkey/credentials/client' | cut -c1-64)" == "$new_sha" ]]; do
      ((SECONDS - patched < E2E_ROTATION_TIMEOUT)) || { echo "$pod: the mounted Secret did not change within $E2E_ROTATION_TIMEOUT s"; return 1; }
      sleep 2
    done
    echo "$pod: mounted Secret refreshed after $((SECONDS - patched)) s"
  done
  for pod in "${pods[@]}"; do
    until [[ "$(client_ping "$pod" mounted)" == PONG ]]; do
      ((SECONDS - patched < E2E_ROTATION_TIMEOUT)) || { echo "$pod: the new client password is not accepted within $E2E_ROTATION_TIMEOUT s"; return 1; }
      sleep 1
    done
  done
  waited=$((SECONDS - patched))
  echo "every data pod accepts the new client password $waited s after the change"
  # A new connection through the Service, with the new password and with the old one (grace period).
  [[ "$(client_ping "${pods[0]}" mounted "$RELEASE")" == PONG ]] || { echo "a new connection to Service $RELEASE with the new password failed"; return 1; }
  for pod in "${pods[@]}"; do
    [[ "$(client_ping "$pod" env)" == PONG ]] || { echo "$pod: the old client password is refused within the grace period"; return 1; }
  done
  [[ "$(client_ping "${pods[0]}" env "$RELEASE")" == PONG ]] || { echo "the old password through Service $RELEASE is refused within the grace period"; return 1; }
  echo "new connections through Service $RELEASE work with the new password and, during the grace period, the old one"
  wait_probe_report "$name" $((E2E_ROTATION_TIMEOUT + 150)) "$report"
  kubectl -n "$NS" delete pod "$name" --ignore-not-found --wait=false >/dev/null
  jq -c '{ackedWrites, failedWrites, unavailableMs, missingAckedWrites, verified}' "$report"
  jq -e '.verified == true and .missingAckedWrites == 0 and .ackedWrites > 0' "$report" >/dev/null ||
    { echo "the probe lost acknowledged writes or could not verify them"; return 1; }
  after=$(pod_states)
  same_pods "$before" "$after"
}
