"""The MCP end-to-end suite (issue 31, point 1): each MCP SDK's own client code against Keycloak with the cimd
extension, a loopback HTTPS host serving each client's metadata document, and a minimal MCP server that verifies
bearer tokens strictly; the user's part is done by a real headless browser. Run by `make mcp-e2e`
(scripts/mcp-e2e.sh) inside scripts/keycloak-netns: only loopback exists, the test host names come from its hosts
file.

    harness.py --dist DIR --jar JAR --work DIR [--sdk python,ts,go] [--clients FILE] [--results FILE]
               [--cases flow,warm,a,b,c] [--client-stderr]

What runs, all on 127.0.0.1 and all children of this process (stopped at the end, whatever happens):
  - Keycloak (tests/keycloak/kc.py) with the extension, one realm (tests/keycloak/e2e.py's realm_json: the cimd
    component, its client policy, user alice) whose component allows server A's resource only (allowed_resources:
    the requested RFC 8707 resource becomes the token's aud), whose access tokens live ACCESS_TOKEN_LIFESPAN
    seconds and whose events are stored, so that a refresh shows as a REFRESH_TOKEN event;
  - the document host (tests/keycloak/dochost.py, the test origin) serving each SDK's client documents;
  - two MCP servers (tests/mcp/server.py): A, whose resource the realm allows, and B, another resource;
  - Debian's chromium through chromedriver (tests/mcp/browser.py);
  - each SDK's client program, one run at a time.

The client programs (the contract they follow, in their words and ours):
  <client> --server-url http://127.0.0.1:PORT/mcp --client-id https://HOST/PATH.json --callback-port N
           [--refresh-after SECONDS]
  The SDK's own OAuth support does discovery, PKCE, the token request, the refresh and the tool call; the program
  listens for the callback at http://127.0.0.1:N/callback and writes one JSON line per step on stdout:
  {"step":"authorize","url":...}, {"step":"callback","code_received":true} (or "error"/"error_description"),
  {"step":"tool","call":1,"result":...}, after --refresh-after seconds {"step":"tool","call":2,...},
  {"step":"done"} and exit 0; on failure {"step":"error","message":...} (naming an authorization error such as
  invalid_target) and exit 1. It gives up after 120 s without a callback.
  Python: tests/mcp/clients/python/client.py (run with this interpreter, the suite's venv). TypeScript and Go:
  built by tests/mcp/clients/build.sh OUT outside the namespace, which prints `ts=PATH` and `go=PATH`; --clients
  names the file holding those lines.

Per SDK the cases are: the flow (first login in the browser, whose consent page must name the client and its
host; tool call 1 whose token has aud = server A's resource and azp = the client_id URL; the SDK's own refresh,
shown by a REFRESH_TOKEN event and a different jti; tool call 2), the same flow again, without the wait, with the
engine's cache warm (for the timings: first request to the MCP server → first tool result, cold and warm), and
three negative cases: (a) server B, whose resource the realm does not allow → invalid_target; (b) a document
whose redirect_uris does not contain the SDK's callback → Keycloak's error page, no callback; (c) the SDK's token
for A presented to B → 401 from B.

Results: one line per case on stdout (PASS or FAIL with its evidence), and the JSON of --results with
every case, the per-SDK timings and document fetch counts, and the screenshots' paths.
"""
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "keycloak"))
sys.path.insert(0, HERE)
import kc as K  # noqa: E402
from browser import HeadlessChromium  # noqa: E402
from dochost import DocHost  # noqa: E402
from e2e import realm_json  # noqa: E402

REALM = "mcp"
DOC_HOST = "app.example.com"
ACCESS_TOKEN_LIFESPAN = 20
REFRESH_AFTER = ACCESS_TOKEN_LIFESPAN + 6
SERVER_A_PORT, SERVER_B_PORT = 18100, 18101
CALLBACK_PORTS = {"python": 33401, "ts": 33402, "go": 33403}
SDKS = ("python", "ts", "go")
CASES = ("flow", "warm", "a", "b", "c")
STEP_TIMEOUT = 60.0

def resource(port):
    return f"http://127.0.0.1:{port}/mcp"


def client_doc(sdk, client_id, redirect_uri):
    return {"client_id": client_id, "client_name": f"MCP e2e ({sdk} SDK)", "client_uri": f"https://{DOC_HOST}/",
            "redirect_uris": [redirect_uri], "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"], "token_endpoint_auth_method": "none"}


