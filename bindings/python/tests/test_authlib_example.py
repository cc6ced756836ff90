"""The Authlib example server driven end to end through Flask's test client, the way a browser and a client
application would: discovery, authorize, consent, code, token (PKCE S256)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from conftest import needs_netns
from origin import Origin

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples" / "authlib_server"))
import app as example  # noqa: E402

CALLBACK = "http://localhost/callback"  # a native client's loopback redirect (any port accepted by the engine)
REGISTERED = example.RegisteredClient(
    client_id="registered-app",
    client_secret="registered-secret",
    client_name="Registered App",
    redirect_uris=["https://registered.example/cb"],
)


@pytest.fixture
def server(engine_config):
    app = example.create_app(engine_config, registered=[REGISTERED], issuer="https://as.example")
    app.testing = True
    yield app
    app.extensions["cimd_engine"].close()


@pytest.fixture
def browser(server):
    return server.test_client()


def pkce() -> tuple:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(client_id: str, redirect_uri: str, challenge: str, **extra: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "profile",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return "/authorize?" + urlencode(query)


def test_discovery_advertises_client_id_metadata_documents(browser) -> None:
    metadata = browser.get("/.well-known/oauth-authorization-server").get_json()

    assert metadata["client_id_metadata_document_supported"] is True
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "none" in metadata["token_endpoint_auth_methods_supported"]
    assert metadata["authorization_endpoint"] == "https://as.example/authorize"


def test_url_client_authorize_consent_code_token(browser, origin: Origin, path: str) -> None:
    client_id = origin.serve_document(
        path, host="client.test" if _names_mapped() else "localhost", client_name="Demo <MCP> Client",
        redirect_uris=[CALLBACK],
    )
    verifier, challenge = pkce()
    redirect_uri = "http://localhost:49152/callback"
    url = authorize_url(client_id, redirect_uri, challenge)

    consent = browser.get(url)
    assert consent.status_code == 200, consent.text
    page = consent.get_data(as_text=True)
    assert "Demo &lt;MCP&gt; Client" in page  # the name is escaped
    assert urlsplit(client_id).hostname in page  # the host the user can trust

    approved = browser.post(url, data={"decision": "allow"})
    assert approved.status_code == 302
    location = urlsplit(approved.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    params = parse_qs(location.query)
    assert params["state"] == ["xyz"]
    code = params["code"][0]

    wrong = browser.post("/token", data={"grant_type": "authorization_code", "code": code, "client_id": client_id,
                                         "redirect_uri": redirect_uri, "code_verifier": "x" * 43})
    assert wrong.status_code == 400  # PKCE holds: the wrong verifier fails (and burns nothing else)

    verifier2, challenge2 = pkce()
    url2 = authorize_url(client_id, redirect_uri, challenge2)
    code2 = parse_qs(urlsplit(browser.post(url2, data={"decision": "allow"}).headers["Location"]).query)["code"][0]
    token = browser.post("/token", data={"grant_type": "authorization_code", "code": code2, "client_id": client_id,
                                         "redirect_uri": redirect_uri, "code_verifier": verifier2})
    assert token.status_code == 200, token.text
    body = token.get_json()
    assert body["token_type"].lower() == "bearer" and body["access_token"]
    assert body["scope"] == "profile"
    assert origin.hits(path) == 1  # one fetch served discovery of the client, consent, code and token


def test_denied_consent_redirects_with_access_denied(browser, origin: Origin, path: str) -> None:
    client_id = origin.serve_document(path, redirect_uris=[CALLBACK])
    _, challenge = pkce()
    url = authorize_url(client_id, "http://localhost:5000/callback", challenge)

    denied = browser.post(url, data={"decision": "deny"})

    assert denied.status_code == 302
    assert parse_qs(urlsplit(denied.headers["Location"]).query)["error"] == ["access_denied"]


def test_wrong_redirect_uri_is_refused_without_redirecting(browser, origin: Origin, path: str) -> None:
    client_id = origin.serve_document(path, redirect_uris=[CALLBACK])
    _, challenge = pkce()

    for method in (browser.get, browser.post):
        response = method(authorize_url(client_id, "https://attacker.example/callback", challenge))
        assert response.status_code == 400
        assert "Location" not in response.headers
        page = response.get_data(as_text=True)
        assert "redirect_uri_mismatch" in page and "attacker.example" not in response.headers.get("Location", "")


def test_no_auth_method_in_common_is_unauthorized_client(browser, origin: Origin, path: str) -> None:
    """Draft -03 §6 (AUTH-16): the server shares no method with the client, so the request is aborted with
    unauthorized_client, shown on the error page and never redirected."""
    client_id = origin.serve_document(path, redirect_uris=[CALLBACK], token_endpoint_auth_method="tls_client_auth")
    _, challenge = pkce()

    response = browser.get(authorize_url(client_id, CALLBACK, challenge))
    assert response.status_code == 400
    assert "Location" not in response.headers
    page = response.get_data(as_text=True)
    assert "unauthorized_client" in page and "unsupported_auth_method" in page


def test_pkce_is_required(browser, origin: Origin, path: str) -> None:
    client_id = origin.serve_document(path, redirect_uris=[CALLBACK])
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "state": "s"})

    response = browser.get("/authorize?" + query)

    # The redirect_uri was validated, so the error goes back to the client, as RFC 6749 wants.
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["invalid_request"]


@needs_netns
def test_blocked_address_client_id_is_refused(browser) -> None:
    _, challenge = pkce()

    response = browser.get(authorize_url("https://blocked.test/client.json", CALLBACK, challenge))

    assert response.status_code == 400 and "Location" not in response.headers
    assert "blocked_address" in response.get_data(as_text=True)


def test_blocked_loopback_client_id_is_refused_in_production_config(origin: Origin, path: str) -> None:
    # Production configuration (no development exception): a client_id whose host is loopback is refused.
    app = example.create_app({"extra_ca_file": str(origin.ca_file)}, registered=[REGISTERED])
    client_id = origin.serve_document(path, redirect_uris=[CALLBACK])
    _, challenge = pkce()
    try:
        response = app.test_client().get(authorize_url(client_id, CALLBACK, challenge))
    finally:
        app.extensions["cimd_engine"].close()

    assert response.status_code == 400 and "Location" not in response.headers
    assert "blocked_address" in response.get_data(as_text=True)
    assert origin.hits(path) == 0


def test_unfetchable_client_is_temporarily_unavailable(browser) -> None:
    _, challenge = pkce()
    response = browser.get(authorize_url("https://localhost:1/client.json", CALLBACK, challenge))

    assert response.status_code == 503 and "Location" not in response.headers
    assert "connect_error" in response.get_data(as_text=True)


def test_registered_client_still_works(browser) -> None:
    verifier, challenge = pkce()
    url = authorize_url(REGISTERED.client_id, "https://registered.example/cb", challenge)

    consent = browser.get(url)
    assert consent.status_code == 200 and "Registered App" in consent.get_data(as_text=True)
    code = parse_qs(urlsplit(browser.post(url, data={"decision": "allow"}).headers["Location"]).query)["code"][0]
    token = browser.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://registered.example/cb",
            "client_id": REGISTERED.client_id,
            "client_secret": REGISTERED.client_secret,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.text
    assert token.get_json()["access_token"]


def test_registered_client_with_wrong_redirect_is_refused_without_redirecting(browser) -> None:
    _, challenge = pkce()
    response = browser.get(authorize_url(REGISTERED.client_id, "https://attacker.example/cb", challenge))

    assert response.status_code == 400 and "Location" not in response.headers


def _names_mapped() -> bool:
    from conftest import TEST_NAMES_MAPPED

    return TEST_NAMES_MAPPED
