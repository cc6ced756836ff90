//! Every caching decision about time, in one place (docs/contract.md §4): an entry's lifetime, whether it is
//! fresh, whether it may be served while it is revalidated (stale-while-revalidate) or while its host fails
//! (stale-if-error), what a failure does to it, and what a 304 renews. Documents and key sets follow the same
//! rules, so the engine asks here for both.

use std::time::{Duration, Instant, SystemTime};

use super::{freshness, CacheHeaders, Lifetime};
use crate::config::Config;
use crate::error::ErrorCode;

/// The operator's caching bounds (`min_cache_ttl_s`, `max_cache_ttl_s`, `stale_while_revalidate_s`,
/// `stale_if_error_s`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    min_ttl: Duration,
    max_ttl: Duration,
    stale_while_revalidate: Duration,
    stale_if_error: Duration,
}

/// What a lookup may do with an entry now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Use {
    /// Serve it.
    Fresh,
    /// Serve it, and refresh it in the background (stale-while-revalidate).
    Revalidate,
    /// Fetch: the entry may only help as a stale-if-error fallback or with its validators.
    Fetch,
}

/// What a failed fetch does to the entry it was refreshing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AfterFailure {
    /// The resource is gone (404, 410): forget it at once.
    Evict,
    /// The host fails transiently and the entry is inside stale-if-error: serve it.
    ServeStale,
    /// Report the failure.
    Report,
}

impl Policy {
    /// The bounds of a configuration.
    pub(crate) fn from_config(config: &Config) -> Policy {
        Policy {
            min_ttl: config.min_cache_ttl,
            max_ttl: config.max_cache_ttl,
            stale_while_revalidate: config.stale_while_revalidate,
            stale_if_error: config.stale_if_error,
        }
    }

    /// The lifetime of a response received at `now` / `wall`, from its headers clamped to the bounds.
    pub(crate) fn lifetime(&self, headers: &CacheHeaders, now: Instant, wall: SystemTime) -> Lifetime {
        let f = freshness(headers, wall, self.min_ttl, self.max_ttl);
        Lifetime {
            fresh_until: now + f.ttl,
            expires_at: wall + f.ttl,
            serve_stale: f.serve_stale,
        }
    }

    /// What a 304 leaves: a lifetime from the 304's own headers; its Cache-Control replaces the stored rules on
    /// staleness, and without one the stored rules stay (RFC 9111 §4.3.4).
    pub(crate) fn renewed(
        &self,
        old: &Lifetime,
        headers: &CacheHeaders,
        now: Instant,
        wall: SystemTime,
    ) -> Lifetime {
        let mut life = self.lifetime(headers, now, wall);
        if headers.cache_control.is_empty() {
            life.serve_stale = old.serve_stale;
        }
        life
    }

    /// What a lookup at `now` may do with an entry of this lifetime.
    pub(crate) fn use_at(&self, life: &Lifetime, now: Instant) -> Use {
        if now < life.fresh_until {
            Use::Fresh
        } else if life.serve_stale && now < life.fresh_until + self.stale_while_revalidate {
            Use::Revalidate
        } else {
            Use::Fetch
        }
    }

