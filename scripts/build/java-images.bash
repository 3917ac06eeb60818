#!/usr/bin/env bash
# Builds and pushes the Java images (reconciler, test-server) with Jib: no
# Dockerfile, no Docker daemon needed to build or push.
#
#   scripts/build/java-images.bash build   jib:buildTar -> <module>/target/jib-image.tar
#                                          (and `docker load` when a daemon answers)
#   scripts/build/java-images.bash push    jib:build straight to $REGISTRY
#
# Environment: REGISTRY (default localhost:5000), IMAGE_TAG (default the
# package.json version), JIB_BASE_IMAGE (default the pom's public
# eclipse-temurin:25-jre when its registry serves it; on machines that cannot
# pull it, the Java base made from Debian packages by scripts/build/base-images.bash,
# $REGISTRY/base/openjdk-25-jre:trixie, pushed there first when missing),
# JAVA_IMAGE_MODULES (default "reconciler test-server").
# Images: $REGISTRY/valkey-k8s/reconciler:$IMAGE_TAG, $REGISTRY/valkey-k8s/test-server:$IMAGE_TAG.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=../lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.bash"
# shellcheck source=images.lib.bash
source "$REPO_ROOT/scripts/build/images.lib.bash"

read -r -a MODULES <<<"${JAVA_IMAGE_MODULES:-reconciler test-server}"
# The base the last build chose: push uses the same one (and says nothing more).
BASE_CHOICE="$REPO_ROOT/build/jib-base-image"

# The public default of the pom (property jib.base.image).
pom_base_image() { sed -nE 's|.*<jib.base.image>([^<]+)</jib.base.image>.*|\1|p' "$REPO_ROOT/pom.xml" | head -1; }

# Sets BASE: JIB_BASE_IMAGE when set; else the pom's public base when its
# registry serves it; else the local Java base in $REGISTRY (made and pushed
# when missing), said in one line. $1: quiet when the choice was said already.
choose_base() {
  local quiet=${1:-} public said=''
  if [[ -n "${JIB_BASE_IMAGE:-}" ]]; then BASE=$JIB_BASE_IMAGE; return 0; fi
  public=$(pom_base_image)
  [[ -n "$public" ]] || die "no <jib.base.image> property in pom.xml"
  [[ -z "$quiet" ]] || said=$(cat "$BASE_CHOICE" 2>/dev/null || true)
  if [[ "$said" == "$public" ]] || { [[ -z "$said" ]] && public_image_pullable "$public"; }; then
    BASE=$public
  else
    ensure_registry_jre
    [[ "$said" == "$LOCAL_JRE_IMAGE" ]] ||
      info "$public cannot be pulled here; using the local $LOCAL_JRE_IMAGE made from Debian packages (scripts/build/base-images.bash)"
    BASE=$LOCAL_JRE_IMAGE
  fi
  mkdir -p "$(dirname "$BASE_CHOICE")"
  echo "$BASE" >"$BASE_CHOICE"
}

jib() {
  local goal=$1 modules
  modules=$(IFS=,; echo "${MODULES[*]}")
  local args=(-B -ntp -q -pl "$modules" package "jib:$goal" -DskipTests
    "-Dimage.registry=$REGISTRY" "-Dimage.tag=$IMAGE_TAG" -Djib.allowInsecureRegistries=true)
  args+=("-Djib.from.image=$BASE")
  # Jib refuses to push in Maven offline mode; MAVEN_OFFLINE=1 only speeds up buildTar.
  [[ -z "${MAVEN_OFFLINE:-}" || "$goal" == build ]] || args+=(-o)
  (cd "$REPO_ROOT" && ./mvnw "${args[@]}") || die "Jib $goal of ${MODULES[*]} failed"
}

build() {
  local started=$SECONDS module
  choose_base
  step "Jib: building ${MODULES[*]} (base $BASE)"
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
  choose_base quiet
  step "Jib: pushing ${MODULES[*]} to $REGISTRY (base $BASE)"
  jib build
  info "pushed in $((SECONDS - started)) s"
}

case "${1:-}" in
  build) build ;;
  push) push ;;
  *) die "usage: scripts/build/java-images.bash build|push" ;;
esac
