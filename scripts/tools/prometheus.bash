#!/usr/bin/env bash
# Installs Prometheus and promtool from Debian packages into the cache, for the
# alert-rule tests (chart/ci/monitoring-check.bash) and the end-to-end metrics
# suite (e2e/metrics.bash). Called by scripts/setup; idempotent.
#
#   $VALKEY_K8S_CACHE/prometheus/3/{prometheus,promtool}   sid's prometheus + promtool (3.x)
#   $VALKEY_K8S_CACHE/prometheus/2/promtool                bookworm's prometheus (2.x)
#   $VALKEY_K8S_CACHE/bin/{prometheus,promtool}            -> 3.x; bin/promtool-2 -> 2.x
#
# Only the binaries are taken from the .debs (`dpkg-deb -x`): nothing is
# installed into the system and no service starts. They are Go programs that
# need libc >= 2.34, so sid's run on bookworm. sid is read through an apt state
# and source list of its own, never mixed into the system's sources. Rules are
# tested with both majors because Prometheus 3 changed range selection and
# regular expressions; the e2e Prometheus is the 3.x one.
set -euo pipefail
# shellcheck source=../lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.bash"
# shellcheck source=../build/images.lib.bash
source "$REPO_ROOT/scripts/build/images.lib.bash"   # debian_mirror

DEST="$VALKEY_K8S_CACHE/prometheus"
mkdir -p "$DEST" "$VALKEY_K8S_CACHE/bin"

# fetch DIR APT_OPTS... -- PACKAGE...: downloads the packages into DIR/debs and
# extracts their /usr/bin into DIR.
fetch() {
  local dir=$1; shift
  local opts=() pkg
  while [[ "$1" != -- ]]; do opts+=("$1"); shift; done
  shift
  rm -rf "$dir.partial"; mkdir -p "$dir.partial/debs"
  for pkg in "$@"; do
    (cd "$dir.partial/debs" && apt-get "${opts[@]}" download "$pkg") >"$DEST/apt-download.log" 2>&1 ||
      { tail -5 "$DEST/apt-download.log" >&2; die "could not download Debian package '$pkg' (apt, $(debian_mirror))"; }
  done
  for deb in "$dir.partial/debs"/*.deb; do
    dpkg-deb -x "$deb" "$dir.partial/root"
  done
  mv "$dir.partial/root/usr/bin/"* "$dir.partial/"
  rm -rf "$dir.partial/root" "$dir.partial/debs" "$dir"
  mv "$dir.partial" "$dir"
}

if [[ ! -x "$DEST/3/prometheus" || ! -x "$DEST/3/promtool" ]]; then
  info "downloading prometheus and promtool 3.x from Debian sid (binaries only)"
  sid="$DEST/sid-apt"
  mkdir -p "$sid/state/lists/partial" "$sid/cache/archives/partial"
  echo "deb $(debian_mirror) sid main" >"$sid/sources.list"
  sid_opts=(-o "Dir::State=$sid/state" -o "Dir::Cache=$sid/cache" -o "Dir::Etc::SourceList=$sid/sources.list"
    -o Dir::Etc::SourceParts=/dev/null)
  apt-get "${sid_opts[@]}" update -qq >"$DEST/apt-update.log" 2>&1 ||
    { tail -5 "$DEST/apt-update.log" >&2; die "apt-get update of Debian sid failed: the Debian mirror (apt registry) is unreachable"; }
  fetch "$DEST/3" "${sid_opts[@]}" -- prometheus promtool
  rm -rf "$sid"
fi
if [[ ! -x "$DEST/2/promtool" ]]; then
  info "downloading promtool 2.x from Debian bookworm (prometheus package, binaries only)"
  fetch "$DEST/2" -- prometheus
fi
"$DEST/3/prometheus" --version >/dev/null 2>&1 || die "$DEST/3/prometheus does not run here (remove $DEST and rerun scripts/setup)"
"$DEST/2/promtool" --version >/dev/null 2>&1 || die "$DEST/2/promtool does not run here (remove $DEST and rerun scripts/setup)"
ln -sf "$DEST/3/prometheus" "$VALKEY_K8S_CACHE/bin/prometheus"
ln -sf "$DEST/3/promtool" "$VALKEY_K8S_CACHE/bin/promtool"
ln -sf "$DEST/2/promtool" "$VALKEY_K8S_CACHE/bin/promtool-2"
