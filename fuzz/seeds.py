#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/) from the engine's test vectors.

The vectors are read from the test modules themselves (string literals in src/client_id.rs, src/redirect.rs,
src/cache/freshness.rs, src/config.rs and tests/), plus the real-world documents of src/document.rs's tests, so the
seeds follow the tests. Each seed is named by a hash of its content; the corpus is kept small (a few hundred
files): libFuzzer grows it while it runs, in a scratch copy (scripts/fuzz), never in the repository.

    python3 fuzz/seeds.py        # rewrites fuzz/corpus/
"""

import hashlib
import json
import pathlib
import re
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"

# A Rust string literal: "..." with escapes, or r#"..."#.
STR = re.compile(r'r#"(.*?)"#|"((?:[^"\\\n]|\\.)*)"', re.S)


def literals(*paths):
    out = []
    for p in paths:
        for m in STR.finditer((ROOT / p).read_text()):
            if m.group(1) is not None:
                out.append(m.group(1))
            else:
                try:
                    out.append(json.loads('"' + m.group(2).replace("\\'", "'") + '"'))
                except (ValueError, json.JSONDecodeError):
                    out.append(m.group(2))
    return out


def write(target, seeds, limit):
    d = CORPUS / target
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    seen = set()
    for s in seeds:
        data = s if isinstance(s, bytes) else s.encode()
        h = hashlib.sha1(data).hexdigest()[:16]
        if h in seen:
            continue
        seen.add(h)
        (d / h).write_bytes(data)
        if len(seen) >= limit:
            break
    print(f"{target}: {len(seen)} seeds")


def client_id_seeds():
    urls = [s for s in literals("src/client_id.rs", "tests/robustness.rs", "tests/cli.rs", "src/addr/mod.rs")
            if re.match(r"(?i)^[a-z+.-]*:|^//|^https", s)]
    # Flag byte: 0 = strict rules, 3 = allow_query and allow_root_path.
    return [bytes([flags]) + u.encode() for u in urls for flags in (0, 3)]


def redirect_seeds():
    text = (ROOT / "src/redirect.rs").read_text()
    pairs = re.findall(r'\(\s*"([^"]*)",\s*"([^"]*)",\s*(?:true|false)\s*\)', text)
    uris = [s for s in literals("src/redirect.rs", "src/document.rs") if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", s)]
    seeds = [bytes([1]) + f"{r}\n{q}".encode() for r, q in pairs]
    seeds += [bytes([flags]) + f"{u}\n{u}".encode() for u in uris for flags in (0, 1)]
    return seeds


def freshness_seeds():
    head = (1_800_000_000 // 4).to_bytes(4, "little") + (60 // 40).to_bytes(2, "little") + (86400 // 40).to_bytes(2, "little")
    values = [s for s in literals("src/cache/freshness.rs", "tests/cache.rs") if s and len(s) < 200]
    seeds = []
    for v in values:
        if re.search(r"\d\d:\d\d:\d\d", v):
            seeds += [head + f"e:{v}".encode(), head + f"max-age=60\nd:{v}\ne:{v}\na:30".encode()]
        else:
            seeds.append(head + v.encode())
    seeds.append(head + b"max-age=600\na:100")
    seeds.append(head + b"no-cache=\"a, b\", max-age=\"60\"\ns-maxage=30")
    return seeds


def config_seeds():
    return [s for s in literals("src/config.rs", "tests/robustness.rs", "tests/cli.rs", "tests/common/mod.rs")
            if s.lstrip().startswith("{")] + ["{}"]


DOCS = [
    {"client_id": "https://c.example/client.json", "client_name": "Test Client",
     "redirect_uris": ["https://c.example/callback"], "grant_types": ["authorization_code", "refresh_token"],
     "response_types": ["code"], "token_endpoint_auth_method": "none"},
    {"client_id": "https://c.example/client.json", "client_name": "ChatGPT", "client_uri": "https://chatgpt.com",
     "logo_uri": "https://cdn.oaistatic.com/assets/favicon-o20kmmos.svg",
     "redirect_uris": ["https://chatgpt.com/connector_platform_oauth_redirect"],
     "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
     "token_endpoint_auth_method": "private_key_jwt",
     "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
     "jwks_uri": "https://chatgpt.com/oauth/connector/jwks.json", "application_type": "web"},
    {"client_id": "https://c.example/client.json", "client_name": "Claude Code", "client_uri": "https://claude.ai",
     "redirect_uris": ["http://localhost/callback", "http://127.0.0.1/callback"],
     "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
     "token_endpoint_auth_method": "none"},
    {"client_id": "https://c.example/client.json", "client_name": "Visual Studio Code",
     "redirect_uris": ["http://127.0.0.1:33418/", "https://vscode.dev/redirect"],
     "grant_types": ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
     "token_endpoint_auth_method": "none", "application_type": "native"},
    {"client_id": "https://c.example/client.json", "grant_types": ["client_credentials"],
     "token_endpoint_auth_method": "private_key_jwt",
     "jwks": {"keys": [{"kty": "RSA", "n": "0vx7agoebGcQSuuPiLJXZpt", "e": "AQAB", "kid": "k1", "use": "sig"},
                       {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                        "y": "x_FEzRjGaXlJM5lPAEWnbNdMuV3qh2gr8jx2V2QWWUQ"}]}},
    {"client_id": "https://c.example/client.json", "redirect_uris": ["com.example.app:/cb"],
     "client_name": "Evil\u202eppa", "logo_uri": "javascript:alert(1)", "scope": "openid profile",
     "contacts": ["ops@c.example"], "software_id": "x", "software_version": "1.0",
     "post_logout_redirect_uris": ["https://c.example/bye"], "x_unknown": [1, 2.5, None, True, {"a": {}}]},
    {"client_id": "https://c.example/client.json", "redirect_uris": ["https://c.example/cb"],
     "client_secret": "s3cret"},
    {"client_id": "https://c.example/other.json", "redirect_uris": ["https://c.example/cb"]},
]


# Contract v2 (docs/contract.md §12): draft -03 authentication, software statements, private-use schemes.
V2_DOCS = [
    {"client_id": "https://c.example/client.json", "redirect_uris": ["https://c.example/cb"],
     "token_endpoint_auth_method": "none", "token_endpoint_auth_methods_supported": ["private_key_jwt"],
     "jwks_uri": "https://c.example/jwks.json"},
    {"client_id": "https://c.example/client.json", "redirect_uris": ["https://c.example/cb"],
     "token_endpoint_auth_methods_supported": ["none", "client_secret_basic"]},
    {"client_id": "https://c.example/client.json", "redirect_uris": ["https://c.example/cb"],
     "token_endpoint_auth_methods_supported": ["private_key_jwt"], "jwks_uri": "https://c.example/jwks.json"},
    {"client_id": "https://c.example/client.json", "redirect_uris": ["https://c.example/cb"],
     "software_statement": "eyJhbGciOiJub25lIn0.eyJyZWRpcmVjdF91cmlzIjpbXX0."},
    {"client_id": "https://c.example/client.json",
     "redirect_uris": ["mcpjam://oauth/callback", "myapp:/cb", "JavaScript:alert(1)", "VIEW-SOURCE:x", "wss://c/cb"]},
]


def published_documents():
    """The documents real clients publish (tests/fixtures/clients), re-addressed to the target's client_id."""
    out = []
    for path in sorted((ROOT / "tests" / "fixtures" / "clients").glob("*.json")):
        if path.name == "expected.json":
            continue
        d = json.loads(path.read_text())
        d["client_id"] = "https://c.example/client.json"
        out.append(d)
    return out


