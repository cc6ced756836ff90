"""The cluster suite (issue 32): two Keycloak nodes in production mode on one PostgreSQL, with the cimd extension,
and logins whose steps land on different nodes. Run by scripts/keycloak-cluster.sh (which starts PostgreSQL and
runs this inside scripts/netns); `make keycloak-cluster-test`, part of `make test`.

    python3 tests/keycloak/cluster.py --dist DIR --jar JAR --work DIR --db-url URL --db-username U --db-password P
                                      [--pids DIR] [--results FILE]

Both nodes are built once (`kc.sh build --db=postgres --cache=ispn`) and started with `kc.sh start --optimized`;
they cluster through Keycloak's default jdbc-ping stack over 127.0.0.1. Both have the same public URL
(PUBLIC, on which nothing listens): this test plays the load balancer, sending each request of a flow to the
node it picks. Every case prints PASS or FAIL with its evidence; the last line is "cluster: N passed, M failed".
"""
import json
import os
import re
import shutil
import sys
import time
import traceback
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kc as K  # noqa: E402
from dochost import DocHost  # noqa: E402
from e2e import WEB, WEB_CB, PKJWT, PKJWT_JWKS, doc, realm_json  # noqa: E402

PUBLIC_PORT = 8480
PUBLIC = f"http://localhost:{PUBLIC_PORT}"
NODES = {"a": {"http": 8481, "jgroups": 7800}, "b": {"http": 8482, "jgroups": 7820}}
REALM = "cimd-cluster"
HOSTS = ["app.example.com", "tools.example.org", "keys.example.com"]
PKJWT_CB = "https://tools.example.org/cb"
# A client alice has not consented to before the mid-login case, so that its consent page is served by node b.
MIDWAY = "https://app.example.com/clients/midway.json"
# Long enough that no document expires during the run: every fetch counted is a node's first sight of it.
MAX_AGE = 3600
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class _Public:
    """The public URL both nodes are configured with (what K.login and K.authorize_url build URLs from)."""
    base = PUBLIC
    endpoints = K.Keycloak.endpoints


Public = _Public()


class Routed(K.Browser):
    """A browser behind the load balancer: a request for the public URL goes to `self.node` (its loopback port),
    with the public Host header; cookies are kept across nodes as a browser keeps them for one site."""

    def __init__(self, node):
        super().__init__()
        self.node = node

    def request(self, method, url, form=None, headers=None, timeout=60):
        target = url
        if url.startswith(PUBLIC + "/"):
            target = self.node.base + url[len(PUBLIC):]
        r = super().request(method, target, form=form, headers=dict(headers or {}, Host=f"localhost:{PUBLIC_PORT}"),
                            timeout=timeout)
        r.url = url  # relative links and form actions resolve against the public URL, as in a browser
        return r


def on(node, method, url, form=None):
    return Routed(node).request(method, url, form=form)


class Results:
    def __init__(self):
        self.rows = []

    def case(self, name, fn):
        started = time.time()
        try:
            evidence, ok = fn(), True
        except AssertionError as e:
            ok, evidence = False, f"assertion failed: {e}"
        except Exception as e:  # noqa: BLE001 - a crashed case is a failed case, with its trace
            ok, evidence = False, f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
        took = time.time() - started
        self.rows.append({"name": name, "ok": ok, "seconds": round(took, 1), "evidence": evidence})
        print(f"{'PASS' if ok else 'FAIL'} {name} ({took:.1f}s): {evidence}", flush=True)


def cluster_view(log_path):
    """Member count of the last Infinispan cluster view a node logged, and the JGroups stack it started."""
    with open(log_path, errors="replace") as f:
        text = f.read()
    views = re.findall(r"ISPN000094: Received new cluster view[^\n]*?\((\d+)\) \[([^\]]*)\]", text)
    stack = re.search(r"ISPN000078: Starting JGroups channel `?\S+?`? with stack `?([\w-]+)", text)
    members = int(views[-1][0]) if views else 0
    return members, (views[-1][1] if views else ""), (stack.group(1) if stack else None)


def served(log_path):
    """{(method, endpoint): count} of the realm's OIDC endpoint requests in a node's access log."""
    with open(log_path, errors="replace") as f:
        hits = re.findall(rf'"(GET|POST) /realms/{REALM}/(?:protocol/openid-connect/(auth|token|userinfo)'
                          rf'|login-actions/(authenticate|required-action))', f.read())
    out = {}
    for method, oidc, action in hits:
        key = f"{method} {oidc or action}"
        out[key] = out.get(key, 0) + 1
    return out


