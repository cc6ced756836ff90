//! Which special-use addresses a host may still be contacted at (docs/contract.md §2): the narrow, explicit
//! exceptions to the classifier's verdict (`allow_loopback`, `private_network_allowlist`). It sits beside the
//! classifier because it is the classifier's one consumer: the fetcher asks it about every DNS answer, every
//! IP-literal host and every connected peer.

use std::net::IpAddr;

use super::{classify, is_loopback_any_form, SpecialUse};
use crate::config::Config;
use crate::error::Error;

/// The address rules of docs/contract.md §2: which resolved addresses a given host may use.
#[derive(Clone, Debug)]
pub struct AddressPolicy {
    allow_loopback: bool,
    grants: Vec<crate::config::PrivateNetworkGrant>,
}

impl AddressPolicy {
    /// The policy of a configuration.
    pub fn from_config(config: &Config) -> AddressPolicy {
        AddressPolicy {
            allow_loopback: config.allow_loopback,
            grants: config.private_network_allowlist.clone(),
        }
    }

    /// Ok when `host` may be contacted at `ip`; `blocked_address` otherwise.
    ///
    /// The exceptions are narrow on purpose: `allow_loopback` admits loopback only (in any spelling, e.g.
    /// `::ffff:127.0.0.1`), and a `private_network_allowlist` grant admits only private, CGNAT and unique-local
    /// addresses inside its ranges, for its one host: never link-local (cloud metadata at 169.254.169.254),
    /// multicast, unspecified or loopback.
    pub fn vet(&self, host: &str, ip: IpAddr) -> Result<(), Error> {
        let Some(kind) = classify(ip) else {
            return Ok(());
        };
        if self.allow_loopback && is_real_loopback(kind, ip) {
            return Ok(());
        }
        let grantable = matches!(
            kind,
            SpecialUse::Private | SpecialUse::SharedCgnat | SpecialUse::UniqueLocal
        );
        if grantable
            && self
                .grants
                .iter()
                .any(|g| g.host == host && g.cidrs.iter().any(|c| c.contains(ip)))
        {
            return Ok(());
        }
        let hint = if is_loopback_any_form(ip) {
            " (loopback is allowed only with allow_loopback, for development)"
        } else if grantable {
            " (an internal host can be allowed with private_network_allowlist)"
        } else {
            ""
        };
        Err(crate::err!(
            BlockedAddress,
            "host {host} resolves to {ip}, a special-use address ({}); nothing was fetched (SSRF-01){hint}",
            kind.as_str()
        ))
    }
}

/// Loopback that the kernel delivers locally: 127/8, ::1 and the IPv4-mapped form of 127/8. Translation
/// forms that merely embed 127.x (6to4, Teredo, NAT64, IPv4-compatible) are routed to the network, so the
/// development exception never admits them.
fn is_real_loopback(kind: SpecialUse, ip: IpAddr) -> bool {
    match (kind, ip) {
        (SpecialUse::Loopback, _) => true,
        (SpecialUse::Ipv4Mapped, IpAddr::V6(v6)) => v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Cidr, PrivateNetworkGrant};
    use crate::error::ErrorCode;

    fn policy(allow_loopback: bool, grants: Vec<PrivateNetworkGrant>) -> AddressPolicy {
        AddressPolicy {
            allow_loopback,
            grants,
        }
    }

    #[test]
    fn ssrf_01_special_use_addresses_are_blocked() {
        let p = policy(false, vec![]);
        for ip in [
            "127.0.0.1",
            "10.0.0.5",
            "169.254.169.254",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "::ffff:127.0.0.1",
            "100.64.0.1",
        ] {
            let e = p.vet("c.example", ip.parse().unwrap()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::BlockedAddress, "{ip}");
            assert!(e.description().contains("SSRF-01"));
        }
        assert!(p.vet("c.example", "93.184.215.14".parse().unwrap()).is_ok());
        assert!(p
            .vet("c.example", "2606:2800:220:1::248".parse().unwrap())
            .is_ok());
    }

    #[test]
    fn ssrf_04_loopback_exception_admits_loopback_only() {
        let dev = policy(true, vec![]);
        assert!(dev.vet("localhost", "127.0.0.1".parse().unwrap()).is_ok());
        assert!(dev.vet("localhost", "::1".parse().unwrap()).is_ok());
        assert!(dev.vet("localhost", "::ffff:127.0.0.1".parse().unwrap()).is_ok());
        for ip in [
            "10.0.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "fe80::1",
            "::",
            "2002:7f00:1::1",
            "64:ff9b::7f00:1",
            "::127.0.0.1",
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
        ] {
            assert!(dev.vet("localhost", ip.parse().unwrap()).is_err(), "{ip}");
        }
        let prod = policy(false, vec![]);
        assert!(prod.vet("localhost", "127.0.0.1".parse().unwrap()).is_err());
    }

    #[test]
    fn private_network_allowlist_is_host_scoped_and_range_scoped() {
        let grant = PrivateNetworkGrant {
            host: "docs.corp.example".into(),
            cidrs: vec![
                Cidr::parse("10.20.0.0/16").unwrap(),
                Cidr::parse("fd00::/8").unwrap(),
            ],
        };
        let p = policy(false, vec![grant]);
        assert!(p.vet("docs.corp.example", "10.20.1.2".parse().unwrap()).is_ok());
        assert!(p.vet("docs.corp.example", "fd00::5".parse().unwrap()).is_ok());
        assert!(p.vet("docs.corp.example", "10.21.1.2".parse().unwrap()).is_err());
        assert!(p.vet("other.corp.example", "10.20.1.2".parse().unwrap()).is_err());
        assert!(p.vet("docs.corp.example", "127.0.0.1".parse().unwrap()).is_err());
        // Even a grant that covers link-local never admits the metadata service.
        let wide = policy(
            false,
            vec![PrivateNetworkGrant {
                host: "x.corp".into(),
                cidrs: vec![Cidr::parse("0.0.0.0/0").unwrap()],
            }],
        );
        assert!(wide.vet("x.corp", "169.254.169.254".parse().unwrap()).is_err());
        assert!(wide.vet("x.corp", "127.0.0.1".parse().unwrap()).is_err());
    }
}