def document_seeds():
    seeds = []
    # Config header: 0 = defaults; 0x0f/0x3f/0x07 = everything supported; 0x11 = tight JSON limits.
    for head in (b"\0\0\0\0", b"\x0f\x3f\x07\0", b"\x7f\x3f\x07\0", b"\x02\x04\x01\x11"):
        for d in DOCS + V2_DOCS + published_documents():
            seeds.append(head + json.dumps(d).encode())
            seeds.append(head + json.dumps(d, indent=1, ensure_ascii=True).encode())
    seeds.append(b"\0\0\0\0" + b'{"client_id":"https://c.example/client.json","a":1,"a":2}')
    seeds.append(b"\0\0\0\0" + b"[" * 40 + b"]" * 40)
    seeds.append(b"\0\0\0\0" + b"\xef\xbb\xbf{}")
    return seeds


def c_abi_seeds():
    # Two flag bytes (0, 0: every string as given, error objects wanted, fenced engine 0, no deadline), then the
    # configuration, client_id and redirect_uri separated by 0xff (see fuzz/fuzz_targets/c_abi.rs).
    configs = [c.encode() for c in config_seeds()]
    urls = [s[1:] for s in client_id_seeds() if s[0] == 0]
    uris = [s for s in literals("src/redirect.rs") if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", s)]
    fenced = b'{"allowed_hosts": ["fenced.invalid"]}'
    seeds = []
    # NULL and impossible-length arguments, invalid UTF-8 and NULs, NULL error out-parameters.
    url = b"https://fenced.invalid/client.json"
    for flags in (0x01, 0x03, 0x04, 0x08, 0x0c, 0x10, 0x20, 0x30, 0x40, 0x80):
        seeds.append(bytes([flags, 0]) + fenced + b"\xff" + url + b"\xff" + b"https://c.example/cb")
    seeds.append(bytes([0, 0]) + b"{\"allow_query\": tr\xc3\x28ue}\xff" + url)
    seeds.append(bytes([0, 1]) + fenced + b"\xff" + b"https://c.example/\x00.json\xff" + b"https://c.\xe2\x82/cb")
    seeds.append(bytes([0, 2]) + b'{"extra_ca_file": "/nonexistent/ca.pem"}\xff' + url)
    for i, u in enumerate(urls):
        config = configs[i % len(configs)]
        uri = uris[i % len(uris)].encode()
        seeds.append(bytes([0, i % 3]) + config + b"\xff" + u + b"\xff" + uri)
        seeds.append(bytes([0, i % 3]) + fenced + b"\xff" + u + b"\xff" + uri)
    return seeds


if __name__ == "__main__":
    write("client_id", client_id_seeds(), 300)
    write("redirect", redirect_seeds(), 200)
    write("freshness", freshness_seeds(), 150)
    write("config", config_seeds(), 100)
    write("document", document_seeds(), 160)
    write("c_abi", c_abi_seeds(), 200)
