"""The MCP server of the MCP end-to-end suite (tests/mcp/harness.py): the Python `mcp` SDK's server, one tool.

    server.py --port PORT --issuer http://localhost:KC/realms/REALM --record FILE

It serves Streamable HTTP at http://127.0.0.1:PORT/mcp and, through the SDK's resource-server support, RFC 9728
protected resource metadata at /.well-known/oauth-protected-resource/mcp naming the realm as its authorization
server, and 401 answers whose WWW-Authenticate names that metadata. Every bearer token is verified here, strictly:
RS256 signature with a key of the realm's JWKS, `iss` equal to the realm's issuer, `exp` (and `iat`) present and
not past, and `aud` equal to this server's own resource URL (a string, or a list of that one string). Anything
else is refused (the SDK answers 401 invalid_token). self_check() proves those decisions on tokens it signs itself
(the harness runs it as a case).

The tool `whoami` (no arguments) answers one text content: the JSON of the verified token's claims sub, aud, azp,
jti, iat, exp and scope (null when absent).

For the harness, every request and every token decision is appended to FILE as a JSON line:
{"t", "kind": "request", "method", "path", "bearer"} and {"t", "kind": "token", "ok", "reason", "claims", "token"}
(the token itself too, so that the harness can present one server's token to another; these are throwaway tokens
of a test realm on loopback). Network safety: binds 127.0.0.1 only; the only other party it talks to is the
realm's JWKS on loopback.
"""
import argparse
import json
import logging
import sys
import threading
import time

import anyio
import jwt
import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

CLAIMS = ("sub", "aud", "azp", "jti", "iat", "exp", "scope")
SCOPES = ["openid", "profile"]


class Recorder:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def write(self, **entry):
        entry = {"t": time.time(), **entry}
        with self.lock, open(self.path, "a") as f:
            f.write(json.dumps(entry) + "\n")


class StrictJwtVerifier:
    """The SDK's TokenVerifier protocol: a signed JWT of the realm, for this resource, unexpired; or None."""

    def __init__(self, issuer, jwks_url, resource, recorder):
        self.issuer = issuer
        self.resource = resource
        self.recorder = recorder
        self.jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=10)

    def _verify(self, token):
        key = self.jwks.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=["RS256"], issuer=self.issuer, audience=self.resource,
                            options={"require": ["exp", "iat", "iss", "aud"], "verify_signature": True,
                                     "verify_exp": True, "verify_iss": True, "verify_aud": True}, leeway=0)
        # PyJWT accepts an aud list that contains this resource among others; a token for this server only is
        # what the suite asks for.
        aud = claims["aud"]
        if (aud if isinstance(aud, list) else [aud]) != [self.resource]:
            raise jwt.InvalidAudienceError(f"aud {aud!r} is not exactly {self.resource}")
        return claims

    async def verify_token(self, token):
        try:
            claims = await anyio.to_thread.run_sync(self._verify, token)
        except Exception as e:  # noqa: BLE001 - every refusal is recorded with its reason
            self.recorder.write(kind="token", ok=False, reason=f"{type(e).__name__}: {e}",
                                claims=_unverified(token), token=token)
            return None
        self.recorder.write(kind="token", ok=True, reason="verified", claims=claims, token=token)
        return AccessToken(token=token, client_id=claims.get("azp") or "", scopes=(claims.get("scope") or "").split(),
                           expires_at=claims["exp"], resource=self.resource, subject=claims.get("sub"),
                           claims=claims)


def self_check():
    """The verifier against tokens signed here (a key of its own standing in for the realm's JWKS): accepts the
    right one, refuses every other. Returns {case: reason}; raises AssertionError on a wrong decision."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    issuer, resource = "http://localhost:1/realms/r", "http://127.0.0.1:1/mcp"
    key, other_key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))

    class Jwks:
        def get_signing_key_from_jwt(self, token):
            return type("Key", (), {"key": key.public_key()})

    class Notes:
        def write(self, **entry):
            self.last = entry

    verifier = StrictJwtVerifier.__new__(StrictJwtVerifier)
    verifier.issuer, verifier.resource, verifier.recorder, verifier.jwks = issuer, resource, Notes(), Jwks()
    now = int(time.time())

    def token(signer=key, alg="RS256", **claims):
        c = {"iss": issuer, "aud": resource, "exp": now + 60, "iat": now, "azp": "https://c.example/c.json"}
        c.update(claims)
        return jwt.encode({k: v for k, v in c.items() if v is not None}, signer, algorithm=alg)

    cases = {"right": (token(), True), "aud as a one-entry list": (token(aud=[resource]), True),
             "another aud": (token(aud="http://127.0.0.1:2/mcp"), False),
             "aud with another entry": (token(aud=[resource, "account"]), False), "no aud": (token(aud=None), False),
             "expired": (token(exp=now - 1), False), "no exp": (token(exp=None), False),
             "another issuer": (token(iss="http://localhost:1/realms/other"), False),
             "another key": (token(signer=other_key), False), "HS256": (token(signer="k" * 32, alg="HS256"), False)}
    out = {}
    for name, (t, accept) in cases.items():
        accepted = anyio.run(verifier.verify_token, t) is not None
        assert accepted == accept, f"{name}: {'accepted' if accepted else 'refused'} ({verifier.recorder.last})"
        out[name] = verifier.recorder.last["reason"]
    return out


def _unverified(token):
    try:
        return jwt.decode(token, options={"verify_signature": False})
    except Exception:  # noqa: BLE001 - not even a JWT
        return None


class RecordRequests:
    """ASGI middleware: one record per HTTP request, before anything answers it (the suite's timings start here)."""

    def __init__(self, app, recorder):
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            self.recorder.write(kind="request", method=scope["method"], path=scope["path"],
                                bearer=headers.get(b"authorization", b"").lower().startswith(b"bearer "))
        await self.app(scope, receive, send)


def build(port, issuer, recorder, name="cimd-e2e"):
    resource = f"http://127.0.0.1:{port}/mcp"
    verifier = StrictJwtVerifier(issuer, f"{issuer}/protocol/openid-connect/certs", resource, recorder)
    server = MCPServer(name, token_verifier=verifier,
                       auth=AuthSettings(issuer_url=issuer, resource_server_url=resource, required_scopes=SCOPES,
                                         validate_token_resource=True))

    @server.tool(description="The verified access token's claims, as JSON.", structured_output=False)
    def whoami() -> str:
        token = get_access_token()
        claims = token.claims if token and token.claims else {}
        return json.dumps({k: claims.get(k) for k in CLAIMS})

    return RecordRequests(server.streamable_http_app(host="127.0.0.1"), recorder), resource


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--issuer", required=True, help="the realm's issuer, e.g. http://localhost:8080/realms/mcp")
    ap.add_argument("--record", required=True, help="append a JSON line per request and per token decision here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    app, resource = build(args.port, args.issuer, Recorder(args.record))
    print(f"mcp server: {resource} (authorization server {args.issuer})", file=sys.stderr, flush=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
