"""The Python SDK's client program of the MCP end-to-end suite (tests/mcp/harness.py), and the client `make demo`
runs: the `mcp` SDK's own OAuth client (OAuthClientProvider with a client ID metadata document URL as client_id)
in front of its Streamable HTTP client, calling the server's `whoami` tool.

    client.py --server-url http://127.0.0.1:PORT/mcp --client-id https://HOST/PATH.json --callback-port N \
              [--refresh-after SECONDS] [--narrate]

Discovery (RFC 9728, then RFC 8414), the choice of the URL client_id (the SDK uses it when the authorization
server's metadata says client_id_metadata_document_supported), PKCE, the authorization request, the token request
and the refresh are the SDK's code. This program only does what an application around the SDK does: it keeps the
tokens in memory, hands the authorization URL over (printed as a step, for the suite's browser to open instead of
opening one itself) and listens for the callback on http://127.0.0.1:N/callback.

Standard output carries only the suite's JSON lines, one per step (authorize, callback, tool 1, tool 2, done, or
error); logs and --narrate's account of each HTTP exchange go to standard error. Waits at most CALLBACK_TIMEOUT
seconds for the callback. Network safety: it talks to the servers it is given; the suite runs it inside
scripts/netns, where only loopback exists.
"""
import argparse
import base64
import http.server
import json
import logging
import queue
import sys
import threading
import time
import urllib.parse

import anyio
import httpx2
from mcp.client import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

CALLBACK_TIMEOUT = 120.0


def step(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def say(text):
    print(f"[python sdk] {text}", file=sys.stderr, flush=True)


def jwt_claims(token):
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


class Memory:
    """The SDK's TokenStorage protocol, in memory (a CLI would keep these in its keychain)."""

    def __init__(self):
        self.tokens = None
        self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


class Callback:
    """The loopback redirect listener: the first request to /callback is the authorization response."""

    def __init__(self, port):
        self.answers = queue.Queue()
        answers = self.answers

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                url = urllib.parse.urlsplit(self.path)
                if url.path != "/callback":
                    self.send_error(404)
                    return
                q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
                body = b"Authorization finished; you can close this window."
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                answers.put(q)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self):
        return self.answers.get(timeout=CALLBACK_TIMEOUT)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Narrator:
    """httpx2 event hooks: what the SDK sends and receives, told step by step (--narrate), and the last
    authorization-server error, which the SDK's exception may not carry as such."""

    def __init__(self, enabled, server_url):
        self.enabled = enabled
        self.server_url = server_url
        self.last_error = None
        self.started = None

    def tell(self, text):
        if self.enabled:
            say(text)

    async def on_request(self, request):
        if self.started is None:
            self.started = time.time()
        if request.url.path.endswith("/token"):
            form = urllib.parse.parse_qs(request.content.decode())
            grant = form.get("grant_type", ["?"])[0]
            self.tell(f"POST {request.url} grant_type={grant} client_id={form.get('client_id', ['?'])[0]} "
                      f"resource={form.get('resource', ['-'])[0]}")

    async def on_response(self, response):
        request = response.request
        url = str(request.url)
        if response.status_code == 401 and url.startswith(self.server_url):
            self.tell(f"{request.method} {url} -> 401; WWW-Authenticate: {response.headers.get('www-authenticate')}")
            return
        if "/.well-known/" in url:
            await response.aread()
            if response.status_code != 200:
                self.tell(f"GET {url} -> {response.status_code}")
                return
            doc = response.json()
            if "oauth-protected-resource" in url:
                self.tell(f"protected resource metadata {url}: resource={doc.get('resource')} "
                          f"authorization_servers={doc.get('authorization_servers')}")
            else:
                self.tell(f"authorization server metadata {url}: issuer={doc.get('issuer')} "
                          f"client_id_metadata_document_supported={doc.get('client_id_metadata_document_supported')}"
                          " -> the SDK uses the URL client_id (no dynamic registration)"
                          if doc.get("client_id_metadata_document_supported") else
                          f"authorization server metadata {url}: no client_id_metadata_document_supported")
            return
        if request.url.path.endswith("/token"):
            await response.aread()
            body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
            if response.status_code != 200:
                self.last_error = f"token endpoint {response.status_code}: {body.get('error')} " \
                                  f"{body.get('error_description', '')}".strip()
                self.tell(self.last_error)
                return
            c = jwt_claims(body.get("access_token", ""))
            self.tell(f"token obtained: aud={c.get('aud')} azp={c.get('azp')} jti={c.get('jti')} "
                      f"expires_in={body.get('expires_in')} scope={body.get('scope')!r} "
                      f"refresh_token={'yes' if body.get('refresh_token') else 'no'}")


