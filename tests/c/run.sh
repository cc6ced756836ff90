#!/usr/bin/env bash
# Runs the C tests and the C example against the loopback test origin, each under valgrind, or with --asan
# programs built with AddressSanitizer (make c-asan), under ASan and LeakSanitizer instead.
#   scripts/netns tests/c/run.sh [--asan] ORIGIN_BIN BIN_DIR
# ORIGIN_BIN is the test origin (tests/origin/origin.rs, serving tests/c/fixtures.rs); BIN_DIR holds the test_* programs and the resolve-* examples
# (make c-test and make c-asan build them). Must run inside scripts/netns: only loopback exists there.
set -euo pipefail
[ "${CIMD_IN_NETNS:-}" = 1 ] || { echo "run.sh: run me inside scripts/netns" >&2; exit 2; }
asan=0
if [ "${1:-}" = --asan ]; then asan=1; shift; fi
host=$1 bin=$2
here=$(cd "$(dirname "$0")" && pwd)

if [ "$asan" = 1 ]; then
  # The sanitizer is in the programs; any report exits non-zero. --leak-check=no (test_fork) maps to
  # detect_leaks=0.
  asan_options=detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=1
  checker() {
    local options=$asan_options
    if [ "$1" = --leak-check=no ]; then options=${options/detect_leaks=1/detect_leaks=0}; shift; fi
    ASAN_OPTIONS=$options "$@"
  }
else
  checker() {
    valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,possible \
      --errors-for-leak-kinds=definite,possible --suppressions="$here/valgrind.supp" --num-callers=40 "$@"
  }
fi

# Start the origin with the C fixtures; it prints NAME=value lines (exported here as CIMD_TEST_NAME) up to READY,
# then serves until its stdin closes.
coproc HOST { exec "$host" --c-fixtures; }
host_pid=$HOST_PID
trap 'kill "$host_pid" 2>/dev/null || true' EXIT
while :; do
  IFS= read -r -t 60 line <&"${HOST[0]}" || { echo "run.sh: the test origin ($host) did not print READY" >&2; exit 1; }
  [ "$line" = READY ] && break
  export "CIMD_TEST_${line?}"
done

status=0
# run [VALGRIND_OPTION...] PROGRAM [ARG...]
run() {
  echo "== $*"
  if ! checker "$@"; then
    echo "FAILED: $*" >&2
    status=1
  fi
}
for test in "$bin"/test_*; do
  case $test in
    # Leaks are checked by the test itself, in the parent only (see the comment at the top of test_fork.c).
    */test_fork) run --leak-check=no "$test" ;;
    *) run "$test" ;;
  esac
done
# The example, linked both ways, prints the resolved client (one JSON line).
export CIMD_CONFIG="{\"allow_loopback\": true, \"extra_ca_file\": \"$CIMD_TEST_CA\"}"
for example in "$bin"/resolve-shared "$bin"/resolve-static; do
  run "$example" "https://localhost:$CIMD_TEST_PORT/ok.json" "http://localhost:8080/callback"
done
# The documents real MCP clients publish (tests/fixtures/clients), at their real client_id URLs, each with the
# redirect URI its client uses (tests/fixtures/hosts maps their hosts to the origin on 127.0.0.1:443).
IFS=';' read -r -a published <<< "$CIMD_TEST_PUBLISHED"
for case in "${published[@]}"; do
  read -r client_id redirect_uri <<< "$case"
  run "$bin"/resolve-shared "$client_id" "$redirect_uri"
done

exec {HOST[1]}>&-
wait "$host_pid" || true
trap - EXIT
[ "$status" = 0 ] && echo "C tests$([ "$asan" = 1 ] && echo " (AddressSanitizer)"): all passed"
exit "$status"
