#!/usr/bin/env bash
# Renders the chart with its defaults, every chart/ci/*-values.yaml, cert-manager TLS and the
# HelmChart resources of examples/k3s (their `set:` turned into --set and
# --set-string arguments the way the k3s Helm controller does), and has a real
# kube-apiserver (with etcd, started here on loopback and stopped on exit)
# accept each manifest with a server-side dry run, in namespaces that enforce
# Pod Security "restricted". Any error or PodSecurity warning fails.
#
#   chart/ci/apiserver-dry-run.bash        (after scripts/setup)
set -euo pipefail
# shellcheck source=scripts/lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.bash"
cd "$REPO_ROOT"

bin_dir=$(find "$KUBE_API_TEST_DIR/k8s" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort | tail -1)
apiserver=$bin_dir/kube-apiserver
etcd=$bin_dir/etcd
kubectl_bin=$bin_dir/kubectl
[[ -x "$etcd" ]] || etcd=$(command -v etcd || true)
[[ -x "$kubectl_bin" ]] || kubectl_bin=$(command -v kubectl || true)
[[ -x "$apiserver" && -x "$etcd" && -x "$kubectl_bin" ]] ||
  die "kube-apiserver, etcd and kubectl are needed under $KUBE_API_TEST_DIR/k8s/<version>/ (run scripts/setup)"

