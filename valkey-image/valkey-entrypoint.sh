#!/bin/bash
# Entry point of the Valkey image (installed as /usr/local/bin/valkey-entrypoint).
#
#   valkey-entrypoint valkey     render valkey.conf + users.acl, then start Valkey
#                                (standalone, sentinel-mode primary/replica, or cluster)
#   valkey-entrypoint sentinel   render sentinel.conf, then start Sentinel
#   valkey-entrypoint prestop    best-effort planned handover for a preStop hook:
#                                if this pod is the primary, ask a Sentinel to fail over
#   valkey-entrypoint ready      readiness probe: exit 0 when this server is in sync
#                                (a replica has its full copy; a cluster node that
#                                lost its data is back in its shard)
#   valkey-entrypoint sentinel-ready   readiness probe of Sentinel: it answers PING
#   valkey-entrypoint alive [sentinel] liveness probe: the server (or Sentinel) answers
#                                at all, over TLS when that is on (a TCP probe would
#                                make a TLS server log a failed handshake every time)
#
# Templates come from /etc/valkey/templates when mounted, else from the copy in
# the image. They are rendered with envsubst and an explicit variable list into
# $VALKEY_RUN_DIR (an emptyDir): no secret is ever written into the image or a
# ConfigMap. Bad input stops the container at once with one line on stderr.
# The variables are documented in config/README.md.
set -euo pipefail

readonly BUILTIN_TEMPLATES=/usr/share/valkey-k8s/config
readonly MOUNTED_TEMPLATES=/etc/valkey/templates

