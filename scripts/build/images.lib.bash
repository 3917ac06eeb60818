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
