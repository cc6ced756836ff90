"""A scriptable HTTPS origin on loopback, with a throwaway CA, for the binding's tests.

It plays the client's host: it serves client metadata documents (or deliberately broken answers) at paths the
tests script, and counts the requests it receives, so a test can prove that the engine fetched exactly once.

Network safety: it listens on 127.0.0.1 (and on [::1] with the same port when that exists) and nowhere else.
"""

from __future__ import annotations

import datetime
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: The names the test certificates cover. Inside scripts/netns with tests/hosts they resolve to 127.0.0.1.
NAMES = ("localhost", "client.test")


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b""
    headers: List[Tuple[str, str]] = field(default_factory=list)
    #: Seconds to wait before answering.
    delay: float = 0.0
    #: Never answer (until the origin stops).
    hang: bool = False

    @classmethod
    def json(cls, document: object, *headers: Tuple[str, str], **kwargs: object) -> "Reply":
        body = document if isinstance(document, (bytes, str)) else json.dumps(document)
        body = body.encode() if isinstance(body, str) else body
        return cls(200, body, [("Content-Type", "application/json"), *headers], **kwargs)  # type: ignore[arg-type]


Route = Union[Reply, Sequence[Reply], Callable[["Request"], Reply]]


@dataclass
class Request:
    method: str
    path: str
    headers: Dict[str, str]
    at: float


class _PKI:
    """A CA and one leaf for NAMES, generated in memory; the CA PEM is written to a file for extra_ca_file."""

    def __init__(
        self, directory: Path, common_name: str = "cimd_engine test CA", names: Sequence[str] = NAMES
    ) -> None:
        now = datetime.datetime.now(datetime.timezone.utc)
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        self.ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key()), critical=False)
            .sign(self.ca_key, hashes.SHA256())
        )
        leaf_key = ec.generate_private_key(ec.SECP256R1())
        leaf = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name)
            .public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(
                x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False
            )
            .sign(self.ca_key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(self.ca_cert.public_bytes(serialization.Encoding.PEM))
        self.cert_file = directory / "leaf.pem"
        self.cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        self.key_file = directory / "leaf.key"
        self.key_file.write_bytes(
            leaf_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        context.set_alpn_protocols(["http/1.1"])
        return context


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Listener"
    timeout = 10

    def setup(self) -> None:
        super().setup()
        if self.server.tls:
            self.request.settimeout(5)
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                self.server.origin.tls_failures += 1
                raise

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        origin = self.server.origin
        request = Request("GET", self.path, {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
        reply = origin._dispatch(request)
        if reply.hang:
            origin._stopping.wait(60)
            self.close_connection = True
            return
        if reply.delay:
            origin._stopping.wait(reply.delay)
        self.send_response(reply.status)
        names = {name.lower() for name, _ in reply.headers}
        for name, value in reply.headers:
            self.send_header(name, value)
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


class _Listener(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: Tuple[str, int], family: int, origin: "Origin", tls: Optional[ssl.SSLContext]):
        self.address_family = family
        self.origin = origin
        self.tls = tls
        super().__init__(address, _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)


class Origin:
    """An HTTPS (or plain HTTP) origin on loopback. ``route()`` scripts a path; ``hits()`` counts requests."""

    def __init__(
        self,
        directory: Path,
        tls: Union[bool, ssl.SSLContext] = True,
        port: int = 0,
        names: Sequence[str] = NAMES,
    ) -> None:
        self.pki = _PKI(directory, names=names)
        context = self.pki.server_context() if tls is True else (tls or None)
        self.scheme = "https" if context is not None else "http"
        self._routes: Dict[str, List[object]] = {}
        self._requests: List[Request] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.tls_failures = 0
        self._listeners = [_Listener(("127.0.0.1", port), socket.AF_INET, self, context)]
        self.port = self._listeners[0].server_address[1]
        try:  # same port on [::1], for systems whose localhost resolves there too
            self._listeners.append(_Listener(("::1", self.port), socket.AF_INET6, self, context))
        except OSError:
            pass
        for listener in self._listeners:
            threading.Thread(target=listener.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, path: str, host: str = "localhost") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def route(self, path: str, route: Route) -> None:
        """Scripts ``path``: a Reply, a list of replies given in turn (the last repeats), or a function."""
        with self._lock:
            self._routes[path] = [route, 0]

    def serve_document(self, path: str, host: str = "localhost", **fields: object) -> str:
        """Serves a minimal valid document at ``path`` (fields override or extend it); returns its client_id."""
        client_id = self.url(path, host)
        self.route(path, Reply.json(document(client_id, **fields)))
        return client_id

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self._requests if r.path == path)

    def requests(self, path: str) -> List[Request]:
        with self._lock:
            return [r for r in self._requests if r.path == path]

    def _dispatch(self, request: Request) -> Reply:
        with self._lock:
            self._requests.append(request)
            entry = self._routes.get(request.path)
            if entry is None:
                return Reply(404, b"not found\n", [("Content-Type", "text/plain")])
            route = entry[0]
            if isinstance(route, Reply):
                return route
            if callable(route):
                function = route
            else:
                replies = list(route)  # type: ignore[arg-type]
                index = min(entry[1], len(replies) - 1)  # type: ignore[operator]
                entry[1] = index + 1
                return replies[index]
        return function(request)

    def stop(self) -> None:
        self._stopping.set()
        for listener in self._listeners:
            listener.shutdown()
            listener.server_close()


def document(client_id: str, **fields: object) -> dict:
    """A minimal valid client metadata document for ``client_id``; keyword arguments override or add fields
    (a value of None removes the field)."""
    doc: dict = {
        "client_id": client_id,
        "client_name": "Test Client",
        "redirect_uris": ["https://app.example/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }
    for key, value in fields.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc

