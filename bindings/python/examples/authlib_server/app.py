"""An OAuth 2.0 authorization server on Flask + Authlib that accepts URL client_ids through cimd_engine.

Clients registered the ordinary way (a table here, a database in real life) keep working; any other client_id
is handed to the cimd engine, which applies every rule of the Client ID Metadata Document draft (URL rules,
SSRF-safe fetch, validation, redirect_uri matching, caching). Only the authorization code grant with PKCE
(S256) is enabled.

Run it (a real server must sit behind HTTPS)::

    pip install ./bindings/python authlib flask
    CIMD_CONFIG=cimd.json flask --app bindings/python/examples/authlib_server/app.py run

What to look at:
- ``query_client``: registered clients first, then the engine.
- ``CimdClient.check_redirect_uri``: the engine decides; a mismatch is shown on an error page and never
  redirected to.
- ``/.well-known/oauth-authorization-server``: the discovery fields clients look for before using a URL
  client_id (docs/contract.md §10).
- The consent page shows the client's name next to the client_id's host, which is what the user can trust.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, g, jsonify, render_template_string, request, url_for

from cimd_engine import CimdError, Client, Engine, RedirectUriMismatch, TemporarilyUnavailable

#: The scopes this server knows.
SCOPES = ("profile", "email")


# -- clients ----------------------------------------------------------------------------------------------------


@dataclass
class RegisteredClient(ClientMixin):
    """A client registered in advance, with a secret (the ordinary kind; stored in a database in real life)."""

    client_id: str
    client_secret: str
    client_name: str
    redirect_uris: List[str]
    token_endpoint_auth_method: str = "client_secret_post"

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> Optional[str]:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: Optional[str]) -> str:
        return _allowed_scope(scope, None)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(self.client_secret, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"

    @property
    def display_host(self) -> Optional[str]:
        return None


class CimdClient(ClientMixin):
    """A URL client_id, resolved and validated by the cimd engine. Every decision about the client comes from
    the engine's result (effective grant types, response types and auth method) or from the engine itself
    (redirect_uri matching)."""

    def __init__(self, engine: Engine, client: Client) -> None:
        self.engine = engine
        self.client = client
        self.client_id = client.client_id
        self.client_name = client.client_name or client.display_host.unicode
        self.display_host: Optional[str] = client.display_host.unicode

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> Optional[str]:
        return None  # URL clients must name their redirect_uri in every request

    def get_allowed_scope(self, scope: Optional[str]) -> str:
        return _allowed_scope(scope, self.client.scope)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        try:
            self.engine.resolve(self.client_id, redirect_uri=redirect_uri)
        except RedirectUriMismatch as error:
            g.cimd_error = error
            return False
        except CimdError as error:  # the document went away since query_client
            g.cimd_error = error
            return False
        return True

    def check_client_secret(self, client_secret: str) -> bool:
        return False  # URL clients never have a shared secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method == self.client.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type in self.client.response_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.client.grant_types


def _allowed_scope(requested: Optional[str], client_scope: Optional[str]) -> str:
    """This server's scope policy: what was asked for, limited to the scopes it knows and, when the client's
    document declares a scope, to that."""
    wanted = (requested or "").split()
    limit = set(client_scope.split()) if client_scope else set(SCOPES)
    return " ".join(s for s in wanted if s in SCOPES and s in limit)


# -- grants -----------------------------------------------------------------------------------------------------


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    code_challenge: str
    code_challenge_method: str
    issued_at: float = field(default_factory=time.time)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> None:
        return None

    def get_auth_time(self) -> float:
        return self.issued_at

    def is_expired(self) -> bool:
        return time.time() - self.issued_at > 60


class RequireS256(CodeChallenge):
    """PKCE on every authorization request, S256 only (what the discovery document promises)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256")
        super().validate_code_challenge(grant, redirect_uri)


