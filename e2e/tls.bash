# TLS for the end-to-end suites and the benchmark. Sourced by e2e/run and e2e/bench
# (after e2e/lib.bash and e2e/failover.bash); takes NS and RELEASE from the caller.
#
# Before a suite whose values turn tls.enabled on, a CA of the suite's own and the
# certificates the chart's tls.* comments ask for are made on the host with openssl, into
# E2E_TLS_DIR (mode 700; keys never printed), and stored as the kubernetes.io/tls Secrets
# valkey-tls (server, with ca.crt) and valkey-tls-client (client). The cases here: a
# plaintext connection is refused, and the server certificate is renewed while a probe
# writes (served to new connections without a restart).

E2E_TLS_DIR="${E2E_TLS_DIR:-$E2E_LOG_DIR/tls}"
E2E_CERT_ROTATION_TIMEOUT="${E2E_CERT_ROTATION_TIMEOUT:-240}"

# values_tls_enabled FILE...: the merged values files turn tls.enabled on.
values_tls_enabled() {
  python3 - "$@" <<'EOF'
import sys, yaml
enabled = False
for path in sys.argv[1:]:
    with open(path) as f:
        doc = yaml.safe_load(f) or {}
    tls = doc.get("tls") or {}
    if "enabled" in tls:
        enabled = tls["enabled"] is True
sys.exit(0 if enabled else 1)
EOF
}

# tls_on: the installed release has TLS on.
tls_on() {
  [[ "$(helm get values "$RELEASE" -n "$NS" --all -o json 2>/dev/null | jq -r '.tls.enabled')" == true ]]
}

