# Certificates and kubeconfigs of the local cluster, made with openssl. Sourced by `up`.
# One CA signs every serving and client certificate; identities follow the names
# the Kubernetes RBAC defaults expect (system:kube-scheduler, system:node:<name>, ...).
# Files are made once; a second `up` reuses them.

# new_cert NAME SUBJECT KEY_USAGE [SAN]: key + certificate signed by the CA, valid 1 year.
new_cert() {
  local name=$1 subject=$2 usage=$3 san=${4:-}
  [[ -s "$PKI_DIR/$name.crt" ]] && return 0
  local ext="$PKI_DIR/$name.ext"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [[ -z "$san" ]] || echo "subjectAltName=$san"
  } >"$ext"
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI_DIR/$name.key" 2>/dev/null
  openssl req -new -key "$PKI_DIR/$name.key" -subj "$subject" -out "$PKI_DIR/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" \
    -CAcreateserial -days 365 -sha256 -extfile "$ext" -out "$PKI_DIR/$name.crt" 2>/dev/null ||
    die "openssl could not sign $name"
  rm -f "$PKI_DIR/$name.csr" "$ext"
}

# write_kubeconfig FILE CERT_NAME: a kubeconfig for https://127.0.0.1:$API_PORT with a client certificate.
write_kubeconfig() {
  local file=$1 cert=$2
  write_file "$file" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: valkey-k8s
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 "$PKI_DIR/ca.crt")
users:
- name: $cert
  user:
    client-certificate-data: $(base64 -w0 "$PKI_DIR/$cert.crt")
    client-key-data: $(base64 -w0 "$PKI_DIR/$cert.key")
contexts:
- name: valkey-k8s
  context: {cluster: valkey-k8s, user: $cert}
current-context: valkey-k8s
YAML
  chmod 600 "$file"
}

make_pki() {
  local node_ip=$1
  mkdir -p "$PKI_DIR"
  chmod 700 "$PKI_DIR"
  # Certificates carry the node IP: if it changed, the old ones are of no use.
  if [[ -f "$PKI_DIR/node-ip" && "$(cat "$PKI_DIR/node-ip")" != "$node_ip" ]]; then
    die "the node IP changed from $(cat "$PKI_DIR/node-ip") to $node_ip: run scripts/cluster/down first"
  fi
  echo "$node_ip" >"$PKI_DIR/node-ip"
  if [[ ! -s "$PKI_DIR/ca.crt" ]]; then
    openssl ecparam -name prime256v1 -genkey -noout -out "$PKI_DIR/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$PKI_DIR/ca.key" -subj "/CN=valkey-k8s-ca" -days 3650 -sha256 \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -out "$PKI_DIR/ca.crt" 2>/dev/null || die "openssl could not make the CA"
  fi
  # Service-account tokens are signed with an RSA key (the API server's default algorithm).
  if [[ ! -s "$PKI_DIR/sa.key" ]]; then
    openssl genrsa -out "$PKI_DIR/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null
  fi
  local svc=kubernetes.default.svc
  new_cert kube-apiserver "/CN=kube-apiserver" serverAuth \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:$svc,DNS:$svc.$CLUSTER_DOMAIN,DNS:localhost,IP:127.0.0.1,IP:$KUBERNETES_SERVICE_IP,IP:$node_ip"
  new_cert kubelet-serving "/CN=$NODE_NAME" serverAuth "DNS:$NODE_NAME,DNS:localhost,IP:127.0.0.1,IP:$node_ip"
  new_cert admin "/O=system:masters/CN=valkey-k8s-admin" clientAuth
  new_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  new_cert kube-controller-manager "/CN=system:kube-controller-manager" clientAuth
  new_cert kube-scheduler "/CN=system:kube-scheduler" clientAuth
  new_cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
  new_cert kube-proxy "/CN=system:kube-proxy" clientAuth
  chmod 600 "$PKI_DIR"/*.key
  write_kubeconfig "$KUBECONFIG_FILE" admin
  local c
  for c in kube-controller-manager kube-scheduler kubelet kube-proxy; do
    write_kubeconfig "$PKI_DIR/$c.kubeconfig" "$c"
  done
}
