"""Every error family through the binding: the code, the description, the OAuth error, the exception class."""

from __future__ import annotations

import pickle
import socket
import time

import pytest

from cimd_engine import (
    CimdError,
    ClientRejected,
    ConfigError,
    Engine,
    RedirectUriMismatch,
    TemporarilyUnavailable,
)
from conftest import needs_netns
from origin import Origin, Reply, document


def reject(engine: Engine, client_id: str, **kwargs) -> CimdError:
    with pytest.raises(CimdError) as caught:
        engine.resolve(client_id, **kwargs)
    return caught.value


# (code, how the origin answers) for the refusals that come from the client's host or its document.
ORIGIN_REFUSALS = [
    ("http_status", lambda cid: Reply(404, b"gone", [("Content-Type", "text/plain")])),
    ("http_status", lambda cid: Reply(500, b"oops", [("Content-Type", "application/json")])),
    ("redirect_not_followed", lambda cid: Reply(302, b"", [("Location", cid + "2")])),
    ("too_large", lambda cid: Reply.json(document(cid, client_name="x" * 6000))),
    ("invalid_content_type", lambda cid: Reply(200, b"{}", [("Content-Type", "text/html")])),
    ("invalid_json", lambda cid: Reply.json(b'{"client_id": "a", "client_id": "b"}')),
    ("invalid_json", lambda cid: Reply.json(b"{not json")),
    ("invalid_metadata", lambda cid: Reply.json(document(cid, redirect_uris=None))),
    ("invalid_metadata", lambda cid: Reply.json(document(cid, redirect_uris=["http://evil.example/cb"]))),
    ("client_id_mismatch", lambda cid: Reply.json(document(cid + "?other"))),
    ("forbidden_metadata", lambda cid: Reply.json(document(cid, client_secret="s3cret"))),
    ("forbidden_metadata", lambda cid: Reply.json(document(cid, token_endpoint_auth_method="client_secret_basic"))),
    ("unsupported_auth_method",
     lambda cid: Reply.json(document(cid, token_endpoint_auth_method="private_key_jwt",
                                     jwks_uri="https://app.example/jwks"))),
]


@pytest.mark.parametrize("code,reply", ORIGIN_REFUSALS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(ORIGIN_REFUSALS)])
def test_refusals_of_the_client_are_client_rejected(engine: Engine, origin: Origin, path: str, code, reply) -> None:
    client_id = origin.url(path)
    origin.route(path, reply(client_id))

    error = reject(engine, client_id)

    assert type(error) is ClientRejected
    assert error.code == code
    # Draft -03 §6 (AUTH-16): no method in common is unauthorized_client; every other refusal invalid_client.
    assert error.oauth_error == ("unauthorized_client" if code == "unsupported_auth_method" else "invalid_client")
    assert error.transient is False
    assert error.description and str(error).startswith(code + ": ")


def test_errors_are_never_cached(engine: Engine, origin: Origin, path: str) -> None:
    client_id = origin.url(path)
    origin.route(path, [Reply(503, b"", []), Reply.json(document(client_id))])

    assert reject(engine, client_id).code == "http_status"
    assert engine.resolve(client_id).client_id == client_id
    assert origin.hits(path) == 2


@pytest.mark.parametrize(
    "client_id",
    [
        "http://localhost/client.json",
        "https://localhost/",
        "https://localhost/a/../client.json",
        "https://127.0.0.1/client.json",
        "https://user@localhost/client.json",
        "https://localhost/client.json#frag",
        "not a url",
        "",
    ],
)
def test_bad_client_id_urls_are_refused_before_any_fetch(engine: Engine, client_id: str) -> None:
    error = reject(engine, client_id)

    assert type(error) is ClientRejected and error.code == "invalid_client_id_url"
    assert engine.stats()["fetches"] == 0


def test_host_policy(make_engine, origin: Origin, path: str) -> None:
    client_id = origin.serve_document(path)
    denied = make_engine(denied_hosts=["localhost"])
    allowed_elsewhere = make_engine(allowed_hosts=["*.example.com"])

    for engine in (denied, allowed_elsewhere):
        error = reject(engine, client_id)
        assert type(error) is ClientRejected and error.code == "host_not_allowed"
    assert origin.hits(path) == 0