log() { printf 'valkey-entrypoint: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

# Defaults of config/README.md.
: "${VALKEY_MODE:=standalone}"
: "${VALKEY_PORT:=6379}"
: "${VALKEY_DATA_DIR:=/data}"
: "${VALKEY_RUN_DIR:=/run/valkey}"
: "${VALKEY_ANNOUNCE_HOSTNAME:=}"
: "${VALKEY_PERSISTENCE:=}"
: "${VALKEY_MIN_REPLICAS_TO_WRITE:=0}"
: "${VALKEY_MIN_REPLICAS_MAX_LAG:=10}"
: "${VALKEY_MAXMEMORY:=0}"
: "${VALKEY_PEERS:=}"
: "${VALKEY_PEERS_SERVICE:=}"
: "${POD_NAME:=$HOSTNAME}"
: "${SENTINEL_PORT:=26379}"
: "${SENTINEL_MASTER_NAME:=myprimary}"
: "${SENTINEL_QUORUM:=2}"
: "${SENTINEL_DOWN_AFTER_MS:=1000}"
: "${SENTINEL_FAILOVER_TIMEOUT_MS:=10000}"
: "${SENTINEL_PRIMARY_HOST:=}"
# How long a restarted pod that the Sentinels still call primary waits for them
# to fail over before it starts as primary anyway (its data is the newest then).
: "${VALKEY_SELF_PRIMARY_WAIT_SECONDS:=30}"
# Bounds of the preStop handover.
: "${VALKEY_PRESTOP_TIMEOUT_SECONDS:=25}"
# Above the reconciler's 12 s bound on preparing a scale-down's handover (sentinel/Handover).
: "${VALKEY_PRESTOP_RECONCILER_WAIT_SECONDS:=15}"
# TLS (config/tls.conf): off unless VALKEY_TLS is true; the files come from a mounted Secret.
: "${VALKEY_TLS:=false}"
: "${VALKEY_TLS_CERT_FILE:=/etc/valkey/tls/tls.crt}"
: "${VALKEY_TLS_KEY_FILE:=/etc/valkey/tls/tls.key}"
: "${VALKEY_TLS_CA_FILE:=/etc/valkey/tls/ca.crt}"
: "${VALKEY_TLS_AUTH_CLIENTS:=no}"
export VALKEY_MODE VALKEY_PORT VALKEY_DATA_DIR VALKEY_RUN_DIR VALKEY_ANNOUNCE_HOSTNAME \
  VALKEY_MIN_REPLICAS_TO_WRITE VALKEY_MIN_REPLICAS_MAX_LAG VALKEY_MAXMEMORY \
  SENTINEL_PORT SENTINEL_MASTER_NAME SENTINEL_QUORUM SENTINEL_DOWN_AFTER_MS \
  SENTINEL_FAILOVER_TIMEOUT_MS SENTINEL_PRIMARY_HOST \
  VALKEY_TLS_CERT_FILE VALKEY_TLS_KEY_FILE VALKEY_TLS_CA_FILE VALKEY_TLS_AUTH_CLIENTS

# The only variables envsubst replaces: any other `$` in a template stays as is.
# shellcheck disable=SC2016 # a literal list for envsubst, not an expansion
readonly SUBSTITUTED='${VALKEY_ADMIN_PASSWORD} ${VALKEY_CLIENT_PASSWORD} ${VALKEY_REPLICATION_PASSWORD}
${VALKEY_SENTINEL_PASSWORD} ${VALKEY_PORT} ${VALKEY_DATA_DIR} ${VALKEY_RUN_DIR}
${VALKEY_ANNOUNCE_HOSTNAME} ${VALKEY_SAVE} ${VALKEY_APPENDONLY} ${VALKEY_CLUSTER_ENABLED} ${VALKEY_SHUTDOWN_ON_SIGTERM}
${VALKEY_MIN_REPLICAS_TO_WRITE} ${VALKEY_MIN_REPLICAS_MAX_LAG} ${VALKEY_MAXMEMORY}
${SENTINEL_PORT} ${SENTINEL_MASTER_NAME} ${SENTINEL_PRIMARY_HOST} ${SENTINEL_QUORUM}
${SENTINEL_DOWN_AFTER_MS} ${SENTINEL_FAILOVER_TIMEOUT_MS}
${VALKEY_TLS_PORT} ${VALKEY_TLS_CERT_FILE} ${VALKEY_TLS_KEY_FILE} ${VALKEY_TLS_CA_FILE}
${VALKEY_TLS_AUTH_CLIENTS}'

# A password must be present, non-empty and safe inside a config/ACL line.
require_password() {
  local name=$1 value=${!1:-}
  [[ -n "$value" ]] || die "$name is missing or empty; refusing to start without a password"
  [[ "$value" != *[[:space:]\"\'\\]* ]] ||
    die "$name contains whitespace, a quote or a backslash, which the config files cannot hold"
  export "${name?}"
}

require_number() {
  local name=$1
  [[ "${!1}" =~ ^[0-9]+$ ]] || die "$name must be a non-negative integer, got '${!1}'"
}

template_dir() {
  if [[ -d "$MOUNTED_TEMPLATES" ]]; then echo "$MOUNTED_TEMPLATES"; else echo "$BUILTIN_TEMPLATES"; fi
}

# Renders template $1 into $VALKEY_RUN_DIR, readable by this user only.
render() {
  local src out
  src="$(template_dir)/$1"
  out="$VALKEY_RUN_DIR/$1"
  [[ -f "$src" && -r "$src" ]] || die "cannot read template $src"
  mkdir -p "$VALKEY_RUN_DIR" || die "cannot create run directory $VALKEY_RUN_DIR"
  (umask 077 && envsubst "$SUBSTITUTED" <"$src" >"$out.tmp") || die "cannot render $out"
  mv -f "$out.tmp" "$out"
}

# Sets VALKEY_SAVE / VALKEY_APPENDONLY from VALKEY_PERSISTENCE.
derive_persistence() {
  case "$VALKEY_PERSISTENCE" in
    '' | '~' | none) VALKEY_SAVE=''; VALKEY_APPENDONLY=no ;;
    rdb) VALKEY_SAVE='3600 1 300 100 60 10000'; VALKEY_APPENDONLY=no ;;
    aof) VALKEY_SAVE=''; VALKEY_APPENDONLY=yes ;;
    rdb,aof | aof,rdb) VALKEY_SAVE='3600 1 300 100 60 10000'; VALKEY_APPENDONLY=yes ;;
    *) die "unknown VALKEY_PERSISTENCE '$VALKEY_PERSISTENCE' (expected empty, rdb, aof or rdb,aof)" ;;
  esac
  export VALKEY_SAVE VALKEY_APPENDONLY
}

