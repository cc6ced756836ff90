"""Resolving through the binding: the typed result, redirect_uri checks, caching, operator calls, lifetime."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

import cimd_engine
from cimd_engine import Client, DisplayHost, Engine, RedirectUriMismatch, Source
from origin import Reply, document


def test_abi_major_version_is_checked_at_load() -> None:
    assert cimd_engine.ABI_VERSION[0] == 1


def test_success_gives_a_frozen_typed_client(engine: Engine, origin, path: str) -> None:
    client_id = origin.serve_document(path, client_name="Example App", scope="read write")
    before = datetime.now(timezone.utc) - timedelta(seconds=2)

    client = engine.resolve(client_id)

    assert isinstance(client, Client)
    assert client.client_id == client_id
    assert client.client_name == "Example App"
    assert client.redirect_uris == ("https://app.example/callback",)
    assert client.grant_types == ("authorization_code", "refresh_token")
    assert client.response_types == ("code",)
    assert client.token_endpoint_auth_method == "none"
    assert client.scope == "read write"
    assert client.display_host == DisplayHost(ascii="localhost", unicode="localhost")
    assert client.source is Source.NETWORK and client.source == "network"
    assert client.fetched_at >= before and client.fetched_at.tzinfo is not None
    assert client.expires_at > datetime.now(timezone.utc)
    assert client.generation >= 1
    assert client.warnings == () and client.changed == ()
    assert client.jwks is None and client.logo_uri is None and client.contacts == ()
    assert client.raw["client"]["client_name"] == "Example App"
    assert client.raw["generation"] == client.generation
    with pytest.raises(dataclasses.FrozenInstanceError):
        client.client_name = "Evil"  # type: ignore[misc]
    assert origin.hits(path) == 1


def test_every_registration_field_is_typed(make_engine, origin, path: str) -> None:
    engine = make_engine(auth_methods_supported=["none", "private_key_jwt"])
    jwks = {"keys": [{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                      "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", "kid": "k1"}]}
    client_id = origin.serve_document(
        path,
        client_uri="https://app.example/",
        logo_uri="https://app.example/logo.png",
        tos_uri="https://app.example/tos",
        policy_uri="https://app.example/privacy",
        policy_extra="ignored",
        token_endpoint_auth_method="private_key_jwt",
        jwks=jwks,
        application_type="web",
        contacts=["ops@app.example"],
        software_id="app",
        software_version="1.2.3",
        post_logout_redirect_uris=["https://app.example/bye"],
    )

    client = engine.resolve(client_id)

    assert client.client_uri == "https://app.example/"
    assert client.logo_uri == "https://app.example/logo.png"
    assert client.tos_uri == "https://app.example/tos"
    assert client.policy_uri == "https://app.example/privacy"
    assert client.token_endpoint_auth_method == "private_key_jwt"
    assert client.jwks == jwks
    client.jwks["keys"].clear()  # a copy: the shared result cannot be changed through it
    assert client.jwks == jwks
    assert client.jwks_uri is None
    assert client.application_type == "web"
    assert client.contacts == ("ops@app.example",)
    assert (client.software_id, client.software_version) == ("app", "1.2.3")
    assert client.post_logout_redirect_uris == ("https://app.example/bye",)
    assert "policy_extra" not in client.raw["client"]


def test_engine_warnings_and_filtering_come_through(engine: Engine, origin, path: str) -> None:
    client_id = origin.serve_document(
        path,
        redirect_uris=["http://localhost/callback"],
        logo_uri="javascript:alert(1)",
        grant_types=["authorization_code", "urn:example:unknown"],
    )

    client = engine.resolve(client_id)

    assert client.logo_uri is None
    assert client.grant_types == ("authorization_code",)
    assert "localhost_redirects_only" in client.warnings
    assert "display_uri_dropped" in client.warnings


def test_redirect_uri_is_checked_by_the_engine(engine: Engine, origin, path: str) -> None:
    client_id = origin.serve_document(
        path, redirect_uris=["https://app.example/callback", "http://localhost/callback"]
    )

    assert engine.resolve(client_id, redirect_uri="https://app.example/callback").client_id == client_id
    # RFC 8252 loopback exception: any port for http on the same loopback host.
    engine.resolve(client_id, redirect_uri="http://localhost:53124/callback")
    for wrong in ("https://app.example/callback/", "https://evil.example/callback", "http://127.0.0.1/callback"):
        with pytest.raises(RedirectUriMismatch) as caught:
            engine.resolve(client_id, redirect_uri=wrong)
        assert caught.value.code == "redirect_uri_mismatch"
        assert caught.value.oauth_error == "invalid_request"
        assert caught.value.description
    assert origin.hits(path) == 1  # every check above used the cached document


def test_cache_hits_return_the_same_object_without_fetching(engine: Engine, origin, path: str) -> None:
    client_id = origin.serve_document(path)
    first = engine.resolve(client_id)

    second = engine.resolve(client_id)
    third = engine.resolve(client_id)

    assert first.source is Source.NETWORK
    assert second.source is Source.CACHE
    assert third is second
    assert second.generation == first.generation
    assert origin.hits(path) == 1
    stats = engine.stats()
    assert stats["fetches"] == 1 and stats["hits"] == 2 and stats["misses"] == 1
    assert stats["resolutions"]["network"] == 1 and stats["fetch_duration_ms"]["count"] == 1


def test_decoding_happens_once_per_generation(engine: Engine, origin, path: str, monkeypatch) -> None:
    decoded = []
    real_decode = cimd_engine._client.decode
    monkeypatch.setattr(cimd_engine._client, "decode", lambda text: decoded.append(text) or real_decode(text))
    client_id = origin.serve_document(path, scope="a")

    for _ in range(200):
        engine.resolve(client_id)
    assert len(decoded) == 1

    origin.route(path, Reply.json(document(client_id, scope="a b")))
    refreshed = engine.refresh(client_id)
    assert len(decoded) == 2
    assert refreshed.scope == "a b" and refreshed.changed == ("scope",)
    assert engine.resolve(client_id).generation == refreshed.generation
    assert len(decoded) == 2


def test_probe_reads_the_cache_only(engine: Engine, origin, path: str) -> None:
    client_id = origin.serve_document(path)

    assert engine.probe(client_id) is None
    assert origin.hits(path) == 0
    engine.resolve(client_id)
    probed = engine.probe(client_id)

    assert probed is not None and probed.client_id == client_id and probed.source is Source.CACHE
    assert origin.hits(path) == 1


def test_invalidate_forgets_and_the_next_resolve_fetches(engine: Engine, origin, path: str) -> None:
    client_id = origin.serve_document(path)
    engine.resolve(client_id)

    assert engine.invalidate(client_id) is True
    assert engine.invalidate(client_id) is False
    assert engine.probe(client_id) is None
    assert engine.resolve(client_id).source is Source.NETWORK
    assert origin.hits(path) == 2


def test_refresh_fetches_again_and_reports_changes(engine: Engine, origin, path: str) -> None:
    client_id = origin.serve_document(path)
    first = engine.resolve(client_id)

    same = engine.refresh(client_id)
    origin.route(path, Reply.json(document(client_id, redirect_uris=["https://app.example/new"])))
    changed = engine.refresh(client_id)

    assert same.generation == first.generation and same.changed == ()
    assert changed.generation != first.generation
    assert changed.changed == ("redirect_uris",)
    assert changed.redirect_uris == ("https://app.example/new",)
    assert origin.hits(path) == 3
    with pytest.raises(RedirectUriMismatch):
        engine.resolve(client_id, redirect_uri="https://app.example/callback")


def test_operator_views(engine: Engine, origin, path: str) -> None:
    client_id = origin.serve_document(path, client_name="Listed")
    engine.resolve(client_id)

    entries = engine.entries()
    stats = engine.stats()

    assert [e["client_id"] for e in entries] == [client_id]
    assert entries[0]["client_name"] == "Listed" and entries[0]["state"] == "fresh"
    assert stats["entries"] == 1 and isinstance(stats["failures"], dict)


def test_discovery_metadata_follows_the_configuration(make_engine) -> None:
    default = make_engine().discovery_metadata()
    with_jwt = make_engine(auth_methods_supported=["none", "private_key_jwt"]).discovery_metadata()

    assert default["client_id_metadata_document_supported"] is True
    assert default["code_challenge_methods_supported"] == ["S256"]
    assert default["token_endpoint_auth_methods_supported"] == ["none"]
    assert with_jwt["token_endpoint_auth_methods_supported"] == ["none", "private_key_jwt"]


def test_close_and_context_manager(engine_config, origin, path: str) -> None:
    client_id = origin.serve_document(path)
    with Engine(engine_config) as engine:
        client = engine.resolve(client_id)
        assert "open" in repr(engine)

    with pytest.raises(RuntimeError, match="closed"):
        engine.resolve(client_id)
    engine.close()  # twice is harmless
    assert "closed" in repr(engine)
    assert client.client_id == client_id  # results outlive their engine


def test_arguments_are_checked(engine: Engine) -> None:
    with pytest.raises(TypeError):
        engine.resolve(b"https://localhost/client.json")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        engine.resolve("https://localhost/client.json", timeout=0)
    with pytest.raises(ValueError):
        engine.resolve("https://localhost/\udc80.json")


def test_decoded_results_are_bounded_like_the_engine_cache(make_engine, origin, path: str) -> None:
    engine = make_engine(cache_max_entries=2)
    client_ids = [origin.serve_document(path.replace("client.json", f"c{i}.json")) for i in range(3)]

    for client_id in client_ids + client_ids:
        assert engine.resolve(client_id).client_id == client_id

    assert len(engine._decoded) <= 2
