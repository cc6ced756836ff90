"""The Python client of the test origin (tests/origin/origin.rs, cargo example `test-origin`).

The origin is one program shared by the tests of every language: it is started here as a child process (the path
in CIMD_TEST_ORIGIN, which the Makefile and scripts/test-origin set), it makes one throwaway CA per run, and it is
scripted through JSON lines on its standard input. It ends when its standard input closes, so a test that dies
never leaves it running. Used by the Python binding's tests (bindings/python/tests/origin.py) and by the Keycloak
drivers (tests/keycloak/dochost.py).

Every call waits at most CONTROL_TIMEOUT seconds for the origin's answer and raises OriginError otherwise.
Network safety: the origin listens on 127.0.0.1 and [::1] only.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

#: Seconds to wait for the origin to start, and for each answer to a command.
CONTROL_TIMEOUT = 30.0


class OriginError(RuntimeError):
    """The test origin could not be started, did not answer in time, or refused a command."""


@dataclass
class Reply:
    """One scripted answer (the fields of a reply in tests/origin/origin.rs)."""

    status: int = 200
    body: bytes = b""
    headers: List[Tuple[str, str]] = field(default_factory=list)
    #: Seconds to wait before the status line.
    delay: float = 0.0
    #: Never answer (until the client gives up).
    hang: bool = False
    #: Close the connection without answering.
    reset: bool = False
    #: "length" (Content-Length), "chunked" or "close" (the body ends with the connection).
    framing: str = "length"
    #: Announce this Content-Length whatever the body's size (then close).
    content_length: Optional[int] = None
    #: Send the body drip_bytes at a time every drip seconds.
    drip: Optional[float] = None
    drip_bytes: int = 1
    #: An endless body.
    stream_forever: bool = False
    reason: Optional[str] = None

    @classmethod
    def json(cls, document: object, *headers: Tuple[str, str], **kwargs: Any) -> "Reply":
        body = document if isinstance(document, (bytes, str)) else json.dumps(document)
        data = body.encode() if isinstance(body, str) else body
        return cls(200, data, [("Content-Type", "application/json"), *headers], **kwargs)

    def wire(self) -> Dict[str, Any]:
        """The reply as the origin's protocol spells it."""
        out: Dict[str, Any] = {"status": self.status, "headers": [list(h) for h in self.headers]}
        try:
            out["body"] = self.body.decode("utf-8")
        except UnicodeDecodeError:
            out["body_hex"] = self.body.hex()
        if self.delay:
            out["delay_ms"] = round(self.delay * 1000)
        if self.drip is not None:
            out["drip_ms"], out["drip_bytes"] = round(self.drip * 1000), self.drip_bytes
        if self.framing != "length":
            out["framing"] = self.framing
        if self.content_length is not None:
            out["content_length"] = self.content_length
        if self.reason is not None:
            out["reason"] = self.reason
        for flag in ("hang", "reset", "stream_forever"):
            if getattr(self, flag):
                out[flag] = True
        return out


@dataclass
class Request:
    """One request the origin received."""

    method: str
    path: str
    host: Optional[str]
    #: Header names lowercased (the last value of a repeated header wins; all_headers keeps them all).
    headers: Dict[str, str]
    all_headers: List[Tuple[str, str]]
    connection: int


def program_path() -> str:
    path = os.environ.get("CIMD_TEST_ORIGIN")
    if not path:
        raise OriginError("CIMD_TEST_ORIGIN is not set: run the tests through make (it builds the test origin with "
                          "`cargo build --example test-origin` and sets it), or set it to that program's path")
    if not os.access(path, os.X_OK):
        raise OriginError(f"CIMD_TEST_ORIGIN={path} is not an executable program: build it with "
                          "`cargo build --example test-origin` (make test-origin)")
    return path


