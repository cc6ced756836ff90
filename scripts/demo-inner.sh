#!/usr/bin/env bash
# The demo, inside the isolated namespace (see demo.sh): only loopback exists, the demo names resolve there.
set -euo pipefail
work=$1
cimd=target/release/cimd
mkfifo "$work/host-stdin"
target/release/examples/demo_host < "$work/host-stdin" > "$work/host-out" &
exec 3> "$work/host-stdin"
for _ in $(seq 100); do grep -q '^CA ' "$work/host-out" 2>/dev/null && break; sleep 0.05; done
ca=$(sed -n 's/^CA //p' "$work/host-out")
# The demo host runs on loopback, so the development exception is on; a production server leaves it off.
printf '{"allow_loopback": true, "extra_ca_file": "%s"}\n' "$ca" > "$work/config.json"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ cimd %s\n' "$*"; "$cimd" "$@" || true; }

say "A Claude Code-style client: loopback redirect URIs, and a browser returning on an ephemeral port"
run resolve --config "$work/config.json" --redirect-uri http://localhost:58135/callback \
  https://app.example.com/clients/claude-code.json
say "A ChatGPT-style client: prefers private_key_jwt, also lists none; this host supports only none"
run resolve --config "$work/config.json" https://app.example.com/clients/chatgpt.json
say "The same client again: served from the cache, no second fetch"
run resolve --config "$work/config.json" https://app.example.com/clients/claude-code.json \
  https://app.example.com/clients/claude-code.json
say "A redirect_uri the document does not register: refused, never redirected to"
run resolve --config "$work/config.json" --redirect-uri https://evil.example/steal \
  https://app.example.com/clients/claude-code.json
say "Documents a server must reject, each with the rule it breaks"
run resolve --config "$work/config.json" \
  http://app.example.com/clients/claude-code.json \
  https://app.example.com/clients/../clients/chatgpt.json \
  https://app.example.com/clients/mismatch.json \
  https://tools.example.org/clients/secret.json \
  https://tools.example.org/clients/moved.json \
  https://tools.example.org/clients/huge.json \
  https://tools.example.org/clients/page.json \
  https://intranet.example.net/clients/app.json
say "Linting a local document, as a client developer would"
cat > "$work/my-client.json" <<'DOC'
{"client_id": "https://my.example.dev/oauth/client.json", "client_name": "My Tool",
 "redirect_uris": ["http://localhost:8765/cb"], "token_endpoint_auth_method": "client_secret_post"}
DOC
run lint "$work/my-client.json"
exec 3>&-
wait
printf '\nTry it yourself: target/release/cimd resolve https://<your-host>/<path>.json (production defaults),\n'
printf 'or target/release/cimd lint your-document.json. Every option is listed in the README.\n'
