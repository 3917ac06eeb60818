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

if [[ -n $host ]]; then
  command -v valkey-cli >/dev/null || bad "valkey-cli is not installed"
  password=${VALKEYCLI_AUTH:-${REDISCLI_AUTH:-}}
  [[ -n $password ]] || bad "set VALKEYCLI_AUTH to the password of user $user"
  target="valkey://$user@$host:$port"
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
    --user "$user" SET "run-checks:$HOSTNAME" "$(now_ms)" PX 60000 2>&1) || { printf '%s' "${reply:-timed out}"; return 1; }
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