class TestOrigin:
    """One run of the program: its CA (``ca_file``) and the listeners opened on it."""

    __test__ = False  # not a pytest test class

    def __init__(self, args: Sequence[str] = (), timeout: float = CONTROL_TIMEOUT) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._lines: "queue.Queue[Optional[str]]" = queue.Queue()
        # The origin is no part of what a sanitizer run checks (python-asan preloads libasan into the tests).
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        self._process = subprocess.Popen([program_path(), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         text=True, encoding="utf-8", bufsize=1, env=env)
        threading.Thread(target=self._read, daemon=True).start()
        self.values: Dict[str, str] = {}
        try:
            for line in iter(lambda: self._next_line("start"), "READY"):
                name, _, value = line.partition("=")
                self.values[name] = value
            if "CA" not in self.values:
                raise OriginError(f"test origin printed no CA= line before READY: {self.values}")
        except OriginError:
            self._process.kill()
            self._process.wait()
            raise
        self.ca_file = self.values["CA"]

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _next_line(self, what: str) -> str:
        try:
            line = self._lines.get(timeout=self.timeout)
        except queue.Empty:
            raise OriginError(f"test origin: no answer to {what} within {self.timeout:.0f} s") from None
        if line is None:
            self._lines.put(None)
            try:
                status: Optional[int] = self._process.wait(5)
            except subprocess.TimeoutExpired:
                status = None
            raise OriginError(f"test origin exited (status {status}) before answering {what}")
        return line

    def call(self, op: str, **fields: Any) -> Dict[str, Any]:
        """Sends one command and returns the origin's answer; OriginError if it refused it."""
        command = json.dumps({"op": op, **{k: v for k, v in fields.items() if v is not None}})
        with self._lock:
            assert self._process.stdin is not None
            try:
                self._process.stdin.write(command + "\n")
                self._process.stdin.flush()
            except (BrokenPipeError, ValueError) as e:
                raise OriginError(f"test origin is gone ({e}): cannot send {op}") from None
            answer: Dict[str, Any] = json.loads(self._next_line(op))
        if not answer.get("ok"):
            raise OriginError(f"test origin refused {op}: {answer.get('error')}")
        return answer

    def listen(self, tls: str = "trusted", names: Sequence[str] = ("localhost",), port: int = 0,
               ip: str = "127.0.0.1", also_v6: bool = False) -> "Listener":
        answer = self.call("listen", tls=tls, names=list(names), port=port, ip=ip, also_v6=also_v6)
        return Listener(self, answer["listener"], answer["port"], "http" if tls == "plain" else "https")

    def closed_port(self) -> int:
        return int(self.call("closed_port")["port"])

    def close(self) -> None:
        """Closes the origin's standard input, which ends it; waits for it (and kills it if it lingers)."""
        if self._process.stdin is not None and not self._process.stdin.closed:
            try:
                self._process.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self._process.wait(self.timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> "TestOrigin":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


RouteSpec = Union[Reply, Sequence[Reply]]


class Listener:
    """One listening port of the origin, with its own routes and request records."""

    def __init__(self, origin: TestOrigin, listener: int, port: int, scheme: str) -> None:
        self.origin, self.id, self.port, self.scheme = origin, listener, port, scheme

    def url(self, path: str, host: str = "localhost") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def route(self, path: str, route: RouteSpec, host: Optional[str] = None) -> None:
        """Scripts ``path`` (for the Host name ``host`` only, if given): a Reply, or replies given in turn (the
        last repeats)."""
        replies = [route] if isinstance(route, Reply) else list(route)
        self.origin.call("route", listener=self.id, path=path, host=host, replies=[r.wire() for r in replies])

    def count(self, path: str, host: Optional[str] = None) -> int:
        return int(self.origin.call("count", listener=self.id, path=path, host=host)["count"])

    def requests(self, path: Optional[str] = None, host: Optional[str] = None) -> List[Request]:
        answer = self.origin.call("requests", listener=self.id, path=path, host=host)
        return [Request(r["method"], r["path"], r["host"], {k.lower(): v for k, v in r["headers"]},
                        [(k, v) for k, v in r["headers"]], r["connection"]) for r in answer["requests"]]

    def clear(self) -> None:
        """Forgets the requests recorded so far (counts start again at 0)."""
        self.origin.call("clear", listener=self.id)

    def stats(self) -> Dict[str, int]:
        answer = self.origin.call("stats", listener=self.id)
        return {k: int(answer[k]) for k in ("connections", "tls_failures", "served")}

    def close(self) -> None:
        self.origin.call("close", listener=self.id)
