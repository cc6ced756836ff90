#!/bin/sh
# Installs and builds the MCP end-to-end suite's TypeScript and Go SDK client programs into OUT.
#   tests/mcp/clients/build.sh OUT
# Runs outside the network namespace: it is the step that uses the registries (npm ci with the npm cache under
# the clone's .cache/npm; the Go module proxy through Go's own module cache). The programs it leaves then run
# inside the namespace without any network. Idempotent: a second run with the same lock files installs nothing.
#
# stdout is two lines, absolute paths, nothing else (npm's log is OUT/ts/npm-ci.log, shown on failure; go's goes to
# stderr):
#   ts=OUT/ts/client.mjs     run as: node OUT/ts/client.mjs --server-url ... (Node 20 or later)
#   go=OUT/mcp-client-go     run as: OUT/mcp-client-go --server-url ...
set -eu
if [ $# -ne 1 ]; then echo "usage: $0 OUT" >&2; exit 2; fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then echo "build.sh: Node 20 or later needed, found $(node --version)" >&2; exit 1; fi

# TypeScript SDK client: the program and its lock file, installed beside it in OUT/ts.
ts="$out/ts"
mkdir -p "$ts"
cp "$here/ts/client.mjs" "$here/ts/package.json" "$here/ts/package-lock.json" "$ts/"
if ! cmp -s "$ts/package-lock.json" "$ts/.installed-lock.json" 2>/dev/null || [ ! -d "$ts/node_modules" ]; then
  rm -f "$ts/.installed-lock.json"
  if ! (cd "$ts" && npm ci --cache "$root/.cache/npm" --no-audit --no-fund --loglevel=error) >"$ts/npm-ci.log" 2>&1; then
    cat "$ts/npm-ci.log" >&2
    exit 1
  fi
  cp "$ts/package-lock.json" "$ts/.installed-lock.json"
fi

# Go SDK client: go.sum as committed (-mod=readonly), a static binary.
(cd "$here/go" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -o "$out/mcp-client-go" .) >&2

echo "ts=$ts/client.mjs"
echo "go=$out/mcp-client-go"
