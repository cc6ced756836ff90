"""make demo: Keycloak with the cimd extension, a sample client document on a loopback HTTPS host, and a scripted
login (authorization code + PKCE) with the URL client_id; prints the decoded access token. Then the MCP story: the
Python MCP SDK's own client (tests/mcp/clients/python/client.py) connects to a demo MCP server (tests/mcp/server.py)
whose authorization server is the demo realm, and every step is printed: the 401 naming the resource metadata,
discovery, the URL client_id chosen because the realm advertises client_id_metadata_document_supported, the consent
page (read by a headless chromium), the token (aud = the MCP server, azp = the URL) and the tool's result.

    python tests/keycloak/demo.py --dist DIR --jar JAR --work DIR [--browser]

Run with the MCP suite's interpreter (.cache/mcp-venv, make mcp-deps: the mcp SDK, selenium). Everything binds to
127.0.0.1. Without --browser it runs inside scripts/netns (see scripts/keycloak-demo.sh) and stops after the MCP
story; with --browser it keeps Keycloak running for you to try the same login in a browser on this machine, until
Ctrl-C.
"""
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "mcp"))
import kc as K  # noqa: E402
from dochost import DocHost  # noqa: E402

PORT_DOCS, PORT_KC, PORT_MCP, PORT_MCP_CALLBACK = 8443, 8080, 18100, 33401
CLIENT_ID = f"https://localhost:{PORT_DOCS}/clients/demo-app.json"
REDIRECT = "http://localhost:8765/callback"
MCP_CLIENT_ID = f"https://localhost:{PORT_DOCS}/clients/demo-mcp-client.json"
MCP_RESOURCE = f"http://127.0.0.1:{PORT_MCP}/mcp"


def say(text):
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def main():
    ap = K.driver_arguments()
    ap.add_argument("--browser", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)

    host = DocHost(args.work, ["localhost"], port=PORT_DOCS).start()
    document = {"client_id": CLIENT_ID, "client_name": "cimd Demo App", "client_uri": f"https://localhost:{PORT_DOCS}/",
                "redirect_uris": ["http://localhost/callback"], "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"], "token_endpoint_auth_method": "none"}
    host.json(CLIENT_ID, document)
    mcp_document = {"client_id": MCP_CLIENT_ID, "client_name": "cimd Demo MCP client (Python SDK)",
                    "redirect_uris": ["http://127.0.0.1/callback"],
                    "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
                    "token_endpoint_auth_method": "none"}
    host.json(MCP_CLIENT_ID, mcp_document)
    home = K.install(args.dist, os.path.join(args.work, "keycloak"))
    os.makedirs(os.path.join(home, "providers"), exist_ok=True)
    shutil.copy(args.jar, os.path.join(home, "providers", "cimd-keycloak.jar"))
    os.makedirs(os.path.join(home, "data", "import"), exist_ok=True)
    realm = {
        "realm": "demo", "enabled": True, "sslRequired": "none",
        "users": [{"username": "demo", "enabled": True, "email": "demo@example.com", "emailVerified": True,
                   "firstName": "Demo", "lastName": "User",
                   # The realm's default roles (offline_access among them): imported users get none unless named.
                   "realmRoles": ["default-roles-demo"],
                   "credentials": [{"type": "password", "value": "demo-password", "temporary": False}]}],
        "components": {"org.keycloak.storage.client.ClientStorageProvider": [{
            "name": "cimd", "providerId": "cimd",
            "config": {"cachePolicy": ["NO_CACHE"], "allow_loopback": ["true"], "extra_ca_file": [host.ca_file],
                       # The RFC 8707 resources URL clients may ask tokens for: the demo MCP server.
                       "allowed_resources": [MCP_RESOURCE]}}]},
        "clientProfiles": {"profiles": [{"name": "cimd", "executors": [{"executor": "cimd-resolve",
                                                                         "configuration": {}}]}]},
        "clientPolicies": {"policies": [{"name": "cimd", "enabled": True, "profiles": ["cimd"],
                                         "conditions": [{"condition": "cimd-client-id", "configuration": {}}]}]},
    }
    with open(os.path.join(home, "data", "import", "demo.json"), "w") as f:
        json.dump(realm, f, indent=1)

    say("The realm configuration this demo imports (data/import/demo.json of the Keycloak below)")
    print(json.dumps(realm, indent=1))
    say(f"Client metadata document at {CLIENT_ID} (served by a throwaway loopback HTTPS host)")
    print(json.dumps(document, indent=1))
    kc = K.Keycloak(home, PORT_KC, os.path.join(args.work, "keycloak.log"))
    say("Starting Keycloak with the cimd extension (first start builds Keycloak: a few minutes)")
    took = kc.start()
    print(f"Keycloak is up at {kc.base} after {took:.0f}s; log: {kc.log_path}")
    try:
        d = K.Browser().get(f"{kc.base}/realms/demo/.well-known/oauth-authorization-server").json()
        say("Discovery (/realms/demo/.well-known/oauth-authorization-server)")
        for k in ("client_id_metadata_document_supported", "token_endpoint_auth_methods_supported",
                  "code_challenge_methods_supported"):
            print(f"{k}: {json.dumps(d.get(k))}")

        say(f"Scripted login as demo/demo-password: authorization code + PKCE, client_id = the URL, "
            f"redirect_uri {REDIRECT} (a loopback port the document does not list: RFC 8252 any-port)")
        out = K.login(K.Browser(), kc, "demo", CLIENT_ID, REDIRECT, username="demo", password="demo-password",
                      scope="openid offline_access")
        if not out.get("code"):
            print("login failed; see the log", kc.log_path)
            return 1
        print(f"redirected to {out['redirect'][:80]}...")
        t = K.token(kc, "demo", {"grant_type": "authorization_code", "code": out["code"], "redirect_uri": REDIRECT,
                                 "client_id": CLIENT_ID, "code_verifier": out["verifier"]}).json()
        say("Decoded access token")
        print(json.dumps(K.decode_jwt(t["access_token"]), indent=1))
        print(f"scope granted: {t.get('scope')}; refresh token type: {K.decode_jwt(t['refresh_token']).get('typ')}"
              " (offline_access, which the MCP SDKs' clients ask for)")
        say("No client was written to the realm database")
        ids = [c["clientId"] for c in kc.admin("GET", "demo/clients?max=1000").json()]
        print("database clients:", ", ".join(sorted(ids)))
        say("What the engine holds (GET /admin/realms/demo/cimd/clients)")
        print(json.dumps(kc.admin("GET", "demo/cimd/clients").json(), indent=1))
        if mcp_story(kc, args.work, mcp_document) != 0:
            return 1
        url = K.authorize_url(kc, "demo", CLIENT_ID, REDIRECT, K.pkce_pair()[1])
        if args.browser:
            say("Try it in your browser (Ctrl-C here to stop)")
            print(f"Open:\n  {url}\nLog in as demo / demo-password. After consent the browser goes to {REDIRECT}"
                  "?code=... (nothing listens there: the code in the address bar is the result).")
            try:
                kc.proc.wait()
            except KeyboardInterrupt:
                pass
        else:
            say("Try it in a browser")
            print("Run `scripts/keycloak-demo.sh --browser`: the same Keycloak on 127.0.0.1:8080 of this machine, kept"
                  " running,\nthen open the authorization URL it prints and log in as demo / demo-password.")
        return 0
    finally:
        kc.stop()
        host.stop()