# True when this server keeps its data on disk across restarts.
persistent() { [[ -n "$VALKEY_SAVE" || "$VALKEY_APPENDONLY" == yes ]]; }

check_common() {
  case "$VALKEY_MODE" in
    standalone | sentinel | cluster) ;;
    *) die "unknown VALKEY_MODE '$VALKEY_MODE' (expected standalone, sentinel or cluster)" ;;
  esac
  local n
  for n in VALKEY_PORT SENTINEL_PORT VALKEY_MIN_REPLICAS_TO_WRITE VALKEY_MIN_REPLICAS_MAX_LAG \
    SENTINEL_QUORUM SENTINEL_DOWN_AFTER_MS SENTINEL_FAILOVER_TIMEOUT_MS \
    VALKEY_SELF_PRIMARY_WAIT_SECONDS VALKEY_PRESTOP_TIMEOUT_SECONDS VALKEY_PRESTOP_RECONCILER_WAIT_SECONDS; do
    require_number "$n"
  done
  if [[ "$VALKEY_MODE" == sentinel && -z "$VALKEY_PEERS" && -z "$VALKEY_PEERS_SERVICE" ]]; then
    die "VALKEY_PEERS and VALKEY_PEERS_SERVICE are both empty; sentinel mode needs to find the other pods"
  fi
}

# --- TLS ---------------------------------------------------------------------------

tls_on() { [[ "$VALKEY_TLS" == true ]]; }

# valkey-cli's TLS options for every call below: verify servers against the CA and,
# when servers ask for client certificates, present this server's own (it allows
# client auth: Valkey presents it on replication and cluster-bus links too).
CLI_TLS=()
setup_tls() {
  case "$VALKEY_TLS" in
    true | false) ;;
    *) die "VALKEY_TLS must be true or false, got '$VALKEY_TLS'" ;;
  esac
  tls_on || return 0
  case "$VALKEY_TLS_AUTH_CLIENTS" in
    no | optional | yes) ;;
    *) die "VALKEY_TLS_AUTH_CLIENTS must be no, optional or yes, got '$VALKEY_TLS_AUTH_CLIENTS'" ;;
  esac
  local name
  for name in VALKEY_TLS_CERT_FILE VALKEY_TLS_KEY_FILE VALKEY_TLS_CA_FILE; do
    [[ -f "${!name}" && -r "${!name}" ]] || die "$name: cannot read ${!name} (is the TLS Secret mounted?)"
  done
  CLI_TLS=(--tls --cacert "$VALKEY_TLS_CA_FILE")
  if [[ "$VALKEY_TLS_AUTH_CLIENTS" != no ]]; then
    CLI_TLS+=(--cert "$VALKEY_TLS_CERT_FILE" --key "$VALKEY_TLS_KEY_FILE")
  fi
}

# Appends config/tls.conf, rendered for a server listening on $2, to the rendered config $1.
append_tls() {
  tls_on || return 0
  export VALKEY_TLS_PORT=$2
  render tls.conf
  cat "$VALKEY_RUN_DIR/tls.conf" >>"$1"
  rm -f "$VALKEY_RUN_DIR/tls.conf"
}

# --- talking to peers ----------------------------------------------------------

# The other pods' addresses, one a line: VALKEY_PEERS when given, otherwise every
# address behind VALKEY_PEERS_SERVICE (a headless Service that publishes not-ready
# pods too), named by its reverse DNS record when it has one. Looked up each time,
# so nothing about the number of pods is baked into the pod's configuration.
peers() {
  if [[ -n "$VALKEY_PEERS" ]]; then
    # shellcheck disable=SC2086 # a space-separated list
    printf '%s\n' $VALKEY_PEERS
    return 0
  fi
  local ip name _
  while read -r ip _; do
    name=$(getent hosts "$ip" | awk '{print $2; exit}')
    if [[ "$name" == *."${VALKEY_PEERS_SERVICE%%.*}".* ]]; then echo "$name"; else echo "$ip"; fi
  done < <(getent ahostsv4 "$VALKEY_PEERS_SERVICE" 2>/dev/null | awk '$2 == "STREAM" {print $1}' | sort -u)
}

# valkey-cli with a bounded wait; the password travels in the environment only.
cli() {
  local password=$1; shift
  # valkey-cli 9 reads VALKEYCLI_AUTH (REDISCLI_AUTH only when that is unset).
  VALKEYCLI_AUTH="$password" timeout "${CLI_TIMEOUT:-3}" valkey-cli --no-auth-warning "${CLI_TLS[@]}" "$@" 2>/dev/null
}

is_self() {
  local host=$1
  [[ "$host" == "$VALKEY_ANNOUNCE_HOSTNAME" || "$host" == "$POD_NAME" || "$host" == "${POD_NAME}."* ]] && return 0
  local ip _
  while read -r ip _; do
    [[ "$host" == "$ip" ]] && return 0
  done < <(getent hosts "$HOSTNAME" || true)
  return 1
}

# Prints "host port" of the primary a Sentinel in VALKEY_PEERS knows, if any.
primary_from_sentinels() {
  local peer answer host port
  for peer in $(peers); do
    answer=$(cli "$VALKEY_SENTINEL_PASSWORD" -h "$peer" -p "$SENTINEL_PORT" \
      SENTINEL GET-MASTER-ADDR-BY-NAME "$SENTINEL_MASTER_NAME") || continue
    # GET-MASTER-, not GET-PRIMARY-: during an upgrade from 0.1.0 the peers' Sentinels run 8.0, which lacks it.
    host=$(sed -n 1p <<<"$answer"); port=$(sed -n 2p <<<"$answer")
    if [[ -n "$host" && "$port" =~ ^[0-9]+$ ]]; then
      echo "$host $port"
      return 0
    fi
  done
  return 1
}

# Succeeds when a Sentinel in VALKEY_PEERS knows at least one replica.
sentinels_know_replicas() {
  local peer
  for peer in $(peers); do
    # A replica's field list starts with "name"; errors also land on stdout.
    [[ "$(cli "$VALKEY_SENTINEL_PASSWORD" -h "$peer" -p "$SENTINEL_PORT" \
      SENTINEL REPLICAS "$SENTINEL_MASTER_NAME" | head -n 1)" == name ]] && return 0
  done
  return 1
}

# Prints "host port" of a peer (not this pod) that runs as primary, if any: a
# guard for when the Sentinels lost their state but the data pods did not.
primary_from_peers() {
  local peer role
  for peer in $(peers); do
    is_self "$peer" && continue
    role=$(cli "$VALKEY_ADMIN_PASSWORD" --user admin -h "$peer" -p "$VALKEY_PORT" ROLE | head -n 1) || continue
    if [[ "$role" == master ]]; then echo "$peer $VALKEY_PORT"; return 0; fi
  done
  return 1
}

# The stable name of the set's ordinal 0 (the first entry of VALKEY_PEERS when given).
first_peer() {
  local first _
  if [[ -n "$VALKEY_PEERS" ]]; then
    read -r first _ <<<"$VALKEY_PEERS" || true
    echo "$first"
  else
    echo "${POD_NAME%-*}-0.${VALKEY_ANNOUNCE_HOSTNAME#*.}"
  fi
}

is_first_pod() {
  [[ "${POD_NAME##*-}" == 0 ]] || is_self "$(first_peer)"
}

