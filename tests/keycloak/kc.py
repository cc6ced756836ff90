"""Driving a real Keycloak the way a browser would: a cookie jar, no automatic redirects, forms read from the
HTML Keycloak serves. Also: starting and stopping the server process, PKCE, JWT client assertions.

Only loopback is ever contacted (the e2e runs inside scripts/netns).
"""
import argparse
import base64
import hashlib
import html
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def driver_arguments():
    """The arguments every Keycloak driver takes (the e2e test, the cluster and MCP suites, the demo, the load
    driver); each adds its own."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--dist", required=True, help="the unpacked Keycloak distribution")
    ap.add_argument("--jar", required=True, help="the cimd extension's jar")
    ap.add_argument("--work", required=True, help="this run's directory")
    return ap


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value):
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def decode_jwt(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class Response:
    def __init__(self, status, headers, body, url):
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    @property
    def location(self):
        return self.headers.get("Location")

    def json(self):
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class _LocalhostIsSecure(http.cookiejar.DefaultCookiePolicy):
    """Browsers treat http://localhost as a secure context and send it Secure cookies; so does this client."""

    def return_ok_secure(self, cookie, request):
        return True


class Browser:
    """A cookie-keeping HTTP client that never follows redirects on its own."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar(policy=_LocalhostIsSecure())
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect(),
                                                  urllib.request.ProxyHandler({}))

    def request(self, method, url, form=None, headers=None, timeout=60, data=None):
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        if form is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(req, timeout=timeout) as r:
                return Response(r.status, r.headers, r.read(), url)
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read(), url)

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, form, **kw):
        return self.request("POST", url, form=form, **kw)


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": html.unescape(a.get("action") or ""), "id": a.get("id"), "inputs": {}})
        elif tag in ("input", "button") and self.forms and a.get("name"):
            if tag == "input" and a.get("type") in ("hidden", None, "text"):
                self.forms[-1]["inputs"][a["name"]] = a.get("value") or ""


def forms(page):
    p = _Forms()
    p.feed(page)
    return p.forms


def pkce_pair():
    verifier = b64url(secrets.token_bytes(32))
    challenge = b64url(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(key, kid):
    n = key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
            "x": b64url(n.x.to_bytes(32, "big")), "y": b64url(n.y.to_bytes(32, "big"))}


def client_assertion(key, kid, client_id, audience):
    """An RFC 7523 client assertion signed with ES256."""
    now = int(time.time())
    header = {"alg": "ES256", "typ": "JWT", "kid": kid}
    claims = {"iss": client_id, "sub": client_id, "aud": audience, "jti": secrets.token_hex(16),
              "iat": now, "exp": now + 60}
    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
    der = key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return signing_input + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


DB_USER, DB_PASSWORD = "cimd", "cimd-e2e"


class Keycloak:
    """One Keycloak distribution directory run as a process (`kc.sh start-dev`; with optimized=True, production
    mode: `kc.sh start --optimized` on a directory that `build` prepared, its database and hostname given in
    extra_args). pid_file, if given, holds the process group's id while the server runs."""

    def __init__(self, home, port, log_path, features=None, extra_args=(), heap="-Xms256m -Xmx1024m",
                 optimized=False, pid_file=None):
        self.optimized = optimized
        self.pid_file = pid_file
        self.home = home
        self.port = port
        self.base = f"http://localhost:{port}"
        self.log_path = log_path
        self.features = features
        self.extra_args = list(extra_args)
        self.heap = heap
        self.proc = None

    def start(self, timeout=600):
        args = [os.path.join(self.home, "bin", "kc.sh"), "start-dev", f"--http-port={self.port}", "--http-host=127.0.0.1",
                "--import-realm", "--cache=local", "--http-management-port=" + str(self.port + 1000),
                # Known credentials for the development database, so that tests can read it directly.
                f"--db-username={DB_USER}", f"--db-password={DB_PASSWORD}",
                # start-dev turns theme caching off (templates re-read on every page); production keeps it on,
                # and so do these runs, so that throughput figures mean what they would in production.
                "--spi-theme--cache-themes=true", "--spi-theme--cache-templates=true"]
        if self.optimized:
            # Production mode: build-time options (database kind, features, cache) are fixed by `build`.
            args = [os.path.join(self.home, "bin", "kc.sh"), "start", "--optimized", f"--http-port={self.port}",
                    "--http-host=127.0.0.1", "--http-enabled=true",
                    "--http-management-port=" + str(self.port + 1000)]
        elif self.features:
            args.append(f"--features={self.features}")
        args += self.extra_args
        env = dict(os.environ, KC_BOOTSTRAP_ADMIN_USERNAME="admin", KC_BOOTSTRAP_ADMIN_PASSWORD="admin",
                   JAVA_OPTS_KC_HEAP=self.heap)
        log = open(self.log_path, "ab")
        started = time.time()
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        if self.pid_file:
            with open(self.pid_file, "w") as f:
                f.write(str(self.proc.pid))
        while time.time() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Keycloak exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.base}/realms/master", timeout=5) as r:
                    if r.status == 200:
                        return time.time() - started
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(1)
        raise RuntimeError(f"Keycloak did not start within {timeout}s; see {self.log_path}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc and self.pid_file and os.path.exists(self.pid_file):
            os.remove(self.pid_file)
        self.proc = None

    def sql(self, query):
        """Runs SQL on the (stopped) server's H2 development database; returns the shell's output."""
        h2 = next(f for f in os.listdir(os.path.join(self.home, "lib", "lib", "main")) if f.startswith("com.h2database"))
        url = f"jdbc:h2:file:{os.path.join(self.home, 'data', 'h2', 'keycloakdb')};NON_KEYWORDS=VALUE"
        return subprocess.run(["java", "-cp", os.path.join(self.home, "lib", "lib", "main", h2), "org.h2.tools.Shell",
                               "-url", url, "-user", DB_USER, "-password", DB_PASSWORD, "-sql", query],
                              capture_output=True, text=True, check=True).stdout

    def admin_token(self):
        r = Browser().post(f"{self.base}/realms/master/protocol/openid-connect/token",
                           {"grant_type": "password", "client_id": "admin-cli", "username": "admin",
                            "password": "admin"})
        assert r.status == 200, r.text
        return r.json()["access_token"]

    def admin(self, method, path, token=None, form=None, body=None):
        """An admin REST call; `body`, if given, is sent as JSON."""
        token = token or self.admin_token()
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return Browser().request(method, f"{self.base}/admin/realms/{path}", form=form, headers=headers,
                                 data=None if body is None else json.dumps(body).encode())

    def metrics(self, prefix=""):
        """The management interface's /metrics (Keycloak started with --metrics-enabled=true), as
        [(name, {label: value}, value)] for the samples whose name starts with `prefix`."""
        import re
        with urllib.request.urlopen(f"http://localhost:{self.port + 1000}/metrics", timeout=30) as r:
            text = r.read().decode()
        sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)')
        label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
        out = []
        for line in text.splitlines():
            m = sample.match(line)
            if m and m.group(1).startswith(prefix):
                out.append((m.group(1), dict(label.findall(m.group(2) or "")), float(m.group(3))))
        return out

    def endpoints(self, realm):
        base = f"{self.base}/realms/{realm}/protocol/openid-connect"
        return {"auth": f"{base}/auth", "token": f"{base}/token", "issuer": f"{self.base}/realms/{realm}"}


