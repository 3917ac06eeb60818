# Shared settings and helpers of scripts/cluster/{up,down,status}. Sourced, never executed.
#
# The cluster is one node on this machine: etcd, the Kubernetes control plane,
# kubelet and kube-proxy run as host processes; pods run in a containerd instance
# of its own (own socket, root and state under $CLUSTER_DIR, never Docker's).
# Everything it writes sits under $CLUSTER_DIR, so `down` can remove it all.

# shellcheck source=../lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.bash"

# shellcheck disable=SC2034  # settings used by the scripts that source this file
{
CLUSTER_DIR="$VALKEY_K8S_CACHE/cluster"
PKI_DIR="$CLUSTER_DIR/pki"
LOG_DIR="$CLUSTER_DIR/logs"
RUN_DIR="$CLUSTER_DIR/run"
# Built artefacts (CoreDNS binary, image tarballs) survive `down`; `down --all` removes them.
BUILD_DIR="$CLUSTER_DIR/build"
export KUBECONFIG_FILE="$CLUSTER_DIR/kubeconfig"

# Pinned versions of what is built here (Kubernetes itself: KUBERNETES_VERSION in common.bash).
COREDNS_VERSION=1.14.7
PAUSE_IMAGE=registry.k8s.io/pause:3.10        # name the kubelet and containerd expect; built locally
COREDNS_IMAGE=valkey-k8s.local/coredns:$COREDNS_VERSION  # never pulled: imported into containerd

# Addresses. Loopback for everything a user or a test talks to; the node IP only
# where pods must reach the host (the API server behind the `kubernetes` Service).
NODE_NAME="${VALKEY_K8S_NODE_NAME:-valkey-k8s}"
SERVICE_CIDR=10.96.0.0/16
KUBERNETES_SERVICE_IP=10.96.0.1
DNS_SERVICE_IP=10.96.0.10
CLUSTER_CIDR=10.244.0.0/16
NODE_POD_CIDR=10.244.0.0/24   # the first /24 the controller-manager hands the only node
CLUSTER_DOMAIN=cluster.local
CNI_NETWORK=valkey-k8s
CNI_BRIDGE=vk8s0
API_PORT="${VALKEY_K8S_API_PORT:-6443}"
ETCD_CLIENT_PORT=23790   # not 2379: another etcd (tests, a package service) may hold it
ETCD_PEER_PORT=23800
REGISTRY_ADDR=127.0.0.1:5000

CONTAINERD_DIR="$CLUSTER_DIR/containerd"
CONTAINERD_SOCK="$CONTAINERD_DIR/containerd.sock"
CNI_CONF_DIR="$CLUSTER_DIR/cni/net.d"
CNI_BIN_DIR="${VALKEY_K8S_CNI_BIN_DIR:-/usr/lib/cni}"
KUBELET_DIR="$CLUSTER_DIR/kubelet"

# Components in start order; `down` stops them in reverse.
COMPONENTS=(etcd kube-apiserver containerd kube-controller-manager kube-scheduler kubelet kube-proxy hostpath-provisioner)
}

mkdir -p "$LOG_DIR" "$RUN_DIR"

# The address pods use to reach this host: the source address of the default route.
detect_node_ip() {
  if [[ -n "${VALKEY_K8S_NODE_IP:-}" ]]; then printf '%s\n' "$VALKEY_K8S_NODE_IP"; return; fi
  local ip
  ip=$(ip -4 -o route get 192.0.2.254 2>/dev/null | sed -nE 's/.* src ([0-9.]+).*/\1/p')
  [[ -n "$ip" ]] || ip=$(ip -4 -o addr show scope global 2>/dev/null | awk '{sub(/\/.*/, "", $4); print $4; exit}')
  [[ -n "$ip" ]] || die "no global IPv4 address on this machine; set VALKEY_K8S_NODE_IP"
  printf '%s\n' "$ip"
}

kube() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }
ctr_k8s() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# write_file FILE < CONTENT: replaces FILE only when the content differs (kube-proxy
# exits when its configuration file changes, even to the same bytes).
write_file() {
  local file=$1
  cat >"$file.new"
  if cmp -s "$file.new" "$file"; then rm -f "$file.new"; else mv "$file.new" "$file"; fi
}