def mcp_story(kc, work, document):
    """The Python MCP SDK's client against the demo MCP server, each step told (docs/mcp.md)."""
    from browser import HeadlessChromium
    from harness import ClientRun, McpServer

    say(f"MCP: a demo MCP server at {MCP_RESOURCE} whose authorization server is the demo realm")
    issuer = kc.endpoints("demo")["issuer"]
    server = McpServer("demo", PORT_MCP, issuer, work)
    browser = HeadlessChromium(work)
    client = os.path.join(HERE, "..", "mcp", "clients", "python", "client.py")
    say(f"MCP: the Python SDK's own client (mcp on PyPI), client_id {MCP_CLIENT_ID}; its steps, as it takes them")
    run = ClientRun([sys.executable, client, "--server-url", MCP_RESOURCE, "--client-id", MCP_CLIENT_ID,
                     "--callback-port", str(PORT_MCP_CALLBACK), "--narrate"], os.path.join(work, "mcp-client.log"),
                    stderr_here=True)
    try:
        _, step = run.expect("authorize")
        say("MCP: the user's part, in a headless chromium: it opens the SDK's authorization URL, signs in as demo, "
            "reads the consent page and approves")
        outcome = browser.authorize(step["url"], f"http://127.0.0.1:{PORT_MCP_CALLBACK}/", kc.base, "demo-mcp",
                                    username="demo", password="demo-password")
        print(f"consent page: {outcome.consent_title!r} (the document's client_name, then the host of the client_id; "
              f"screenshot {os.path.join(work, 'screenshots', 'demo-mcp-consent.png')})")
        run.expect("callback")
        _, first = run.expect("tool")
        claims = json.loads(first["result"])
        say("MCP: the tool's result (whoami: the claims of the token the MCP server verified)")
        print(json.dumps(claims, indent=1))
        print(f"aud = {claims.get('aud')} (the MCP server), azp = {claims.get('azp')} (the URL client_id)")
        run.expect("tool")
        run.expect("done")
        return 0
    except AssertionError as e:
        print(f"MCP story failed: {e}; see {os.path.join(work, 'mcp-client.log')} and {kc.log_path}")
        return 1
    finally:
        run.stop()
        browser.close()
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
