#!/usr/bin/env bash
# End-to-end check of the user's path `pnpm run build && pnpm run push`, offline:
# base images from Debian packages, every image built, everything pushed to the
# loopback registry (scripts/registry), then read back: each image manifest is
# fetched, the Valkey and exporter images are pulled after their local copies are removed and run,
# and the chart is pulled with `helm pull oci://...` and its digest compared
# with the one the push reported.
#
#   scripts/build/publish-check.bash                 reuse base images and caches
#   FROM_SCRATCH=1 scripts/build/publish-check.bash  remake base images, no build cache
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=../lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.bash"
# shellcheck source=../lib/docker.bash
source "$REPO_ROOT/scripts/lib/docker.bash"
# shellcheck source=images.lib.bash
source "$REPO_ROOT/scripts/build/images.lib.bash"

[[ "$REGISTRY" == localhost:5000 || "$REGISTRY" == 127.0.0.1:5000 ]] ||
  die "this check only talks to the loopback registry (REGISTRY=$REGISTRY)"
export REGISTRY
export JIB_BASE_IMAGE="${JIB_BASE_IMAGE:-$LOCAL_JRE_IMAGE}"
started=$SECONDS

ensure_docker
"$REPO_ROOT/scripts/registry" up
if [[ "${FROM_SCRATCH:-}" == 1 ]]; then
  step "from scratch: removing local images and remaking the bases"
  docker rmi -f "$VALKEY_IMAGE" "$EXPORTER_IMAGE" "$REGISTRY/valkey-k8s/reconciler:$IMAGE_TAG" "$REGISTRY/valkey-k8s/test-server:$IMAGE_TAG" \
    >/dev/null 2>&1 || true
  REBUILD=1 "$REPO_ROOT/scripts/build/base-images.bash" push
else
  "$REPO_ROOT/scripts/build/base-images.bash" push
fi

# The user's commands, through pnpm when it is installed (scripts/setup installs it).
cd "$REPO_ROOT"
if command -v pnpm >/dev/null; then
  pnpm run --silent build
  pnpm run --silent push
else
  info "pnpm not found; running the package.json scripts directly"
  bash scripts/build/java-images.bash build && bash scripts/build/valkey-image.bash build &&
    bash scripts/build/exporter-image.bash build && bash scripts/build/helm.bash build
  bash scripts/build/java-images.bash push && bash scripts/build/valkey-image.bash push &&
    bash scripts/build/exporter-image.bash push && bash scripts/build/helm.bash push
fi

step "reading everything back from $REGISTRY"
manifest_accept='application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json,application/vnd.oci.image.index.v1+json'
for image in valkey-k8s/valkey valkey-k8s/redis-exporter valkey-k8s/reconciler valkey-k8s/test-server "${LOCAL_JRE_IMAGE#"$REGISTRY"/}" library/debian:bookworm-slim; do
  [[ "$image" == *:* ]] || image="$image:$IMAGE_TAG"
  curl -fsS -o /dev/null -H "Accept: $manifest_accept" "http://$REGISTRY/v2/${image%%:*}/manifests/${image##*:}" ||
    die "$REGISTRY has no manifest for $image"
  info "manifest ok: $REGISTRY/$image"
done

docker rmi "$VALKEY_IMAGE" >/dev/null
docker pull -q "$VALKEY_IMAGE" >/dev/null || die "cannot pull $VALKEY_IMAGE back"
version=$(docker run --rm --entrypoint valkey-server "$VALKEY_IMAGE" --version)
[[ "$version" == "Valkey server v=8."* ]] || die "pulled $VALKEY_IMAGE runs '$version', expected Valkey 8"
info "pulled $VALKEY_IMAGE back: $version"

docker rmi "$EXPORTER_IMAGE" >/dev/null
docker pull -q "$EXPORTER_IMAGE" >/dev/null || die "cannot pull $EXPORTER_IMAGE back"
# As the chart runs it: its own non-root user, read-only root, no capabilities.
version=$(docker run --rm --read-only --cap-drop ALL "$EXPORTER_IMAGE" --version 2>&1 | grep -oE 'Redis Metrics Exporter [^ ]+' || true)
[[ "$version" == "Redis Metrics Exporter 1."* ]] || die "pulled $EXPORTER_IMAGE does not run redis_exporter 1.x"
[[ "$(docker image inspect -f '{{.Config.User}}' "$EXPORTER_IMAGE")" == 65532:65532 ]] || die "$EXPORTER_IMAGE does not run as 65532"
info "pulled $EXPORTER_IMAGE back: $version, user 65532"

package=$(cat build/charts/.last-package)
pushed_digest=$(cat "$package.digest")
chart_ref="oci://$REGISTRY/charts/$(basename "$package" .tgz | sed -E 's/-([0-9][^-]*)$//')"
version=$(basename "$package" .tgz | sed -E 's/.*-([0-9][^-]*)$/\1/')
pulled=$(mktemp -d)
trap 'rm -rf "$pulled"' EXIT
out=$(helm pull "$chart_ref" --version "$version" --plain-http -d "$pulled" 2>&1) || { echo "$out" >&2; die "helm pull $chart_ref failed"; }
pulled_digest=$(sed -nE 's/^Digest: (sha256:[0-9a-f]+).*/\1/p' <<<"$out")
[[ "$pulled_digest" == "$pushed_digest" ]] || die "pulled chart digest $pulled_digest differs from pushed $pushed_digest"
cmp -s "$package" "$pulled/$(basename "$package")" || die "pulled chart archive differs from the pushed one"
info "helm pull $chart_ref --version $version: digest $pulled_digest matches the push, archive identical"
info "publish check passed in $((SECONDS - started)) s"
