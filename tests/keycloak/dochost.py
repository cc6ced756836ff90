"""A throwaway HTTPS host for client metadata documents, on loopback only (tests/keycloak/e2e.py).

It makes a private CA with the `cryptography` package, a server certificate for the test host names, and serves
documents and key sets from a routing table that tests change at will. Every request is counted per path, so a
test can prove how many fetches reached the host (one for 200 concurrent first logins) or that none did (a blocked
address). Network safety: it binds 127.0.0.1 only, and the e2e runs it inside scripts/netns.
"""
import datetime
import json
import os
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_pki(directory, hosts):
    """Writes ca.pem, server.pem and server.key for `hosts` into `directory`; returns the CA file's path."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("cimd e2e throwaway CA")).issuer_name(_name("cimd e2e throwaway CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(hosts[0])).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {n: os.path.join(directory, n) for n in ("ca.pem", "server.pem", "server.key")}
    with open(paths["ca.pem"], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths["server.pem"], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths["server.key"], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


class DocHost:
    """Routes (host, path) → (status, headers, body bytes); counts requests per (host, path)."""

    def __init__(self, directory, hosts, port=443, bind="127.0.0.1"):
        self.paths = make_pki(directory, hosts)
        self.ca_file = self.paths["ca.pem"]
        self.routes = {}
        self.hits = {}
        self.agents = {}
        self.lock = threading.Lock()
        host = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                name = (self.headers.get("Host") or "").split(":")[0].lower()
                key = (name, self.path)
                with host.lock:
                    host.hits[key] = host.hits.get(key, 0) + 1
                    host.agents.setdefault(key, []).append(self.headers.get("User-Agent") or "")
                    route = host.routes.get(key)
                if route is None:
                    status, headers, body = 404, {"Content-Type": "text/plain"}, b"not found"
                else:
                    status, headers, body = route
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer((bind, port), Handler)
        self.server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.paths["server.pem"], self.paths["server.key"])
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()

    def json(self, url, value, max_age=300, status=200):
        """Serves `value` as JSON at the https URL `url`."""
        rest = url.split("://", 1)[1]
        name, _, path = rest.partition("/")
        self.routes[(name.split(":")[0], "/" + path)] = (
            status, {"Content-Type": "application/json", "Cache-Control": f"max-age={max_age}"},
            json.dumps(value).encode())

    def count(self, url):
        rest = url.split("://", 1)[1]
        name, _, path = rest.partition("/")
        with self.lock:
            return self.hits.get((name.split(":")[0], "/" + path), 0)

    def user_agents(self, url):
        rest = url.split("://", 1)[1]
        name, _, path = rest.partition("/")
        with self.lock:
            return list(self.agents.get((name.split(":")[0], "/" + path), []))

    def total(self, name):
        with self.lock:
            return sum(n for (h, _), n in self.hits.items() if h == name)
