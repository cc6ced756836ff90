"""End-to-end test of the cimd Keycloak extension against a real Keycloak (issue 4), run by `make java-test`.

Runs inside scripts/netns (only loopback exists; test host names come from a hosts file). It starts a throwaway
HTTPS host serving client metadata documents, starts Keycloak with the extension in providers/ and two realms
imported, and drives the flows with an HTTP client the way a browser would. Every case prints PASS or FAIL with
its evidence; the last line is "e2e: N passed, M failed".

    python3 tests/keycloak/e2e.py --dist DIR --jar JAR --work DIR [--builtin] [--bench FILE]

--builtin runs the same cases against Keycloak's own experimental CIMD feature (--features=cimd) instead, for the
side-by-side table of docs/keycloak.md: there, a case's outcome is recorded, not asserted.
"""
import json
import os
import sys
import time
import traceback
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kc as K  # noqa: E402
from dochost import DocHost  # noqa: E402

APP = "https://app.example.com"
TOOLS = "https://tools.example.org"
KEYS = "https://keys.example.com"
# The hosts of the published client documents (tests/fixtures/clients), served at their real client_id URLs.
PUBLISHED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "clients")
PUBLISHED_HOSTS = ["www.mcpjam.com", "vscode.dev", "claude.ai", "chatgpt.com"]
# An internal host, served by the cimd realm's second component only (internal_component below); the first one's
# denied_hosts refuses it. Like every test host it resolves to loopback (the test origin listens nowhere else).
INTERNAL_HOST = "wiki.corp.example.net"
HOSTS = ["app.example.com", "tools.example.org", "keys.example.com", "localhost", INTERNAL_HOST] + PUBLISHED_HOSTS
REALM, JWT_REALM = "cimd", "cimd-jwt"
WEB = f"{APP}/clients/web.json"
WEB_CB = f"{APP}/oauth/callback"
CLAUDE = f"{APP}/clients/claude-code.json"
CHATGPT = f"{APP}/clients/chatgpt.json"
MISMATCH = f"{APP}/clients/mismatch.json"
BLOCKED = "https://blocked.example/clients/app.json"
PKJWT = f"{TOOLS}/clients/agent.json"
PKJWT_JWKS = f"{KEYS}/agent/jwks.json"
NO_COMMON_METHOD = f"{APP}/clients/mtls-only.json"
STAMPEDE = f"{APP}/clients/stampede.json"
DB_URL_SHAPED = "https://app.example.net/clients/dbclient.json"
INTERNAL = f"https://{INTERNAL_HOST}/clients/wiki.json"
INTERNAL_CB = f"https://{INTERNAL_HOST}/oauth/callback"
# RFC 8707 resources the cimd realm's component allows (allowed_resources): one exact URL and one prefix. Nothing
# listens at them: a resource is only a name here.
MCP = "http://127.0.0.1:18080/mcp"
MCP_PREFIX = "https://mcp.example.com/servers/"
ALLOWED_RESOURCES = [MCP, MCP_PREFIX]
USER_AGENT_PREFIX = "cimd/"


def doc(client_id, **extra):
    d = {"client_id": client_id, "client_name": "E2E Web App", "client_uri": "https://app.example.com/",
         "logo_uri": "https://app.example.com/logo.png", "tos_uri": "https://app.example.com/tos",
         "policy_uri": "https://app.example.com/privacy",
         "redirect_uris": [WEB_CB], "grant_types": ["authorization_code", "refresh_token"],
         "response_types": ["code"], "token_endpoint_auth_method": "none"}
    d.update(extra)
    return d


def published():
    """(expected, document) for each published client document, as tests/fixtures/clients/expected.json says."""
    with open(os.path.join(PUBLISHED_DIR, "expected.json")) as f:
        expected = json.load(f)["documents"]
    out = []
    for e in expected:
        with open(os.path.join(PUBLISHED_DIR, e["file"])) as f:
            out.append((e, json.load(f)))
    return out


def realm_json(name, ca_file, auth_methods, builtin=False, events=False, allowed_resources=None, internal=False):
    users = [{"username": "alice", "enabled": True, "email": "alice@example.com", "emailVerified": True,
              "firstName": "Alice", "lastName": "Example",
              # A user imported with a realm gets no roles unless named; the realm's default roles carry
              # offline_access, which the MCP SDKs' clients ask for.
              "realmRoles": [f"default-roles-{name}"],
              "credentials": [{"type": "password", "value": "alice-password", "temporary": False}]}]
    db_client = {"clientId": "db-client", "publicClient": True, "standardFlowEnabled": True,
                 "directAccessGrantsEnabled": False, "redirectUris": [WEB_CB], "consentRequired": True,
                 "attributes": {"pkce.code.challenge.method": "S256"}}
    # A database client whose client_id is as long as a URL client's, so that the pages Keycloak renders for
    # both (every link carries the client_id) are the same size: the fair baseline for throughput comparisons.
    db_url_shaped = dict(db_client, clientId=DB_URL_SHAPED)
    realm = {"realm": name, "enabled": True, "sslRequired": "none", "users": users,
             "clients": [db_client, db_url_shaped]}
    if events:
        # Login events, so that a test can read back what Keycloak recorded for a refused URL client.
        realm["eventsEnabled"] = True
        # Admin events with their representations: cimd's invalidate and refresh are recorded there.
        realm["adminEventsEnabled"] = True
        realm["adminEventsDetailsEnabled"] = True
    if builtin:
        # Keycloak's own feature: a client policy whose executor fetches the document and persists a client.
        realm["clientProfiles"] = {"profiles": [{"name": "builtin-cimd", "executors": [
            {"executor": "client-id-metadata-document", "configuration": {
                "cimd-allow-http-scheme": "false",
                "cimd-allow-permitted-domains": ["*.example.com", "*.example.org", "*.example", "localhost"],
                "cimd-restrict-same-domain": "false", "cimd-required-properties": []}}]}]}
        realm["clientPolicies"] = {"policies": [{"name": "builtin-cimd", "enabled": True, "conditions": [
            {"condition": "client-id-uri", "configuration": {"client-id-uri-scheme": ["https"],
                                                            "client-id-uri-allow-permitted-domains": [
                                                                "*.example.com", "*.example.org", "*.example",
                                                                "localhost"]}}],
            "profiles": ["builtin-cimd"]}]}
        return realm
    realm["components"] = {"org.keycloak.storage.client.ClientStorageProvider": [{
        "name": "cimd", "providerId": "cimd",
        "config": {"cachePolicy": ["NO_CACHE"], "allow_loopback": ["true"], "extra_ca_file": [ca_file],
                   "auth_methods_supported": auth_methods, "min_cache_ttl_s": ["60"]}}]}
    if allowed_resources:
        realm["components"]["org.keycloak.storage.client.ClientStorageProvider"][0]["config"][
            "allowed_resources"] = allowed_resources
    if internal:
        # The first component (priority 0, asked first) never serves the internal host.
        realm["components"]["org.keycloak.storage.client.ClientStorageProvider"][0]["config"].update(
            priority=["0"], denied_hosts=[INTERNAL_HOST])
        realm["components"]["org.keycloak.storage.client.ClientStorageProvider"] += [internal_component(ca_file)]
    realm["clientProfiles"] = {"profiles": [{"name": "cimd", "description": "Precise CIMD errors",
                                             "executors": [{"executor": "cimd-resolve", "configuration": {}}]}]}
    realm["clientPolicies"] = {"policies": [{"name": "cimd", "enabled": True,
                                             "conditions": [{"condition": "cimd-client-id", "configuration": {}}],
                                             "profiles": ["cimd"]}]}
    return realm