def grant_page(browser, r):
    """Follows a login POST's answer through the consent page, if any (consent is remembered per user and client),
    to the client's redirect; (the code or None, whether a consent page was shown)."""
    r = K.follow_own(browser, Public, r)
    consent = r.status == 200
    if consent:
        grant = next((f for f in K.forms(r.text) if "code" in f["inputs"]), None)
        assert grant, f"no consent form on the page after login ({r.status})"
        r = K.follow_own(browser, Public, browser.post(urllib.parse.urljoin(r.url, grant["action"]),
                                                       {"code": grant["inputs"]["code"], "accept": "Yes"}))
    assert r.status in (302, 303) and r.location, f"no redirect to the client: {r.status} {r.text[:200]}"
    return urllib.parse.parse_qs(urllib.parse.urlparse(r.location).query).get("code", [None])[0], consent


def cluster_arguments():
    """The driver's arguments plus the database and the pid directory (scripts/keycloak-cluster.sh passes them)."""
    ap = K.driver_arguments()
    ap.add_argument("--db-url", required=True)
    ap.add_argument("--db-username", required=True)
    ap.add_argument("--db-password", required=True)
    ap.add_argument("--pids", help="directory for the nodes' process-group ids (the script's exit trap reads it)")
    ap.add_argument("--results")
    return ap


def prepare_nodes(args, realm, timings, build_options=(), node_options=()):
    """One production build with the extension (`kc.sh build --db=postgres --cache=ispn` plus `build_options`),
    copied per node (each keeps its own data/ directory); the nodes, not started, as {"a": Keycloak, "b": ...}.
    Node a imports `realm` (a realm representation) on its first start; node b finds it in the database."""
    build = K.install(args.dist, os.path.join(args.work, "build"))
    os.makedirs(os.path.join(build, "providers"), exist_ok=True)
    shutil.copy(args.jar, os.path.join(build, "providers", "cimd-keycloak.jar"))
    options = ["--db=postgres", "--cache=ispn", *build_options]
    took = K.build(build, os.path.join(args.work, "build.log"), options)
    timings["build_s"] = round(took, 1)
    print(f"cluster: kc.sh build {' '.join(options)} took {timings['build_s']:.0f}s", flush=True)
    nodes = {}
    for name, ports in NODES.items():
        home = K.install(build, os.path.join(args.work, f"node-{name}"))
        extra = [f"--hostname={PUBLIC}", f"--db-url={args.db_url}", f"--db-username={args.db_username}",
                 f"--db-password={args.db_password}",
                 "--cache-embedded-network-bind-address=127.0.0.1",
                 f"--cache-embedded-network-bind-port={ports['jgroups']}",
                 f"--spi-cache-embedded-default-node-name=node-{name}",
                 # Each node's access log shows which steps of the flows it served.
                 "--http-access-log-enabled=true", *node_options]
        if name == "a":
            # The realm is imported by the first node only; the second finds it in the database.
            import_dir = os.path.join(home, "data", "import")
            os.makedirs(import_dir, exist_ok=True)
            with open(os.path.join(import_dir, f"{realm['realm']}.json"), "w") as f:
                json.dump(realm, f)
            extra.append("--import-realm")
        nodes[name] = K.Keycloak(home, ports["http"], os.path.join(args.work, f"keycloak-{name}.log"), extra_args=extra,
                                 heap="-Xms256m -Xmx768m", optimized=True,
                                 pid_file=os.path.join(args.pids, f"node-{name}") if args.pids else None)
    return nodes


def start_nodes(nodes, timings):
    """In turn: the first start creates the schema and imports the realm, the second joins."""
    for name, node in nodes.items():
        timings[f"start_{name}_s"] = round(node.start(), 1)
        print(f"cluster: node {name} started in {timings[f'start_{name}_s']:.0f}s", flush=True)


def stop_all(nodes, host):
    """Every node, then the document host (the script's exit trap ends whatever survives)."""
    for node in nodes.values():
        node.stop()
    host.stop()


def tally(res):
    """(passed, failed) of the cases run."""
    passed = sum(1 for r in res.rows if r["ok"])
    return passed, len(res.rows) - passed


