#!/usr/bin/env bash
# Makes the base images from Debian packages, for machines that cannot pull
# from a public registry, and pushes them to $REGISTRY:
#
#   debian:bookworm-slim   debootstrap --variant=minbase bookworm -> docker import
#   debian:trixie-slim     debootstrap --variant=minbase trixie   -> docker import
#   $REGISTRY/base/openjdk-25-jre:trixie
#                          trixie + Debian's openjdk-25-jre-headless: the Jib
#                          base of the reconciler and test-server images
#
# The Java base is Debian's OpenJDK 25 on trixie rather than a jlink'ed runtime
# from the build machine's JDK: every byte then comes from signed Debian
# packages (security updates by apt, reproducible on any machine), and it is the
# same Java major version as the public default eclipse-temurin:25-jre (Java 25:
# smaller and faster to start than 21 for the reconciler, see reconciler/README.md).
#
#   scripts/build/base-images.bash build   make the missing images locally
#   scripts/build/base-images.bash push    build, then push all to $REGISTRY
#   scripts/build/base-images.bash debian  make debian:bookworm-slim only
#   scripts/build/base-images.bash jre     make the Java base (and trixie) and push it to $REGISTRY
#   REBUILD=1 ...                          remake even when present
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=../lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.bash"
# shellcheck source=../lib/docker.bash
source "$REPO_ROOT/scripts/lib/docker.bash"
# shellcheck source=images.lib.bash
source "$REPO_ROOT/scripts/build/images.lib.bash"

JRE_IMAGE="${JRE_IMAGE:-$LOCAL_JRE_IMAGE}"
WORK="$VALKEY_K8S_CACHE/base-images"

# debootstrap a minimal root of suite $1 and import it as debian:$1-slim.
debian_image() {
  local suite=$1 tag="debian:$1-slim" root mirror started=$SECONDS
  if [[ "${REBUILD:-}" != 1 ]] && image_exists "$tag"; then info "$tag exists"; return 0; fi
  (( EUID == 0 )) || die "debootstrap needs root"
  mirror=$(debian_mirror)
  root="$WORK/$suite-root"
  step "debootstrap $suite from $mirror -> $tag"
  rm -rf "$root"; mkdir -p "$WORK"
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$WORK/debootstrap-$suite.log" 2>&1 ||
    { tail -5 "$WORK/debootstrap-$suite.log" >&2; die "debootstrap $suite failed (log: $WORK/debootstrap-$suite.log)"; }
  # Trim as the official -slim images do: no apt lists, caches, docs or man pages.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log
  tar --numeric-owner -C "$root" -cf "$WORK/$suite-rootfs.tar" .
  docker import --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' \
    "$WORK/$suite-rootfs.tar" "$tag" >/dev/null
  rm -rf "$root" "$WORK/$suite-rootfs.tar"
  info "$tag made in $((SECONDS - started)) s"
}

jre_image() {
  local started=$SECONDS
  if [[ "${REBUILD:-}" != 1 ]] && image_exists "$JRE_IMAGE"; then info "$JRE_IMAGE exists"; return 0; fi
  mkdir -p "$WORK"
  step "building $JRE_IMAGE (Debian openjdk-25-jre-headless on trixie)"
  DOCKER_BUILDKIT=0 docker build -q -t "$JRE_IMAGE" -f - "$WORK" <<'DOCKERFILE' >"$WORK/jre-build.log" 2>&1 ||
FROM debian:trixie-slim
RUN set -eux; apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-25-jre-headless; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin; java -version
ENV JAVA_HOME=/usr/lib/jvm/java-25-openjdk-amd64
DOCKERFILE
    { tail -20 "$WORK/jre-build.log" >&2; die "docker build of $JRE_IMAGE failed"; }
  info "$JRE_IMAGE made in $((SECONDS - started)) s"
}

build_all() {
  ensure_docker
  debian_image bookworm
  debian_image trixie
  jre_image
}

push_all() {
  build_all
  local tag
  for tag in debian:bookworm-slim debian:trixie-slim; do
    docker tag "$tag" "$REGISTRY/library/$tag"
    docker push -q "$REGISTRY/library/$tag" >/dev/null
    info "pushed $REGISTRY/library/$tag"
  done
  docker push -q "$JRE_IMAGE" >/dev/null
  info "pushed $JRE_IMAGE"
}

case "${1:-}" in
  build) build_all ;;
  push) push_all ;;
  debian) ensure_docker; debian_image bookworm ;;
  jre)
    ensure_docker; debian_image trixie; jre_image
    docker push -q "$JRE_IMAGE" >/dev/null || die "docker push $JRE_IMAGE failed (is the registry $REGISTRY up?)"
    info "pushed $JRE_IMAGE"
    ;;
  *) die "usage: scripts/build/base-images.bash build|push|debian|jre" ;;
esac