def find_clients(requested, clients_file):
    """{sdk: argv prefix} for the SDKs whose client program is here; `requested` None means all present.
    `clients_file` holds what tests/mcp/clients/build.sh printed: lines `ts=PATH` and `go=PATH` (a .mjs or .js
    path runs with node, anything else is the executable)."""
    # --narrate: the Python client's account of each exchange (the one `make demo` shows) lands in its log here.
    found = {"python": [sys.executable, os.path.join(HERE, "clients", "python", "client.py"), "--narrate"]}
    if clients_file and os.path.exists(clients_file):
        with open(clients_file) as f:
            for line in f:
                sdk, _, path = line.strip().partition("=")
                if sdk in SDKS and sdk != "python" and os.path.exists(path):
                    found[sdk] = ["node", path] if path.endswith((".mjs", ".js")) else [path]
    if requested is None:
        return {s: found[s] for s in SDKS if s in found}, [s for s in SDKS if s not in found]
    missing = [s for s in requested if s not in found]
    if missing:
        raise SystemExit(f"mcp harness: no client program for {', '.join(missing)} (see the docstring)")
    return {s: found[s] for s in requested}, []


class Child:
    """A child process in its own process group, killed with its group at the end."""

    def __init__(self, argv, log_path, stdout=None, stderr_here=False):
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=stdout if stdout is not None else self.log,
                                     stderr=None if stderr_here else self.log, stdin=subprocess.DEVNULL,
                                     start_new_session=True)

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        self.log.close()


class McpServer:
    def __init__(self, name, port, issuer, work):
        self.name = name
        self.port = port
        self.resource = resource(port)
        self.record = os.path.join(work, f"server-{name}.jsonl")
        open(self.record, "w").close()
        self.child = Child([sys.executable, os.path.join(HERE, "server.py"), "--port", str(port), "--issuer", issuer,
                            "--record", self.record], os.path.join(work, f"server-{name}.log"))
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp",
                                            timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.child.stop()
        raise RuntimeError(f"MCP server {name} did not start; see server-{name}.log")

    def records(self):
        with open(self.record) as f:
            return [json.loads(line) for line in f if line.strip()]

    def tokens(self, since, ok):
        """The server's token decisions from record `since` on: the accepted ones (ok) or the refused ones."""
        return [r for r in self.records()[since:] if r["kind"] == "token" and r["ok"] == ok]

    def stop(self):
        self.child.stop()


class ClientRun:
    """One run of a client program: its stdout steps, each with the time it arrived."""

    def __init__(self, argv, log_path, stderr_here=False):
        self.started = time.time()
        self.child = Child(argv, log_path, stdout=subprocess.PIPE, stderr_here=stderr_here)
        self.steps = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.child.proc.stdout:
            try:
                step = json.loads(raw)
            except ValueError:
                step = {"step": "garbage", "line": raw.decode("utf-8", "replace").rstrip()}
            self.steps.put((time.time(), step))
        self.steps.put((time.time(), {"step": "eof"}))

    def next(self, timeout=STEP_TIMEOUT):
        try:
            at, step = self.steps.get(timeout=timeout)
        except queue.Empty:
            step, at = {"step": "timeout", "after_s": timeout}, time.time()
        self.seen.append(step)
        return at, step

    def expect(self, name, timeout=STEP_TIMEOUT):
        at, step = self.next(timeout)
        assert step.get("step") == name, f"expected step {name!r}, got {step}"
        return at, step

    def stop(self):
        self.child.stop()


class Results:
    def __init__(self):
        self.rows = []

    def case(self, sdk, name, fn):
        started = time.time()
        try:
            evidence, status = fn(), "PASS"
        except AssertionError as e:
            evidence, status = f"assertion failed: {e}", "FAIL"
        except Exception as e:  # noqa: BLE001 - a crashed case is a failed case, with its trace
            evidence, status = f"{type(e).__name__}: {e}\n{traceback.format_exc()}", "FAIL"
        took = time.time() - started
        row = {"sdk": sdk, "case": name, "status": status, "evidence": evidence, "seconds": round(took, 1)}
        self.rows.append(row)
        print(f"{status} [{sdk}] {name} ({took:.1f}s): {evidence}", flush=True)
        return row


