#!/usr/bin/env bash
# The Keycloak cluster test (issue 32): one PostgreSQL server and two Keycloak 26.7.3 nodes in production mode, all
# started by this script inside scripts/netns (only loopback exists), and stopped and deleted by it at the end,
# also when a step fails.
#   scripts/keycloak-cluster.sh [cluster.py options]
#   scripts/keycloak-cluster.sh --soak SECONDS [cluster_soak.py options]
# With --soak, the same set-up runs the cluster soak (tests/keycloak/cluster_soak.py) instead of the suite: logins
# spread over both nodes for SECONDS while documents change and one node restarts (its own work directory,
# .cache/cluster-soak; `make keycloak-cluster-soak`).
# CIMD_JAR names the jar (default: java-spi/target/cimd-keycloak-0.1.0.jar); PG_BIN PostgreSQL's programs.
#
# The set-up, as a real deployment has it, minus the machines:
# - PostgreSQL 15 (Debian's package; installed with apt-get if missing) runs as a throwaway database cluster in
#   the run's directory: initdb, then `postgres` listening on 127.0.0.1:$PG_PORT and a socket directory of its own,
#   with a `keycloak` role (password login) owning a `keycloak` database. PostgreSQL refuses to run as root, and
#   the namespace maps only root, so it runs in a nested user namespace where that same user is "nobody".
# - Keycloak is built once for production (`kc.sh build --db=postgres --cache=ispn`, the jar in providers/), the
#   built directory is copied per node, and each node runs `kc.sh start --optimized` against the one database.
#   They cluster the way Keycloak does by default: embedded Infinispan over JGroups' jdbc-ping stack (members
#   find each other through a table in that database; mTLS with generated certificates), the transport bound to
#   127.0.0.1 with a port per node (7800, 7820).
# - Both nodes have the same public URL (--hostname=http://localhost:8480), as nodes behind a load
#   balancer do: the issuer in tokens, the login form's action and every redirect name that one URL, whichever
#   node served them. Nothing listens on the public port: the test is the load balancer, sending each request
#   to the node it chooses (its own loopback port) with the public Host header, so that cookies, issuer and
#   client assertions' audience are the same on both nodes.
# The test itself (tests/keycloak/cluster.py) starts and stops the nodes (it stops one in the middle of a login);
# they are process groups whose ids it writes to $WORK/pids/, which the exit trap here ends if still alive.
# What is left afterwards: $WORK/results.json and the logs; the database, the Keycloak copies and every process
# are gone (the trap checks that no recorded process survived).
set -euo pipefail
cd "$(dirname "$0")/.."
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

if [ "${1:-}" != --inside ]; then
  if [ ! -x "$PG_BIN/postgres" ] || [ ! -x "$PG_BIN/initdb" ]; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
      echo "keycloak-cluster: needs PostgreSQL 15 in $PG_BIN (apt-get install postgresql-15)" >&2; exit 1
    fi
    echo "keycloak-cluster: installing PostgreSQL 15 (Debian's postgresql-15) with apt-get" >&2
    apt-get update -qq && apt-get install -y -qq postgresql-15 >/dev/null
  fi
  dist=$(scripts/keycloak-dist.sh)
  jar=${CIMD_JAR:-java-spi/target/cimd-keycloak-0.1.0.jar}
  [ -f "$jar" ] || { echo "keycloak-cluster: no jar at $jar (make java-jar)" >&2; exit 1; }
  work=.cache/cluster
  [ "${1:-}" != --soak ] || work=.cache/cluster-soak
  exec scripts/keycloak-netns "$work" "$PWD/scripts/keycloak-cluster.sh" --inside "$dist" "$(realpath "$jar")" "$PWD/$work" "$@"
fi

shift
dist=$1 jar=$2 work=$3
shift 3
PG_PORT=${PG_PORT:-5432}
pg=$work/pg
mkdir -p "$pg/data" "$pg/run" "$work/pids"
# PostgreSQL's own user here: the same (namespace) root, seen as uid/gid 65534 in a nested user namespace.
as_nobody() { unshare --user --map-user=65534 --map-group=65534 -- "$@"; }
pg_pid=
# Alive: exists and is not a zombie waiting for its (outside) parent to reap it.
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }

cleanup() {
  status=$?
  trap - EXIT INT TERM
  for f in "$work"/pids/*; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if alive "$pid"; then
      echo "keycloak-cluster: ending leftover process group $pid ($(basename "$f"))" >&2
      kill -TERM -- "-$pid" 2>/dev/null || true
      for _ in $(seq 30); do alive "$pid" || break; sleep 1; done
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
  done
  [ -n "$pg_pid" ] || pg_pid=$(head -1 "$pg/data/postmaster.pid" 2>/dev/null || true)
  if [ -n "$pg_pid" ] && alive "$pg_pid"; then
    as_nobody "$PG_BIN/pg_ctl" -D "$pg/data" -m fast -w -t 30 -s stop || kill -KILL "$pg_pid" 2>/dev/null || true
  fi
  left=
  for pid in $pg_pid $(cat "$work"/pids/* 2>/dev/null); do
    if alive "$pid"; then left="$left $pid"; fi
  done
  rm -rf "$pg" "$work"/node-* "$work"/build "$work"/pids
  if [ -n "$left" ]; then
    echo "keycloak-cluster: processes still alive:$left" >&2
    status=1
  else
    echo "keycloak-cluster: PostgreSQL and every node stopped; database and Keycloak copies deleted" >&2
  fi
  exit $status
}
trap cleanup EXIT INT TERM

started=$(date +%s)
as_nobody "$PG_BIN/initdb" -D "$pg/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
  --encoding=UTF8 --locale=C.UTF-8 >"$work/postgres-initdb.log" 2>&1
# fsync off: a throwaway database that dies with the run.
as_nobody "$PG_BIN/pg_ctl" -D "$pg/data" -l "$work/postgres.log" -w -t 60 -s \
  -o "-p $PG_PORT -k $pg/run -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start
pg_pid=$(head -1 "$pg/data/postmaster.pid")
psql() { as_nobody "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg/run" -p "$PG_PORT" -U postgres "$@"; }
psql -c "CREATE ROLE keycloak LOGIN PASSWORD 'keycloak-cluster'" -c "CREATE DATABASE keycloak OWNER keycloak"
echo "keycloak-cluster: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT" \
  "(pid $pg_pid) in $(( $(date +%s) - started ))s" >&2

suite=tests/keycloak/cluster.py
if [ "${1:-}" = --soak ]; then
  [ -n "${2:-}" ] || { echo "keycloak-cluster: --soak needs a number of seconds" >&2; exit 2; }
  suite=tests/keycloak/cluster_soak.py
  set -- --seconds "$2" "${@:3}"
fi
python3 "$suite" --dist "$dist" --jar "$jar" --work "$work" --results "$work/results.json" \
  --db-url "jdbc:postgresql://127.0.0.1:$PG_PORT/keycloak" --db-username keycloak --db-password keycloak-cluster \
  --pids "$work/pids" "$@"
