#!/usr/bin/env bash
# Prints, once a second, whether a write to Valkey succeeds right now: for someone
# watching a failover (kill the primary pod in another terminal and watch the
# FAIL lines come and go).
#
#   run-checks.bash [-d SECONDS] [-u URL]                 through the test server's HTTP API
#   run-checks.bash [-d SECONDS] -H HOST [-p PORT] [-U USER]  directly with valkey-cli
#
#   -d SECONDS  how long to check (default 60, at most 86400)
#   -t SECONDS  how long one check may take before it counts as failed (default 1)
#   -u URL      test server base URL (default http://localhost:8080, e.g. after
#               `kubectl port-forward svc/valkey-test-server 8080`); POST URL/check
#   -H HOST     write with valkey-cli to HOST instead (the primary Service, e.g.
#               `valkey` from a pod in the namespace); the password comes from the
#               VALKEYCLI_AUTH (or REDISCLI_AUTH) environment variable, never
#               from the command line
#   -p PORT     Valkey port (default 6379)
#   -U USER     ACL user (default client)
#
# TLS for valkey-cli (-H) comes from the environment the test server reads:
#   VALKEY_TLS=true                  connect with TLS
#   VALKEY_TLS_CA_FILE=FILE          verify the server certificate against this CA
#   VALKEY_TLS_CERT_FILE, VALKEY_TLS_KEY_FILE  client certificate (tls-auth-clients yes)
#   VALKEY_TLS_INSECURE_SKIP_VERIFY=true       do not verify the server (explicit opt-in)
# Through the test server (-u) they do not apply: the server itself speaks TLS.
#
# One line per second: time, OK or FAIL, latency or the error. Ends with a
# summary line. Exit status: 0 when every check succeeded, 1 when some failed,
# 2 on bad usage.
set -uo pipefail

# The header comment above is the help text.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2; exit 2; }
bad() { printf 'run-checks: %s\n' "$*" >&2; exit 2; }

seconds=60 check_timeout=1 url=http://localhost:8080 host='' port=6379 user=client
while getopts ':d:t:u:H:p:U:h' opt; do
  case $opt in
    d) seconds=$OPTARG ;;
    t) check_timeout=$OPTARG ;;
    u) url=${OPTARG%/} ;;
    H) host=$OPTARG ;;
    p) port=$OPTARG ;;
    U) user=$OPTARG ;;
    h) usage ;;
    :) bad "-$OPTARG needs a value" ;;
    *) bad "unknown option -$OPTARG (see -h)" ;;
  esac
