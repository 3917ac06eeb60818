#!/usr/bin/env bash
# Builds and pushes the Java images (reconciler, test-server) with Jib: no
# Dockerfile, no Docker daemon needed to build or push.
#
#   scripts/build/java-images.bash build   jib:buildTar -> <module>/target/jib-image.tar
#                                          (and `docker load` when a daemon answers)
#   scripts/build/java-images.bash push    jib:build straight to $REGISTRY
#
# Environment: REGISTRY (default localhost:5000), IMAGE_TAG (default the
# package.json version), JIB_BASE_IMAGE (default the pom's
# eclipse-temurin:25-jre; on machines that cannot pull, the base made by
# scripts/build/base-images.bash: localhost:5000/base/openjdk-25-jre:trixie),
# JAVA_IMAGE_MODULES (default "reconciler test-server").
# Images: $REGISTRY/valkey-k8s/reconciler:$IMAGE_TAG, $REGISTRY/valkey-k8s/test-server:$IMAGE_TAG.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=../lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.bash"
# shellcheck source=images.lib.bash
source "$REPO_ROOT/scripts/build/images.lib.bash"

read -r -a MODULES <<<"${JAVA_IMAGE_MODULES:-reconciler test-server}"

jib() {
  local goal=$1 modules
  modules=$(IFS=,; echo "${MODULES[*]}")
  local args=(-B -ntp -q -pl "$modules" package "jib:$goal" -DskipTests
    "-Dimage.registry=$REGISTRY" "-Dimage.tag=$IMAGE_TAG" -Djib.allowInsecureRegistries=true)
  [[ -z "${JIB_BASE_IMAGE:-}" ]] || args+=("-Djib.from.image=$JIB_BASE_IMAGE")
  # Jib refuses to push in Maven offline mode; MAVEN_OFFLINE=1 only speeds up buildTar.
  [[ -z "${MAVEN_OFFLINE:-}" || "$goal" == build ]] || args+=(-o)
  (cd "$REPO_ROOT" && ./mvnw "${args[@]}") || die "Jib $goal of ${MODULES[*]} failed"
}

build() {
  local started=$SECONDS module
  step "Jib: building ${MODULES[*]} (base ${JIB_BASE_IMAGE:-from pom.xml})"
  jib buildTar
  for module in "${MODULES[@]}"; do
    info "$module/target/jib-image.tar"
  done
  if docker info >/dev/null 2>&1; then
    for module in "${MODULES[@]}"; do
      docker load -q -i "$REPO_ROOT/$module/target/jib-image.tar" >&2
    done
  fi
  info "built in $((SECONDS - started)) s"
}

push() {
  local started=$SECONDS
  step "Jib: pushing ${MODULES[*]} to $REGISTRY"
  jib build
  info "pushed in $((SECONDS - started)) s"
}

case "${1:-}" in
  build) build ;;
  push) push ;;
  *) die "usage: scripts/build/java-images.bash build|push" ;;
esac