# --- roles -----------------------------------------------------------------------

run_valkey() {
  require_password VALKEY_ADMIN_PASSWORD
  require_password VALKEY_CLIENT_PASSWORD
  require_password VALKEY_REPLICATION_PASSWORD
  if [[ "$VALKEY_MODE" == sentinel ]]; then
    require_password VALKEY_SENTINEL_PASSWORD
  elif [[ -z "${VALKEY_SENTINEL_PASSWORD:-}" ]]; then
    # No Sentinel here: give its ACL user a random password nobody knows.
    VALKEY_SENTINEL_PASSWORD=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
    export VALKEY_SENTINEL_PASSWORD
  else
    require_password VALKEY_SENTINEL_PASSWORD
  fi
  derive_persistence
  check_common
  if [[ "$VALKEY_MODE" == cluster ]]; then
    VALKEY_CLUSTER_ENABLED=yes VALKEY_SHUTDOWN_ON_SIGTERM='default failover'
  else
    VALKEY_CLUSTER_ENABLED=no VALKEY_SHUTDOWN_ON_SIGTERM=default
  fi
  export VALKEY_CLUSTER_ENABLED VALKEY_SHUTDOWN_ON_SIGTERM
  [[ -d "$VALKEY_DATA_DIR" && -w "$VALKEY_DATA_DIR" ]] || die "data directory $VALKEY_DATA_DIR is missing or not writable"

  render users.acl
  render valkey.conf
  local conf="$VALKEY_RUN_DIR/valkey.conf"
  append_tls "$conf" "$VALKEY_PORT"

  if [[ "$VALKEY_MODE" == sentinel ]]; then
    local primary self_named_since=''
    while :; do
      if primary=$(primary_from_sentinels); then
        if ! is_self "${primary% *}"; then
          log "Sentinels name ${primary% *}:${primary#* } as primary; starting as its replica"
          printf 'replicaof %s\n' "$primary" >>"$conf"
          break
        fi
        # The Sentinels name this pod. With no replica known (first start) there
        # is nobody to fail over to: start as primary. Otherwise this pod
        # restarted: give them time to promote a replica (which has the data).
        if ! sentinels_know_replicas; then
          log "Sentinels name this pod as primary and know no replica; starting as primary"
          break
        fi
        if [[ -z "$self_named_since" ]]; then
          self_named_since=$SECONDS
          log "Sentinels still name this restarted pod as primary; waiting for them to promote a replica"
        fi
        # Without persistence this server starts empty: as primary it would make every
        # replica drop its copy. It waits for the failover however long it takes.
        if persistent && (( SECONDS - self_named_since >= VALKEY_SELF_PRIMARY_WAIT_SECONDS )); then
          log "Sentinels still name this pod as primary after ${VALKEY_SELF_PRIMARY_WAIT_SECONDS} s; starting as primary with its persisted data"
          break
        fi
        if (( (SECONDS - self_named_since) % 30 < 2 && SECONDS - self_named_since >= 30 )); then
          log "still waiting for the Sentinels to promote a replica (this pod has no data of its own to serve)"
        fi
      elif primary=$(primary_from_peers); then
        log "no Sentinel knows a primary but ${primary% *} runs as one; starting as its replica"
        printf 'replicaof %s\n' "$primary" >>"$conf"
        break
      elif is_first_pod; then
        log "no Sentinel knows a primary and this is the first pod; starting as primary"
        break
      fi
      if [[ -z "$self_named_since" ]] && (( SECONDS % 10 < 2 )); then
        log "waiting for the Sentinels to name a primary"
      fi
      sleep 2
    done
  else
    if [[ "$VALKEY_MODE" == cluster && -f "$VALKEY_DATA_DIR/nodes.conf" ]] && ! persistent; then
      # A restarted container without persistence has no data but would keep its node
      # id and claim its old slots, empty. As a new node its replica takes over the
      # slots (with the data) and the reconciler makes this one a replica again.
      log "no persistence: dropping nodes.conf of the previous run; joining as a new node"
      rm -f "$VALKEY_DATA_DIR/nodes.conf"
    fi
    log "starting in $VALKEY_MODE mode"
  fi
  exec valkey-server "$conf"
}

