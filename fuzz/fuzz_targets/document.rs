//! Document intake and validation (docs/contract.md §3, §11.1) with arbitrary configurations. The first 4 bytes
//! derive the host policy (supported auth methods, grant and response types, JSON limits); the rest is the
//! fetched body, validated for a fixed client_id. An accepted document must serialise to a valid ok line and
//! validate again to the same metadata; a rejected one must carry a document-stage error code.
#![no_main]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use cimd::internals::{ClientIdUrl, UrlRules};
use cimd::internals::{validate, validate_all, DocumentPolicy};
use cimd::{Config, ErrorCode, Resolution, ResolvedClient, Source};
use libfuzzer_sys::fuzz_target;

const CLIENT_ID: &str = "https://c.example/client.json";
/// What a host may list, shared-secret methods included (contract §12.2): they are never negotiated.
const AUTH: [&str; 7] = cimd::config::KNOWN_AUTH_METHODS;
const GRANTS: [&str; 6] = [
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:device_code",
    "implicit",
];
const RESPONSES: [&str; 3] = ["code", "token", "id_token"];

/// The masked entries of `pool`, or `default` when the mask selects none.
fn pick(pool: &[&str], mask: u8, default: &[String]) -> Vec<String> {
    let v: Vec<String> = pool
        .iter()
        .enumerate()
        .filter(|(i, _)| mask >> i & 1 == 1)
        .map(|(_, s)| (*s).to_owned())
        .collect();
    if v.is_empty() {
        default.to_vec()
    } else {
        v
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let (head, body) = data.split_at(4);
    let d = Config::default();
    let config = Config {
        auth_methods_supported: pick(&AUTH, head[0] & 0x7f, &d.auth_methods_supported),
        grant_types_supported: pick(&GRANTS, head[1] & 0x3f, &d.grant_types_supported),
        response_types_supported: pick(&RESPONSES, head[2] & 0x07, &d.response_types_supported),
        max_json_depth: if head[3] & 0x0f == 0 {
            d.max_json_depth
        } else {
            2 + usize::from(head[3] & 0x0f) * 8
        },
        max_array_items: if head[3] >> 4 == 0 {
            d.max_array_items
        } else {
            usize::from(head[3] >> 4) * 4
        },
        ..d
    };
    let policy = DocumentPolicy::from_config(&config);
    // lint's collecting run walks the same stages: its first finding is resolve's error, and it accepts exactly
    // what resolve accepts (contract §11.10).
    let all = validate_all(body, CLIENT_ID, &policy);
    let first = match validate(body, CLIENT_ID, &policy) {
        Ok(doc) => {
            assert_eq!(all.as_ref().ok(), Some(&doc), "lint and resolve disagree");
            doc
        }
        Err(e) => {
            let findings = all.expect_err("lint accepted what resolve refused");
            assert_eq!(findings.first(), Some(&e), "lint's first finding is not resolve's error");
            assert!(
                matches!(
                    e.code(),
                    ErrorCode::InvalidJson
                        | ErrorCode::InvalidMetadata
                        | ErrorCode::ClientIdMismatch
                        | ErrorCode::ForbiddenMetadata
                        | ErrorCode::UnsupportedAuthMethod
                ),
                "unexpected code {e}"
            );
            assert!(!e.description().is_empty());
            return;
        }
    };
    let m = &first.metadata;
    assert_eq!(m.client_id, CLIENT_ID);
    assert!(
        !m.token_endpoint_auth_method.starts_with("client_secret_"),
        "a shared-secret method was negotiated: {}",
        m.token_endpoint_auth_method
    );
    assert!(config
        .auth_methods_supported
        .contains(&m.token_endpoint_auth_method));
    assert!(m
        .grant_types
        .iter()
        .all(|g| config.grant_types_supported.contains(g)));
    assert!(m
        .response_types
        .iter()
        .all(|r| config.response_types_supported.contains(r)));
    for uri in [&m.client_uri, &m.logo_uri, &m.tos_uri, &m.policy_uri]
        .into_iter()
        .flatten()
    {
        assert!(uri.starts_with("https://"), "unsafe display URI kept: {uri:?}");
    }
    if let Some(name) = &m.client_name {
        assert!(!name.is_empty() && name.chars().count() <= 200 && !name.chars().any(char::is_control));
    }

    // The ok line is valid JSON with the metadata in it.
    let url = ClientIdUrl::parse(CLIENT_ID, &UrlRules::default()).unwrap();
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let client = ResolvedClient::new(
        m.clone(),
        url.display_host(),
        first.warnings.clone(),
        vec![],
        at,
        1,
        body.len(),
    );
    let line = Resolution::new(Arc::new(client), Source::Network, at).to_json_line();
    let parsed: serde_json::Value = serde_json::from_str(&line).expect("ok line is JSON");
    assert_eq!(parsed["client"]["client_id"], CLIENT_ID);

    // Accepted once, accepted again after serialising the result, with the same metadata.
    let again = serde_json::to_vec(m).unwrap();
    let second = validate(&again, CLIENT_ID, &policy).unwrap_or_else(|e| {
        panic!(
            "serialised result rejected: {e}\n{}",
            String::from_utf8_lossy(&again)
        )
    });
    assert_eq!(&second.metadata, m);
});