def main():
    ap = K.driver_arguments()
    ap.add_argument("--sdk", help="comma-separated, of python,ts,go (default: every one whose client is here)")
    ap.add_argument("--clients", help="a file with what tests/mcp/clients/build.sh printed (ts=PATH, go=PATH)")
    ap.add_argument("--results", help="write every case, the timings and the screenshots' paths as JSON here")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--refresh-after", type=float, default=REFRESH_AFTER)
    ap.add_argument("--cases", default=",".join(CASES),
                    help=f"comma-separated, of {','.join(CASES)} (warm and c need flow); default all")
    ap.add_argument("--client-stderr", action="store_true",
                    help="the clients' stderr (the Python client's narration) here rather than in their logs")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    requested = [s.strip() for s in args.sdk.split(",") if s.strip()] if args.sdk else None
    if requested and any(s not in SDKS for s in requested):
        raise SystemExit(f"--sdk: choose among {','.join(SDKS)}")
    args.cases = {c.strip() for c in args.cases.split(",") if c.strip()}
    if not args.cases <= set(CASES) or not args.cases:
        raise SystemExit(f"--cases: choose among {','.join(CASES)}")
    clients, absent = find_clients(requested, args.clients)
    for s in absent:
        print(f"NOTE [{s}] no client program here (tests/mcp/clients/build.sh not run or not present): not run",
              flush=True)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = []
    results = Results()
    meta = {"sdks": list(clients), "absent": absent, "allowed_resources": [resource(SERVER_A_PORT)],
            "access_token_lifespan_s": ACCESS_TOKEN_LIFESPAN, "refresh_after_s": args.refresh_after}
    timings, state = {}, {}
    try:
        results.case("-", "the MCP server's token check (tokens signed here): the right one only", server_check)
        results.case("-", "setup: document host, Keycloak with the extension, MCP servers A and B, chromium",
                     lambda: setup(args, clients, meta, started, state))
        if "env" in state:
            for sdk, argv in clients.items():
                good, wrong = state["docs"][sdk]
                timings[sdk] = {}
                sdk_cases(state["env"], results, sdk, argv, good, wrong, timings[sdk])
    finally:
        for thing in reversed(started):
            try:
                thing.stop() if hasattr(thing, "stop") else thing.close()
            except Exception as e:  # noqa: BLE001 - keep stopping the others
                print(f"cleanup: {type(e).__name__}: {e}", file=sys.stderr)
    failed = [r for r in results.rows if r["status"] == "FAIL"]
    passed = [r for r in results.rows if r["status"] == "PASS"]
    if args.results:
        with open(args.results, "w") as f:
            json.dump({"meta": meta, "timings": timings, "cases": results.rows,
                       "summary": {"passed": len(passed), "failed": len(failed)}}, f,
                      indent=1)
    print(f"mcp-e2e: {len(passed)} passed, {len(failed)} failed; "
          f"SDKs: {', '.join(clients)}" + (f"; not present: {', '.join(absent)}" if absent else ""), flush=True)
    return 1 if failed or not results.rows else 0


def server_check():
    import server
    reasons = server.self_check()
    return "; ".join(f"{case}: {reason}" for case, reason in reasons.items())


def documented_realm(ca_file, allowed_resources):
    """The realm configuration of docs/mcp.md (its first JSON block), as a user copies it, plus only what a test needs:
    this run's MCP server in allowed_resources, loopback document hosts and the throwaway CA, plain http on loopback,
    the test user (tests/keycloak/e2e.py's, with the realm's default roles) and stored events."""
    with open(os.path.join(REPO, "docs", "mcp.md")) as f:
        realm = json.loads(f.read().split("```json\n", 1)[1].split("```", 1)[0])
    assert realm["realm"] == REALM, realm["realm"]
    config = realm["components"]["org.keycloak.storage.client.ClientStorageProvider"][0]["config"]
    assert config.get("allowed_resources"), "docs/mcp.md's realm no longer sets allowed_resources"
    config.update(allowed_resources=allowed_resources, allow_loopback=["true"], extra_ca_file=[ca_file])
    realm.update(sslRequired="none", eventsEnabled=True, users=realm_json(REALM, ca_file, ["none"])["users"])
    return realm


