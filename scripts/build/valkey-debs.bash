#!/usr/bin/env bash
# Builds Valkey $VALKEY_SERIES.x (TLS through libssl, jemalloc) as Debian
# packages for bookworm, from the `valkey` source package of the sid suite of
# the Debian mirror. The host (scripts/setup) and the Valkey image install the
# same packages, so tests and image run the same build.
#
# The build runs in a throw-away debian:bookworm-slim container: only Docker is
# needed, and sid appears only as a deb-src line inside that container (its
# binary packages need sid's libc; the build deps are bookworm's). sid keeps only
# its newest upload, so the build takes the newest $VALKEY_SERIES.x it offers.
#
#   scripts/build/valkey-debs.bash build       the .debs, built unless cached; prints their directory
#   scripts/build/valkey-debs.bash copy DIR    build unless cached, then copy the three .debs into DIR
#
# The packages are sid's with one change for bookworm, and carry sid's version
# plus $LOCAL_SUFFIX (e.g. 9.1.2-1~bookworm1: below sid's own 9.1.2-1, as a
# backport is): valkey-tools.sysusers creates the valkey user with "u", not
# "u!" (a locked account, systemd >= 257), which bookworm's systemd-sysusers 252
# rejects, failing the package's postinst.
#
# Cache: $VALKEY_K8S_CACHE/valkey-debs/<debian version>/ (valkey-server,
# valkey-sentinel, valkey-tools .debs and build.log). With a cached build the
# mirror is not asked (instant, offline); VALKEY_DEBS_REFRESH=1 asks sid for a
# newer $VALKEY_SERIES.x and builds it when there is one.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=../lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.bash"
# shellcheck source=../lib/docker.bash
source "$REPO_ROOT/scripts/lib/docker.bash"
# shellcheck source=images.lib.bash
source "$REPO_ROOT/scripts/build/images.lib.bash"

CACHE="$VALKEY_K8S_CACHE/valkey-debs"
PACKAGES=(valkey-server valkey-sentinel valkey-tools)
# Bump the number when the build recipe below changes: a new suffix is a new cache entry.
LOCAL_SUFFIX="~bookworm1"

# A cache entry counts only when all three packages are there.
complete() {
  local dir=$1 p
  for p in "${PACKAGES[@]}"; do compgen -G "$dir/${p}_*.deb" >/dev/null || return 1; done
}

# Newest complete cached build of the series, as its directory name (empty if none).
cached_version() {
  local dir best=''
  for dir in "$CACHE/$VALKEY_SERIES".*"$LOCAL_SUFFIX"/; do
    if [[ ! -d "$dir" ]] || ! complete "$dir"; then continue; fi
    dir=$(basename "$dir")
    best=$(printf '%s\n%s\n' "$best" "$dir" | sed '/^$/d' | sort -V | tail -1)
  done
  echo "$best"
}

# What runs inside the container: pick the version, then build it unless the
# (mounted) cache has it. Prints "version=<v>" as its last line.
# shellcheck disable=SC2016 # expanded by the container's shell
readonly IN_CONTAINER='
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
echo "deb-src $MIRROR sid main" >/etc/apt/sources.list.d/sid-src.list
[[ "$CHECK_VALID_UNTIL" != false ]] || echo "Acquire::Check-Valid-Until \"false\";" >/etc/apt/apt.conf.d/99host-valid-until
apt-get update -qq
offered=$(apt-cache showsrc valkey | sed -n "s/^Version: //p" | sort -uV)
source_version=$(grep -E "^${SERIES//./\\.}\.[0-9]+-" <<<"$offered" | tail -1 || true)
if [[ -z "$source_version" ]]; then
  echo "no-series sid offers valkey $(echo $offered | tr " " ",") and no ${SERIES}.x" >&2
  exit 3