def test_loopback_is_a_blocked_address_without_the_development_exception(make_engine, origin: Origin, path) -> None:
    client_id = origin.serve_document(path)
    engine = make_engine(allow_loopback=False)

    error = reject(engine, client_id)

    assert type(error) is ClientRejected and error.code == "blocked_address"
    assert origin.hits(path) == 0


@needs_netns
def test_special_use_address_is_blocked_even_with_loopback_allowed(engine: Engine) -> None:
    # blocked.test resolves to 192.0.2.10 (documentation range) in tests/hosts; the engine refuses it before
    # connecting, and inside scripts/netns nothing could be reached anyway.
    error = reject(engine, "https://blocked.test/client.json")

    assert type(error) is ClientRejected and error.code == "blocked_address"


def test_redirect_uri_mismatch_is_its_own_family(engine: Engine, origin: Origin, path: str) -> None:
    client_id = origin.serve_document(path)

    error = reject(engine, client_id, redirect_uri="https://evil.example/callback")

    assert type(error) is RedirectUriMismatch
    assert (error.code, error.oauth_error, error.transient) == ("redirect_uri_mismatch", "invalid_request", False)


def test_connection_refused_is_temporarily_unavailable(engine: Engine) -> None:
    with socket.socket() as probe:  # a port with nothing listening: bound, then released
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    error = reject(engine, f"https://localhost:{port}/client.json")

    assert type(error) is TemporarilyUnavailable
    assert error.code == "connect_error" and error.transient is True


def test_untrusted_certificate_is_a_tls_error(make_engine, origin_program, path: str) -> None:
    stranger = Origin(origin_program, tls="foreign")  # another CA, which the engine does not trust
    try:
        client_id = stranger.serve_document(path)
        error = reject(make_engine(), client_id)
    finally:
        stranger.stop()

    assert type(error) is TemporarilyUnavailable and error.code == "tls_error"


def test_per_call_timeout(engine: Engine, origin: Origin, path: str) -> None:
    origin.route(path, Reply(hang=True))
    started = time.monotonic()

    error = reject(engine, origin.url(path), timeout=0.3)

    assert type(error) is TemporarilyUnavailable and error.code == "timeout"
    assert time.monotonic() - started < 2.5


@needs_netns
def test_unknown_host_is_a_dns_error(engine: Engine) -> None:
    error = reject(engine, "https://unknown-name.test/client.json")

    assert type(error) is TemporarilyUnavailable and error.code == "dns_error"


def test_engine_rate_limits_are_temporarily_unavailable(make_engine, origin: Origin, path: str) -> None:
    engine = make_engine(per_host_rate={"per_minute": 1, "burst": 1})
    first = origin.serve_document(path)
    second = origin.serve_document(path.replace("client.json", "second.json"))
    engine.resolve(first)

    error = reject(engine, second)

    assert type(error) is TemporarilyUnavailable
    assert (error.code, error.oauth_error) == ("rate_limited", "temporarily_unavailable")


@pytest.mark.parametrize(
    "config",
    [
        {"no_such_key": 1},
        {"max_document_bytes": "big"},
        {"fetch_timeout_ms": -1},
        {"per_host_rate": {"per_minute": 0, "burst": 1}},
        {"extra_ca_file": "/nonexistent/ca.pem"},
    ],
)
def test_configuration_errors(config) -> None:
    with pytest.raises(ConfigError) as caught:
        Engine(config)

    assert caught.value.code == "config_error" and caught.value.oauth_error is None
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, CimdError)
    assert caught.value.description


def test_config_must_be_a_mapping() -> None:
    with pytest.raises(TypeError):
        Engine(["allow_loopback"])  # type: ignore[arg-type]


def test_errors_survive_pickling(engine: Engine) -> None:
    error = reject(engine, "http://localhost/client.json")

    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is ClientRejected
    assert (copy.code, copy.description, copy.oauth_error) == (error.code, error.description, error.oauth_error)
