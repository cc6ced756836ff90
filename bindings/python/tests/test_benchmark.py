"""Cache-hit resolve through Python (target: median at most 5 µs), side by side with a pure-Python resolver.

`make python-test` runs these once, untimed (--benchmark-disable), to keep them working, and `make bench-smoke`
runs them once with the comparison installed; `make python-bench` times them for docs/benchmarks-python.md. The
figures are a report: nothing here fails on a time. The comparison resolver is FastMCP's
CIMDFetcher (fastmcp.server.auth.cimd), installed only in the benchmark's own virtual environment.
"""

from __future__ import annotations

import json

import pytest

from cimd_engine import Engine, _client
from origin import Origin

pytestmark = pytest.mark.benchmark(group="cache-hit resolve", min_rounds=2000, warmup=True)

REDIRECT = "https://app.example/callback"


@pytest.fixture
def warm(engine: Engine, origin: Origin, path: str) -> str:
    client_id = origin.serve_document(path, client_name="Bench", redirect_uris=[REDIRECT])
    engine.resolve(client_id)
    engine.resolve(client_id)
    return client_id



def test_cimd_engine_cache_hit(benchmark, engine: Engine, warm: str) -> None:
    client = benchmark(engine.resolve, warm)
    assert client.client_name == "Bench"


def test_cimd_engine_cache_hit_with_redirect_uri(benchmark, engine: Engine, warm: str) -> None:
    client = benchmark(engine.resolve, warm, REDIRECT)
    assert client.client_name == "Bench"


@pytest.mark.benchmark(group="what the generation cache saves")
def test_decoding_the_result_json_each_time(benchmark, engine: Engine, warm: str) -> None:
    text = engine.resolve(warm)._json
    fields = benchmark(_client.decode, text)
    assert fields["client_name"] == "Bench"


# -- the pure-Python comparison ------------------------------------------------------------------------------------


@pytest.fixture
def fastmcp_fetcher(warm: str):
    cimd = pytest.importorskip("fastmcp.server.auth.cimd", reason="fastmcp is installed only for make python-bench")
    document = {"client_id": warm, "client_name": "Bench", "redirect_uris": [REDIRECT],
                "token_endpoint_auth_method": "none"}

    class CannedResponse:  # what its SSRF-safe fetch returns; canned, because it refuses loopback hosts
        status_code = 200
        headers = {"content-type": "application/json", "cache-control": "max-age=3600"}
        content = json.dumps(document).encode()

    async def canned_fetch(url, **kwargs):
        return CannedResponse()

    original = cimd.ssrf_safe_fetch_response
    cimd.ssrf_safe_fetch_response = canned_fetch
    try:
        fetcher = cimd.CIMDFetcher()
        _run(fetcher.fetch(warm))  # the miss: fetch (canned), validate, cache
    finally:
        cimd.ssrf_safe_fetch_response = original
    return fetcher


def _run(coroutine):
    """Drives a coroutine that never suspends (a cache hit) without an event loop, so that only the resolver's
    own work is measured."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    raise AssertionError("the coroutine suspended: not a cache hit")


def test_fastmcp_cimd_fetcher_cache_hit(benchmark, fastmcp_fetcher, warm: str) -> None:
    document = benchmark(lambda: _run(fastmcp_fetcher.fetch(warm)))
    assert document.client_name == "Bench"


def test_fastmcp_cimd_fetcher_cache_hit_with_redirect_uri(benchmark, fastmcp_fetcher, warm: str) -> None:
    def hit_and_check():
        document = _run(fastmcp_fetcher.fetch(warm))
        assert fastmcp_fetcher.validate_redirect_uri(document, REDIRECT)
        return document

    assert benchmark(hit_and_check).client_name == "Bench"