run_sentinel() {
  require_password VALKEY_SENTINEL_PASSWORD
  # The primary lookup below may ask peers' ROLE as admin; optional here.
  : "${VALKEY_ADMIN_PASSWORD:=}"
  VALKEY_MODE=sentinel
  check_common
  local primary
  if [[ -n "$SENTINEL_PRIMARY_HOST" ]]; then
    :
  elif primary=$(primary_from_sentinels); then
    SENTINEL_PRIMARY_HOST=${primary% *}
  elif [[ -n "$VALKEY_ADMIN_PASSWORD" ]] && primary=$(primary_from_peers); then
    SENTINEL_PRIMARY_HOST=${primary% *}
  else
    SENTINEL_PRIMARY_HOST=$(first_peer)
  fi
  export SENTINEL_PRIMARY_HOST
  # Sentinel with resolve-hostnames stops at start when the name does not resolve
  # yet (a pod's DNS record appears shortly after the pod): wait a bounded time.
  local waited=0
  until getent hosts "$SENTINEL_PRIMARY_HOST" >/dev/null; do
    (( waited < 60 )) || die "primary host $SENTINEL_PRIMARY_HOST does not resolve"
    sleep 1; waited=$((waited + 1))
  done
  log "monitoring $SENTINEL_MASTER_NAME at $SENTINEL_PRIMARY_HOST:$VALKEY_PORT"
  render sentinel.conf
  append_tls "$VALKEY_RUN_DIR/sentinel.conf" "$SENTINEL_PORT"
  exec valkey-server "$VALKEY_RUN_DIR/sentinel.conf" --sentinel
}

# The primary's host as the first answering Sentinel of another pod reports it (empty if none).
sentinels_primary() {
  local peer host
  for peer in $(peers); do
    is_self "$peer" && continue
    host=$(cli "$VALKEY_SENTINEL_PASSWORD" -h "$peer" -p "$SENTINEL_PORT" \
      SENTINEL GET-MASTER-ADDR-BY-NAME "$SENTINEL_MASTER_NAME" | head -n 1) || true
    [[ -n "$host" ]] && { printf '%s\n' "$host"; return 0; }
  done
  return 0
}

