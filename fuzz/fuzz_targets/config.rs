//! The configuration parser (docs/contract.md §8) on arbitrary bytes. An accepted configuration must satisfy the
//! ranges its description (cimd::config::KEYS) gives; a rejected one must be a ConfigError with a reason and a
//! printable key path, never a panic.
#![no_main]

use cimd::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::from_json(text) {
        Err(e) => {
            assert!(!e.reason().is_empty());
            assert!(!e.path().chars().any(char::is_control), "control character in {:?}", e.path());
        }
        Ok(c) => {
            assert!(c.min_cache_ttl <= c.max_cache_ttl);
            assert!((64..=1 << 20).contains(&c.max_document_bytes));
            assert!(c.cache_max_entries >= 1 && c.max_concurrent_fetches >= 1 && c.per_host_concurrency >= 1);
            assert!(!c.auth_methods_supported.is_empty());
            assert!(c
                .auth_methods_supported
                .iter()
                .all(|m| cimd::config::KNOWN_AUTH_METHODS.contains(&m.as_str())));
            assert!(!c.grant_types_supported.is_empty() && !c.response_types_supported.is_empty());
            assert!((2..=128).contains(&c.max_json_depth));
            for g in &c.private_network_allowlist {
                assert!(!g.cidrs.is_empty() && !g.host.is_empty());
            }
            // The URL rules and document policy of an accepted configuration are usable as they are.
            let _ = cimd::internals::UrlRules::from_config(&c);
            let _ = cimd::internals::DocumentPolicy::from_config(&c);
        }
    }
});
