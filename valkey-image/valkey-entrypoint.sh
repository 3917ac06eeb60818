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
#   valkey-entrypoint watch-credentials   sidecar: follows password changes in the mounted
#                                credentials files without restarting Valkey or Sentinel
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
# Above the reconciler's 15 s bound on preparing a handover (sentinel/Handover).
: "${VALKEY_PRESTOP_RECONCILER_WAIT_SECONDS:=18}"
# TLS (config/tls.conf): off unless VALKEY_TLS is true; the files come from a mounted Secret.
: "${VALKEY_TLS:=false}"
: "${VALKEY_TLS_CERT_FILE:=/etc/valkey/tls/tls.crt}"
: "${VALKEY_TLS_KEY_FILE:=/etc/valkey/tls/tls.key}"
: "${VALKEY_TLS_CA_FILE:=/etc/valkey/tls/ca.crt}"
: "${VALKEY_TLS_AUTH_CLIENTS:=no}"
# Password rotation (watch-credentials): one file per user (admin, client, replication,
# sentinel) in a mounted Secret; the probes prefer these files to the environment.
: "${VALKEY_CREDENTIALS_DIR:=/etc/valkey/credentials}"
: "${VALKEY_CREDENTIALS_POLL_SECONDS:=5}"
: "${VALKEY_ROTATION_GRACE_SECONDS:=300}"
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

