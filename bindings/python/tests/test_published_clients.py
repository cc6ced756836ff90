"""The documents real MCP clients publish (tests/fixtures/clients at the repository's root: MCPJam, VS Code,
Claude Code, claude.ai, ChatGPT) resolve through this binding at their real client_id URLs, served from a
loopback HTTPS origin on port 443 (inside scripts/netns, where tests/hosts maps their hosts to 127.0.0.1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, List, Tuple
from urllib.parse import urlsplit

import pytest

from cimd_engine import Engine
from conftest import needs_netns
from origin import Origin, Reply, TestOrigin

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "clients"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())["documents"]
JWKS = {"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig",
                  "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                  "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}


def published() -> List[Tuple[dict, bytes, str]]:
    out = []
    for expected in EXPECTED:
        body = (FIXTURES / expected["file"]).read_bytes()
        out.append((expected, body, json.loads(body)["client_id"]))
    return out


@pytest.fixture(scope="module")
def published_origin(origin_program: TestOrigin) -> Iterator[Origin]:
    hosts = sorted({urlsplit(client_id).hostname or "" for _, _, client_id in published()})
    server = Origin(origin_program, port=443, names=hosts)
    for _, body, client_id in published():
        server.route(urlsplit(client_id).path, Reply.json(body))
    server.route("/oauth/jwks.json", Reply.json(JWKS))
    yield server
    server.stop()


@needs_netns
@pytest.mark.parametrize("methods,field", [(["none"], "host_none"),
                                           (["none", "private_key_jwt"], "host_none_private_key_jwt")])
def test_published_documents_resolve_at_their_real_urls(published_origin: Origin, methods, field) -> None:
    config = {"allow_loopback": True, "extra_ca_file": str(published_origin.ca_file),
              "auth_methods_supported": methods}
    with Engine(config) as engine:
        for expected, _, client_id in published():
            client = engine.resolve(client_id, redirect_uri=expected["redirect_uri"])
            assert client.client_id == client_id
            assert client.token_endpoint_auth_method == expected[field], (client_id, methods)
            assert list(client.grant_types) == expected["grant_types"]
            assert list(client.warnings) == expected["warnings"], client_id
            assert client.display_host.ascii == urlsplit(client_id).hostname
            assert engine.resolve(client_id).source.value == "cache"