def main():
    args = cluster_arguments().parse_args()
    suite_started = time.time()
    timings = {}

    host = DocHost(args.work, HOSTS).start()
    host.json(WEB, doc(WEB), max_age=MAX_AGE)
    host.json(MIDWAY, doc(MIDWAY, client_name="E2E Midway"), max_age=MAX_AGE)
    agent_key = K.ec_key()
    host.json(PKJWT, doc(PKJWT, client_name="E2E Agent", redirect_uris=[PKJWT_CB],
                         token_endpoint_auth_method="private_key_jwt", jwks_uri=PKJWT_JWKS), max_age=MAX_AGE)
    host.json(PKJWT_JWKS, {"keys": [K.public_jwk(agent_key, "agent-1")]}, max_age=MAX_AGE)

    nodes = prepare_nodes(args, realm_json(REALM, host.ca_file, ["none", "private_key_jwt"]), timings)
    a, b = nodes["a"], nodes["b"]
    res = Results()
    state = {}
    try:
        start_nodes(nodes, timings)
        run_cases(res, a, b, host, agent_key, state, args)
    finally:
        stop_all(nodes, host)

    timings["suite_s"] = round(time.time() - suite_started, 1)
    passed, failed = tally(res)
    if args.results:
        with open(args.results, "w") as f:
            json.dump({"suite": "keycloak-cluster", "keycloak": os.path.basename(args.dist.rstrip("/")),
                       "nodes": len(NODES), "public_url": PUBLIC, "passed": passed, "failed": failed,
                       "timings": timings, "cases": res.rows}, f, indent=2)
    print(f"cluster: {passed} passed, {failed} failed in {timings['suite_s']:.0f}s", flush=True)
    return 0 if failed == 0 and passed else 1


