"""Fixtures: the test origin (tests/origin/: a loopback HTTPS origin with a throwaway CA, one run per session),
a listener of it, and engines configured to trust its CA.

Network safety: the tests talk only to servers they start on 127.0.0.1 / [::1], and they run inside
scripts/netns (a network namespace where only loopback exists; `make python-test` does this). Outside it the
suite refuses to start, unless CIMD_TESTS_OUTSIDE_NETNS=1 is set: then the tests that need the namespace's
hosts file or could send a DNS query are skipped.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable, Dict, Iterator

import pytest

from origin import Origin, TestOrigin

IN_NETNS = os.environ.get("CIMD_IN_NETNS") == "1"
TEST_NAMES_MAPPED = IN_NETNS and "blocked.test" in Path("/etc/hosts").read_text()

needs_netns = pytest.mark.skipif(
    not TEST_NAMES_MAPPED, reason="needs scripts/netns with CIMD_HOSTS=tests/hosts (make python-test)"
)


def pytest_configure(config: pytest.Config) -> None:
    if not IN_NETNS and os.environ.get("CIMD_TESTS_OUTSIDE_NETNS") != "1":
        pytest.exit(
            "run the tests inside scripts/netns (make python-test), or set CIMD_TESTS_OUTSIDE_NETNS=1",
            returncode=4,
        )


@pytest.fixture(scope="session")
def origin_program() -> Iterator[TestOrigin]:
    """The session's run of the test origin (CIMD_TEST_ORIGIN, which make sets); it ends with the session."""
    with TestOrigin() as program:
        yield program


@pytest.fixture(scope="session")
def origin(origin_program: TestOrigin) -> Iterator[Origin]:
    server = Origin(origin_program)
    yield server
    server.stop()


@pytest.fixture
def path(request: pytest.FixtureRequest) -> str:
    """A path on the origin that belongs to this test alone."""
    return "/" + re.sub(r"[^A-Za-z0-9_-]", "_", request.node.name) + "/client.json"


@pytest.fixture
def engine_config(origin: Origin) -> Dict[str, Any]:
    """The base test configuration: loopback allowed (the draft's development exception), the test CA trusted,
    short timeouts, and rate limits that a test suite hitting one host does not trip."""
    return {
        "allow_loopback": True,
        "extra_ca_file": str(origin.ca_file),
        "connect_timeout_ms": 1000,
        "fetch_timeout_ms": 3000,
        "per_host_rate": {"per_minute": 100000, "burst": 10000},
        "per_host_concurrency": 64,
        "max_concurrent_fetches": 64,
    }


@pytest.fixture
def make_engine(engine_config: Dict[str, Any]) -> Iterator[Callable[..., Any]]:
    """Builds engines from the base configuration plus overrides, and closes them after the test."""
    from cimd_engine import Engine

    engines = []

    def make(**overrides: Any) -> Engine:
        engine = Engine({**engine_config, **overrides})
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


@pytest.fixture
def engine(make_engine: Callable[..., Any]) -> Any:
    return make_engine()