# Before a primary's pod stops: waits for the reconciler's handover (it reacts to the
# deletion), and only when none comes asks Sentinel for one coordinated failover. Best
# effort: always exits 0, bounded by VALKEY_PRESTOP_TIMEOUT_SECONDS.
run_prestop() {
  require_number VALKEY_PRESTOP_TIMEOUT_SECONDS
  require_number VALKEY_PRESTOP_RECONCILER_WAIT_SECONDS
  local started=$SECONDS deadline=$((SECONDS + VALKEY_PRESTOP_TIMEOUT_SECONDS))
  [[ -n "${VALKEY_ADMIN_PASSWORD:-}" && -n "${VALKEY_SENTINEL_PASSWORD:-}" ]] ||
    { log "prestop: passwords not set; nothing to do"; exit 0; }
  [[ "$VALKEY_MODE" == sentinel ]] || exit 0
  local role
  role=$(cli "$VALKEY_ADMIN_PASSWORD" --user admin -p "$VALKEY_PORT" ROLE | head -n 1) || true
  [[ "$role" == master ]] || { log "prestop: this pod is not the primary ($role); nothing to do"; exit 0; }

  # The reconciler watches deletionTimestamp and hands over with writes paused; give it
  # the first seconds. Ask the Sentinels, not ROLE: Sentinel's demotion of this node waits
  # behind the reconciler's pause, so ROLE says master for a while after the handover.
  local reconciler_deadline=$((SECONDS + VALKEY_PRESTOP_RECONCILER_WAIT_SECONDS)) primary
  while (( SECONDS < reconciler_deadline )); do
    sleep 0.5
    primary=$(sentinels_primary)
    if [[ -n "$primary" ]] && ! is_self "$primary"; then
      log "prestop: handed over to $primary after $((SECONDS - started)) s"; exit 0
    fi
  done

  # No handover from the reconciler (gone, or not leading): the protocol (pause, catch-up,
  # failover, labels) is the reconciler's alone (sentinel/Handover). The smallest safe action
  # left is one coordinated failover (Valkey 9): Sentinel has this primary run FAILOVER, which
  # pauses writes, waits until the chosen replica has them all, then switches roles; the
  # paused writes are refused on the demoted node (never acknowledged, never lost). Asked of
  # another pod's Sentinel first: this pod's own Sentinel is stopping too.
  local peer asked='' answer=''
  for peer in $(peers) localhost; do
    if [[ "$peer" != localhost ]] && is_self "$peer"; then continue; fi
    answer=$(cli "$VALKEY_SENTINEL_PASSWORD" -h "$peer" -p "$SENTINEL_PORT" \
      SENTINEL FAILOVER "$SENTINEL_MASTER_NAME" COORDINATED 2>&1) || true
    [[ "$answer" == OK ]] && { asked=$peer; break; }
  done
  if [[ -z "$asked" ]]; then
    log "prestop: no Sentinel accepted SENTINEL FAILOVER COORDINATED (last answer: ${answer:-none}); Sentinel fails over once this pod is gone"
    exit 0
  fi
  log "prestop: the reconciler did not hand over within ${VALKEY_PRESTOP_RECONCILER_WAIT_SECONDS} s; Sentinel at $asked started a coordinated failover"
  while (( SECONDS < deadline )); do
    role=$(cli "$VALKEY_ADMIN_PASSWORD" --user admin -p "$VALKEY_PORT" ROLE | head -n 1) || true
    [[ "$role" == slave ]] && { log "prestop: this pod is now a replica (after $((SECONDS - started)) s)"; exit 0; }
    sleep 0.2
  done
  log "prestop: the role did not move within ${VALKEY_PRESTOP_TIMEOUT_SECONDS} s"
  exit 0
}

# --- readiness ---------------------------------------------------------------------

not_ready() { printf 'not ready: %s\n' "$*"; exit 1; }

# The value of FIELD in INFO-style "field:value" lines on stdin.
field() { tr -d '\r' | sed -n "s/^$1://p"; }

# Succeeds when a node other than this one in the CLUSTER NODES text $1 announces this
# pod's host name: the cluster still lists this pod under an earlier node id.
listed_under_another_id() {
  awk -v h="$VALKEY_ANNOUNCE_HOSTNAME" '$3 !~ /myself/ { n = split($2, a, ","); if (n > 1 && a[2] == h) found = 1 }
    END { exit !found }' <<<"$1"
}

# A replica is in sync once its link is up and no full sync is running.
replica_ready() {
  local link syncing
  link=$(field master_link_status <<<"$1"); syncing=$(field master_sync_in_progress <<<"$1")
  [[ "$link" == up && "$syncing" == 0 ]] ||
    not_ready "replica not in sync with its primary (master_link_status:$link, master_sync_in_progress:$syncing)"
}

