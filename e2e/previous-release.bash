#!/usr/bin/env bash
# The previous release, rebuilt from its own tree and published to the loopback
# registry for e2e/run's upgrade suite: 0.1.0 is git commit 13ac7a6 (Valkey 8.0.1
# from bookworm-backports, its reconciler, its chart). Built with that tree's own
# scripts from `git archive`:
#
#   $REGISTRY/valkey-k8s/valkey:0.1.0        its valkey-image/Dockerfile
#   $REGISTRY/valkey-k8s/reconciler:0.1.0    Jib (the public Java base, or the local one made here)
#   oci://$REGISTRY/charts/valkey 0.1.0      its chart, also kept as a .tgz in the cache
#
#   e2e/previous-release.bash            builds and pushes unless all three are in the registry;
#                                        prints the chart archive's path on stdout
#   REBUILD=1 e2e/previous-release.bash  builds again even when present
#
# Environment: REGISTRY (only the loopback one, default localhost:5000).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=../scripts/lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/common.bash"
# shellcheck source=../scripts/lib/docker.bash
source "$REPO_ROOT/scripts/lib/docker.bash"
# shellcheck source=../scripts/build/images.lib.bash
source "$REPO_ROOT/scripts/build/images.lib.bash"

PREVIOUS_COMMIT=13ac7a6
PREVIOUS_VERSION=0.1.0
OUT="$VALKEY_K8S_CACHE/previous-release/$PREVIOUS_VERSION"
CHART_TGZ="$OUT/valkey-$PREVIOUS_VERSION.tgz"
OLD_VALKEY_IMAGE="$REGISTRY/valkey-k8s/valkey:$PREVIOUS_VERSION"
OLD_RECONCILER_IMAGE="$REGISTRY/valkey-k8s/reconciler:$PREVIOUS_VERSION"

[[ "$REGISTRY" == localhost:5000 || "$REGISTRY" == 127.0.0.1:5000 ]] ||
  die "the previous release is only published to the loopback registry (REGISTRY=$REGISTRY)"
"$REPO_ROOT/scripts/registry" up >&2

published() {
  [[ -s "$CHART_TGZ" ]] && registry_has "$OLD_VALKEY_IMAGE" && registry_has "$OLD_RECONCILER_IMAGE" &&
    registry_has "$REGISTRY/charts/valkey:$PREVIOUS_VERSION"
}
if [[ "${REBUILD:-}" != 1 ]] && published; then
  info "release $PREVIOUS_VERSION ($PREVIOUS_COMMIT) already in $REGISTRY; chart $CHART_TGZ"
  echo "$CHART_TGZ"
  exit 0
fi

started=$SECONDS
git -C "$REPO_ROOT" cat-file -e "$PREVIOUS_COMMIT^{commit}" 2>/dev/null ||
  die "commit $PREVIOUS_COMMIT (release $PREVIOUS_VERSION) is not in this clone (shallow? git fetch --unshallow)"
step "release $PREVIOUS_VERSION from git commit $PREVIOUS_COMMIT -> $REGISTRY"
src="$OUT/src"
rm -rf "$src"; mkdir -p "$src"
git -C "$REPO_ROOT" archive "$PREVIOUS_COMMIT" | tar -x -C "$src"
ensure_docker
ensure_debian_base

# Its tree's own scripts, with every name pinned to the release (the caller's IMAGE_TAG may
# differ); their output goes to stderr (stdout carries only the chart's path).
old() {
  (cd "$src" && env REGISTRY="$REGISTRY" IMAGE_TAG="$PREVIOUS_VERSION" VALKEY_IMAGE="$OLD_VALKEY_IMAGE" "$@") >&2
}

old bash scripts/build/valkey-image.bash build
old bash scripts/build/valkey-image.bash push
info "$OLD_VALKEY_IMAGE: $(docker run --rm --entrypoint valkey-server "$OLD_VALKEY_IMAGE" --version)"

public=$(sed -nE 's|.*<jib.base.image>([^<]+)</jib.base.image>.*|\1|p' "$src/pom.xml" | head -1)
if public_image_pullable "$public"; then base=$public; else
  ensure_registry_jre
  info "$public cannot be pulled here; using the local $LOCAL_JRE_IMAGE made from Debian packages"
  base=$LOCAL_JRE_IMAGE
fi
old env JIB_BASE_IMAGE="$base" JAVA_IMAGE_MODULES=reconciler bash scripts/build/java-images.bash push

old bash scripts/build/helm.bash build
cp "$(cat "$src/build/charts/.last-package")" "$CHART_TGZ"
helm push "$CHART_TGZ" "oci://$REGISTRY/charts" --plain-http >/dev/null 2>&1 ||
  die "helm push $CHART_TGZ to oci://$REGISTRY/charts failed"
info "pushed chart valkey $PREVIOUS_VERSION to oci://$REGISTRY/charts; kept $CHART_TGZ"

rm -rf "$src"
published || die "release $PREVIOUS_VERSION is still incomplete in $REGISTRY after the build"
info "release $PREVIOUS_VERSION published in $((SECONDS - started)) s"
echo "$CHART_TGZ"
