#!/usr/bin/env bash
# Builds and pushes the Valkey image from valkey-image/Dockerfile, with the
# Valkey .debs of scripts/build/valkey-debs.bash (built first when not cached).
#
#   scripts/build/valkey-image.bash build   docker build -> $VALKEY_IMAGE
#   scripts/build/valkey-image.bash push    docker push $VALKEY_IMAGE
#
# Environment: REGISTRY (default localhost:5000), IMAGE_TAG (default the
# package.json version), VALKEY_IMAGE (default $REGISTRY/valkey-k8s/valkey:$IMAGE_TAG),
# VALKEY_BASE_IMAGE (default debian:bookworm-slim: pulled by Docker when
# missing, or made from Debian packages here when it cannot be pulled).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=../lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.bash"
# shellcheck source=../lib/docker.bash
source "$REPO_ROOT/scripts/lib/docker.bash"
# shellcheck source=images.lib.bash
source "$REPO_ROOT/scripts/build/images.lib.bash"

BASE_IMAGE="${VALKEY_BASE_IMAGE:-debian:bookworm-slim}"

build() {
  ensure_docker
  [[ "$BASE_IMAGE" != debian:bookworm-slim ]] || ensure_debian_base
  # A small build context: only what the Dockerfile copies.
  local context started=$SECONDS
  mkdir -p "$REPO_ROOT/build"
  context=$(mktemp -d "$REPO_ROOT/build/valkey-image-context.XXXXXX")
  # shellcheck disable=SC2064 # expand now: the local is gone when the trap runs
  trap "rm -rf '$context'" EXIT
  mkdir -p "$context/config" "$context/debs"
  cp "$REPO_ROOT/valkey-image/Dockerfile" "$REPO_ROOT/valkey-image/valkey-entrypoint.sh" "$context/"
  cp "$REPO_ROOT"/config/{valkey.conf,sentinel.conf,users.acl,tls.conf} "$context/config/"
  "$REPO_ROOT/scripts/build/valkey-debs.bash" copy "$context/debs"
  step "building $VALKEY_IMAGE from $BASE_IMAGE"
  DOCKER_BUILDKIT=0 docker build -q \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "VALKEY_SERIES=$VALKEY_SERIES" \
    -t "$VALKEY_IMAGE" "$context" >"$REPO_ROOT/build/valkey-image-build.log" 2>&1 ||
    { tail -20 "$REPO_ROOT/build/valkey-image-build.log" >&2; die "docker build of $VALKEY_IMAGE failed"; }
  info "built $VALKEY_IMAGE in $((SECONDS - started)) s: $(docker run --rm --entrypoint valkey-server "$VALKEY_IMAGE" --version)"
}

push() {
  ensure_docker
  image_exists "$VALKEY_IMAGE" || build
  step "pushing $VALKEY_IMAGE"
  docker push -q "$VALKEY_IMAGE" >/dev/null || die "docker push $VALKEY_IMAGE failed (is the registry $REGISTRY up?)"
  info "pushed $VALKEY_IMAGE"
}

case "${1:-}" in
  build) build ;;
  push) push ;;
  *) die "usage: scripts/build/valkey-image.bash build|push" ;;
esac