def internal_component(ca_file):
    """A second cimd component for internal hosts: asked after the first (priority 10), only for INTERNAL_HOST, which
    may resolve into its private range (in a deployment; here it resolves to loopback, hence allow_loopback)."""
    return {"name": "internal", "providerId": "cimd",
            "config": {"cachePolicy": ["NO_CACHE"], "priority": ["10"], "allow_loopback": ["true"],
                       "extra_ca_file": [ca_file],
                       "auth_methods_supported": ["none"], "min_cache_ttl_s": ["60"], "allowed_hosts": [INTERNAL_HOST],
                       "private_network_allowlist": [json.dumps([{"host": INTERNAL_HOST,
                                                                  "cidrs": ["10.20.0.0/16"]}])]}}


class Results:
    def __init__(self, strict):
        self.strict = strict
        self.rows = []

    def case(self, name, fn):
        started = time.time()
        try:
            evidence = fn()
            ok = True
        except AssertionError as e:
            ok, evidence = False, f"assertion failed: {e}"
        except Exception as e:  # noqa: BLE001 - a crashed case is a failed case, with its trace
            ok, evidence = False, f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
        took = time.time() - started
        self.rows.append((name, ok, evidence))
        print(f"{'PASS' if ok else 'FAIL'} {name} ({took:.1f}s): {evidence}", flush=True)

    def summary(self):
        passed = sum(1 for _, ok, _ in self.rows if ok)
        failed = len(self.rows) - passed
        return passed, failed


def has_error_page(r, code):
    return r.status >= 400 and not r.location and code in r.text


