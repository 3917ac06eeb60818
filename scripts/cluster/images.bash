# Images the cluster itself needs, built on this machine because none can be
# pulled: the pod sandbox (pause) and CoreDNS. Sourced by `up` and `smoke`.

# image_tar OUT NAME ROOTFS CONFIG_JSON: writes a `docker save` style archive
# (one layer) that `ctr images import` reads. CONFIG_JSON is the image's "config" object.
image_tar() {
  local out=$1 name=$2 rootfs=$3 config=$4 work diff_id config_id
  work=$(mktemp -d)
  tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$rootfs" -cf "$work/layer.tar" .
  diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
  mkdir "$work/$diff_id"
  mv "$work/layer.tar" "$work/$diff_id/layer.tar"
  printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$config" "$diff_id" >"$work/config.json"
  config_id=$(sha256sum "$work/config.json" | cut -d' ' -f1)
  mv "$work/config.json" "$work/$config_id.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' \
    "$config_id" "$name" "$diff_id" >"$work/manifest.json"
  tar -C "$work" -cf "$out.tmp" manifest.json "$config_id.json" "$diff_id/layer.tar"
  mv "$out.tmp" "$out"
  rm -rf "$work"
}

build_pause_image() {
  local out="$BUILD_DIR/pause.tar" root
  [[ -s "$out" ]] && return 0
  command -v gcc >/dev/null || die "gcc not found: install the Debian package 'gcc' (and libc6-dev) to build the pause image"
  root=$(mktemp -d)
  gcc -static -Os -s -o "$root/pause" "$(dirname "${BASH_SOURCE[0]}")/pause.c" ||
    die "gcc -static could not build pause (Debian package libc6-dev provides the static libc)"
  image_tar "$out" "$PAUSE_IMAGE" "$root" '{"Entrypoint":["/pause"],"User":"65535:65535"}'
  rm -rf "$root"
  info "built $PAUSE_IMAGE ($(du -h "$out" | cut -f1))"
}

# CoreDNS from its Go module at a pinned version (go install checks the module
# against the Go checksum database), as a one-binary image.
build_coredns_image() {
  local out="$BUILD_DIR/coredns-$COREDNS_VERSION.tar" root started=$SECONDS
  [[ -s "$out" ]] && return 0
  root=$(mktemp -d)
  info "building github.com/coredns/coredns@v$COREDNS_VERSION (Go module proxy; first build takes minutes)"
  if ! CGO_ENABLED=0 GOBIN="$root" go install -trimpath -ldflags "-s -w" \
      "github.com/coredns/coredns@v$COREDNS_VERSION" >"$LOG_DIR/coredns-build.log" 2>&1; then
    tail -10 "$LOG_DIR/coredns-build.log" >&2
    die "could not build CoreDNS $COREDNS_VERSION from the Go module proxy (see $LOG_DIR/coredns-build.log)"
  fi
  image_tar "$out" "$COREDNS_IMAGE" "$root" \
    '{"Entrypoint":["/coredns"],"Cmd":["-conf","/etc/coredns/Corefile"],"User":"65532:65532","ExposedPorts":{"1053/udp":{},"1053/tcp":{}}}'
  rm -rf "$root"
  info "built $COREDNS_IMAGE in $((SECONDS - started)) s"
}

# import_image TAR NAME: into the k8s.io namespace (where the kubelet looks), once.
import_image() {
  local tar=$1 name=$2
  ctr_k8s images ls -q | grep -qxF "$name" && return 0
  ctr_k8s images import "$tar" >/dev/null || die "containerd could not import $tar"
  info "imported $name into containerd"
}