async def run(args):
    redirect_uri = f"http://127.0.0.1:{args.callback_port}/callback"
    callback = Callback(args.callback_port)
    narrator = Narrator(args.narrate, args.server_url)

    async def redirect_handler(url):
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        narrator.tell(f"authorization request: client_id={q.get('client_id')} redirect_uri={q.get('redirect_uri')} "
                      f"resource={q.get('resource')} scope={q.get('scope')!r} PKCE {q.get('code_challenge_method')}")
        step(step="authorize", url=url)

    async def callback_handler():
        try:
            q = await anyio.to_thread.run_sync(callback.wait)
        except queue.Empty:
            raise RuntimeError(f"no callback within {CALLBACK_TIMEOUT:.0f}s") from None
        if "error" in q:
            step(step="callback", error=q["error"], error_description=q.get("error_description", ""))
            narrator.last_error = f"authorization error {q['error']}: {q.get('error_description', '')}"
            raise RuntimeError(narrator.last_error)
        step(step="callback", code_received=bool(q.get("code")))
        narrator.tell(f"callback: code received (iss={q.get('iss')})")
        return AuthorizationCodeResult(code=q.get("code", ""), state=q.get("state"), iss=q.get("iss"))

    provider = OAuthClientProvider(
        server_url=args.server_url,
        client_metadata=OAuthClientMetadata(redirect_uris=[redirect_uri], grant_types=["authorization_code",
                                                                                      "refresh_token"],
                                            token_endpoint_auth_method="none", client_name="cimd e2e (python)"),
        storage=Memory(),
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
        client_metadata_url=args.client_id,
    )
    http = httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(30.0, read=60.0),
                              event_hooks={"request": [narrator.on_request], "response": [narrator.on_response]})
    try:
        async with http, Client(streamable_http_client(args.server_url, http_client=http)) as client:
            for call in (1, 2):
                if call == 2 and args.refresh_after:
                    narrator.tell(f"waiting {args.refresh_after:g}s (past the access token's lifetime)")
                    await anyio.sleep(args.refresh_after)
                result = await client.call_tool("whoami", {})
                text = "".join(getattr(c, "text", "") for c in result.content)
                if result.is_error:
                    raise RuntimeError(f"tool error: {text}")
                c = json.loads(text)
                narrator.tell(f"tool call {call}: whoami -> sub={c.get('sub')} aud={c.get('aud')} azp={c.get('azp')} "
                              f"jti={c.get('jti')}")
                step(step="tool", call=call, result=text)
    except BaseException as e:  # noqa: BLE001 - reported as the error step, with the authorization error if any
        if isinstance(e, KeyboardInterrupt):
            raise
        detail = _flatten(e)
        message = f"{narrator.last_error}; {detail}" if narrator.last_error else detail
        step(step="error", message=message)
        return 1
    finally:
        callback.close()
    step(step="done")
    return 0


def _flatten(e):
    """The messages of an exception and of the exceptions grouped or chained in it (task groups wrap them)."""
    parts = []
    seen = set()

    def walk(x):
        if x is None or id(x) in seen:
            return
        seen.add(id(x))
        if isinstance(x, BaseExceptionGroup):
            for sub in x.exceptions:
                walk(sub)
        else:
            parts.append(f"{type(x).__name__}: {x}")
        walk(x.__cause__ or x.__context__)
    walk(e)
    return " <- ".join(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server-url", required=True)
    ap.add_argument("--client-id", required=True, help="the client ID metadata document's URL")
    ap.add_argument("--callback-port", type=int, required=True)
    ap.add_argument("--refresh-after", type=float, default=0.0)
    ap.add_argument("--narrate", action="store_true", help="tell each step on stderr (make demo)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return anyio.run(run, args)


if __name__ == "__main__":
    sys.exit(main())
