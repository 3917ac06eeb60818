#!/usr/bin/env bash
# Builds and pushes the metrics exporter image from exporter-image/Dockerfile
# (redis_exporter from Debian's prometheus-redis-exporter package), the
# chart's default `metrics.image`.
#
#   scripts/build/exporter-image.bash build   docker build -> $EXPORTER_IMAGE
#   scripts/build/exporter-image.bash push    docker push $EXPORTER_IMAGE
#
# Environment: REGISTRY (default localhost:5000), IMAGE_TAG (default the
# package.json version), EXPORTER_IMAGE (default
# $REGISTRY/valkey-k8s/redis-exporter:$IMAGE_TAG), EXPORTER_BASE_IMAGE (default
# debian:bookworm-slim: pulled by Docker when missing, or made from Debian
# packages here when it cannot be pulled).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=../lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.bash"
# shellcheck source=../lib/docker.bash
source "$REPO_ROOT/scripts/lib/docker.bash"
# shellcheck source=images.lib.bash
source "$REPO_ROOT/scripts/build/images.lib.bash"

BASE_IMAGE="${EXPORTER_BASE_IMAGE:-debian:bookworm-slim}"

build() {
  ensure_docker
  [[ "$BASE_IMAGE" != debian:bookworm-slim ]] || ensure_debian_base
  local started=$SECONDS log="$REPO_ROOT/build/exporter-image-build.log" version valid_until=true
  # The build follows the host's apt about expired Release files (a mirror that
  # serves a frozen snapshot is configured so on the host).
  if command -v apt-config >/dev/null; then
    valid_until=$(apt-config dump Acquire::Check-Valid-Until | sed -nE 's/^Acquire::Check-Valid-Until "(.*)";$/\1/p')
  fi
  mkdir -p "$REPO_ROOT/build"
  step "building $EXPORTER_IMAGE from $BASE_IMAGE"
  # The context is the image's own directory: it holds only the Dockerfile.
  DOCKER_BUILDKIT=0 docker build -q \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "DEBIAN_MIRROR=$(debian_mirror)" \
    --build-arg "CHECK_VALID_UNTIL=${valid_until:-true}" -t "$EXPORTER_IMAGE" "$REPO_ROOT/exporter-image" >"$log" 2>&1 ||
    { tail -20 "$log" >&2; die "docker build of $EXPORTER_IMAGE failed (log: $log)"; }
  version=$(docker run --rm "$EXPORTER_IMAGE" --version 2>&1 | grep -oE 'Exporter [0-9][^ ]*' || true)
  [[ -n "$version" ]] || die "$EXPORTER_IMAGE does not run: 'redis_exporter --version' printed no version"
  info "built $EXPORTER_IMAGE (redis_exporter ${version#Exporter }) in $((SECONDS - started)) s"
}

push() {
  ensure_docker
  image_exists "$EXPORTER_IMAGE" || build
  step "pushing $EXPORTER_IMAGE"
  docker push -q "$EXPORTER_IMAGE" >/dev/null || die "docker push $EXPORTER_IMAGE failed (is the registry $REGISTRY up?)"
  info "pushed $EXPORTER_IMAGE"
}

case "${1:-}" in
  build) build ;;
  push) push ;;
  *) die "usage: scripts/build/exporter-image.bash build|push" ;;
esac
