#!/usr/bin/env bash
# The MCP end-to-end suite (issue 31, point 1; tests/mcp/harness.py). Outside the namespace: the Keycloak
# distribution (scripts/keycloak-dist.sh, Maven Central, cached) and the TypeScript and Go client programs
# (tests/mcp/clients/build.sh, npm and the Go module proxy), when that script is here. Then everything else —
# Keycloak, the document host, the MCP servers, chromium and the SDK clients — runs inside scripts/keycloak-netns,
# where only loopback exists. Bounded: the whole run is killed after MCP_E2E_TIMEOUT seconds (default 1200).
#   scripts/mcp-e2e.sh [harness.py options, e.g. --sdk python,ts]
# Needs: the jar (make java-jar), the suite's venv (make mcp-deps: mcp, pyjwt, selenium at pinned versions), and
# Debian's chromium and chromium-driver (make mcp-deps installs them if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
dist=$(scripts/keycloak-dist.sh)
jar=java-spi/target/cimd-keycloak-0.1.0.jar
venv=${MCP_VENV:-.cache/mcp-venv}
work=.cache/mcp-e2e
clients=$PWD/.cache/mcp-clients
[ -x "$venv/bin/python" ] || { echo "mcp-e2e: no venv at $venv (make mcp-deps)" >&2; exit 1; }
for bin in /usr/bin/chromium /usr/bin/chromedriver; do
  [ -x "$bin" ] || { echo "mcp-e2e: $bin is missing (make mcp-deps)" >&2; exit 1; }
done
# build.sh prints `ts=PATH` and `go=PATH`; the harness reads them from $clients/paths. Without build.sh (a branch
# without the TS and Go clients) the file is empty and the harness says which SDKs it did not run.
mkdir -p "$clients"
: > "$clients/paths"
if [ -x tests/mcp/clients/build.sh ]; then
  echo "mcp-e2e: building the TypeScript and Go clients (tests/mcp/clients/build.sh)" >&2
  tests/mcp/clients/build.sh "$clients" > "$clients/paths"
fi
exec timeout --kill-after=30 "${MCP_E2E_TIMEOUT:-1200}" scripts/keycloak-netns "$work" "$venv/bin/python" \
  tests/mcp/harness.py --dist "$dist" --jar "$jar" --work "$PWD/$work" --clients "$clients/paths" \
  --results "$PWD/$work/results.json" "$@"