# Cluster mode: a replica in sync; a primary with slots in a cluster that is ok; a
# node without slots unless the cluster lists this pod under an earlier node id (the
# pod lost its data and is not back in its shard yet). Fresh nodes (first install,
# scale-up) are ready: the hook Jobs that make them members run after readiness.
cluster_ready() {
  local info=$1 nodes myself state peer view=""
  nodes=$(cli "$VALKEY_ADMIN_PASSWORD" --user admin -p "$VALKEY_PORT" CLUSTER NODES | tr -d '\r') ||
    not_ready "no answer to CLUSTER NODES"
  myself=$(grep -m1 ' myself' <<<"$nodes")
  if [[ "$(field role <<<"$info")" == slave ]]; then replica_ready "$info"; return 0; fi
  # Fields 9 on of its own line are its slots (and [slot->-id] markers of open ones).
  if awk '{for (i = 9; i <= NF; i++) if ($i !~ /^\[/) s = 1} END {exit !s}' <<<"$myself"; then
    state=$(cli "$VALKEY_ADMIN_PASSWORD" --user admin -p "$VALKEY_PORT" CLUSTER INFO | field cluster_state)
    [[ "$state" == ok ]] || not_ready "primary with slots, cluster_state:${state:-unknown}"
    return 0
  fi
  if [[ $(wc -l <<<"$nodes") -gt 1 ]]; then
    view=$nodes
  else
    for peer in $(peers); do
      is_self "$peer" && continue
      view=$(cli "$VALKEY_ADMIN_PASSWORD" --user admin -h "$peer" -p "$VALKEY_PORT" CLUSTER NODES | tr -d '\r') || continue
      [[ $(wc -l <<<"$view") -gt 1 ]] && break
      view=""
    done
  fi
  if [[ -n "$view" ]] && listed_under_another_id "$view"; then
    not_ready "the cluster lists this pod under an earlier node id: waiting to rejoin its shard as a replica"
  fi
}

# Readiness probe: 0 when this server holds what it should, so that a rolling update
# may take the next pod. One line on stdout says why not (kubectl describe shows it).
run_ready() {
  [[ -n "${VALKEY_ADMIN_PASSWORD:-}" ]] || not_ready "VALKEY_ADMIN_PASSWORD is not set"
  CLI_TIMEOUT=1
  local info
  info=$(cli "$VALKEY_ADMIN_PASSWORD" --user admin -p "$VALKEY_PORT" INFO) || not_ready "no answer on port $VALKEY_PORT"
  [[ "$(field loading <<<"$info")" == 0 ]] || not_ready "loading its data"
  case "$VALKEY_MODE" in
    standalone) ;;
    sentinel) [[ "$(field role <<<"$info")" == master ]] || replica_ready "$info" ;;
    cluster) cluster_ready "$info" ;;
  esac
  exit 0
}

# Readiness probe of the sentinel container: Sentinel answers PING (as the chart's clients would).
run_sentinel_ready() {
  [[ -n "${VALKEY_SENTINEL_PASSWORD:-}" ]] || not_ready "VALKEY_SENTINEL_PASSWORD is not set"
  CLI_TIMEOUT=1
  [[ "$(cli "$VALKEY_SENTINEL_PASSWORD" -p "$SENTINEL_PORT" PING)" == PONG ]] ||
    not_ready "Sentinel does not answer PING on port $SENTINEL_PORT"
  exit 0
}

# Liveness probe: the process answers anything on its port (NOAUTH and LOADING count), after a
# TLS handshake when TLS is on. No password and no certificate check: a rotation of either must
# never restart a server.
run_alive() {
  local port=$VALKEY_PORT answer
  [[ "${1:-}" == sentinel ]] && port=$SENTINEL_PORT
  local tls=()
  if tls_on; then tls=("${CLI_TLS[@]}" --insecure); fi
  answer=$(timeout 2 valkey-cli "${tls[@]}" -p "$port" PING 2>/dev/null) || true
  [[ -n "$answer" ]] || { printf 'not alive: no answer on port %s\n' "$port"; exit 1; }
  exit 0
}

setup_tls
case "${1:-}" in
  valkey) run_valkey ;;
  sentinel) run_sentinel ;;
  prestop) run_prestop ;;
  ready) run_ready ;;
  sentinel-ready) run_sentinel_ready ;;
  alive) run_alive "${2:-}" ;;
  *) die "unknown role '${1:-}' (expected valkey, sentinel, prestop, ready, sentinel-ready or alive)" ;;
esac
