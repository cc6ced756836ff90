#!/usr/bin/env bash
# make demo: Keycloak (from Maven Central, cached) with the cimd extension, a sample client document on a loopback
# HTTPS host, a scripted login with the URL client_id, the decoded token, then the Python MCP SDK's client logging in
# to a demo MCP server through the same realm (each step printed). Runs inside scripts/netns unless
# --browser is given: then everything still binds to 127.0.0.1 only, and Keycloak stays up for a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
dist=$(scripts/keycloak-dist.sh)
jar=java-spi/target/cimd-keycloak-0.1.0.jar
work=.cache/demo
# The demo's document host (tests/keycloak/dochost.py) is the test origin.
[ -n "${CIMD_TEST_ORIGIN:-}" ] || CIMD_TEST_ORIGIN=$(scripts/test-origin)
export CIMD_TEST_ORIGIN
# The MCP suite's interpreter: the mcp SDK (client and server) and selenium for the headless chromium.
python=${MCP_VENV:-.cache/mcp-venv}/bin/python
[ -x "$python" ] || { echo "keycloak-demo: no $python (make mcp-deps)" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
if [ "${1:-}" = --browser ]; then
  exec "$python" tests/keycloak/demo.py --dist "$dist" --jar "$jar" --work "$PWD/$work" --browser
fi
exec scripts/netns "$python" tests/keycloak/demo.py --dist "$dist" --jar "$jar" --work "$PWD/$work"
