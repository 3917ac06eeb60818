# Image names and helpers shared by scripts/build/*. Sourced after common.bash.
# shellcheck disable=SC2034 # the names are used by the scripts that source this

# Registry the images and the chart are pushed to (a user's k3d registry, or
# scripts/registry here).
REGISTRY="${REGISTRY:-localhost:5000}"
# One tag for every image, the version of the chart and package.json.
IMAGE_TAG="${IMAGE_TAG:-$(sed -nE 's/^  "version": "([^"]+)".*/\1/p' "$REPO_ROOT/package.json")}"
VALKEY_IMAGE="${VALKEY_IMAGE:-$REGISTRY/valkey-k8s/valkey:$IMAGE_TAG}"
# The metrics exporter (exporter-image/), the chart's default metrics.image.
EXPORTER_IMAGE="${EXPORTER_IMAGE:-$REGISTRY/valkey-k8s/redis-exporter:$IMAGE_TAG}"
# The Java base made here from Debian packages (base-images.bash): the Jib base on
# machines that cannot pull the pom's public default.
LOCAL_JRE_IMAGE="$REGISTRY/base/openjdk-25-jre:trixie"

# The Debian mirror of this machine's apt sources (deb.debian.org for most users).
debian_mirror() {
  local mirror
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -vE '^\s*#' | grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -1 | tr -d ' ' || true)
  echo "${DEBIAN_MIRROR:-${mirror:-http://deb.debian.org/debian}}"
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# Makes sure debian:bookworm-slim exists locally: pulled when the public registry
# answers, else made from Debian packages, said in one line.
ensure_debian_base() {
  local image=debian:bookworm-slim
  image_exists "$image" && return 0
  docker pull -q "$image" >/dev/null 2>&1 && return 0
  info "$image cannot be pulled here; using a local $image made from Debian packages (scripts/build/base-images.bash debian)"
  "$REPO_ROOT/scripts/build/base-images.bash" debian
}

registry_answers() { curl -fsS -o /dev/null --max-time 3 "http://$REGISTRY/v2/" 2>/dev/null; }

# Whether $REGISTRY (plain HTTP) has a manifest for IMAGE ($REGISTRY/repo:tag).
registry_has() {
  local ref=${1#"$REGISTRY"/}
  curl -fsS -o /dev/null --max-time 5 -H "Accept: $MANIFEST_ACCEPT" \
    "http://$REGISTRY/v2/${ref%:*}/manifests/${ref##*:}" 2>/dev/null
}
MANIFEST_ACCEPT='application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json,application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.list.v2+json'

# Whether a public Docker Hub image (e.g. eclipse-temurin:25-jre) can be pulled
# from here, asked as Jib would: a pull token, then the manifest. An image that
# names another registry counts as pullable (the user chose it).
public_image_pullable() {
  local ref=$1 repo tag token first
  first=${ref%%/*}
  if [[ "$ref" == */* ]] && [[ "$first" == *[.:]* || "$first" == localhost ]]; then return 0; fi
  repo=${ref%:*}; tag=${ref##*:}
  [[ "$repo" == */* ]] || repo="library/$repo"
  token=$(curl -fsS --max-time 10 "https://auth.docker.io/token?service=registry.docker.io&scope=repository:$repo:pull" 2>/dev/null |
    sed -nE 's/.*"token" *: *"([^"]+)".*/\1/p') || return 1
  [[ -n "$token" ]] || return 1
  curl -fsS -o /dev/null --max-time 10 -I -H "Authorization: Bearer $token" -H "Accept: $MANIFEST_ACCEPT" \
    "https://registry-1.docker.io/v2/$repo/manifests/$tag" 2>/dev/null
}

# The local Java base (base-images.bash) must be in $REGISTRY, where Jib reads
# it: made and pushed when missing; the loopback registry is started if needed.
ensure_registry_jre() {
  if ! registry_answers; then
    [[ "$REGISTRY" == localhost:5000 || "$REGISTRY" == 127.0.0.1:5000 ]] ||
      die "registry $REGISTRY does not answer; Jib needs it for the base $LOCAL_JRE_IMAGE"
    "$REPO_ROOT/scripts/registry" up
  fi
  registry_has "$LOCAL_JRE_IMAGE" || "$REPO_ROOT/scripts/build/base-images.bash" jre
}
