#!/usr/bin/env bash
# make demo: resolve sample client_ids against a throwaway loopback HTTPS host, and show what a server decides.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin cimd --example demo_host
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/hosts" <<HOSTS
127.0.0.1 localhost app.example.com tools.example.org
::1 localhost
10.0.0.5 intranet.example.net
HOSTS
CIMD_HOSTS="$work/hosts" scripts/netns bash scripts/demo-inner.sh "$work"
