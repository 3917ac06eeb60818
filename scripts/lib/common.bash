# Shared settings for the repo's scripts: cache locations, pinned versions, PATH.
# Sourced, never executed. Every path a script writes outside the repo sits under
# $VALKEY_K8S_CACHE so that a rerun (and CI on the same machine) reuses it.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REPO_ROOT
export VALKEY_K8S_CACHE="${VALKEY_K8S_CACHE:-$HOME/.cache/valkey-k8s}"

# Pinned versions. The Go modules in scripts/tools/ pin the same ones.
# shellcheck disable=SC2034  # used by the scripts that source this file
{
  KUBERNETES_VERSION=1.34.4   # 1.35+ refuses cgroup v1 by default; these machines run v1
  HELM_VERSION=3.21.3         # the Helm library helm-unittest 1.1.2 is built against
  HELM_UNITTEST_VERSION=1.1.2
  PNPM_VERSION=10.34.8
  VALKEY_SERIES=9.1           # major.minor of Valkey on the host and in the image (scripts/build/valkey-debs.bash)
}

export PATH="$VALKEY_K8S_CACHE/bin:$PATH"
export HELM_PLUGINS="$VALKEY_K8S_CACHE/helm/plugins"
export HELM_CACHE_HOME="$VALKEY_K8S_CACHE/helm/cache"
export HELM_CONFIG_HOME="$VALKEY_K8S_CACHE/helm/config"
export HELM_DATA_HOME="$VALKEY_K8S_CACHE/helm/data"
# kube-api-test (offline mode) looks for <dir>/k8s/<version>-<os>-<arch>/{etcd,kube-apiserver,kubectl}
export KUBE_API_TEST_DIR="$VALKEY_K8S_CACHE/kube-api-test"
# Testcontainers misreads this machine (it has /.dockerenv) and hangs without these.
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=localhost

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Prints the home of a JDK whose version is at least $1 (the build compiles for Java 21).
find_jdk() {
  local want=$1 candidate version
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [[ -n "$candidate" && -x "$candidate/bin/javac" ]] || continue
    version=$("$candidate/bin/javac" -version 2>&1 | sed -E 's/^javac ([0-9]+).*/\1/')
    if [[ "$version" =~ ^[0-9]+$ ]] && (( version >= want )); then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

if JAVA_HOME="$(find_jdk 21)"; then
  export JAVA_HOME
  export PATH="$JAVA_HOME/bin:$PATH"
else
  unset JAVA_HOME
fi