def install(dist_zip_dir, target):
    """A fresh copy of the unpacked distribution at `target` (each server keeps its own data and build)."""
    if os.path.exists(target):
        shutil.rmtree(target)
    shutil.copytree(dist_zip_dir, target, symlinks=True)
    return target


def build(home, log_path, options):
    """`kc.sh build OPTIONS` (production mode's build step, e.g. --db=postgres --cache=ispn) with the providers
    already in `home`; returns the seconds it took."""
    started = time.time()
    with open(log_path, "ab") as log:
        subprocess.run([os.path.join(home, "bin", "kc.sh"), "build", *options], stdout=log, stderr=subprocess.STDOUT,
                       check=True)
    return time.time() - started


def authorize_url(kc, realm, client_id, redirect_uri, challenge, state="s1", scope="openid", extra=None):
    """The authorization request's URL; `extra`: more parameters (e.g. RFC 8707's resource)."""
    q = {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code", "scope": scope,
         "state": state, "code_challenge": challenge, "code_challenge_method": "S256", **(extra or {})}
    return kc.endpoints(realm)["auth"] + "?" + urllib.parse.urlencode(q)


def login(browser, kc, realm, client_id, redirect_uri, username="alice", password="alice-password", consent=True,
          scope="openid", extra=None):
    """Authorization request → login form → consent page → redirect with code. Returns a dict of what happened."""
    verifier, challenge = pkce_pair()
    out = {"verifier": verifier}
    r = browser.get(authorize_url(kc, realm, client_id, redirect_uri, challenge, scope=scope, extra=extra))
    out["authorize"] = r
    if r.status != 200:
        return out
    form = next((f for f in forms(r.text) if f["id"] == "kc-form-login"), None)
    if form is None:
        return out
    r = follow_own(browser, kc, browser.post(urllib.parse.urljoin(r.url, form["action"]), {"username": username, "password": password,
                                                                "credentialId": ""}))
    out["after_login"] = r
    if r.status == 200 and consent:
        out["consent_page"] = r.text
        page_url = r.url
        grant = next((f for f in forms(r.text) if "code" in f["inputs"]), None)
        if grant is None:
            return out
        r = follow_own(browser, kc, browser.post(urllib.parse.urljoin(page_url, grant["action"]), {"code": grant["inputs"]["code"], "accept": "Yes"}))
        out["after_consent"] = r
    if r.status in (302, 303) and r.location:
        out["redirect"] = r.location
        q = urllib.parse.parse_qs(urllib.parse.urlparse(r.location).query)
        out["code"] = q.get("code", [None])[0]
        out["state"] = q.get("state", [None])[0]
    return out


def concurrent_gets(url, n):
    """`n` browsers GET `url` at the same instant (a barrier releases them together); the statuses, in no order."""
    statuses, lock, barrier = [], threading.Lock(), threading.Barrier(n)

    def one():
        b = Browser()
        barrier.wait()
        r = b.get(url, timeout=120)
        with lock:
            statuses.append(r.status)
    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def follow_own(browser, kc, r, limit=5):
    """Follows redirects that stay on Keycloak (required actions such as the consent page), as a browser would;
    stops at a redirect to anywhere else (the client's redirect_uri)."""
    while limit and r.status in (302, 303) and r.location:
        target = urllib.parse.urljoin(r.url, r.location)
        if not target.startswith(kc.base):
            break
        r = browser.get(target)
        limit -= 1
    return r


def token(kc, realm, form):
    return Browser().post(kc.endpoints(realm)["token"], form)