done
shift $((OPTIND - 1))
(( $# == 0 )) || bad "unexpected argument: $1 (see -h)"
in_range() { [[ $1 =~ ^[0-9]{1,5}$ ]] && (( 10#$1 >= $2 && 10#$1 <= $3 )); }
if ! in_range "$seconds" 1 86400; then
  bad "-d must be a number of seconds between 1 and 86400, got: $seconds"
fi
if ! in_range "$port" 1 65535; then
  bad "-p must be a port, got: $port"
fi
if ! in_range "$check_timeout" 1 60; then
  bad "-t must be a number of seconds between 1 and 60, got: $check_timeout"
fi
seconds=$((10#$seconds)) port=$((10#$port)) check_timeout=$((10#$check_timeout))

# flag NAME: whether the environment variable NAME is true; bad usage unless true, false or unset.
flag() {
  local value=${!1:-false}
  case ${value,,} in
    true) return 0 ;;
    false) return 1 ;;
    *) bad "$1 must be true or false, got: $value" ;;
  esac
}
# readable NAME: the file named by NAME, or bad usage.
readable() {
  [[ -f ${!1} && -r ${!1} ]] || bad "$1: cannot read ${!1}"
}

# The valkey-cli options for the VALKEY_TLS* settings, refused when they contradict each other.
tls_args=()
tls_options() {
  local name
  if ! flag VALKEY_TLS; then
    for name in VALKEY_TLS_CA_FILE VALKEY_TLS_CERT_FILE VALKEY_TLS_KEY_FILE; do
      [[ -z ${!name:-} ]] || bad "$name is set but VALKEY_TLS is not true: set VALKEY_TLS=true to use TLS"
    done
    if flag VALKEY_TLS_INSECURE_SKIP_VERIFY; then
      bad "VALKEY_TLS_INSECURE_SKIP_VERIFY=true but VALKEY_TLS is not true: set VALKEY_TLS=true to use TLS"
    fi
    return 0
  fi
  tls_args=(--tls)
  if [[ -n ${VALKEY_TLS_CA_FILE:-} ]]; then
    readable VALKEY_TLS_CA_FILE
    tls_args+=(--cacert "$VALKEY_TLS_CA_FILE")
  fi
  if [[ -n ${VALKEY_TLS_KEY_FILE:-} && -z ${VALKEY_TLS_CERT_FILE:-} ]]; then
    bad "VALKEY_TLS_KEY_FILE is set without VALKEY_TLS_CERT_FILE: a client certificate needs both"
  fi
  if [[ -n ${VALKEY_TLS_CERT_FILE:-} ]]; then
    [[ -n ${VALKEY_TLS_KEY_FILE:-} ]] || bad "VALKEY_TLS_CERT_FILE is set without VALKEY_TLS_KEY_FILE: a client certificate needs both"
    readable VALKEY_TLS_CERT_FILE
    readable VALKEY_TLS_KEY_FILE
    tls_args+=(--cert "$VALKEY_TLS_CERT_FILE" --key "$VALKEY_TLS_KEY_FILE")
  fi
  if flag VALKEY_TLS_INSECURE_SKIP_VERIFY; then
    [[ -z ${VALKEY_TLS_CA_FILE:-} ]] || bad "VALKEY_TLS_INSECURE_SKIP_VERIFY=true and VALKEY_TLS_CA_FILE contradict each other: verify against the CA or skip verification, not both"
    tls_args+=(--insecure)
  fi
}

if [[ -n $host ]]; then
  command -v valkey-cli >/dev/null || bad "valkey-cli is not installed"
  password=${VALKEYCLI_AUTH:-${REDISCLI_AUTH:-}}
  [[ -n $password ]] || bad "set VALKEYCLI_AUTH to the password of user $user"
  tls_options
  scheme=valkey
  (( ${#tls_args[@]} == 0 )) || scheme=valkeys
  target="$scheme://$user@$host:$port"
else
  command -v curl >/dev/null || bad "curl is not installed"
  target="$url/check"
fi

now_ms() { date +%s%3N; }

# One write; prints the error on failure. Every check ends within -t seconds.
check_http() {
  local body
  body=$(curl -sS -m "$check_timeout" -X POST "$url/check" 2>&1) || { printf '%s' "${body:-curl failed}"; return 1; }
  [[ $body == *'"ok":true'* ]] || { printf '%s' "$body"; return 1; }
}
check_cli() {
  local reply
  # valkey-cli 8.0 reads only REDISCLI_AUTH; the password travels in its environment.
  reply=$(REDISCLI_AUTH=$password timeout "$check_timeout" valkey-cli --no-auth-warning -t "$check_timeout" -h "$host" -p "$port" \
    "${tls_args[@]}" --user "$user" SET "run-checks:$HOSTNAME" "$(now_ms)" PX 60000 2>&1) || { printf '%s' "${reply:-timed out}"; return 1; }
  [[ $reply == OK ]] || { printf '%s' "$reply"; return 1; }
}

printf 'checking writes to %s every second for %d s\n' "$target" "$seconds"
ok=0 failed=0 streak=0 longest=0
for (( i = 0; i < seconds; i++ )); do
  started=$(now_ms)
  if [[ -n $host ]]; then error=$(check_cli); status=$?; else error=$(check_http); status=$?; fi
  took=$(( $(now_ms) - started ))
  if (( status == 0 )); then
    printf '%s  OK    %4d ms\n' "$(date +%T)" "$took"
    ok=$((ok + 1)) streak=0
  else
    printf '%s  FAIL  %4d ms  %s\n' "$(date +%T)" "$took" "$(tr -s '\n' ' ' <<<"$error" | cut -c1-160)"
    failed=$((failed + 1)) streak=$((streak + 1))
    (( streak > longest )) && longest=$streak
  fi
  # Sleep out the rest of the second so lines stay one second apart.
  rest=$(( 1000 - ($(now_ms) - started) ))
  (( i + 1 < seconds && rest > 0 )) && sleep "$(printf '0.%03d' "$rest")"
done
printf 'summary: %d ok, %d failed, longest failure streak %d s\n' "$ok" "$failed" "$longest"
(( failed == 0 ))