# --- processes ---------------------------------------------------------------
# A pid file holds the pid and the binary, so a recycled pid is never taken for ours.
pid_file() { printf '%s/%s.pid\n' "$RUN_DIR" "$1"; }

running_pid() {
  local file pid bin
  file=$(pid_file "$1")
  [[ -f "$file" ]] || return 1
  read -r pid bin <"$file" || true
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" == "$(readlink -f "$bin")" ]] || return 1
  printf '%s\n' "$pid"
}

# start_daemon NAME BINARY ARGS...: starts it detached, output appended to logs/NAME.log.
start_daemon() {
  local name=$1 bin=$2; shift 2
  if running_pid "$name" >/dev/null; then info "$name already running"; return 0; fi
  [[ -x "$bin" ]] || die "$name: $bin is missing (run: scripts/setup --cluster)"
  printf '\n==== %s start %s\n' "$(date -u +%FT%TZ)" "$name" >>"$LOG_DIR/$name.log"
  # Started with no inherited descriptor but the standard three: a daemon that kept, say, the
  # fd of a `flock` its caller ran under would hold that lock for as long as the cluster runs.
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then exec {fd}>&-; fi
    done
    exec setsid "$bin" "$@"
  ) </dev/null >>"$LOG_DIR/$name.log" 2>&1 &
  printf '%s %s\n' "$!" "$(readlink -f "$bin")" >"$(pid_file "$name")"
  info "$name started (pid $!, log $LOG_DIR/$name.log)"
}

# stop_daemons NAME...: SIGTERM to all at once, up to 15 s grace, then SIGKILL.
stop_daemons() {
  local name pid i pids=() names=()
  for name in "$@"; do
    if pid=$(running_pid "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid"); names+=("$name")
    fi
    rm -f "$(pid_file "$name")"
  done
  for ((i = 0; i < ${#pids[@]}; i++)); do
    local deadline=$((SECONDS + 15))
    while kill -0 "${pids[i]}" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    if kill -0 "${pids[i]}" 2>/dev/null; then
      kill -KILL "${pids[i]}" 2>/dev/null || true
      info "${names[i]} killed (did not stop in 15 s)"
    else
      info "${names[i]} stopped"
    fi
  done
}

# wait_until TIMEOUT_S COMMAND...: polls every 0.5 s until COMMAND succeeds.
wait_until() {
  local timeout=$1 deadline; shift
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.5
  done
}

# --- health checks (status uses the same ones) ---------------------------------
health_etcd() { curl -fsS --max-time 3 "http://127.0.0.1:$ETCD_CLIENT_PORT/health" | grep -q '"health":"true"'; }
health_kube-apiserver() { kube get --raw /readyz --request-timeout=5s | grep -q '^ok'; }
health_containerd() { ctr --address "$CONTAINERD_SOCK" --timeout 3s version; }
health_kube-controller-manager() { curl -kfsS --max-time 3 https://127.0.0.1:10257/healthz | grep -q '^ok'; }
health_kube-scheduler() { curl -kfsS --max-time 3 https://127.0.0.1:10259/healthz | grep -q '^ok'; }
health_kubelet() { curl -fsS --max-time 3 http://127.0.0.1:10248/healthz | grep -q '^ok'; }
health_kube-proxy() { curl -fsS --max-time 3 http://127.0.0.1:10256/healthz >/dev/null; }
health_hostpath-provisioner() {
  # It touches its heartbeat every loop (2 s plus two API calls).
  [[ -n "$(find "$RUN_DIR/hostpath-provisioner.heartbeat" -newermt '-20 seconds' 2>/dev/null)" ]]
}
health_registry() { curl -fsS --max-time 3 "http://$REGISTRY_ADDR/v2/" >/dev/null; }
health_node() {
  [[ "$(kube get node "$NODE_NAME" --request-timeout=5s \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}
health_dns() {
  # Through the kube-dns Service IP (kube-proxy) to a CoreDNS pod, from the host.
  busybox nslookup "kubernetes.default.svc.$CLUSTER_DOMAIN" "$DNS_SERVICE_IP" 2>/dev/null |
    grep -q "Address: $KUBERNETES_SERVICE_IP"
}