def main():
    ap = K.driver_arguments()
    ap.add_argument("--builtin", action="store_true")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--results", help="write the case outcomes as JSON here")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)

    host = DocHost(args.work, HOSTS).start()
    keycloak_home = K.install(args.dist, os.path.join(args.work, "keycloak"))
    import_dir = os.path.join(keycloak_home, "data", "import")
    os.makedirs(import_dir, exist_ok=True)
    if not args.builtin:
        os.makedirs(os.path.join(keycloak_home, "providers"), exist_ok=True)
        import shutil
        shutil.copy(args.jar, os.path.join(keycloak_home, "providers", "cimd-keycloak.jar"))
    for name, methods in ((REALM, ["none"]), (JWT_REALM, ["none", "private_key_jwt"])):
        with open(os.path.join(import_dir, f"{name}.json"), "w") as f:
            json.dump(realm_json(name, host.ca_file, methods, args.builtin, events=True,
                                 allowed_resources=ALLOWED_RESOURCES if name == REALM else None,
                                 internal=name == REALM), f)

    # Client documents.
    host.json(WEB, doc(WEB))
    host.json(INTERNAL, doc(INTERNAL, client_name="Internal Wiki", redirect_uris=[INTERNAL_CB]))
    host.json(CLAUDE, doc(CLAUDE, client_name="Claude Code (e2e sample)",
                          redirect_uris=["http://localhost/callback", "http://127.0.0.1/callback"]))
    host.json(CHATGPT, doc(CHATGPT, client_name="ChatGPT (e2e sample)",
                           redirect_uris=["https://app.example.com/connector_platform_oauth_redirect"],
                           token_endpoint_auth_method="private_key_jwt",
                           token_endpoint_auth_methods_supported=["none", "private_key_jwt"],
                           jwks_uri=f"{KEYS}/chatgpt/jwks.json", application_type="web",
                           some_future_member={"nested": True}))
    host.json(f"{KEYS}/chatgpt/jwks.json", {"keys": []})
    host.json(MISMATCH, doc(f"{APP}/clients/someone-else.json"))
    host.json(STAMPEDE, doc(STAMPEDE))
    host.json(NO_COMMON_METHOD, doc(NO_COMMON_METHOD, token_endpoint_auth_method="tls_client_auth"))
    for _, document in published():
        host.json(document["client_id"], document)
    host.json("https://chatgpt.com/oauth/jwks.json", {"keys": [K.public_jwk(K.ec_key(), "chatgpt-1")]})
    agent_key, wrong_key = K.ec_key(), K.ec_key()
    host.json(PKJWT, doc(PKJWT, client_name="E2E Agent", redirect_uris=["https://tools.example.org/cb"],
                         token_endpoint_auth_method="private_key_jwt", jwks_uri=PKJWT_JWKS))
    host.json(PKJWT_JWKS, {"keys": [K.public_jwk(agent_key, "agent-1")]})

    kc = K.Keycloak(keycloak_home, args.port, os.path.join(args.work, "keycloak.log"),
                    features="cimd" if args.builtin else None,
                    extra_args=([f"--truststore-paths={host.ca_file}"] if args.builtin else [])
                    # The management interface's /metrics, where the engine's meters are read back.
                    + ["--metrics-enabled=true"])
    results = Results(strict=not args.builtin)
    took = kc.start()
    print(f"keycloak started in {took:.0f}s ({'built-in cimd feature' if args.builtin else 'cimd extension'})",
          flush=True)
    state = {}
    try:
        run_cases(results, kc, host, args, state, agent_key, wrong_key)
    finally:
        kc.stop()
        host.stop()

    def database_read_directly():
        out = kc.sql("SELECT r.NAME AS REALM, c.CLIENT_ID FROM CLIENT c JOIN REALM r ON c.REALM_ID = r.ID "
                     f"WHERE r.NAME IN ('{REALM}', '{JWT_REALM}') AND c.CLIENT_ID LIKE '%://%'")
        rows = [line for line in out.splitlines() if "://" in line and DB_URL_SHAPED not in line]
        if not args.builtin:
            assert not rows, rows
        total = kc.sql("SELECT COUNT(*) FROM CLIENT").strip().splitlines()
        return (f"URL clients in the CLIENT table other than the imported {DB_URL_SHAPED}: {len(rows)} "
                f"{rows if rows else ''}; all clients: {total[-2].strip() if len(total) > 1 else total}")
    results.case("the CLIENT table has no URL client (H2 read directly, server stopped)", database_read_directly)
    if args.results:
        with open(args.results, "w") as f:
            json.dump([{"case": n, "ok": ok, "evidence": str(e)} for n, ok, e in results.rows], f, indent=1)
    passed, failed = results.summary()
    print(f"e2e{' (built-in)' if args.builtin else ''}: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 or args.builtin else 1


def run_cases(res, kc, host, args, state, agent_key, wrong_key):
    builtin = args.builtin

    def discovery():
        out = []
        for path in (f"/realms/{REALM}/.well-known/openid-configuration",
                     f"/realms/{REALM}/.well-known/oauth-authorization-server",
                     f"/.well-known/oauth-authorization-server/realms/{REALM}"):
            d = K.Browser().get(kc.base + path).json()
            assert d.get("client_id_metadata_document_supported") is True, f"{path}: flag missing"
            assert "none" in d["token_endpoint_auth_methods_supported"], f"{path}: none missing"
            assert "S256" in d["code_challenge_methods_supported"], f"{path}: S256 missing"
            out.append(path)
        d = K.Browser().get(f"{kc.base}/realms/{JWT_REALM}/.well-known/openid-configuration").json()
        assert "private_key_jwt" in d["token_endpoint_auth_methods_supported"]
        return "flag, none and S256 advertised at " + ", ".join(out)
    res.case("discovery advertises CIMD, none and S256", discovery)

    def auth_code_pkce():
        b = K.Browser()
        out = K.login(b, kc, REALM, WEB, WEB_CB)
        assert out["authorize"].status == 200, f"authorize answered {out['authorize'].status}"
        assert out.get("code"), f"no code; last page {out.get('after_consent', out.get('after_login')).status}"
        assert out["redirect"].startswith(WEB_CB + "?"), out["redirect"]
        page = out.get("consent_page", "")
        title = consent_title(page)
        state["consent_title"] = title
        if not builtin:
            assert "E2E Web App (app.example.com)" in title, f"consent title lacks name and host: {title!r}"
        t = K.token(kc, REALM, {"grant_type": "authorization_code", "code": out["code"], "redirect_uri": WEB_CB,
                                "client_id": WEB, "code_verifier": out["verifier"]})
        assert t.status == 200, f"token endpoint {t.status}: {t.text[:300]}"
        tok = t.json()
        claims = K.decode_jwt(tok["access_token"])
        assert claims["azp"] == WEB, claims
        assert claims.get("sub"), "no sub"
        state["refresh_token"] = tok["refresh_token"]
        r = K.token(kc, REALM, {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"], "client_id": WEB})
        assert r.status == 200, f"refresh {r.status}: {r.text[:300]}"
        state["refresh_token"] = r.json()["refresh_token"]
        state["web_fetches"] = host.count(WEB)
        return (f"azp={claims['azp']} sub={claims['sub'][:8]}... refresh ok; consent page says {title!r}; "
                f"fetches={host.count(WEB)}")
    res.case("authorization code + PKCE with a URL client_id; refresh; consent page", auth_code_pkce)

    def offline_access():
        out = K.login(K.Browser(), kc, REALM, WEB, WEB_CB, scope="openid offline_access")
        assert out.get("code"), f"no code; last page {out.get('after_consent', out.get('after_login')).status}"
        t = K.token(kc, REALM, {"grant_type": "authorization_code", "code": out["code"], "redirect_uri": WEB_CB,
                                "client_id": WEB, "code_verifier": out["verifier"]})
        assert t.status == 200, f"token endpoint {t.status}: {t.text[:300]}"
        tok = t.json()
        assert "offline_access" in tok.get("scope", "").split(), f"scope granted: {tok.get('scope')!r}"
        typ = K.decode_jwt(tok["refresh_token"]).get("typ")
        assert typ == "Offline", f"refresh token typ {typ!r}, not an offline token"
        r = K.token(kc, REALM, {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"], "client_id": WEB})
        assert r.status == 200, f"offline refresh {r.status}: {r.text[:300]}"
        return f"scope {tok['scope']!r}, refresh token typ {typ}, refresh ok"
    res.case("offline_access for a URL client (what the MCP SDKs ask for)", offline_access)

    def pkce_required():
        b = K.Browser()
        q = {"client_id": WEB, "redirect_uri": WEB_CB, "response_type": "code", "scope": "openid", "state": "x"}
        r = b.get(kc.endpoints(REALM)["auth"] + "?" + urllib.parse.urlencode(q))
        bad = r.location and "error=invalid_request" in r.location
        assert bad or r.status >= 400, (f"authorization without PKCE was accepted: {r.status} "
                                        f"{'(login page)' if 'kc-form-login' in r.text else r.location}")
        return f"no code_challenge → {r.status} {('redirect with error=invalid_request' if bad else '')}"
    res.case("PKCE S256 is required", pkce_required)

    def wrong_redirect():
        v, c = K.pkce_pair()
        r = K.Browser().get(K.authorize_url(kc, REALM, WEB, "https://evil.example/steal", c))
        assert not r.location, f"redirected to {r.location}"
        assert r.status >= 400, r.status
        if not builtin:
            assert "redirect_uri_mismatch" in r.text, "error page does not name redirect_uri_mismatch"
        return f"{r.status}, no Location, page says: {page_error(r.text)}"
    res.case("wrong redirect_uri → error page, no redirect", wrong_redirect)

    def mismatch():
        v, c = K.pkce_pair()
        r = K.Browser().get(K.authorize_url(kc, REALM, MISMATCH, WEB_CB, c))
        assert not r.location and r.status >= 400, f"{r.status} {r.location}"
        if not builtin:
            assert "client_id_mismatch" in r.text, page_error(r.text)
        return f"{r.status}: {page_error(r.text)}"
    res.case("document client_id mismatch → precise error", mismatch)

    def blocked():
        before = stats(kc) if not builtin else {}
        v, c = K.pkce_pair()
        r = K.Browser().get(K.authorize_url(kc, REALM, BLOCKED, WEB_CB, c))
        assert not r.location and r.status >= 400, f"{r.status} {r.location}"
        if not builtin:
            assert "blocked_address" in r.text, page_error(r.text)
            after = stats(kc)
            refused = after["failures"].get("blocked_address", 0) - before["failures"].get("blocked_address", 0)
            assert refused >= 1, "the engine did not refuse the address"
            assert "nothing was fetched" in r.text
        return f"{r.status}: {page_error(r.text)}"
    res.case("client_id host on a blocked address (10.0.0.5) → precise error, no connection", blocked)

    def refusal_login_event():
        events = kc.admin("GET", f"{REALM}/events?type=LOGIN_ERROR&client={urllib.parse.quote(BLOCKED, safe='')}"
                                 f"&max=100").json()
        ours = [e for e in events if e.get("details", {}).get("reason") == "cimd_refused"]
        assert ours, f"LOGIN_ERROR events of {BLOCKED}: {events}"
        d = ours[0]["details"]
        assert ours[0]["clientId"] == BLOCKED and d.get("cimd_error") == "blocked_address", ours[0]
        assert d.get("cimd_rule", "").startswith("SSRF-"), d
        assert d.get("redirect_uri") == WEB_CB and ours[0].get("error") == "invalid_client", ours[0]
        return (f"LOGIN_ERROR error={ours[0]['error']} client={ours[0]['clientId']} details "
                f"reason={d['reason']} cimd_error={d['cimd_error']} cimd_rule={d['cimd_rule']}")
    if not builtin:
        res.case("a refused URL client is a LOGIN_ERROR event with its client_id, cimd code and rule",
                 refusal_login_event)

    def claude_loopback():
        b = K.Browser()
        cb = "http://localhost:58135/callback"
        out = K.login(b, kc, REALM, CLAUDE, cb)
        last = out.get("after_consent") or out.get("after_login") or out["authorize"]
        assert out.get("redirect", "").startswith(cb + "?"), (
            f"no redirect to {cb}: {last.status} {out.get('redirect') or page_error(last.text)}")
        t = K.token(kc, REALM, {"grant_type": "authorization_code", "code": out["code"], "redirect_uri": cb,
                                "client_id": CLAUDE, "code_verifier": out["verifier"]})
        assert t.status == 200, t.text[:300]
        other = K.Browser().get(K.authorize_url(kc, REALM, CLAUDE, "http://localhost:58135/other", "x" * 43))
        assert not other.location, f"a different path was accepted: {other.location}"
        return f"registered http://localhost/callback, returned on {cb}: token issued; other path refused ({other.status})"
    res.case("Claude Code loopback redirect on an ephemeral port", claude_loopback)

    def chatgpt_public():
        b = K.Browser()
        cb = "https://app.example.com/connector_platform_oauth_redirect"
        out = K.login(b, kc, REALM, CHATGPT, cb)
        assert out.get("code"), f"no code: {out['authorize'].status} {page_error(out['authorize'].text)}"
        t = K.token(kc, REALM, {"grant_type": "authorization_code", "code": out["code"], "redirect_uri": cb,
                                "client_id": CHATGPT, "code_verifier": out["verifier"]})
        assert t.status == 200, t.text[:300]
        return "private_key_jwt preferred, none listed, unknown member present → public client, token issued"
    res.case("ChatGPT-style document → public client", chatgpt_public)

    def no_common_method():
        v, c = K.pkce_pair()
        r = K.Browser().get(K.authorize_url(kc, REALM, NO_COMMON_METHOD, WEB_CB, c))
        assert not r.location and r.status >= 400, f"{r.status} {r.location}"
        if builtin:
            return f"{r.status}: {page_error(r.text)}"
        assert "unsupported_auth_method" in r.text and "AUTH-16" in r.text, page_error(r.text)
        # Keycloak records the OAuth error the engine chose (draft -03 §6: unauthorized_client) in its login event.
        events = kc.admin("GET", f"{REALM}/events?type=LOGIN_ERROR&max=100").json()
        ours = [e for e in events if e.get("error") == "unauthorized_client"]
        assert ours, (f"login errors recorded: {[(e.get('clientId'), e.get('error')) for e in events]}; "
                      f"events config: {kc.admin('GET', f'{REALM}/events/config').text[:300]}; "
                      f"all: {[(e.get('type'), e.get('error')) for e in kc.admin('GET', f'{REALM}/events?max=20').json()]}")
        return f"{r.status}, no Location; page: {page_error(r.text)}; login event error: unauthorized_client"
    res.case("no auth method in common → unauthorized_client (draft -03 §6), shown, never redirected",
             no_common_method)

    def published_documents():
        done = []
        for expected, document in published():
            client_id, cb = document["client_id"], expected["redirect_uri"]
            out = K.login(K.Browser(), kc, REALM, client_id, cb)
            last = out.get("after_consent") or out.get("after_login") or out["authorize"]
            assert out.get("code"), f"{client_id}: no code: {last.status} {page_error(last.text)}"
            assert out["redirect"].startswith(cb), f"{client_id}: redirected to {out['redirect']}"
            t = K.token(kc, REALM, {"grant_type": "authorization_code", "code": out["code"], "redirect_uri": cb,
                                    "client_id": client_id, "code_verifier": out["verifier"]})
            assert t.status == 200, f"{client_id}: {t.status} {t.text[:300]}"
            done.append(f"{document.get('client_name')} → {cb.split('://')[0]}")
        return "login and token for " + ", ".join(done)
    if not builtin:
        res.case("published documents (MCPJam, VS Code, Claude Code, claude.ai, ChatGPT) log in at their real URLs",
                 published_documents)

    def pkjwt():
        b = K.Browser()
        cb = "https://tools.example.org/cb"
        out = K.login(b, kc, JWT_REALM, PKJWT, cb)
        assert out.get("code"), f"no code: {page_error(out['authorize'].text)}"
        ep = kc.endpoints(JWT_REALM)
        good = K.client_assertion(agent_key, "agent-1", PKJWT, ep["issuer"])
        form = {"grant_type": "authorization_code", "code": out["code"], "redirect_uri": cb, "client_id": PKJWT,
                "code_verifier": out["verifier"],
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
        bad = K.client_assertion(wrong_key, "agent-1", PKJWT, ep["issuer"])
        r_bad = K.token(kc, JWT_REALM, dict(form, client_assertion=bad))
        assert r_bad.status in (400, 401) and "invalid_client" in r_bad.text, f"wrong key: {r_bad.status} {r_bad.text}"
        r = K.token(kc, JWT_REALM, dict(form, client_assertion=good))
        assert r.status == 200, f"good key: {r.status} {r.text[:300]}"
        assert K.decode_jwt(r.json()["access_token"])["azp"] == PKJWT
        agents = host.user_agents(PKJWT_JWKS)
        assert agents and all(a.startswith(USER_AGENT_PREFIX) for a in agents), agents
        return (f"signed assertion accepted, wrong key rejected ({r_bad.status} invalid_client); jwks fetched "
                f"{host.count(PKJWT_JWKS)}x, only by {sorted(set(agents))}")
    res.case("private_key_jwt: signed client assertion works, a wrong key is rejected", pkjwt)

    def non_url_untouched():
        before = stats(kc) if not builtin else {}
        v, c = K.pkce_pair()
        r = K.Browser().get(K.authorize_url(kc, REALM, "no-such-client", WEB_CB, c))
        assert r.status >= 400 and not r.location
        if not builtin:
            after = stats(kc)
            assert after["misses"] == before["misses"] and after["hits"] == before["hits"], "engine was consulted"
        db = K.Browser().get(K.authorize_url(kc, REALM, "db-client", WEB_CB, c))
        assert db.status == 200, f"database client broken: {db.status}"
        url_db = K.Browser().get(K.authorize_url(kc, REALM, DB_URL_SHAPED, WEB_CB, c))
        assert url_db.status == 200, f"database client with a URL client_id broken: {url_db.status}"
        assert host.count(DB_URL_SHAPED) == 0, "a database client's URL was fetched"
        return (f"unknown plain client_id → {r.status} ({page_error(r.text)}), engine untouched; db-client login page "
                f"200; database client whose client_id is a URL: login page 200, its URL never fetched")
    res.case("non-URL client_ids never reach the engine; database clients unaffected", non_url_untouched)

    if not builtin:
        def admin_endpoints():
            listed = kc.admin("GET", f"{REALM}/cimd/clients").json()
            ids = {e["client_id"] for e in listed}
            assert WEB in ids, ids
            one = kc.admin("GET", f"{REALM}/cimd/client?client_id={urllib.parse.quote(WEB, safe='')}").json()
            assert one["client_id"] == WEB and one["state"] == "fresh", one
            st = kc.admin("GET", f"{REALM}/cimd/stats").json()
            # A login page just before: the engine's answer for WEB with WEB_CB is now one kept in the JVM too.
            _, c = K.pkce_pair()
            assert K.Browser().get(K.authorize_url(kc, REALM, WEB, WEB_CB, c)).status == 200
            fetched = host.count(WEB)
            inv = kc.admin("POST", f"{REALM}/cimd/invalidate?client_id={urllib.parse.quote(WEB, safe='')}").json()
            assert inv["invalidated"] is True
            # The same request after the invalidation is not answered from memory: the document is fetched again.
            assert K.Browser().get(K.authorize_url(kc, REALM, WEB, WEB_CB, c)).status == 200
            assert host.count(WEB) == fetched + 1, f"after invalidate: {host.count(WEB) - fetched} fetches, not 1"
            ref = kc.admin("POST", f"{REALM}/cimd/refresh?client_id={urllib.parse.quote(WEB, safe='')}")
            assert ref.status == 200 and ref.json()["source"] == "network", ref.text
            alice = K.Browser().post(f"{kc.base}/realms/{REALM}/protocol/openid-connect/token",
                                     {"grant_type": "password", "client_id": "admin-cli", "username": "alice",
                                      "password": "alice-password"})
            denied = None
            if alice.status == 200:
                denied = kc.admin("GET", f"{REALM}/cimd/stats", token=alice.json()["access_token"]).status
                assert denied == 403, denied
            return (f"{len(listed)} cached clients listed; stats hits={st['hits']} fetches={st['fetches']}; invalidate + "
                    f"refresh ok; user without realm-management → {denied}")
        res.case("admin REST: list, show, invalidate, refresh, counters; roles enforced", admin_endpoints)

        def admin_events():
            events = kc.admin("GET", f"{REALM}/admin-events?max=200").json()
            ours = [e for e in events if e.get("resourceType") == "CIMD_CLIENT"]
            by_action = {e.get("details", {}).get("cimd_action"): e for e in ours}
            assert {"invalidate", "refresh"} <= set(by_action), f"cimd admin events: {ours}; all: {events[:5]}"
            inv, ref = by_action["invalidate"], by_action["refresh"]
            for e in (inv, ref):
                assert e["operationType"] == "ACTION" and e["details"].get("client_id") == WEB, e
                assert e.get("authDetails", {}).get("userId"), e
            assert inv["details"].get("invalidated") == "true" and ref["details"].get("cimd_source") == "network"
            assert json.loads(ref["representation"])["client_id"] == WEB, ref.get("representation")
            return (f"{len(ours)} CIMD_CLIENT admin events: " + "; ".join(
                f"{e['operationType']} {e['resourcePath']} {e['details']}" for e in (inv, ref)))
        res.case("invalidate and refresh are admin events (ACTION on CIMD_CLIENT, with the client_id)", admin_events)

        def two_components():
            q = lambda **p: "?" + urllib.parse.urlencode(p)  # noqa: E731
            # The internal client works end to end through the second component; the first refuses its host.
            out = K.login(K.Browser(), kc, REALM, INTERNAL, INTERNAL_CB)
            assert out.get("code"), f"no code for the internal client: {out['authorize'].status}"
            t = K.Browser().post(f"{kc.base}/realms/{REALM}/protocol/openid-connect/token",
                                 {"grant_type": "authorization_code", "code": out["code"], "redirect_uri": INTERNAL_CB,
                                  "client_id": INTERNAL, "code_verifier": out["verifier"]})
            assert t.status == 200, f"token for the internal client: {t.status} {t.text[:300]}"
            # A refusal names the reason of the component whose policy let the host through, not the first's
            # host_not_allowed.
            _, c = K.pkce_pair()
            bad = K.Browser().get(K.authorize_url(kc, REALM, INTERNAL, f"{APP}/elsewhere", c))
            assert bad.status >= 400 and "redirect_uri_mismatch" in bad.text, (bad.status, page_error(bad.text))
            _, c = K.pkce_pair()
            assert K.Browser().get(K.authorize_url(kc, REALM, WEB, WEB_CB, c)).status == 200
            listed = kc.admin("GET", f"{REALM}/cimd/clients").json()
            by_client = {e["client_id"]: e["component"] for e in listed}
            assert by_client.get(INTERNAL) == "internal" and by_client.get(WEB) == "cimd", by_client
            one = kc.admin("GET", f"{REALM}/cimd/client" + q(client_id=INTERNAL)).json()
            assert one["component"] == "internal" and one["document"]["client_name"] == "Internal Wiki", one
            only = kc.admin("GET", f"{REALM}/cimd/clients" + q(component="internal")).json()
            assert {e["client_id"] for e in only} == {INTERNAL}, only
            st = kc.admin("GET", f"{REALM}/cimd/stats").json()
            parts = {x["component"]: x for x in st["components"]}
            assert set(parts) == {"cimd", "internal"}, st
            assert st["fetches"] == parts["cimd"]["fetches"] + parts["internal"]["fetches"], st
            part = kc.admin("GET", f"{REALM}/cimd/stats" + q(component=parts["internal"]["component_id"])).json()
            assert [x["component"] for x in part["components"]] == ["internal"], part
            unknown = kc.admin("GET", f"{REALM}/cimd/stats" + q(component="nope"))
            assert unknown.status == 404 and unknown.json()["error"] == "unknown_component", unknown.text
            assert "internal" in unknown.json()["error_description"], unknown.text
            # refresh acts under the policy of the component that serves the client.
            fetched = host.count(INTERNAL)
            ref = kc.admin("POST", f"{REALM}/cimd/refresh" + q(client_id=INTERNAL))
            assert ref.status == 200 and ref.json()["component"] == "internal", ref.text
            assert ref.json()["source"] == "network" and host.count(INTERNAL) == fetched + 1, ref.text
            wrong = kc.admin("POST", f"{REALM}/cimd/refresh" + q(client_id=INTERNAL, component="cimd"))
            assert wrong.status == 502 and wrong.json()["error"] == "host_not_allowed", wrong.text
            inv = kc.admin("POST", f"{REALM}/cimd/invalidate" + q(client_id=INTERNAL)).json()
            each = {x["component"]: x["invalidated"] for x in inv["results"][0]["components"]}
            assert inv["invalidated"] is True and each == {"cimd": False, "internal": True}, inv
            gone = kc.admin("GET", f"{REALM}/cimd/client" + q(client_id=INTERNAL))
            assert gone.status == 404, gone.text
            assert by_client.get(WEB) and kc.admin("GET", f"{REALM}/cimd/client" + q(client_id=WEB)).status == 200
            return (f"internal client: login + token through component 'internal'; a bad redirect_uri shows "
                    f"redirect_uri_mismatch; clients lists both components' entries ({len(listed)}), "
                    f"component=internal only its own; stats totals = sum of {sorted(parts)}; component=nope → 404; "
                    f"refresh → 200 under 'internal', with component=cimd → 502 host_not_allowed; invalidate → "
                    f"{each}")
        res.case("two cimd components in one realm: every operator endpoint covers both, refresh under the "
                 "serving component's policy", two_components)

    def stampede():
        n = 200
        v, c = K.pkce_pair()
        url = K.authorize_url(kc, REALM, STAMPEDE, WEB_CB, c)
        started = time.time()
        statuses = K.concurrent_gets(url, n)
        took = time.time() - started
        fetches = host.count(STAMPEDE)
        ok = sum(1 for s in statuses if s == 200)
        state["stampede"] = {"requests": n, "login_pages": ok, "fetches": fetches, "seconds": round(took, 2)}
        if not builtin:
            assert fetches == 1, f"{fetches} fetches"
            assert ok == n, f"only {ok}/{n} login pages"
        return f"{n} concurrent first requests → {ok} login pages, {fetches} fetch(es) at the host, {took:.1f}s"
    res.case("200 concurrent first requests for one uncached client_id → exactly one fetch", stampede)

    def changed_metadata_logged():
        if builtin:
            return "skipped (cimd engine feature)"
        host.json(WEB, doc(WEB, redirect_uris=[WEB_CB, f"{APP}/oauth/callback2"]))
        ref = kc.admin("POST", f"{REALM}/cimd/refresh?client_id={urllib.parse.quote(WEB, safe='')}").json()
        assert ref["changed"] == ["redirect_uris"], ref
        v, c = K.pkce_pair()
        r = K.Browser().get(K.authorize_url(kc, REALM, WEB, f"{APP}/oauth/callback2", c))
        assert r.status == 200, f"new redirect URI not accepted: {r.status}"
        with open(kc.log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        assert "metadata changed: redirect_uris" in log, "no INFO line for the change"
        assert "first sight of client " + WEB in log, "no INFO line for the first sight"
        # And back: a redirect URI the document no longer lists is refused on the next request, although the
        # engine accepted it a moment ago (a kept answer must not outlive the version it was about).
        host.json(WEB, doc(WEB))
        ref = kc.admin("POST", f"{REALM}/cimd/refresh?client_id={urllib.parse.quote(WEB, safe='')}").json()
        assert ref["changed"] == ["redirect_uris"], ref
        r = K.Browser().get(K.authorize_url(kc, REALM, WEB, f"{APP}/oauth/callback2", c))
        assert r.status >= 400 and not r.location, f"removed redirect URI still accepted: {r.status} {r.location}"
        assert "redirect_uri_mismatch" in r.text, page_error(r.text)
        return ("refresh reports changed=[redirect_uris]; the new URI works at once, and is refused at once when the "
                "next version drops it; INFO lines for first sight and change")
    res.case("changed metadata: new redirect URI honoured, change logged", changed_metadata_logged)

    def code_for(realm, client_id, resource=None, scope="openid"):
        """Login and code exchange (naming the resource there too, as the MCP SDKs do); the token response."""
        extra = {"resource": resource} if resource else None
        out = K.login(K.Browser(), kc, realm, client_id, WEB_CB, extra=extra, scope=scope)
        last = out.get("after_consent") or out.get("after_login") or out["authorize"]
        assert out.get("code"), f"{client_id} in {realm}: no code: {last.status} {out.get('redirect') or page_error(last.text)}"
        t = K.token(kc, realm, {"grant_type": "authorization_code", "code": out["code"], "redirect_uri": WEB_CB,
                                "client_id": client_id, "code_verifier": out["verifier"], **(extra or {})})
        assert t.status == 200, f"{client_id} in {realm}: token endpoint {t.status}: {t.text[:300]}"
        return t.json()

    def aud(token):
        a = K.decode_jwt(token).get("aud")
        return sorted([a] if isinstance(a, str) else a or [])

    def refresh(realm, client_id, refresh_token, resource=None):
        return K.token(kc, realm, {"grant_type": "refresh_token", "refresh_token": refresh_token,
                                   "client_id": client_id, **({"resource": resource} if resource else {})})

    def resource_binds_tokens():
        tok = code_for(REALM, WEB, MCP)
        claims = K.decode_jwt(tok["access_token"])
        assert aud(tok["access_token"]) == [MCP], f"aud {claims.get('aud')!r}, not exactly {MCP}"
        assert claims["azp"] == WEB, claims
        r = refresh(REALM, WEB, tok["refresh_token"])
        assert r.status == 200 and aud(r.json()["access_token"]) == [MCP], f"plain refresh: {r.status} {r.text[:300]}"
        r = refresh(REALM, WEB, r.json()["refresh_token"], MCP)
        assert r.status == 200 and aud(r.json()["access_token"]) == [MCP], f"refresh naming it: {r.status} {r.text[:300]}"
        latest = r.json()["refresh_token"]
        other = refresh(REALM, WEB, latest, MCP_PREFIX + "weather")
        assert other.status == 400 and other.json().get("error") == "invalid_target", (
            f"refresh naming another allowed resource: {other.status} {other.text[:300]}")
        r = refresh(REALM, WEB, latest)
        assert r.status == 200 and aud(r.json()["access_token"]) == [MCP], "the grant did not survive the refusal"
        under = code_for(REALM, WEB, MCP_PREFIX + "weather")
        assert aud(under["access_token"]) == [MCP_PREFIX + "weather"], aud(under["access_token"])
        return (f"aud={claims['aud']!r} azp={claims['azp']}; refresh keeps it, naming it keeps it, naming "
                f"{MCP_PREFIX}weather → 400 {other.json()['error']} ({other.json().get('error_description')}); "
                f"{MCP_PREFIX}weather under the prefix entry → aud {aud(under['access_token'])}")

    def offline_resource_kept():
        # The Python and Go MCP SDKs ask for offline_access: Keycloak refreshes an offline token through another
        # path (the client session comes from the offline store), and the audience must survive it too.
        tok = code_for(REALM, WEB, MCP, scope="openid offline_access")
        assert K.decode_jwt(tok["refresh_token"]).get("typ") == "Offline", "not an offline token"
        assert aud(tok["access_token"]) == [MCP], aud(tok["access_token"])
        r = refresh(REALM, WEB, tok["refresh_token"])
        assert r.status == 200 and aud(r.json()["access_token"]) == [MCP], (
            f"offline refresh: {r.status} aud {aud(r.json()['access_token']) if r.status == 200 else r.text[:300]}")
        other = refresh(REALM, WEB, r.json()["refresh_token"], MCP_PREFIX + "weather")
        assert other.status == 400 and other.json().get("error") == "invalid_target", other.text[:300]
        return f"offline refresh keeps aud {aud(r.json()['access_token'])}; naming another → 400 invalid_target"

    def resource_not_allowed():
        v, c = K.pkce_pair()
        bad = "http://127.0.0.1:18080/other"
        r = K.Browser().get(K.authorize_url(kc, REALM, WEB, WEB_CB, c, state="rs1", extra={"resource": bad}))
        assert r.status in (302, 303) and r.location, f"no redirect: {r.status} {page_error(r.text)}"
        assert r.location.startswith(WEB_CB + "?"), f"redirected elsewhere: {r.location}"
        q = urllib.parse.parse_qs(urllib.parse.urlparse(r.location).query)
        assert q.get("error") == ["invalid_target"], q
        assert q.get("state") == ["rs1"], q
        assert "code" not in q, q
        # Climbing out of a prefix entry is refused too.
        climb = K.Browser().get(K.authorize_url(kc, REALM, WEB, WEB_CB, c, extra={"resource": MCP_PREFIX + "../admin"}))
        assert climb.location and "error=invalid_target" in climb.location, f"{climb.status} {climb.location}"
        return (f"{r.status} to the client's redirect_uri with error=invalid_target, "
                f"error_description={q.get('error_description', [''])[0]!r}, state echoed; {MCP_PREFIX}../admin refused too")

    def no_resource_as_today():
        here = code_for(REALM, WEB)
        plain = code_for(JWT_REALM, WEB)
        ignored = code_for(JWT_REALM, WEB, MCP)
        assert aud(here["access_token"]) == aud(plain["access_token"]), (aud(here["access_token"]),
                                                                         aud(plain["access_token"]))
        assert aud(ignored["access_token"]) == aud(plain["access_token"]), "without the setting, resource changed aud"
        r = refresh(REALM, WEB, here["refresh_token"])
        assert r.status == 200 and aud(r.json()["access_token"]) == aud(plain["access_token"]), r.text[:300]
        widen = refresh(REALM, WEB, r.json()["refresh_token"], MCP)
        assert widen.status == 400 and widen.json().get("error") == "invalid_target", (
            f"a refresh added a resource the authorization never named: {widen.status} {widen.text[:300]}")
        return (f"no resource: aud {aud(here['access_token'])} as in {JWT_REALM} (no setting), where a resource is "
                f"ignored (aud {aud(ignored['access_token'])}); a refresh cannot add one (400 invalid_target)")

    def database_client_with_resource():
        plain = aud(code_for(REALM, "db-client")["access_token"])
        for resource in (MCP, "https://not-allowed.example/api"):
            named = code_for(REALM, "db-client", resource)
            assert aud(named["access_token"]) == plain, (resource, aud(named["access_token"]), plain)
            r = refresh(REALM, "db-client", named["refresh_token"], MCP_PREFIX + "weather")
            assert r.status == 200 and aud(r.json()["access_token"]) == plain, (
                f"db-client refresh naming a resource: {r.status} {r.text[:300]}")
        return (f"db-client: aud {plain} without a resource, with an allowed one and with one not allowed; "
                f"refresh naming one: 200, same aud")

    def bad_setting_refused():
        comps = kc.admin("GET", f"{REALM}/components?type=org.keycloak.storage.client.ClientStorageProvider").json()
        comp = next(c for c in comps if c["providerId"] == "cimd" and c["name"] == "cimd")
        bad = dict(comp, config=dict(comp["config"], allowed_resources=[MCP, "https://mcp.example.com/api?tenant=1"]))
        r = kc.admin("PUT", f"{REALM}/components/{comp['id']}", body=bad)
        after = kc.admin("GET", f"{REALM}/components/{comp['id']}").json()
        # Keycloak keeps a multivalued setting's values unordered.
        assert sorted(after["config"].get("allowed_resources", [])) == sorted(ALLOWED_RESOURCES), after["config"]
        assert r.status == 400, f"saved: {r.status} {r.text[:300]}"
        assert "must not have a query" in r.text and "allowed_resources" in r.text, r.text[:300]
        return f"{r.status}: {r.text[:200]}; the component kept its setting"

    def admin_get(path):
        """An admin REST GET outside /admin/realms (e.g. serverinfo)."""
        r = K.Browser().get(f"{kc.base}/admin/{path}", headers={"Authorization": f"Bearer {kc.admin_token()}",
                                                                 "Accept": "application/json"})
        assert r.status == 200, f"GET /admin/{path}: {r.status} {r.text[:300]}"
        return r.json()

    def settings_as_admin_sees_them():
        # What the admin console reads to build a component's form.
        types = admin_get("serverinfo")["componentTypes"]["org.keycloak.storage.client.ClientStorageProvider"]
        props = {p["name"]: p for p in next(t for t in types if t["id"] == "cimd")["properties"]}
        want = {"allow_loopback": ("boolean", "false"), "fetch_timeout_ms": ("Integer", "5000"),
                "cache_max_bytes": ("Integer", "67108864"),
                "grant_types_supported": ("MultivaluedString", ["authorization_code", "refresh_token"]),
                "allowed_hosts": ("MultivaluedString", None), "per_host_rate": ("Text", None),
                "extra_ca_file": ("String", None), "allowed_resources": ("MultivaluedString", None)}
        for name, (typ, default) in want.items():
            p = props[name]
            assert p["type"] == typ, f"{name}: type {p['type']}, not {typ}"
            if default is not None:
                assert p.get("defaultValue") == default, f"{name}: default {p.get('defaultValue')!r}"
            assert "Default: " in p.get("helpText", ""), f"{name}: no default in the help text"
        assert json.loads(props["per_host_rate"]["defaultValue"]) == {"per_minute": 60, "burst": 20}, props[
            "per_host_rate"]
        assert "defaultValue" not in props["allowed_hosts"] or props["allowed_hosts"]["defaultValue"] is None
        kinds = sorted({p["type"] for p in props.values()})
        return f"{len(props)} settings, types {kinds}; defaults shown (fetch_timeout_ms 5000, per_host_rate JSON)"

    def bad_number_refused():
        comps = kc.admin("GET", f"{REALM}/components?type=org.keycloak.storage.client.ClientStorageProvider").json()
        comp = next(c for c in comps if c["providerId"] == "cimd" and c["name"] == "cimd")
        out = []
        for key, value, sentence in [("fetch_timeout_ms", "soon", "fetch_timeout_ms: expected a whole number, got a "
                                                                   "string"),
                                     ("fetch_timeout_ms", "999999", "fetch_timeout_ms: 999999 is outside 1..=120000"),
                                     ("allow_query", "yes", "allow_query: expected a boolean, got a string")]:
            bad = dict(comp, config=dict(comp["config"], **{key: [value]}))
            r = kc.admin("PUT", f"{REALM}/components/{comp['id']}", body=bad)
            assert r.status == 400, f"{key}={value} saved: {r.status} {r.text[:300]}"
            assert f"cimd: invalid configuration: {sentence}" in r.text, r.text[:300]
            out.append(f"{key}={value} → {r.status}")
        after = kc.admin("GET", f"{REALM}/components/{comp['id']}").json()
        # Keycloak keeps a multivalued setting's values unordered.
        kept = {k: sorted(v) for k, v in after["config"].items()}
        assert kept == {k: sorted(v) for k, v in comp["config"].items()}, (after["config"], comp["config"])
        return "; ".join(out) + " with the engine's sentence; the component kept its settings"

    def docs_recipes():
        # The admin REST recipes of docs/keycloak.md, run as written against a fresh realm that already has a
        # client profile and policy of its own: they must stay.
        import re
        import subprocess
        docs = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "keycloak.md")).read()
        blocks = dict(re.findall(r"<!-- recipe: (\w+) -->\n```sh\n(.*?)```", docs, re.S))
        order = ["token", "realm", "component", "update", "profile", "policy"]
        assert sorted(blocks) == sorted(order), sorted(blocks)
        realm = "recipes"
        token = kc.admin_token()
        hdr = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        r = K.Browser().request("POST", f"{kc.base}/admin/realms", headers=hdr,
                                data=json.dumps({"realm": realm, "enabled": True}).encode())
        assert r.status == 201, f"realm: {r.status} {r.text[:300]}"
        try:
            keep_profile = {"name": "keep-me", "executors": [{"executor": "pkce-enforcer",
                                                              "configuration": {"auto-configure": "false"}}]}
            keep_policy = {"name": "keep-me", "enabled": False, "profiles": ["keep-me"],
                           "conditions": [{"condition": "client-access-type", "configuration": {"type": ["public"]}}]}
            for what, body in [("profiles", {"profiles": [keep_profile]}), ("policies", {"policies": [keep_policy]})]:
                r = kc.admin("PUT", f"{realm}/client-policies/{what}", body=body)
                assert r.status in (200, 204), f"{what}: {r.status} {r.text[:300]}"
            script = "set -euo pipefail\n" + "\n".join(blocks[b] for b in order)
            first = "KC=http://localhost:8080 REALM=myrealm"
            assert first in script
            script = script.replace(first, f"KC={kc.base} REALM={realm}")
            for _ in range(2):  # the profile and policy steps twice: ours once, the others kept
                run = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120,
                                     env=dict(os.environ, KC_ADMIN_USER="admin", KC_ADMIN_PASSWORD="admin"))
                assert run.returncode == 0, f"recipes: {run.returncode}\n{run.stderr[-800:]}"
            comps = [c for c in kc.admin("GET", f"{realm}/components?type=org.keycloak.storage.client."
                                                "ClientStorageProvider").json() if c["providerId"] == "cimd"]
            assert len(comps) == 2, comps  # the component step ran twice
            assert all(c["config"].get("fetch_timeout_ms") == ["3000"] for c in comps), comps
            profiles = [p["name"] for p in kc.admin("GET", f"{realm}/client-policies/profiles").json()["profiles"]]
            policies = [p["name"] for p in kc.admin("GET", f"{realm}/client-policies/policies").json()["policies"]]
            assert profiles == ["keep-me", "cimd"], profiles
            assert policies == ["keep-me", "cimd"], policies
            return (f"{len(order)} recipe blocks run twice: component created and updated "
                    f"(fetch_timeout_ms 3000); profiles {profiles}, policies {policies}")
        finally:
            kc.admin("DELETE", realm)

    if not builtin:
        res.case("resource (RFC 8707) → a URL client's aud is exactly it; refresh keeps it, narrows to it, refuses "
                 "another (invalid_target)", resource_binds_tokens)
        res.case("offline_access with a resource → the offline refresh keeps aud", offline_resource_kept)
        res.case("resource not allowed → invalid_target redirected to the client", resource_not_allowed)
        res.case("no resource → audience as today (same as a realm without allowed_resources)", no_resource_as_today)
        res.case("database client with a resource → unchanged", database_client_with_resource)
        res.case("allowed_resources with a query → component save refused with the rule", bad_setting_refused)
        res.case("settings as the admin console reads them (serverinfo): typed, with the engine's defaults",
                 settings_as_admin_sees_them)
        res.case("a bad number or boolean via admin REST → refused with the engine's sentence", bad_number_refused)
        res.case("docs/keycloak.md admin REST recipes run as written; a realm's other policies kept", docs_recipes)

    def metrics():
        realm_id = kc.admin("GET", REALM).json()["id"]
        time.sleep(1.2)  # the meters read one stats snapshot a second
        samples = kc.metrics("cimd_")
        # The meters of the component "cimd" against that component's own figures (the realm has two components;
        # the top-level figures of GET stats are their sums).
        st = next(c for c in stats(kc)["components"] if c["component"] == "cimd")
        mine = [(n, lb, v) for n, lb, v in samples if lb.get("realm") == realm_id and lb.get("component") == "cimd"]
        assert mine, f"no cimd meters for realm {realm_id}: {sorted(set(n for n, _, _ in samples))[:20]}"

        with open(os.path.join(args.work, "metrics-cimd.txt"), "w") as f:
            f.write("\n".join(f"{n} {lb} {v}" for n, lb, v in samples) + "\n" + json.dumps(st) + "\n")

        def value(name, **labels):
            found = [v for n, lb, v in mine if n == name and all(lb.get(k) == w for k, w in labels.items())]
            assert found, f"no {name} {labels}"
            return sum(found)
        r = st["resolutions"]
        res_samples = [(lb.get("outcome"), lb.get("source"), v) for n, lb, v in mine if n == "cimd_resolutions_total"]
        assert value("cimd_resolutions_total", outcome="ok", source="network") == r["network"] >= 1, (r, res_samples)
        assert value("cimd_resolutions_total", outcome="ok", source="cache") == r["cache"] >= 1, (r, res_samples)
        assert value("cimd_resolutions_total", outcome="error", source="none") == r["failed"] >= 1, (r, res_samples)
        assert value("cimd_failures_total", code="blocked_address") == st["failures"]["blocked_address"] >= 1
        assert value("cimd_failures_total", code="client_id_mismatch") == st["failures"]["client_id_mismatch"]
        assert value("cimd_failures_total", code="timeout") == 0
        fetches = value("cimd_fetches_total")
        assert fetches == st["fetches"] == sum(st["fetch_results"].values()), (fetches, st)
        assert value("cimd_fetches_total", result="document") == st["fetch_results"]["document"]
        count = value("cimd_fetch_duration_seconds_count")
        assert count == fetches, f"histogram count {count} != fetches {fetches}"
        buckets = sorted(((float(lb["le"]), v) for n, lb, v in mine if n == "cimd_fetch_duration_seconds_bucket"))
        assert buckets[-1] == (float("inf"), count) and all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), buckets
        assert value("cimd_fetch_duration_seconds_sum") > 0
        assert value("cimd_coalesced_waits_total") == st["coalesced_waits"]
        assert value("cimd_stale_served_total") == st["stale_served"]
        assert value("cimd_cache_entries") == st["entries"] >= 1 and value("cimd_cache_bytes") == st["cache_bytes"] > 0
        # Bounded labels: never a URL, a host or a sentence.
        hosts = HOSTS + ["blocked.example", "app.example.net"]
        for n, lb, _ in samples:
            for k, v in lb.items():
                assert "://" not in v and " " not in v and not any(h in v for h in hosts), f"{n} {k}={v}"
        names = sorted(set(n for n, _, _ in mine))
        return (f"{len(mine)} samples for realm {REALM} ({len(names)} names); resolutions network={r['network']} "
                f"cache={r['cache']} failed={r['failed']}; blocked_address={st['failures']['blocked_address']}; "
                f"fetches={int(fetches)} = histogram count; coalesced={st['coalesced_waits']}; no URL or host label")
    if not builtin:
        res.case("/metrics (management port) carries the engine's figures with bounded labels", metrics)

    def restart():
        fetches_before = host.count(WEB)
        kc.stop()
        took = kc.start()
        r = K.token(kc, REALM, {"grant_type": "refresh_token", "refresh_token": state["refresh_token"],
                                "client_id": WEB})
        assert r.status == 200, f"refresh after restart: {r.status} {r.text[:300]}"
        out = K.login(K.Browser(), kc, REALM, WEB, WEB_CB)
        assert out.get("code"), "no code after restart"
        return (f"restarted in {took:.0f}s; refresh token from before the restart works; new login works; "
                f"document fetched again {host.count(WEB) - fetches_before}x (cache is in memory)")
    res.case("Keycloak restarted → existing session and the client still work", restart)

    def no_client_rows():
        clients = kc.admin("GET", f"{REALM}/clients?max=1000").json()
        ids = [c["clientId"] for c in clients]
        urls = [i for i in ids if "://" in i and i != DB_URL_SHAPED]
        if not builtin:
            assert not urls, urls
        state["db_client_ids"] = ids
        return (f"realm database clients: {len(ids)} ({', '.join(sorted(ids))}); URL clients among them other than the "
                f"imported {DB_URL_SHAPED}: {urls or 'none'}")
    res.case("no client rows in the realm database", no_client_rows)


def stats(kc):
    return kc.admin("GET", f"{REALM}/cimd/stats").json()


def consent_title(page):
    """The consent page's question, which names the client ("Do you grant these access privileges to X?")."""
    import html as h
    import re
    m = re.search(r"Grant Access to\s*([^<]*)", h.unescape(page))
    return m.group(0).strip() if m else ""


def page_error(text):
    """The message of a Keycloak error page (kc-error-message / instruction), for the evidence column."""
    import re
    m = re.search(r'class="[^"]*(?:kc-feedback-text|instruction|pf-v5-c-alert__title)[^"]*"[^>]*>\s*(.*?)\s*<', text, re.S)
    if not m:
        m = re.search(r'id="kc-error-message"[^>]*>\s*<p[^>]*>\s*(.*?)\s*</p>', text, re.S)
    return (m.group(1).strip() if m else text[:160]).replace("\n", " ")[:300]


if __name__ == "__main__":
    sys.exit(main())
