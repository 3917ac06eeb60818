#!/usr/bin/env bash
# End-to-end check of the user's path `pnpm run build && pnpm run push`, offline:
# base images from Debian packages, every image built (the Java images fall back
# to the local Java base by themselves, as on a user's machine that cannot pull),
# everything pushed to the loopback registry (scripts/registry), then read back:
# each image manifest is fetched, the Valkey and exporter images are pulled after
# their local copies are removed and run (the Valkey image's Valkey must be
# $VALKEY_SERIES, the major.minor of the host's valkey-server that every other test
# runs), and the chart is pulled with `helm pull oci://...` and its digest compared
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
image_version=$(docker run --rm --entrypoint valkey-server "$VALKEY_IMAGE" --version)
host_version=$(valkey-server --version 2>/dev/null || echo "no valkey-server")
major_minor() { sed -nE 's/.* v=([0-9]+\.[0-9]+)\..*/\1/p' <<<"$1"; }
info "pulled $VALKEY_IMAGE back: $image_version"
info "host valkey-server: $host_version"
[[ "$(major_minor "$image_version")" == "$VALKEY_SERIES" ]] ||
  die "pulled $VALKEY_IMAGE runs '$image_version', expected Valkey $VALKEY_SERIES"
[[ "$(major_minor "$host_version")" == "$(major_minor "$image_version")" ]] ||
  die "the host runs Valkey '$(major_minor "$host_version")' and the image $(major_minor "$image_version"): the tests would not test the image's Valkey (run scripts/setup)"

docker rmi "$EXPORTER_IMAGE" >/dev/null
docker pull -q "$EXPORTER_IMAGE" >/dev/null || die "cannot pull $EXPORTER_IMAGE back"
# As the chart runs it: its own non-root user, read-only root, no capabilities.
version=$(docker run --rm --read-only --cap-drop ALL "$EXPORTER_IMAGE" --version 2>&1 | grep -oE 'Redis Metrics Exporter [^ ]+' || true)
[[ "$version" == "Redis Metrics Exporter 1."* ]] || die "pulled $EXPORTER_IMAGE does not run redis_exporter 1.x"
[[ "$(docker image inspect -f '{{.Config.User}}' "$EXPORTER_IMAGE")" == 65532:65532 ]] || die "$EXPORTER_IMAGE does not run as 65532"
info "pulled $EXPORTER_IMAGE back: $version, user 65532"

package=$(cat build/charts/.last-package)
pushed_digest=$(cat "$package.digest")
chart_ref="oci://$REGISTRY/charts/$(helm show chart "$package" | sed -n 's/^name: //p')"
version=$(helm show chart "$package" | sed -n 's/^version: //p')
pulled=$(mktemp -d)
trap 'rm -rf "$pulled"' EXIT
out=$(helm pull "$chart_ref" --version "$version" --plain-http -d "$pulled" 2>&1) || { echo "$out" >&2; die "helm pull $chart_ref failed"; }
pulled_digest=$(sed -nE 's/^Digest: (sha256:[0-9a-f]+).*/\1/p' <<<"$out")
[[ "$pulled_digest" == "$pushed_digest" ]] || die "pulled chart digest $pulled_digest differs from pushed $pushed_digest"
cmp -s "$package" "$pulled/$(basename "$package")" || die "pulled chart archive differs from the pushed one"
info "helm pull $chart_ref --version $version: digest $pulled_digest matches the push, archive identical"
info "publish check passed in $((SECONDS - started)) s"