# tls_server_cert NAME: a server certificate (new key, new serial) signed by the suite's CA,
# for every name the chart's tls.existingSecret comment lists, with client authentication
# (servers present it on their own links: replication, Sentinel, the cluster bus).
tls_server_cert() {
  local d=$E2E_TLS_DIR name=$1 r=$RELEASE
  local sans="DNS:$r,DNS:$r.$NS,DNS:$r.$NS.svc,DNS:$r.$NS.svc.cluster.local"
  sans+=",DNS:*.$r-headless.$NS.svc,DNS:*.$r-headless.$NS.svc.cluster.local,DNS:$r-headless.$NS.svc"
  sans+=",DNS:$r-sentinel,DNS:$r-sentinel.$NS.svc,DNS:$r-sentinel.$NS.svc.cluster.local"
  sans+=",DNS:localhost,IP:127.0.0.1"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$r.$NS.svc" \
    -keyout "$d/$name.key" -out "$d/$name.csr" 2>/dev/null
  openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days 30 -out "$d/$name.crt" -extfile <(printf '%s\n' "subjectAltName=$sans" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth,clientAuth") 2>/dev/null
  rm -f "$d/$name.csr"
}

# tls_secret NAME CERT_BASENAME: the kubernetes.io/tls Secret NAME (with ca.crt), created or replaced.
tls_secret() {
  local d=$E2E_TLS_DIR
  kubectl -n "$NS" create secret generic "$1" --type=kubernetes.io/tls --from-file=tls.crt="$d/$2.crt" \
    --from-file=tls.key="$d/$2.key" --from-file=ca.crt="$d/ca.crt" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
}

# make_tls_secrets: the suite's CA, server and client certificates, and both Secrets in NS.
make_tls_secrets() {
  local d=$E2E_TLS_DIR
  rm -rf "$d"; mkdir -p "$d"; chmod 700 "$d"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=valkey-e2e-ca-$NS" -keyout "$d/ca.key" -out "$d/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  tls_server_cert server
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=valkey-e2e-client" \
    -keyout "$d/client.key" -out "$d/client.csr" 2>/dev/null
  openssl x509 -req -in "$d/client.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days 30 -out "$d/client.crt" -extfile <(printf '%s\n' "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=clientAuth") 2>/dev/null
  rm -f "$d/client.csr"
  chmod 600 "$d"/*.key
  tls_secret valkey-tls server
  tls_secret valkey-tls-client client
  echo "CA, server certificate (serial $(tls_serial "$d/server.crt")) and client certificate made; Secrets valkey-tls and valkey-tls-client in $NS"
}

# tls_serial CERT_FILE: the certificate's serial (hex, upper case).
tls_serial() { openssl x509 -noout -serial -in "$1" | sed 's/^serial=//'; }

# served_serial HOST PORT: the serial of the certificate a NEW connection to HOST:PORT gets
# (the host reaches pod IPs on the local cluster), verified against the suite's CA.
served_serial() {
  local d=$E2E_TLS_DIR
  timeout 10 openssl s_client -connect "$1:$2" -CAfile "$d/ca.crt" -cert "$d/client.crt" -key "$d/client.key" \
    -verify_return_error </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//'
}

# data_pod_ips: "name ip" of every data pod.
data_pod_ips() {
  kubectl -n "$NS" get pods -l app.kubernetes.io/component=valkey \
    -o jsonpath='{range .items[*]}{.metadata.name} {.status.podIP}{"\n"}{end}'
}

# tls_ports: the TLS ports of a data pod in this release's mode (client, and Sentinel or cluster bus).
tls_ports() {
  case "$(kubectl -n "$NS" get statefulset "$RELEASE" -o jsonpath='{.metadata.labels.valkey\.io/mode}')" in
    sentinel) echo "6379 26379" ;;
    cluster) echo "6379 16379" ;;
    *) echo 6379 ;;
  esac
}

# plaintext_refused: valkey-cli without --tls (inside each data pod, to its own ports) gets no
# PONG from any TLS port, while the same port completes a verified TLS handshake from the
# host and PING over TLS answers: the refusal is the TLS, not the network.
# shellcheck disable=SC2016  # expanded by the container's shell
plaintext_refused() {
  local pod ip port out
  while read -r pod ip; do
    for port in $(tls_ports); do
      out=$(kubectl -n "$NS" exec "$pod" -c valkey -- sh -c \
        'REDISCLI_AUTH="$VALKEY_ADMIN_PASSWORD" timeout 5 valkey-cli --no-auth-warning --user admin -h 127.0.0.1 -p "$1" PING 2>&1 | head -n 3' \
        valkey-cli "$port" | tr '\r\n' '  ' || true)
      echo "$pod: plaintext PING to port $port: ${out:-no answer}"
      [[ "$out" != *PONG* ]] || { echo "$pod answered PONG in plaintext on port $port"; return 1; }
      out=$(served_serial "$ip" "$port")
      echo "$pod: verified TLS handshake on port $port from the host: certificate serial ${out:-none}"
      [[ -n "$out" ]]
    done
    out=$(valkey_cli "$pod" PING | tr -d '\r')
    echo "$pod: PING over TLS to port 6379: $out"
    [[ "$out" == PONG ]]
    if [[ "$(tls_ports)" == *26379* ]]; then
      out=$(sentinel_cli "$pod" PING | tr -d '\r')
      echo "$pod: PING over TLS to port 26379: $out"
      [[ "$out" == PONG ]]
    fi
  done < <(data_pod_ips)
}

# wait_serial_served SERIAL SINCE: every data pod's TLS ports give new connections the
# certificate SERIAL (bounded by E2E_CERT_ROTATION_TIMEOUT from SINCE, progress printed).
wait_serial_served() {
  local serial=$1 since=$2 pod ip port served
  while read -r pod ip; do
    for port in $(tls_ports); do
      until served=$(served_serial "$ip" "$port"); [[ "$served" == "$serial" ]]; do
        ((SECONDS - since < E2E_CERT_ROTATION_TIMEOUT)) ||
          { echo "$pod port $port still serves serial ${served:-none} after $E2E_CERT_ROTATION_TIMEOUT s"; return 1; }
        echo "$pod port $port: serial ${served:-none} after $((SECONDS - since)) s, waiting"
        sleep 5
      done
      echo "$pod port $port serves the new certificate $((SECONDS - since)) s after the Secret changed"
    done
  done < <(data_pod_ips)
  echo "kubelet + Valkey: every TLS port serves the new certificate $((SECONDS - since)) s after the Secret changed"
}

# cert_rotation_scenario: a new server certificate (same CA, new serial) in Secret valkey-tls;
# waits until new connections to every data pod's TLS ports present it; no pod restarted or
# replaced; a probe writes meanwhile (through the Service, or a cluster client in cluster mode)
# and loses no acknowledged write. Sentinel mode: then a planned handover (primary pod deleted:
# replication and Sentinel over the new certificate). Cluster mode: the cluster stays ok and
# every key reads back.
cert_rotation_scenario() {
  local run_id name=probe-cert-rotation report before after new_serial patched sentinel=false
  [[ "$(tls_ports)" == *26379* ]] && sentinel=true
  run_id="cert-rotation-$(date +%s)"
  report="$E2E_LOG_DIR/probe-${SUITE:-$RELEASE}-cert-rotation.json"
  before=$(pod_states)
  if $sentinel; then
    start_probe "$name" "$run_id" 150
    wait_probe_writing "$(primary_pod)" "$run_id" 120
  else
    start_cluster_probe "$name" "$run_id" 600 || return 1
  fi
  echo "old server certificate serial $(tls_serial "$E2E_TLS_DIR/server.crt")"
  tls_server_cert server
  chmod 600 "$E2E_TLS_DIR/server.key"
  new_serial=$(tls_serial "$E2E_TLS_DIR/server.crt")
  tls_secret valkey-tls server
  patched=$SECONDS
  echo "new server certificate (serial $new_serial) written into Secret valkey-tls"
  wait_serial_served "$new_serial" "$patched"
  # The probe connected before the renewal and kept writing through it; its report reads every
  # acknowledged write back.
  if $sentinel; then
    wait_probe_report "$name" 300 "$report"
  else
    wait_cluster_ok "$(installed_masters)" 120
    check_cluster_keys
    stop_probe "$name" "$report"
  fi
  kubectl -n "$NS" delete pod "$name" --ignore-not-found --wait=false >/dev/null
  jq -c '{ackedWrites, failedWrites, unavailableMs, missingAckedWrites, verified}' "$report"
  jq -e '.verified == true and .missingAckedWrites == 0 and .ackedWrites > 0' "$report" >/dev/null ||
    { echo "the probe lost acknowledged writes or could not verify them"; return 1; }
  after=$(pod_states)
  same_pods "$before" "$after" || return 1
  if $sentinel; then
    local replicas
    replicas=$(( $(kubectl -n "$NS" get statefulset "$RELEASE" -o jsonpath='{.spec.replicas}') - 1 ))
    echo "planned handover over the new certificate:"
    failover_scenario cert-renewed-delete disrupt_delete "$replicas"
  fi
}
