# Docker engine helpers. Sourced after common.bash, never executed.

# Starts Debian's dockerd in the background when no engine answers, and waits
# until `docker info` works. The daemon is left running (it is shared by every
# test and build); its log goes to $VALKEY_K8S_CACHE/dockerd.log.
ensure_docker() {
  docker info >/dev/null 2>&1 && return 0
  command -v dockerd >/dev/null || die "dockerd not found: install docker.io (scripts/setup does)"
  (( EUID == 0 )) || die "no Docker engine answers and starting dockerd needs root"
  mkdir -p "$VALKEY_K8S_CACHE"
  step "starting dockerd (log: $VALKEY_K8S_CACHE/dockerd.log)"
  # setsid: the daemon outlives the script and its process group.
  setsid nohup dockerd >>"$VALKEY_K8S_CACHE/dockerd.log" 2>&1 </dev/null &
  local waited=0
  until docker info >/dev/null 2>&1; do
    (( waited < 60 )) || die "dockerd did not answer within 60 s; see $VALKEY_K8S_CACHE/dockerd.log"
    sleep 1; waited=$((waited + 1))
  done
  info "dockerd up after ${waited} s"
}