def setup(args, clients, meta, started, state):
    host = DocHost(args.work, [DOC_HOST, "localhost"]).start()
    started.append(host)
    home = K.install(args.dist, os.path.join(args.work, "keycloak"))
    os.makedirs(os.path.join(home, "providers"), exist_ok=True)
    shutil.copy(args.jar, os.path.join(home, "providers", "cimd-keycloak.jar"))
    import_dir = os.path.join(home, "data", "import")
    os.makedirs(import_dir, exist_ok=True)
    # Server A's resource is the only one the realm allows; B's is refused (case a).
    realm = documented_realm(host.ca_file, [resource(SERVER_A_PORT)])
    realm["accessTokenLifespan"] = ACCESS_TOKEN_LIFESPAN
    # Keycloak stores REFRESH_TOKEN events only when asked to (it is not among the types saved by default).
    realm["enabledEventTypes"] = ["LOGIN", "LOGIN_ERROR", "CODE_TO_TOKEN", "CODE_TO_TOKEN_ERROR", "REFRESH_TOKEN",
                                  "REFRESH_TOKEN_ERROR"]
    with open(os.path.join(import_dir, f"{REALM}.json"), "w") as f:
        json.dump(realm, f)

    docs = {}
    for sdk in clients:
        good = f"https://{DOC_HOST}/mcp/{sdk}.json"
        wrong = f"https://{DOC_HOST}/mcp/{sdk}-wrong-redirect.json"
        port = CALLBACK_PORTS[sdk]
        host.json(good, client_doc(sdk, good, f"http://127.0.0.1:{port}/callback"))
        host.json(wrong, client_doc(sdk, wrong, f"http://127.0.0.1:{port + 100}/elsewhere"))
        docs[sdk] = (good, wrong)
    warmup = f"https://{DOC_HOST}/mcp/warmup.json"
    host.json(warmup, client_doc("warm-up", warmup, "http://127.0.0.1:33499/callback"))

    kc = K.Keycloak(home, args.port, os.path.join(args.work, "keycloak.log"))
    started.append(kc)  # before start(): a server that never answers is stopped too
    took = kc.start()
    issuer = kc.endpoints(REALM)["issuer"]
    a = McpServer("A", SERVER_A_PORT, issuer, args.work)
    started.append(a)
    b = McpServer("B", SERVER_B_PORT, issuer, args.work)
    started.append(b)
    browser = HeadlessChromium(args.work)
    started.append(browser)
    meta["chromium"] = browser.version
    meta["keycloak"] = os.path.basename(args.dist.rstrip("/"))

    # One login with another URL client first, so that the JVM is as warm for the first SDK as for the last: the
    # cold/warm timings then differ by the engine's cache only.
    w = K.login(K.Browser(), kc, REALM, warmup, "http://127.0.0.1:33499/callback")
    assert w.get("code"), "warm-up login failed"

    user_id = kc.admin("GET", f"{REALM}/users?username=alice&exact=true").json()[0]["id"]
    state["env"] = Env(kc, host, a, b, browser, args, user_id, issuer)
    state["docs"] = docs
    return (f"Keycloak started in {took:.0f}s, chromium {browser.version}, servers {a.resource} (allowed) and "
            f"{b.resource}")


class Env:
    def __init__(self, kc, host, a, b, browser, args, user_id, issuer):
        self.kc, self.host, self.a, self.b, self.browser = kc, host, a, b, browser
        self.args, self.user_id, self.issuer = args, user_id, issuer

    def signed_out(self, client_id):
        """Alice's sessions ended and her consent to `client_id` revoked: each run starts as a first login."""
        token = self.kc.admin_token()
        r = self.kc.admin("POST", f"{REALM}/users/{self.user_id}/logout", token)
        assert r.status == 204, f"logout: {r.status} {r.text[:200]}"
        r = self.kc.admin("DELETE", f"{REALM}/users/{self.user_id}/consents/{urllib.parse.quote(client_id, safe='')}",
                          token)
        assert r.status in (204, 404), f"revoking the consent: {r.status} {r.text[:200]}"

    def events(self, since_ms):
        """The realm's stored events since `since_ms` (epoch milliseconds), oldest first."""
        q = urllib.parse.urlencode({"dateFrom": since_ms, "max": 1000})
        r = self.kc.admin("GET", f"{REALM}/events?{q}")
        assert r.status == 200, f"events: {r.status} {r.text[:200]}"
        return sorted((e for e in r.json() if e.get("time", 0) >= since_ms), key=lambda e: e.get("time", 0))

    def flow(self, sdk, argv, client_id, server, shot, refresh_after=0.0, wait_callback=True):
        """Starts the client, does the browser's part; returns (run, browser outcome, times)."""
        self.signed_out(client_id)
        mark = len(server.records())
        port = CALLBACK_PORTS[sdk]
        run = ClientRun(argv + ["--server-url", server.resource, "--client-id", client_id, "--callback-port",
                                str(port), "--refresh-after", f"{refresh_after:g}"],
                        os.path.join(self.args.work, f"client-{shot}.log"), stderr_here=self.args.client_stderr)
        try:
            _, step = run.expect("authorize")
            outcome = self.browser.authorize(step["url"], f"http://127.0.0.1:{port}/", self.kc.base, shot)
        except BaseException:
            run.stop()
            raise
        return run, outcome, mark


