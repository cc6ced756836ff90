"""The Authlib example under a real pre-fork server: gunicorn --preload builds the engine in the master process,
its workers inherit it through fork() and resolve URL clients in the children, over real HTTP on loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest

from origin import Origin

pytest.importorskip("gunicorn", reason="gunicorn is a test dependency (make python-test installs it)")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "authlib_server"
WORKERS = 2


def _server_asan_options() -> dict[str, str]:
    """Under `make python-asan`: memory errors are still fatal in the server's processes, but their leak check
    is off. The workers are forked from the master without exec, so memory that only the master's threads
    referenced looks leaked in them, and the example app never closes its engine, which an unclosed Engine
    deliberately does not free at exit (see Engine.__init__). The leak check stays on for pytest's process."""
    options = os.environ.get("ASAN_OPTIONS")
    return {"ASAN_OPTIONS": options.replace("detect_leaks=1", "detect_leaks=0")} if options else {}


@pytest.fixture
def gunicorn(tmp_path: Path, engine_config):
    config = tmp_path / "cimd.json"
    config.write_text(json.dumps(engine_config))
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--preload", "--workers", str(WORKERS), "--bind", "127.0.0.1:0",
         "--chdir", str(EXAMPLE), "--log-level", "info", "app:create_app()"],
        env={**os.environ, "CIMD_CONFIG": str(config), **_server_asan_options()},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = None
        booted = 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (port is None or booted < WORKERS):
            line = process.stderr.readline()
            if not line:
                break
            listening = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
            port = int(listening.group(1)) if listening else port
            booted += "Booting worker" in line
        assert port and booted == WORKERS, "gunicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)
        process.stderr.close()


# Straight to the server: never through a proxy named in the environment.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str) -> tuple:
    try:
        with _direct.open(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_workers_forked_from_the_master_resolve_url_clients(gunicorn: str, origin: Origin, path: str) -> None:
    client_id = origin.serve_document(path, client_name="Forked Client", redirect_uris=["http://localhost/cb"])
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": "http://localhost:8080/cb",
                       "scope": "profile", "state": "s", "code_challenge": "a" * 43, "code_challenge_method": "S256"})

    answers = [get(f"{gunicorn}/authorize?{query}") for _ in range(12)]

    assert [status for status, _ in answers] == [200] * 12
    assert all("Forked Client" in page for _, page in answers)
    # Each worker fetches at most once: its cache (inherited empty from the master) serves the rest.
    assert 1 <= origin.hits(path) <= WORKERS
    status, page = get(f"{gunicorn}/authorize?{query.replace('localhost%3A8080', 'evil.example')}")
    assert status == 400 and "redirect_uri_mismatch" in page
    metadata = json.loads(get(f"{gunicorn}/.well-known/oauth-authorization-server")[1])
    assert metadata["client_id_metadata_document_supported"] is True