# Cluster mode, before a primary that owns slots stops: CLUSTER FAILOVER on one of its
# connected replicas (the primary pauses, the replica catches up and takes the slots, clients
# are redirected at once), then waits until this node is a replica. HandoverBenchmark (3x1):
# write pause 500 ms against 1024 ms with shutdown-on-sigterm failover alone, which stays
# the fallback when this does not happen. Uses started/deadline of run_prestop; exits.
prestop_cluster() {
  local nodes self id addr host port answer role
  nodes=$(cli "$VALKEY_ADMIN_PASSWORD" --user admin -p "$VALKEY_PORT" CLUSTER NODES | tr -d '\r') ||
    { log "prestop: CLUSTER NODES did not answer; shutdown-on-sigterm hands over"; exit 0; }
  self=$(awk '$3 ~ /myself/' <<<"$nodes")
  if [[ "$self" != *master* ]] || (( $(awk '{print NF}' <<<"$self") < 9 )); then
    log "prestop: this node is not a primary owning slots; nothing to do"; exit 0
  fi
  id=$(awk '{print $1}' <<<"$self")
  # $2 is ip:port@cport[,hostname]; the host name is what a TLS certificate names.
  addr=$(awk -v id="$id" '$3 ~ /slave/ && $3 !~ /fail/ && $4 == id && $8 == "connected" {print $2; exit}' <<<"$nodes")
  [[ -n "$addr" ]] || { log "prestop: this primary has no connected replica; nothing to hand over to"; exit 0; }
  host=${addr#*,}
  [[ "$host" != "$addr" && -n "$host" ]] || host=${addr%%:*}
  port=${addr#*:}; port=${port%%@*}
  answer=$(cli "$VALKEY_ADMIN_PASSWORD" --user admin -h "$host" -p "$port" CLUSTER FAILOVER) || true
  [[ "$answer" == OK ]] ||
    { log "prestop: $host refused CLUSTER FAILOVER (${answer:-no answer}); shutdown-on-sigterm hands over"; exit 0; }
  while (( SECONDS < deadline )); do
    role=$(cli "$VALKEY_ADMIN_PASSWORD" --user admin -p "$VALKEY_PORT" ROLE | head -n 1) || true
    [[ "$role" == slave ]] && { log "prestop: $host took over this primary's slots after $((SECONDS - started)) s"; exit 0; }
    sleep 0.2
  done
  log "prestop: the replica did not take over within ${VALKEY_PRESTOP_TIMEOUT_SECONDS} s; shutdown-on-sigterm hands over"
  exit 0
}

# Before a primary's pod stops: waits for the reconciler's handover (it reacts to the
# deletion), and only when none comes asks Sentinel for one coordinated failover. Best
# effort: always exits 0, bounded by VALKEY_PRESTOP_TIMEOUT_SECONDS.
run_prestop() {
  require_number VALKEY_PRESTOP_TIMEOUT_SECONDS
  require_number VALKEY_PRESTOP_RECONCILER_WAIT_SECONDS
  local started=$SECONDS deadline=$((SECONDS + VALKEY_PRESTOP_TIMEOUT_SECONDS))
  if [[ "$VALKEY_MODE" == cluster && -n "${VALKEY_ADMIN_PASSWORD:-}" ]]; then
    prefer_mounted VALKEY_ADMIN_PASSWORD admin admin "$VALKEY_PORT"
    prestop_cluster
  fi
  [[ -n "${VALKEY_ADMIN_PASSWORD:-}" && -n "${VALKEY_SENTINEL_PASSWORD:-}" ]] ||
    { log "prestop: passwords not set; nothing to do"; exit 0; }
  [[ "$VALKEY_MODE" == sentinel ]] || exit 0
  prefer_mounted VALKEY_ADMIN_PASSWORD admin admin "$VALKEY_PORT"
  prefer_mounted VALKEY_SENTINEL_PASSWORD sentinel '' "$SENTINEL_PORT"
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

# --- password rotation -------------------------------------------------------------

# The password in the mounted credentials file of user $1, when the file is there and
# holds a usable one (the same rules as require_password). Read on every call: the
# kubelet replaces the files when the Secret changes.
mounted_password() {
  local file="$VALKEY_CREDENTIALS_DIR/$1" value=''
  [[ -f "$file" && -r "$file" ]] || return 1
  IFS= read -r -d '' value <"$file" || true
  [[ -n "$value" && "$value" != *[[:space:]\"\'\\]* ]] || return 1
  printf '%s' "$value"
}

# Succeeds when the server at $1:$2 accepts password $4 for user $3 (empty: the
# default user, as on Sentinel). Every user of users.acl may PING.
accepts() {
  local args=(-h "$1" -p "$2")
  [[ -n "$3" ]] && args+=(--user "$3")
  [[ "$(CLI_TIMEOUT=2 cli "$4" "${args[@]}" PING)" == PONG ]]
}

# Prints the first non-empty password among $4... that $1:$2 accepts for user $3.
working_password() {
  local host=$1 port=$2 user=$3 candidate
  shift 3
  for candidate in "$@"; do
    [[ -n "$candidate" ]] && accepts "$host" "$port" "$user" "$candidate" &&
      { printf '%s' "$candidate"; return 0; }
  done
  return 1
}

# Sets variable $1 to the mounted password of user $2 when this pod's server on port
# $4 accepts it for ACL user $3: after a rotation's grace period the environment's
# password (read at container start) is refused, the mounted one is current.
prefer_mounted() {
  local mounted
  mounted=$(mounted_password "$2") && accepts localhost "$4" "$3" "$mounted" &&
    printf -v "$1" '%s' "$mounted"
  return 0
}

# Runs a command whose last argument is secret: valkey-cli -x takes it from stdin, so
# it is never on a command line. $1 authenticates, $2 is the secret, then host,
# port, user options and the command.
cli_secret() {
  local password=$1 secret=$2
  shift 2
  printf '%s' "$secret" | cli "$password" -x "$@"
}

# Succeeds when every peer's server on port $1 accepts password $3 for user $2.
all_peers_accept() {
  local peer found=''
  for peer in $(peers); do
    found=yes
    accepts "$peer" "$1" "$2" "$3" || return 1
  done
  [[ -n "$found" ]]
}

# How many passwords ACL user $1 has on localhost:$2 (authenticated with $3, as $4).
password_count() {
  local args=(-p "$2")
  [[ -n "$4" ]] && args+=(--user "$4")
  cli "$3" "${args[@]}" ACL GETUSER "$1" |
    awk '$0 == "passwords" {on = 1; next} $0 == "commands" {on = 0} on && NF {n++} END {print n + 0}'
}

# Adds password $4 to ACL user $3 on localhost:$1 (authenticated with $2, as $5) when
# that server does not take it yet; the old passwords stay until the grace period ends.
add_password() {
  local port=$1 auth=$2 user=$3 want=$4 as=$5 args=(-p "$1") acl_user=$3
  [[ -n "$as" ]] && args+=(--user "$as")
  [[ -n "$acl_user" ]] || acl_user=default
  accepts localhost "$port" "$user" "$want" && return 0
  rotation_pending=$((rotation_pending + 1))
  if [[ "$(cli_secret "$auth" ">$want" "${args[@]}" ACL SETUSER "$acl_user")" == OK ]]; then
    log "credentials: port $port now accepts the new password of user $acl_user (the old one too, for ${VALKEY_ROTATION_GRACE_SECONDS} s)"
  else
    log "credentials: could not add the new password of user $acl_user on port $port; retrying"
  fi
}

# Once user $3 on localhost:$1 has held more than one password for the grace period
# and $6 (a command) says every outward use has switched, keeps only password $4.
declare -A rotation_since=()
retire_old_passwords() {
  local port=$1 auth=$2 user=$3 want=$4 as=$5 ready_check=$6 args=(-p "$1") acl_user=${3:-default} key="$1/${3:-default}"
  [[ -n "$as" ]] && args+=(--user "$as")
  if (( $(password_count "$acl_user" "$port" "$auth" "$as") <= 1 )); then
    unset "rotation_since[$key]"
    return 0
  fi
  rotation_pending=$((rotation_pending + 1))
  : "${rotation_since[$key]:=$SECONDS}"
  (( SECONDS - rotation_since[$key] >= VALKEY_ROTATION_GRACE_SECONDS )) || return 0
  "$ready_check" || return 0
  if [[ "$(cli_secret "$auth" ">$want" "${args[@]}" ACL SETUSER "$acl_user" resetpass)" == OK ]]; then
    log "credentials: port $port no longer accepts the old password of user $acl_user (grace period of ${VALKEY_ROTATION_GRACE_SECONDS} s over)"
    unset "rotation_since[$key]"
  fi
}

always() { return 0; }

# Outward uses switch only once every peer takes the new password, so no link
# (replication, Sentinel to a server or to another Sentinel) fails on a reconnect.
replication_switched() {
  [[ "$(cli "$valkey_auth" --user admin -p "$VALKEY_PORT" CONFIG GET masterauth | sed -n 2p)" == "$replication_want" ]]
}
switch_replication() {
  replication_switched && return 0
  rotation_pending=$((rotation_pending + 1))
  all_peers_accept "$VALKEY_PORT" replication "$replication_want" || return 0
  if [[ "$(cli_secret "$valkey_auth" "$replication_want" --user admin -p "$VALKEY_PORT" CONFIG SET masterauth)" == OK ]]; then
    log "credentials: this Valkey now authenticates to its primary with the new replication password (every peer accepts it)"
  fi
}

sentinel_switched() {
  [[ "$(cli "$sentinel_auth" -p "$SENTINEL_PORT" SENTINEL CONFIG GET sentinel-pass | sed -n 2p)" == "$sentinel_want" ]]
}
switch_sentinel() {
  sentinel_switched && return 0
  rotation_pending=$((rotation_pending + 1))
  all_peers_accept "$VALKEY_PORT" sentinel "$sentinel_want" || return 0
  all_peers_accept "$SENTINEL_PORT" '' "$sentinel_want" || return 0
  if [[ "$(cli_secret "$sentinel_auth" "$sentinel_want" -p "$SENTINEL_PORT" SENTINEL SET "$SENTINEL_MASTER_NAME" auth-pass)" == OK &&
    "$(cli_secret "$sentinel_auth" "$sentinel_want" -p "$SENTINEL_PORT" SENTINEL CONFIG SET sentinel-pass)" == OK ]]; then
    log "credentials: this Sentinel now authenticates to the servers and the other Sentinels with the mounted sentinel password (every peer accepts it)"
  fi
}

# One level-triggered pass: whatever the files say now is made true, step by step.
# rotation_pending counts what is not done yet (0: this pod matches the files).
valkey_auth='' sentinel_auth='' replication_want='' sentinel_want='' rotation_pending=0
rotate_once() {
  rotation_pending=0
  valkey_auth=$(working_password localhost "$VALKEY_PORT" admin "$(mounted_password admin || true)" \
    "$valkey_auth" "$VALKEY_ADMIN_PASSWORD") || {
    rotation_pending=1
    log "credentials: no admin password works on this Valkey (not up yet?)"
    return 0
  }
  local user want
  for user in admin client replication sentinel; do
    want=$(mounted_password "$user") || continue
    add_password "$VALKEY_PORT" "$valkey_auth" "$user" "$want" admin
  done
  if replication_want=$(mounted_password replication); then switch_replication; fi
  if [[ "$VALKEY_MODE" == sentinel ]] && sentinel_want=$(mounted_password sentinel); then
    if sentinel_auth=$(working_password localhost "$SENTINEL_PORT" '' "$sentinel_want" "$sentinel_auth" "$VALKEY_SENTINEL_PASSWORD"); then
      add_password "$SENTINEL_PORT" "$sentinel_auth" '' "$sentinel_want" ''
      switch_sentinel
      retire_old_passwords "$SENTINEL_PORT" "$sentinel_auth" '' "$sentinel_want" '' sentinel_switched
    else
      rotation_pending=$((rotation_pending + 1))
      log "credentials: no sentinel password works on this Sentinel (not up yet?)"
    fi
  fi
  for user in admin client replication sentinel; do
    want=$(mounted_password "$user") || continue
    case "$user" in
      replication) retire_old_passwords "$VALKEY_PORT" "$valkey_auth" "$user" "$want" admin replication_switched ;;
      sentinel) retire_old_passwords "$VALKEY_PORT" "$valkey_auth" "$user" "$want" admin \
        "$([[ "$VALKEY_MODE" == sentinel ]] && echo sentinel_switched || echo always)" ;;
      *) retire_old_passwords "$VALKEY_PORT" "$valkey_auth" "$user" "$want" admin always ;;
    esac
    # The admin password that works may just have been retired.
    if [[ "$user" == admin ]]; then valkey_auth=$(mounted_password admin); fi
  done
}

# Sidecar of every data pod: polls the mounted credentials (the kubelet refreshes a
# Secret volume about a minute after the Secret changes) and rotates in place. Keeps
# nothing on disk: a restarted container reads the Secret's current values from env.
run_watch_credentials() {
  require_number VALKEY_CREDENTIALS_POLL_SECONDS
  require_number VALKEY_ROTATION_GRACE_SECONDS
  (( VALKEY_CREDENTIALS_POLL_SECONDS >= 1 )) || die "VALKEY_CREDENTIALS_POLL_SECONDS must be at least 1, got '$VALKEY_CREDENTIALS_POLL_SECONDS'"
  [[ -d "$VALKEY_CREDENTIALS_DIR" ]] || die "VALKEY_CREDENTIALS_DIR $VALKEY_CREDENTIALS_DIR is not a directory (is the credentials Secret mounted?)"
  require_password VALKEY_ADMIN_PASSWORD
  check_common
  : "${VALKEY_SENTINEL_PASSWORD:=}"
  trap 'exit 0' TERM INT
  log "credentials: watching $VALKEY_CREDENTIALS_DIR every ${VALKEY_CREDENTIALS_POLL_SECONDS} s; an old password stays accepted for ${VALKEY_ROTATION_GRACE_SECONDS} s after a change"
  # Once this pod matches the files, a pass costs only reading them, until they change
  # (or a minute went by: a full pass then, should anything have drifted).
  local files settled='' settled_at=0 user
  while :; do
    files=''
    for user in admin client replication sentinel; do files+="$(mounted_password "$user" || true)/"; done
    if [[ "$files" != "$settled" ]] || (( SECONDS - settled_at >= 60 )); then
      rotate_once
      if (( rotation_pending == 0 )); then settled=$files settled_at=$SECONDS; else settled=''; fi
    fi
    sleep "$VALKEY_CREDENTIALS_POLL_SECONDS" & wait $!
  done
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
  prefer_mounted VALKEY_ADMIN_PASSWORD admin admin "$VALKEY_PORT"
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
  prefer_mounted VALKEY_SENTINEL_PASSWORD sentinel '' "$SENTINEL_PORT"
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
  watch-credentials) run_watch_credentials ;;
  *) die "unknown role '${1:-}' (expected valkey, sentinel, prestop, ready, sentinel-ready, alive or watch-credentials)" ;;
esac