def sdk_cases(env, results, sdk, argv, good, wrong, timing):
    a, b, host, kc = env.a, env.b, env.host, env.kc
    state = {}

    def first_login_refresh():
        fetches0 = host.count(good)
        since = int(time.time() * 1000) - 1000
        run, out, mark = env.flow(sdk, argv, good, a, f"{sdk}-flow", refresh_after=env.args.refresh_after)
        try:
            state["flow_outcome"] = out.as_dict()
            assert "login" in out.pages, f"no login page: {out.as_dict()}"
            assert "consent" in out.pages, f"no consent page: {out.as_dict()}"
            assert f"MCP e2e ({sdk} SDK) ({DOC_HOST})" in (out.consent_title or ""), \
                f"consent title lacks the client's name and host: {out.consent_title!r}"
            assert out.callback_reached, f"browser did not reach the callback: {out.final_url}"
            _, cb = run.expect("callback")
            assert cb.get("code_received") is True, cb
            t1, tool1 = run.expect("tool")
            c1 = json.loads(tool1["result"])
            assert tool1.get("call") == 1, tool1
            recs = a.records()[mark:]
            first = next(r for r in recs if r["kind"] == "request")
            timing["cold_first_request_to_tool_s"] = round(t1 - first["t"], 3)
            timing["cold_document_fetches"] = host.count(good) - fetches0
            timing["cold_authorize_page_s"] = out.authorize_page_s
            state["token"] = next(r["token"] for r in recs if r["kind"] == "token" and r["ok"]
                                  and r["claims"].get("jti") == c1["jti"])
            assert_aud(c1["aud"], a.resource)
            assert c1["azp"] == good, f"azp {c1['azp']!r}"
            _, tool2 = run.next(timeout=env.args.refresh_after + STEP_TIMEOUT)
            if tool2.get("step") != "tool":
                refused = [(r["reason"], r["claims"]) for r in a.records()[mark:] if r["kind"] == "token"
                           and not r["ok"]]
                what = ("a new authorization (the refresh gave no usable token)" if tool2.get("step") == "authorize"
                        else str(tool2)[:300])
                raise AssertionError(f"no tool call 2 but {what}; server A refused {refused[-1:]}")
            c2 = json.loads(tool2["result"])
            assert tool2.get("call") == 2, tool2
            run.expect("done")
            assert run.child.proc.wait(timeout=15) == 0, f"exit {run.child.proc.returncode}"
        finally:
            run.stop()
        assert c2["jti"] != c1["jti"], f"call 2 used the same token (jti {c1['jti']})"
        assert_aud(c2["aud"], a.resource)
        events = env.events(since)
        refreshes = [e for e in events if e.get("type") == "REFRESH_TOKEN" and e.get("clientId") == good]
        assert refreshes, ("no REFRESH_TOKEN event for the client during the run; events: "
                           f"{[(e.get('type'), e.get('clientId')) for e in events]}")
        shots = ", ".join(os.path.basename(s) for s in out.screenshots)
        return (f"consent {out.consent_title!r}; call 1 aud={c1['aud']} azp={c1['azp']} jti={c1['jti'][:8]}; "
                f"{len(refreshes)} REFRESH_TOKEN event(s); call 2 jti={c2['jti'][:8]} (differs); "
                f"first request → tool result {timing['cold_first_request_to_tool_s']}s, document fetched "
                f"{timing['cold_document_fetches']}x; screenshots {shots}")
    if "flow" in env.args.cases:
        row = results.case(sdk, "first login (browser, consent), tool call, SDK's refresh, tool call",
                           first_login_refresh)
        row["browser"] = state.get("flow_outcome")

    def warm():
        fetches0 = host.count(good)
        run, out, mark = env.flow(sdk, argv, good, a, f"{sdk}-warm")
        try:
            assert out.callback_reached, f"browser did not reach the callback: {out.as_dict()}"
            run.expect("callback")
            t1, tool1 = run.expect("tool")
            run.expect("tool")
            run.expect("done")
        finally:
            run.stop()
        recs = a.records()[mark:]
        jti = json.loads(tool1["result"])["jti"]
        # Case (c) presents this token to server B next, well within its lifetime.
        state["token"] = next(r["token"] for r in recs if r["kind"] == "token" and r["ok"]
                              and r["claims"].get("jti") == jti)
        first = next(r for r in recs if r["kind"] == "request")
        timing["warm_first_request_to_tool_s"] = round(t1 - first["t"], 3)
        timing["warm_document_fetches"] = host.count(good) - fetches0
        timing["warm_authorize_page_s"] = out.authorize_page_s
        assert timing["warm_document_fetches"] == 0, f"document fetched {timing['warm_document_fetches']}x"
        return (f"first request → tool result {timing['warm_first_request_to_tool_s']}s (cold "
                f"{timing.get('cold_first_request_to_tool_s')}s); authorization URL → login page "
                f"{out.authorize_page_s}s (cold {timing.get('cold_authorize_page_s')}s); document not fetched again")
    if "warm" in env.args.cases:
        results.case(sdk, "the same flow with the engine's cache warm (timing)", warm)

    def other_resource():
        token = state.get("token")
        assert token, "no token from the flow to present"
        left = K.decode_jwt(token)["exp"] - time.time()
        assert left > 2, f"the token expires in {left:.0f}s: B's refusal would not be about the resource"
        mark = len(b.records())
        call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}
        req = urllib.request.Request(b.resource, method="POST", data=json.dumps(call).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                     "Accept": "application/json, text/event-stream"})
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10) as r:
                status, www = r.status, r.headers.get("WWW-Authenticate")
        except urllib.error.HTTPError as e:
            status, www = e.code, e.headers.get("WWW-Authenticate")
        assert status == 401, f"server B answered {status}"
        assert 'error="invalid_token"' in (www or ""), www
        refusals = b.tokens(mark, ok=False)
        assert refusals and "Audience" in refusals[-1]["reason"], f"B's reason: {refusals}"
        return f"B: 401, {refusals[-1]['reason']} (token valid {left:.0f}s more); WWW-Authenticate {www[:120]}"
    if "c" in env.args.cases:
        results.case(sdk, "(c) the SDK's token for A presented to server B → 401", other_resource)

    def resource_not_allowed():
        run, out, mark = env.flow(sdk, argv, good, b, f"{sdk}-neg-resource")
        try:
            steps = []
            while True:
                _, s = run.next(timeout=STEP_TIMEOUT)
                steps.append(s)
                if s["step"] in ("error", "done", "eof", "timeout"):
                    break
                if s["step"] == "authorize":
                    # Had the realm let B's resource through, B would refuse the token (its aud is not B) and the
                    # SDK would start authorizing again: it will not get further.
                    break
        finally:
            run.stop()
        last = steps[-1]
        b_refused = [r["reason"] for r in b.tokens(mark, ok=False)]
        assert last["step"] == "error", (f"the client did not fail; its steps {[x['step'] for x in steps]}, "
                                         f"server B refused its token(s): {b_refused[:1]}")
        assert "invalid_target" in last.get("message", ""), f"no invalid_target: {last.get('message', '')[:400]}"
        accepted = b.tokens(mark, ok=True)
        assert not accepted, "server B accepted a token"
        return f"client failed with {last['message'][:200]!r}; browser {out.pages} → {out.final_url[:80]}"
    if "a" in env.args.cases:
        results.case(sdk, "(a) a resource the realm does not allow → invalid_target", resource_not_allowed)

    def redirect_mismatch():
        run, out, _ = env.flow(sdk, argv, wrong, a, f"{sdk}-neg-redirect")
        try:
            assert not out.callback_reached, f"the browser reached the callback: {out.final_url}"
            assert "error" in out.pages, f"no error page: {out.as_dict()}"
            _, s = run.next(timeout=3)
            assert s["step"] == "timeout", f"the client got something: {s}"
        finally:
            run.stop()
        assert "redirect" in (out.error_text or "").lower(), f"no redirect on the error page: {out.error_text!r}"
        shot = os.path.basename(out.screenshots[-1])
        return f"Keycloak error page {out.error_text!r}, no callback; screenshot {shot}"
    if "b" in env.args.cases:
        results.case(sdk, "(b) document whose redirect_uris lacks the SDK's callback → error page, no callback",
                     redirect_mismatch)


def assert_aud(aud, expected):
    """`aud` is `expected` and nothing else (a string, or a list of that one string)."""
    assert (aud if isinstance(aud, list) else [aud]) == [expected], f"aud {aud!r} is not exactly {expected}"


if __name__ == "__main__":
    sys.exit(main())
