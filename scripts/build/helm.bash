#!/usr/bin/env bash
# Packages the chart and pushes it to an OCI registry.
#
#   scripts/build/helm.bash build   sync config/ into the chart, helm package -> build/charts/
#   scripts/build/helm.bash push    helm push build/charts/<chart>.tgz oci://$REGISTRY/charts
#
# Environment: REGISTRY (default localhost:5000), CHART_DIR (default chart/),
# CHART_VERSION (default the Chart.yaml version; e.g. 0.2.0-mine for an experimental
# push next to IMAGE_TAG=0.2.0-mine), HELM_PLAIN_HTTP (default true: a local k3d
# registry speaks plain HTTP).
# push prints the pushed digest and writes it to build/charts/<chart>.tgz.digest.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=../lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.bash"
# shellcheck source=images.lib.bash
source "$REPO_ROOT/scripts/build/images.lib.bash"

CHART_DIR="${CHART_DIR:-$REPO_ROOT/chart}"
OUT="$REPO_ROOT/build/charts"

build() {
  [[ -f "$CHART_DIR/Chart.yaml" ]] || die "no chart at $CHART_DIR"
  command -v helm >/dev/null || die "helm not found: run scripts/setup"
  "$REPO_ROOT/scripts/sync-chart-config"
  mkdir -p "$OUT"
  local out
  out=$(helm package "$CHART_DIR" -d "$OUT" ${CHART_VERSION:+--version "$CHART_VERSION"}) ||
    die "helm package $CHART_DIR${CHART_VERSION:+ --version $CHART_VERSION} failed"
  info "${out##*: }"
  echo "${out##*: }" >"$OUT/.last-package"
}

push() {
  [[ -s "$OUT/.last-package" && -f "$(cat "$OUT/.last-package")" ]] || build
  local package out digest flags=()
  package=$(cat "$OUT/.last-package")
  [[ "${HELM_PLAIN_HTTP:-true}" != true ]] || flags+=(--plain-http)
  step "pushing $(basename "$package") to oci://$REGISTRY/charts"
  out=$(helm push "$package" "oci://$REGISTRY/charts" "${flags[@]}" 2>&1) ||
    { echo "$out" >&2; die "helm push failed (is the registry $REGISTRY up?)"; }
  digest=$(sed -nE 's/^Digest: (sha256:[0-9a-f]+).*/\1/p' <<<"$out")
  [[ -n "$digest" ]] || { echo "$out" >&2; die "helm push printed no digest"; }
  echo "$digest" >"$package.digest"
  info "pushed $(sed -nE 's/^Pushed: (.*)/\1/p' <<<"$out") $digest"
}

case "${1:-}" in
  build) build ;;
  push) push ;;
  *) die "usage: scripts/build/helm.bash build|push" ;;
esac