    /// The operators' word for an entry at `now`: `fresh`, `stale` (servable while revalidating or while the host
    /// fails) or `expired`.
    pub(crate) fn state(&self, life: &Lifetime, now: Instant) -> &'static str {
        let window = self.stale_while_revalidate.max(self.stale_if_error);
        if now < life.fresh_until {
            "fresh"
        } else if life.serve_stale && now < life.fresh_until + window {
            "stale"
        } else {
            "expired"
        }
    }

    /// What a failed refresh does: a 404 or 410 proves the resource gone; a transport error, a timeout, a 429 or a
    /// 5xx is transient, so a cached version inside stale-if-error is served (unless its headers forbade serving
    /// it stale); anything else is reported.
    pub(crate) fn after_failure(
        &self,
        status: Option<u16>,
        code: ErrorCode,
        cached: Option<&Lifetime>,
        now: Instant,
    ) -> AfterFailure {
        if matches!(status, Some(404 | 410)) {
            return AfterFailure::Evict;
        }
        let transient = match status {
            Some(s) => s == 429 || (500..600).contains(&s),
            None => matches!(
                code,
                ErrorCode::DnsError
                    | ErrorCode::ConnectError
                    | ErrorCode::TlsError
                    | ErrorCode::Timeout
                    | ErrorCode::RateLimited
            ),
        };
        match cached {
            Some(life) if transient && life.serve_stale && now < life.fresh_until + self.stale_if_error => {
                AfterFailure::ServeStale
            }
            _ => AfterFailure::Report,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            min_ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(3600),
            stale_while_revalidate: Duration::from_secs(30),
            stale_if_error: Duration::from_secs(600),
        }
    }

    /// The test policy and the moment a test starts at, on the monotonic and on the wall clock.
    fn start() -> (Policy, Instant, SystemTime) {
        (policy(), Instant::now(), SystemTime::now())
    }

    fn headers(cc: &'static str) -> CacheHeaders<'static> {
        CacheHeaders {
            cache_control: if cc.is_empty() { vec![] } else { vec![cc] },
            ..CacheHeaders::default()
        }
    }

    #[test]
    fn use_follows_freshness_and_the_revalidate_window() {
        let (p, now, wall) = start();
        let life = p.lifetime(&headers("max-age=120"), now, wall);
        assert_eq!(p.use_at(&life, now), Use::Fresh);
        assert_eq!(p.use_at(&life, now + Duration::from_secs(130)), Use::Revalidate);
        assert_eq!(p.use_at(&life, now + Duration::from_secs(151)), Use::Fetch);
        assert_eq!(p.state(&life, now + Duration::from_secs(130)), "stale");
        assert_eq!(p.state(&life, now + Duration::from_secs(800)), "expired");
        // CAC-07: no-store is never served stale.
        let strict = p.lifetime(&headers("no-store"), now, wall);
        assert_eq!(p.use_at(&strict, now + Duration::from_secs(61)), Use::Fetch);
        assert_eq!(p.state(&strict, now + Duration::from_secs(61)), "expired");
    }

    #[test]
    fn failures_evict_serve_stale_or_report() {
        let (p, now, wall) = start();
        let life = p.lifetime(&headers("max-age=60"), now, wall);
        let later = now + Duration::from_secs(120);
        for (status, code, want) in [
            (Some(404), ErrorCode::HttpStatus, AfterFailure::Evict),
            (Some(410), ErrorCode::HttpStatus, AfterFailure::Evict),
            (Some(503), ErrorCode::HttpStatus, AfterFailure::ServeStale),
            (Some(429), ErrorCode::HttpStatus, AfterFailure::ServeStale),
            (None, ErrorCode::Timeout, AfterFailure::ServeStale),
            (None, ErrorCode::DnsError, AfterFailure::ServeStale),
            (None, ErrorCode::ConnectError, AfterFailure::ServeStale),
            (None, ErrorCode::BlockedAddress, AfterFailure::Report),
            (None, ErrorCode::TooLarge, AfterFailure::Report),
            (Some(403), ErrorCode::HttpStatus, AfterFailure::Report),
            (None, ErrorCode::InvalidJson, AfterFailure::Report),
        ] {
            assert_eq!(
                p.after_failure(status, code, Some(&life), later),
                want,
                "{status:?} {code}"
            );
        }
        // Past stale-if-error, or with nothing cached, or against must-revalidate: reported.
        let past = now + Duration::from_secs(700);
        assert_eq!(
            p.after_failure(Some(503), ErrorCode::HttpStatus, Some(&life), past),
            AfterFailure::Report
        );
        assert_eq!(
            p.after_failure(Some(503), ErrorCode::HttpStatus, None, later),
            AfterFailure::Report
        );
        let strict = p.lifetime(&headers("max-age=60, must-revalidate"), now, wall);
        assert_eq!(
            p.after_failure(Some(503), ErrorCode::HttpStatus, Some(&strict), later),
            AfterFailure::Report
        );
    }

    #[test]
    fn a_304_renews_and_its_cache_control_replaces_the_stored_rules() {
        let (p, now, wall) = start();
        let strict = p.lifetime(&headers("max-age=60, must-revalidate"), now, wall);
        let later = now + Duration::from_secs(100);
        let kept = p.renewed(&strict, &headers(""), later, wall);
        assert!(!kept.serve_stale && kept.fresh_until > strict.fresh_until);
        let lifted = p.renewed(&strict, &headers("max-age=60"), later, wall);
        assert!(lifted.serve_stale);
    }
}