def run_cases(res, a, b, host, agent_key, state, args):
    ep = Public.endpoints(REALM)

    def formed():
        out = []
        for name, node in (("a", a), ("b", b)):
            members, names, stack = cluster_view(node.log_path)
            assert members == 2, f"node {name}: last cluster view has {members} member(s) [{names}]"
            assert stack == "jdbc-ping", f"node {name}: JGroups stack {stack!r}, not Keycloak's default jdbc-ping"
            with open(node.log_path, errors="replace") as f:
                assert "JGroups Encryption enabled (mTLS)" in f.read(), f"node {name}: transport not mTLS"
            issuer = on(node, "GET", f"{PUBLIC}/realms/{REALM}/.well-known/openid-configuration").json()["issuer"]
            assert issuer == ep["issuer"], f"node {name} says issuer {issuer}"
            out.append(f"{name}: view (2) [{names}]")
        return "; ".join(out) + f"; stack jdbc-ping, mTLS (defaults) on both; both say issuer {ep['issuer']}"
    res.case("two production nodes form one cluster (jdbc-ping on PostgreSQL, 127.0.0.1) with one issuer", formed)

    def public_client():
        out = K.login(Routed(a), Public, REALM, WEB, WEB_CB)
        assert out.get("code"), f"no code from node a: authorize {out['authorize'].status}"
        t = on(b, "POST", ep["token"], {"grant_type": "authorization_code", "code": out["code"],
                                        "redirect_uri": WEB_CB, "client_id": WEB, "code_verifier": out["verifier"]})
        assert t.status == 200, f"token on node b: {t.status} {t.text[:300]}"
        claims = K.decode_jwt(t.json()["access_token"])
        assert claims["azp"] == WEB and claims["iss"] == ep["issuer"], claims
        r = on(a, "POST", ep["token"], {"grant_type": "refresh_token", "refresh_token": t.json()["refresh_token"],
                                        "client_id": WEB})
        assert r.status == 200, f"refresh on node a: {r.status} {r.text[:300]}"
        ui = Routed(b).get(f"{PUBLIC}/realms/{REALM}/protocol/openid-connect/userinfo",
                           headers={"Authorization": "Bearer " + r.json()["access_token"]})
        assert ui.status == 200 and ui.json().get("preferred_username") == "alice", f"userinfo on b: {ui.status}"
        state["web_refresh"] = r.json()["refresh_token"]
        return ("authorize, login and consent on a → code; token on b (azp, iss ok); refresh on a; "
                "a's new access token accepted by b's userinfo")
    res.case("token_endpoint_auth_method none: authorize on a, token on b, refresh on a", public_client)

    def private_key_jwt():
        out = K.login(Routed(a), Public, REALM, PKJWT, PKJWT_CB)
        assert out.get("code"), f"no code from node a: authorize {out['authorize'].status}"
        assertion = K.client_assertion(agent_key, "agent-1", PKJWT, ep["issuer"])
        form = {"grant_type": "authorization_code", "code": out["code"], "redirect_uri": PKJWT_CB,
                "client_id": PKJWT, "code_verifier": out["verifier"], "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion}
        t = on(b, "POST", ep["token"], form)
        assert t.status == 200, f"token on node b: {t.status} {t.text[:300]}"
        assert K.decode_jwt(t.json()["access_token"])["azp"] == PKJWT
        # The same assertion again, on the other node: its jti was used, and the cluster remembers it.
        replay = on(a, "POST", ep["token"], {"grant_type": "refresh_token", "client_id": PKJWT,
                                             "refresh_token": t.json()["refresh_token"],
                                             "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion})
        assert replay.status in (400, 401), f"replayed assertion on node a: {replay.status} {replay.text[:200]}"
        r = on(a, "POST", ep["token"], {"grant_type": "refresh_token", "client_id": PKJWT,
                                        "refresh_token": t.json()["refresh_token"],
                                        "client_assertion_type": ASSERTION_TYPE,
                                        "client_assertion": K.client_assertion(agent_key, "agent-1", PKJWT,
                                                                               ep["issuer"])})
        assert r.status == 200, f"refresh on node a: {r.status} {r.text[:300]}"
        return (f"authorize on a; token on b with a signed assertion; the same assertion replayed on a → "
                f"{replay.status} {replay.json().get('error')}; refresh on a with a fresh assertion")
    res.case("private_key_jwt: authorize on a, token on b, refresh on a; an assertion is single-use cluster-wide",
             private_key_jwt)

    def the_other_way():
        # More logins, the roles swapped, so that every node has served every step for both clients.
        out = K.login(Routed(b), Public, REALM, WEB, WEB_CB)
        assert out.get("code"), "no code from node b"
        t = on(a, "POST", ep["token"], {"grant_type": "authorization_code", "code": out["code"],
                                        "redirect_uri": WEB_CB, "client_id": WEB, "code_verifier": out["verifier"]})
        assert t.status == 200, f"token on node a: {t.status} {t.text[:300]}"
        out = K.login(Routed(b), Public, REALM, PKJWT, PKJWT_CB)
        assert out.get("code"), "no code from node b (private_key_jwt)"
        t = on(a, "POST", ep["token"], {"grant_type": "authorization_code", "code": out["code"],
                                        "redirect_uri": PKJWT_CB, "client_id": PKJWT,
                                        "code_verifier": out["verifier"], "client_assertion_type": ASSERTION_TYPE,
                                        "client_assertion": K.client_assertion(agent_key, "agent-1", PKJWT,
                                                                               ep["issuer"])})
        assert t.status == 200, f"token on node a (private_key_jwt): {t.status} {t.text[:300]}"
        return "authorize on b, token on a, for both clients"
    res.case("both clients: authorize on b, token on a", the_other_way)

    def fetch_counts():
        counts = {u: host.count(u) for u in (WEB, PKJWT, PKJWT_JWKS)}
        # Each node resolved each document (both served authorization and token requests for both clients), once
        # per node lifetime: as many fetches as nodes, never more.
        for url, n in counts.items():
            assert n == len(NODES), f"{url} fetched {n} times by {len(NODES)} nodes"
        state["counts"] = counts
        # The routing was real: each node's own access log has authorization, login and token requests.
        logs = {name: served(node.log_path) for name, node in (("a", a), ("b", b))}
        for name, hits in logs.items():
            for step in ("GET auth", "POST authenticate", "POST token"):
                assert hits.get(step), f"node {name} served no {step!r} request: {hits}"
        return ("fetches per document after 4 logins spread over 2 nodes: " + ", ".join(
            f"{urllib.parse.urlparse(u).path}={n}" for u, n in counts.items())
            + "; requests served per node (access logs): "
            + "; ".join(f"{name}: " + ", ".join(f"{k}={v}" for k, v in sorted(h.items())) for name, h in logs.items()))
    res.case("each node fetches each document once (2 nodes → 2 fetches per document)", fetch_counts)

    def cimd(node, method, what, **params):
        q = urllib.parse.urlencode(params)
        return node.admin(method, f"{REALM}/cimd/{what}" + (f"?{q}" if q else ""))

    def cached_on(node, url):
        return [e for e in cimd(node, "GET", "clients").json() if e["client_id"] == url]

    def invalidate_everywhere():
        assert cached_on(b, WEB), f"node b does not hold {WEB} before the case"
        r = cimd(a, "POST", "invalidate", client_id=WEB)
        assert r.status == 200, f"invalidate on a: {r.status} {r.text[:300]}"
        body = r.json()
        by_node = {x["node"]: x["invalidated"] for x in body["results"]}
        assert by_node == {"node-a": True, "node-b": True} and body["missing"] == [], body
        # No wait: the answer came after every node had forgotten its copy.
        gone = cimd(b, "GET", "client", client_id=WEB)
        assert gone.status == 404 and gone.json()["error"] == "not_cached", f"b still holds it: {gone.status}"
        before = host.count(WEB)
        out = K.login(Routed(b), Public, REALM, WEB, WEB_CB)
        assert out.get("code"), "no code from node b after the invalidation"
        fetched = host.count(WEB) - before
        assert fetched == 1, f"node b fetched {WEB} {fetched} times after the invalidation on a"
        return (f"POST invalidate on a → {by_node}, missing []; b's client endpoint at once: 404 not_cached; "
                f"the next login on b fetched the document once")
    res.case("invalidate sent to node a takes effect on node b too", invalidate_everywhere)

    def refresh_everywhere():
        assert cached_on(b, WEB), "node b does not hold the document before the case"
        host.json(WEB, doc(WEB, client_name="E2E Web App v2"), max_age=MAX_AGE)
        before = host.count(WEB)
        r = cimd(a, "POST", "refresh", client_id=WEB)
        assert r.status == 200, f"refresh on a: {r.status} {r.text[:300]}"
        body = r.json()
        assert body["client_name"] == "E2E Web App v2" and body["component"] == "cimd", body
        assert [(x["node"], x["invalidated"]) for x in body["results"]] == [("node-b", True)], body
        assert host.count(WEB) - before == 1, "the refresh on a did not fetch once"
        # At once: b's old copy is gone when the refresh answers, and b's next use fetches the new version.
        gone = cimd(b, "GET", "client", client_id=WEB)
        assert gone.status == 404, f"b still holds the old version: {gone.status} {gone.text[:200]}"
        out = K.login(Routed(b), Public, REALM, WEB, WEB_CB)
        assert out.get("code"), "no code from node b after the refresh"
        now = cimd(b, "GET", "client", client_id=WEB).json()
        assert now["document"]["client_name"] == "E2E Web App v2", now
        on_a = cimd(a, "GET", "client", client_id=WEB).json()
        assert on_a["document"]["client_name"] == "E2E Web App v2", on_a
        state["counts"][WEB] = host.count(WEB)  # what the later cases compare against
        return (f"document changed; POST refresh on a fetched it (client_name {body['client_name']!r}) and b "
                f"forgot its copy before the answer; b's next login fetched and serves "
                f"{now['document']['client_name']!r}; fetches: a 1, b 1")
    res.case("a changed document refreshed on node a is what node b serves next", refresh_everywhere)

    def cluster_views():
        r = cimd(b, "GET", "clients", scope="cluster")
        assert r.status == 200, f"clients?scope=cluster on b: {r.status} {r.text[:300]}"
        body = r.json()
        assert sorted(body["nodes"]) == ["node-a", "node-b"] and body["missing"] == [], body
        held = {}
        for e in body["clients"]:
            assert e["component"] == "cimd" and e["component_id"], e
            held.setdefault(e["node"], set()).add(e["client_id"])
        assert {WEB, PKJWT} <= held.get("node-a", set()) and {WEB, PKJWT} <= held.get("node-b", set()), held
        mine = cimd(b, "GET", "clients").json()
        assert {e["node"] for e in mine} == {"node-b"}, mine
        st = cimd(a, "GET", "stats", scope="cluster").json()
        nodes = {x["node"]: x for x in st["results"]}
        assert set(nodes) == {"node-a", "node-b"} and st["missing"] == [], st
        assert st["totals"]["fetches"] == nodes["node-a"]["fetches"] + nodes["node-b"]["fetches"], st
        local = cimd(a, "GET", "stats").json()
        assert local["node"] == "node-a" and [c["component"] for c in local["components"]] == ["cimd"], local
        bad = cimd(a, "GET", "stats", scope="everywhere")
        assert bad.status == 400 and bad.json()["error"] == "invalid_scope", (bad.status, bad.text[:200])
        return (f"clients?scope=cluster on b: nodes {sorted(body['nodes'])}, entries by node "
                f"{ {n: len(v) for n, v in sorted(held.items())} }; clients on b: node-b only; stats?scope=cluster "
                f"on a: fetches a={nodes['node-a']['fetches']} b={nodes['node-b']['fetches']} "
                f"total={st['totals']['fetches']}; scope=everywhere → 400 invalid_scope")
    res.case("clients and stats with scope=cluster answer for both nodes, each entry labelled", cluster_views)

    def node_stopped_mid_login():
        browser = Routed(a)
        verifier, challenge = K.pkce_pair()
        page = browser.get(K.authorize_url(Public, REALM, MIDWAY, WEB_CB, challenge))
        assert page.status == 200, f"authorize on a: {page.status}"
        form = next((f for f in K.forms(page.text) if f["id"] == "kc-form-login"), None)
        assert form, "no login form from node a"
        stopped = time.time()
        a.stop()
        took = time.time() - stopped
        browser.node = b
        code, consent = grant_page(browser, browser.post(urllib.parse.urljoin(page.url, form["action"]),
                                                {"username": "alice", "password": "alice-password",
                                                 "credentialId": ""}))
        assert code, "no code from node b"
        assert consent, "no consent page from node b for a client alice never consented to"
        t = on(b, "POST", ep["token"], {"grant_type": "authorization_code", "code": code, "redirect_uri": WEB_CB,
                                        "client_id": MIDWAY, "code_verifier": verifier})
        assert t.status == 200, f"token on node b: {t.status} {t.text[:300]}"
        r = on(b, "POST", ep["token"], {"grant_type": "refresh_token", "refresh_token": state["web_refresh"],
                                        "client_id": WEB})
        assert r.status == 200, f"earlier session's refresh on b: {r.status} {r.text[:300]}"
        state["b_refresh"] = t.json()["refresh_token"]
        after = host.count(WEB)
        assert after == state["counts"][WEB], f"node b fetched {WEB} again ({after})"
        midway = host.count(MIDWAY)
        assert midway == 2, f"{MIDWAY} fetched {midway} times (a for the login page, b for the rest)"
        return (f"login page from a; a stopped (SIGTERM, {took:.0f}s); login form posted to b, consent page and "
                f"token from b; the first case's session refreshes on b without a new fetch; the new client "
                f"fetched once by each node")
    res.case("node a stopped in the middle of a login: the flow finishes on node b", node_stopped_mid_login)

    def node_rejoins():
        before = {u: host.count(u) for u in (WEB, MIDWAY)}
        took = a.start()
        members, names, _ = cluster_view(a.log_path)
        assert members == 2, f"restarted node a: last cluster view has {members} member(s) [{names}]"
        # It starts empty (the engines are in memory), and the cluster view from it shows b's entries.
        empty = cimd(a, "GET", "clients").json()
        assert empty == [], f"restarted node a holds {empty}"
        seen = cimd(a, "GET", "clients", scope="cluster").json()
        assert sorted(seen["nodes"]) == ["node-a", "node-b"] and seen["missing"] == [], seen
        assert {e["node"] for e in seen["clients"]} == {"node-b"}, seen
        r = on(a, "POST", ep["token"], {"grant_type": "refresh_token", "refresh_token": state["b_refresh"],
                                        "client_id": MIDWAY})
        assert r.status == 200, f"refresh on the restarted node a: {r.status} {r.text[:300]}"
        for _ in range(2):
            out = K.login(Routed(a), Public, REALM, WEB, WEB_CB)
            assert out.get("code"), "no code from the restarted node a"
            t = on(b, "POST", ep["token"], {"grant_type": "authorization_code", "code": out["code"],
                                            "redirect_uri": WEB_CB, "client_id": WEB,
                                            "code_verifier": out["verifier"]})
            assert t.status == 200, f"token on node b: {t.status} {t.text[:300]}"
        # A new lifetime of node a (its cache is in memory): one more fetch of each document it uses, no more.
        more = {u: host.count(u) - n for u, n in before.items()}
        assert all(n == 1 for n in more.values()), f"restarted node a fetched {more}"
        # The restarted node listens again: an invalidation sent to b reaches it.
        inv = cimd(b, "POST", "invalidate", client_id=WEB).json()
        assert {x["node"]: x["invalidated"] for x in inv["results"]} == {"node-a": True, "node-b": True}, inv
        return (f"a restarted in {took:.0f}s, view (2) [{names}], no cached client, b's entries in its cluster view; "
                f"the session finished on b refreshes on a; two new logins on a, tokens on b; a fetched each "
                f"document once in its new lifetime; an invalidation sent to b reached a")
    res.case("node a restarted: rejoins, serves the sessions made without it, fetches once per lifetime",
             node_rejoins)


if __name__ == "__main__":
    sys.exit(main())