def create_app(
    engine_config: Optional[Mapping[str, Any]] = None,
    registered: Optional[List[RegisteredClient]] = None,
    issuer: Optional[str] = None,
) -> Flask:
    """Builds the server. ``engine_config`` is the cimd configuration (docs/contract.md §8); by default it is read
    from the JSON file named by $CIMD_CONFIG, else the production defaults apply."""
    if engine_config is None and os.environ.get("CIMD_CONFIG"):
        with open(os.environ["CIMD_CONFIG"], encoding="utf-8") as config_file:
            engine_config = json.load(config_file)
    engine = Engine(engine_config)
    clients: Dict[str, RegisteredClient] = {c.client_id: c for c in (registered or [])}
    codes: Dict[str, AuthorizationCode] = {}
    tokens: List[Dict[str, Any]] = []

    app = Flask(__name__)
    app.extensions["cimd_engine"] = engine

    def query_client(client_id: str) -> Optional[ClientMixin]:
        if client_id in clients:
            return clients[client_id]
        try:
            return CimdClient(engine, engine.resolve(client_id))
        except CimdError as error:
            g.cimd_error = error  # shown on the error page instead of Authlib's generic "invalid_client"
            return None

    def save_token(token: Dict[str, Any], oauth_request: Any) -> None:
        tokens.append({**token, "client_id": oauth_request.client.get_client_id(), "user": oauth_request.user})

    class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_post", "client_secret_basic"]

        def save_authorization_code(self, code: str, oauth_request: Any) -> None:
            data = oauth_request.payload.data
            codes[code] = AuthorizationCode(
                code=code,
                client_id=oauth_request.client.get_client_id(),
                redirect_uri=oauth_request.payload.redirect_uri,
                scope=oauth_request.scope or "",
                user=oauth_request.user,
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
            )

        def query_authorization_code(self, code: str, client: ClientMixin) -> Optional[AuthorizationCode]:
            item = codes.get(code)
            if item and item.client_id == client.get_client_id() and not item.is_expired():
                return item
            return None

        def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
            codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: AuthorizationCode) -> str:
            return authorization_code.user

    server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
    server.register_grant(AuthorizationCodeGrant, [RequireS256(required=True)])
    app.extensions["tokens"] = tokens

    @app.get("/.well-known/oauth-authorization-server")
    def metadata() -> Any:
        base = issuer or request.host_url.rstrip("/")
        cimd = engine.discovery_metadata()
        auth_methods = list(cimd["token_endpoint_auth_methods_supported"])
        auth_methods += [m for m in ("client_secret_post", "client_secret_basic") if m not in auth_methods]
        return jsonify(
            {
                "issuer": base,
                "authorization_endpoint": base + url_for("authorize"),
                "token_endpoint": base + url_for("issue_token"),
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "scopes_supported": list(SCOPES),
                **cimd,
                "token_endpoint_auth_methods_supported": auth_methods,
            }
        )

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize() -> Any:
        user = current_user()
        try:
            grant = server.get_consent_grant(end_user=user)
        except OAuth2Error as error:
            return error_page(error)
        if request.method == "GET":
            client = grant.request.client
            return render_template_string(
                CONSENT_PAGE,
                client_name=client.client_name,
                display_host=client.display_host,
                scope=grant.request.scope,
                redirect_uri=grant.redirect_uri,
            )
        approved = request.form.get("decision") == "allow"
        return server.create_authorization_response(grant_user=user if approved else None, grant=grant)

    @app.post("/token")
    def issue_token() -> Any:
        return server.create_token_response()

    def error_page(error: OAuth2Error) -> Any:
        # Redirect with the error only when Authlib validated the redirect_uri against the client (RFC 6749
        # §4.1.2.1); an unknown client or a redirect_uri mismatch is shown here and never redirected to.
        if getattr(error, "redirect_uri", None):
            return server.handle_error_response(request, error)
        cimd_error: Optional[CimdError] = g.get("cimd_error")
        status = 503 if isinstance(cimd_error, TemporarilyUnavailable) else 400
        page = render_template_string(
            ERROR_PAGE,
            error=cimd_error.oauth_error if cimd_error else error.error,
            code=cimd_error.code if cimd_error else None,
            description=cimd_error.description if cimd_error else error.description,
        )
        return page, status

    return app


def current_user() -> str:
    """The signed-in user. Login is out of scope for this example: everyone is alice."""
    return "alice"


CONSENT_PAGE = """<!doctype html>
<title>Authorize {{ client_name }}</title>
<h1>Authorize <span id="client-name">{{ client_name }}</span></h1>
{% if display_host %}<p>This application is published by <strong id="client-host">{{ display_host }}</strong>.
The name above is chosen by its publisher; the host is what you can trust.</p>{% endif %}
<p>It asks for: <span id="scope">{{ scope or "no scopes" }}</span>. You will be sent back to
<code>{{ redirect_uri }}</code>.</p>
<form method="post">
  <button name="decision" value="allow">Allow</button>
  <button name="decision" value="deny">Deny</button>
</form>
"""

ERROR_PAGE = """<!doctype html>
<title>Authorization error</title>
<h1>This authorization request cannot continue</h1>
<p id="error">{{ error }}{% if code %} ({{ code }}){% endif %}</p>
<p id="description">{{ description }}</p>
"""


if __name__ == "__main__":
    create_app().run()
