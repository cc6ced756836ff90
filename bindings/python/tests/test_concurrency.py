"""Threads, the GIL and fork(): what a pre-fork, multi-threaded Python server does with one engine."""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from cimd_engine import Engine, Source
from origin import Origin, Reply, document


def test_fifty_threads_resolving_one_cold_client_id_cause_one_fetch(engine: Engine, origin: Origin, path) -> None:
    client_id = origin.url(path)
    # A slow answer, so that every thread arrives while the first fetch is still running.
    origin.route(path, Reply.json(document(client_id), delay=0.5))
    start = threading.Barrier(50)

    def resolve(_: int):
        start.wait()
        return engine.resolve(client_id)

    with ThreadPoolExecutor(max_workers=50) as pool:
        clients = list(pool.map(resolve, range(50)))

    assert origin.hits(path) == 1
    assert {c.client_id for c in clients} == {client_id}
    assert len({c.generation for c in clients}) == 1
    stats = engine.stats()
    assert stats["fetches"] == 1
    assert stats["coalesced_waits"] >= 1


def test_the_gil_is_released_while_a_resolve_waits(engine: Engine, origin: Origin, path) -> None:
    client_id = origin.url(path)
    origin.route(path, Reply.json(document(client_id), delay=0.6))
    done = threading.Event()
    worker = threading.Thread(target=lambda: (engine.resolve(client_id), done.set()))

    worker.start()
    spins = 0
    while not done.is_set():  # pure Python work on this thread while the other one waits in the engine
        spins += 1
    worker.join()

    assert spins > 10_000


def test_many_threads_resolving_many_clients(engine: Engine, origin: Origin, path) -> None:
    client_ids = [origin.serve_document(path.replace("client.json", f"c{i}.json")) for i in range(20)]

    def work(i: int) -> str:
        client = engine.resolve(client_ids[i % 20], redirect_uri="https://app.example/callback")
        return client.client_id

    with ThreadPoolExecutor(max_workers=16) as pool:
        seen = list(pool.map(work, range(400)))

    assert sorted(set(seen)) == sorted(client_ids)
    assert engine.stats()["fetches"] == 20


def test_close_waits_for_calls_in_flight(engine_config, origin: Origin, path) -> None:
    client_id = origin.url(path)
    origin.route(path, Reply.json(document(client_id), delay=0.5))
    engine = Engine(engine_config)
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(engine.resolve(client_id)))
    worker.start()
    time.sleep(0.15)

    engine.close()
    worker.join()

    assert outcome and outcome[0].client_id == client_id
    with pytest.raises(RuntimeError):
        engine.resolve(client_id)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_keeps_using_the_engine(engine: Engine, origin: Origin, path) -> None:
    """The gunicorn pre-fork model: the master builds (and warms) the engine, workers inherit it."""
    warm = origin.serve_document(path)
    cold = origin.serve_document(path.replace("client.json", "cold.json"))
    engine.resolve(warm)
    read_end, write_end = os.pipe()

    pid = os.fork()
    if pid == 0:  # the child: report what happened through the pipe, never return into pytest
        status = 1
        try:
            inherited = engine.resolve(warm)
            fetched = engine.resolve(cold, redirect_uri="https://app.example/callback")
            again = engine.resolve(cold)
            report = {
                "inherited": inherited.source.value,
                "fetched": fetched.source.value,
                "again": again.source.value,
                "name": fetched.client_name,
            }
            os.write(write_end, json.dumps(report).encode())
            status = 0
        finally:
            os._exit(status)

    os.close(write_end)
    _, wait_status = os.waitpid(pid, 0)
    report = json.loads(os.read(read_end, 65536) or b"{}")
    os.close(read_end)

    assert os.waitstatus_to_exitcode(wait_status) == 0, report
    assert report == {"inherited": "cache", "fetched": "network", "again": "cache", "name": "Test Client"}
    assert origin.hits(path.replace("client.json", "cold.json")) == 1
    # The parent's engine is unaffected and still works.
    assert engine.resolve(warm).source is Source.CACHE
    assert engine.probe(cold) is None