work=$(mktemp -d)
pids=()
# Stops what this script started, newest first (kube-apiserver before its etcd).
cleanup() {
  local i pid
  for (( i = ${#pids[@]} - 1; i >= 0; i-- )); do
    pid=${pids[i]}
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
etcd_port=$(free_port); peer_port=$(free_port); api_port=$(free_port)

"$etcd" --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "default=http://127.0.0.1:$peer_port" >"$work/etcd.log" 2>&1 &
pids+=($!)

openssl genrsa -out "$work/sa.key" 2048 2>/dev/null
token=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
echo "$token,chart-ci,chart-ci,system:masters" >"$work/tokens.csv"
"$apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" --bind-address 127.0.0.1 \
  --secure-port "$api_port" --cert-dir "$work/certs" --token-auth-file "$work/tokens.csv" \
  --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$work/sa.key" \
  --service-account-signing-key-file "$work/sa.key" --authorization-mode RBAC \
  --service-cluster-ip-range 10.96.0.0/16 >"$work/apiserver.log" 2>&1 &
pids+=($!)

k() { "$kubectl_bin" --server "https://127.0.0.1:$api_port" --token "$token" --insecure-skip-tls-verify "$@"; }
for _ in $(seq 60); do k get --raw /readyz >/dev/null 2>&1 && break; sleep 1; done
k get --raw /readyz >/dev/null || { tail -20 "$work/apiserver.log" >&2; die "kube-apiserver did not get ready in 60 s"; }

restricted_namespace() {
  k create namespace "$1" >/dev/null
  k label namespace "$1" pod-security.kubernetes.io/enforce=restricted \
    pod-security.kubernetes.io/warn=restricted >/dev/null
  k -n "$1" create serviceaccount default >/dev/null   # no controller-manager here
}
restricted_namespace valkey-ci
k create namespace ingress-nginx >/dev/null
# Stand-ins for the prometheus-operator and k3s CRDs: kind and group are checked.
crd() {
  local group=$1 kind=$2 plural=$3
  k apply -f - >/dev/null <<EOF
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: $plural.$group}
spec:
  group: $group
  scope: Namespaced
  names: {kind: $kind, plural: $plural, singular: ${kind,,}}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
EOF
  k wait --for=condition=Established "crd/$plural.$group" --timeout=30s >/dev/null
}
crd monitoring.coreos.com ServiceMonitor servicemonitors
crd monitoring.coreos.com PrometheusRule prometheusrules
crd helm.cattle.io HelmChart helmcharts
# cert-manager's own Certificate CRD (its schema checks usages, key algorithm, issuerRef), from
# its Go module at a pinned version (the Go module cache keeps it).
CERT_MANAGER_VERSION=v1.21.2
cert_manager_dir=$(go mod download -json "github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION" |
  python3 -c 'import json, sys; print(json.load(sys.stdin).get("Dir", ""))') ||
  die "cannot download github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION from the Go module proxy"
k apply -f "$cert_manager_dir/deploy/crds/cert-manager.io_certificates.yaml" >/dev/null
k wait --for=condition=Established crd/certificates.cert-manager.io --timeout=30s >/dev/null

version=$("$apiserver" --version | awk '{print $2}')
failed=0 checked=0
# check LABEL RELEASE NAMESPACE [helm template arguments...]
check() {
  local label=$1 release=$2 namespace=$3; shift 3
  checked=$((checked + 1))
  if ! helm template "$release" chart -n "$namespace" --kube-version "$version" "$@" >"$work/manifest.yaml"; then
    echo "FAILED: $label (helm template)"; failed=$((failed + 1)); return 0
  fi
  if ! k apply --dry-run=server -f "$work/manifest.yaml" >"$work/apply.log" 2>&1 ||
      grep -q '^Warning' "$work/apply.log"; then
    echo "FAILED: $label"; grep -v '(server dry run)$' "$work/apply.log"; failed=$((failed + 1))
  else
    echo "ok: $label ($(grep -c '(server dry run)$' "$work/apply.log") objects accepted)"
  fi
}

check defaults rel valkey-ci
for values in chart/ci/*-values.yaml; do check "$values" rel valkey-ci -f "$values"; done
# ServiceMonitor and PrometheusRule: helm sees the CRDs through --api-versions.
check "metrics with ServiceMonitor and PrometheusRule (cluster mode)" rel valkey-ci \
  --api-versions monitoring.coreos.com/v1/ServiceMonitor --api-versions monitoring.coreos.com/v1/PrometheusRule \
  --set cluster.masters=3 --set metrics.enabled=true --set metrics.serviceMonitor.enabled=true \
  --set metrics.prometheusRule.enabled=true
# cert-manager Certificates (server and client) instead of an existing Secret.
check "TLS from cert-manager, client certificates required (Sentinel mode)" rel valkey-ci \
  --api-versions cert-manager.io/v1/Certificate --set cluster.replicasPerMaster=2 \
  --set tls.enabled=true --set tls.certManager.issuerRef.name=ca-issuer --set tls.authClients=yes

# HelmChart JSON on stdin -> release name, target namespace, then the helm
# arguments one per line, built like the k3s Helm controller does: ints, true,
# false and null with --set, the rest with --set-string and commas escaped.
helm_controller_args() {
  python3 -c '
import json, re, sys
chart = json.load(sys.stdin)
spec = chart["spec"]
print(chart["metadata"]["name"])
print(spec.get("targetNamespace", "default"))
for key in sorted(spec.get("set", {})):
    value = spec["set"][key]
    if isinstance(value, int) or str(value).lower() in ("true", "false", "null"):
        print("--set"); print("%s=%s" % (key, value))
    else:
        print("--set-string"); print("%s=%s" % (key, re.sub(r"(?<!\\),", r"\\,", value)))
'
}
# The k3s example as written, and with the dev patch applied (kustomize).
for example in helmchart.yaml kustomization.yaml; do
  if [[ $example == kustomization.yaml ]]; then "$kubectl_bin" kustomize examples/k3s >"$work/helmchart.yaml"
  else cp examples/k3s/helmchart.yaml "$work/helmchart.yaml"; fi
  k create --dry-run=server -o json -f "$work/helmchart.yaml" | helm_controller_args >"$work/args"
  mapfile -t args <"$work/args"
  k get namespace "${args[1]}" >/dev/null 2>&1 || restricted_namespace "${args[1]}"
  check "examples/k3s/$example: ${args[*]:2}" "${args[0]}" "${args[1]}" "${args[@]:2}"
done

echo "$((checked - failed)) of $checked value sets accepted by kube-apiserver $version (Pod Security restricted)"
(( failed == 0 ))
