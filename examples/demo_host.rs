//! The demo's metadata host: a throwaway CA and an HTTPS origin on 127.0.0.1:443 serving sample client
//! documents, good and bad. Run by `make demo` inside an isolated network namespace (scripts/netns), where
//! the demo host names resolve to loopback through a generated hosts file. It prints the CA file's path,
//! then serves until its standard input closes.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Read;

use serde_json::{json, Value};
use support::{Reply, Server, TestPki};

const APP: &str = "https://app.example.com";
const TOOLS: &str = "https://tools.example.org";

fn doc(client_id: &str, extra: Value) -> Vec<u8> {
    let mut d = json!({
        "client_id": client_id,
        "client_name": "Example App",
        "client_uri": "https://app.example.com/",
        "redirect_uris": ["https://app.example.com/oauth/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none"
    });
    for (k, v) in extra.as_object().into_iter().flatten() {
        d[k] = v.clone();
    }
    serde_json::to_vec_pretty(&d).unwrap_or_default()
}

fn main() {
    let pki = TestPki::new(&["app.example.com", "tools.example.org"]);
    let server = match Server::start_on(443, pki.server_config()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("demo host: cannot listen on 127.0.0.1:443 ({e}); run it through scripts/netns");
            std::process::exit(1);
        }
    };
    let cc = ("Cache-Control", "max-age=300");
    let route = |path: &str, reply: Reply| server.route(path, vec![reply]);
    route(
        "/clients/claude-code.json",
        Reply::json(doc(
            &format!("{APP}/clients/claude-code.json"),
            json!({"client_name": "Claude Code (sample)",
                   "redirect_uris": ["http://localhost/callback", "http://127.0.0.1/callback"]}),
        ))
        .header(cc.0, cc.1),
    );
    route(
        "/clients/chatgpt.json",
        Reply::json(doc(
            &format!("{APP}/clients/chatgpt.json"),
            json!({"client_name": "ChatGPT (sample)",
                   "token_endpoint_auth_method": "private_key_jwt",
                   "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
                   "jwks_uri": "https://app.example.com/clients/jwks.json",
                   "grant_types": ["authorization_code", "refresh_token",
                                   "urn:ietf:params:oauth:grant-type:jwt-bearer"]}),
        )),
    );
    route(
        "/clients/mismatch.json",
        Reply::json(doc(&format!("{APP}/clients/other.json"), json!({}))),
    );
    route(
        "/clients/secret.json",
        Reply::json(doc(
            &format!("{TOOLS}/clients/secret.json"),
            json!({"client_secret": "hunter2"}),
        )),
    );
    server.route(
        "/clients/moved.json",
        vec![Reply::status(302).header("Location", "https://tools.example.org/clients/new.json")],
    );
    route(
        "/clients/huge.json",
        Reply::json(doc(
            &format!("{TOOLS}/clients/huge.json"),
            json!({"x_padding": "x".repeat(8000)}),
        )),
    );
    route(
        "/clients/page.json",
        Reply::json(b"<html>Please enable JavaScript</html>".to_vec()).content_type("text/html"),
    );
    println!("CA {}", pki.ca_pem_path.display());
    // Serve until the demo script closes our stdin.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}