fi
version=$source_version$SUFFIX
have() { ls /cache/"$version"/"$1"_*.deb >/dev/null 2>&1; }
if have valkey-server && have valkey-sentinel && have valkey-tools; then echo "version=$version"; exit 0; fi
echo "building valkey $version from sid source $source_version" >&2
apt-get build-dep -y -qq --no-install-recommends "valkey=$source_version" >/dev/null
mkdir -p /src && cd /src
apt-get source -qq "valkey=$source_version" >/dev/null
cd valkey-*/
sed -i "s/^u! /u /" debian/valkey-tools.sysusers
{ printf "valkey (%s) bookworm; urgency=medium\n\n" "$version"
  printf "  * Rebuilt for bookworm by valkey-k8s (scripts/build/valkey-debs.bash).\n"
  printf "  * valkey-tools.sysusers: \"u\" instead of \"u!\" (bookworm systemd-sysusers 252).\n\n"
  printf " -- valkey-k8s <valkey-k8s@localhost>  %s\n\n" "$(date -R)"
  cat debian/changelog; } >debian/changelog.new
mv debian/changelog.new debian/changelog
nice -n 10 dpkg-buildpackage -b -uc -us
tmp=/cache/.partial-$version
rm -rf "$tmp"; mkdir -p "$tmp"
cp /src/valkey-server_*.deb /src/valkey-sentinel_*.deb /src/valkey-tools_*.deb "$tmp/"
rm -rf "/cache/$version"; mv "$tmp" "/cache/$version"
chown -R "$HOST_UID:$HOST_GID" "/cache/$version"
echo "version=$version"
'

# Runs the container; sets VERSION. $1: the log file.
container_build() {
  local log=$1 rc=0 line valid_until=true
  # The container follows the host's apt about expired Release files (a mirror
  # that serves a frozen snapshot is configured so on the host).
  if command -v apt-config >/dev/null; then
    valid_until=$(apt-config dump Acquire::Check-Valid-Until | sed -nE 's/^Acquire::Check-Valid-Until "(.*)";$/\1/p')
  fi
  ensure_docker
  ensure_debian_base
  mkdir -p "$CACHE"
  docker run --rm -v "$CACHE:/cache" \
    -e "MIRROR=$(debian_mirror)" -e "SERIES=$VALKEY_SERIES" -e "SUFFIX=$LOCAL_SUFFIX" -e "HOST_UID=$(id -u)" -e "HOST_GID=$(id -g)" \
    -e "CHECK_VALID_UNTIL=${valid_until:-true}" \
    -e "DEB_BUILD_OPTIONS=nocheck parallel=$(nproc)" \
    debian:bookworm-slim bash -c "$IN_CONTAINER" >"$log" 2>&1 || rc=$?
  if (( rc == 3 )); then
    die "$(sed -n 's/^no-series //p' "$log"): cannot build Valkey $VALKEY_SERIES (pinned in scripts/lib/common.bash)"
  fi
  line=$(tail -1 "$log")
  if (( rc != 0 )) || [[ "$line" != version=* ]]; then
    tail -25 "$log" >&2
    die "building the Valkey .debs failed (exit $rc; log: $log)"
  fi
  VERSION=${line#version=}
}

# Sets DEBS_DIR to a complete cached build, building one when needed.
ensure_debs() {
  local started=$SECONDS log="$CACHE/last-build.log"
  VERSION=$(cached_version)
  if [[ -n "$VERSION" && "${VALKEY_DEBS_REFRESH:-}" != 1 ]]; then
    info "Valkey $VERSION .debs cached in $CACHE/$VERSION (VALKEY_DEBS_REFRESH=1 asks sid for a newer $VALKEY_SERIES.x)"
  else
    step "Valkey $VALKEY_SERIES.x .debs for bookworm from sid's source package, in a debian:bookworm-slim container (cold: minutes)"
    mkdir -p "$CACHE"
    container_build "$log"
    cp "$log" "$CACHE/$VERSION/build.log" 2>/dev/null || true
    info "Valkey $VERSION .debs ready in $CACHE/$VERSION after $((SECONDS - started)) s"
  fi
  DEBS_DIR="$CACHE/$VERSION"
  complete "$DEBS_DIR" || die "cache $DEBS_DIR is incomplete; remove it and rerun"
}

case "${1:-}" in
  build)
    ensure_debs
    echo "$DEBS_DIR"
    ;;
  copy)
    [[ -n "${2:-}" && -d "$2" ]] || die "usage: scripts/build/valkey-debs.bash copy DIR (an existing directory, got '${2:-}')"
    ensure_debs
    for p in "${PACKAGES[@]}"; do cp "$DEBS_DIR/${p}"_*.deb "$2/"; done
    ;;
  *) die "usage: scripts/build/valkey-debs.bash build|copy DIR" ;;
esac
