//! Abuse limits on outgoing fetches (docs/contract.md §2): a global cap on concurrent fetches, a per-host cap and a
//! per-host token bucket. A refusal is `rate_limited`, never a cached verdict: the next request may fetch.
//!
//! Every caller that attacks the engine with distinct client_ids on one host ends up here, so the per-host
//! table is itself bounded: idle hosts whose bucket is full carry no information and are pruned.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::{Config, RateLimit};
use crate::error::Error;

/// Most hosts tracked before idle ones are pruned.
const MAX_TRACKED_HOSTS: usize = 4096;

struct HostState {
    in_flight: Arc<Semaphore>,
    tokens: f64,
    refilled: Instant,
}

/// The fetch limiter of one engine.
pub struct Limiter {
    global: Arc<Semaphore>,
    per_host_concurrency: usize,
    rate: RateLimit,
    hosts: Mutex<HashMap<String, HostState>>,
}

/// Permission to fetch: held for the duration of one fetch.
pub struct Permit {
    _global: OwnedSemaphorePermit,
    _host: OwnedSemaphorePermit,
}

impl Limiter {
    /// A limiter with the configuration's limits.
    pub fn new(config: &Config) -> Limiter {
        Limiter {
            global: Arc::new(Semaphore::new(config.max_concurrent_fetches)),
            per_host_concurrency: config.per_host_concurrency,
            rate: config.per_host_rate,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token from `host`'s bucket (refused at once when empty), then waits until `deadline` for a
    /// global and a per-host concurrency slot.
    pub async fn acquire(&self, host: &str, deadline: Instant) -> Result<Permit, Error> {
        let host_sem = self.take_token(host, Instant::now())?;
        let wait = deadline.saturating_duration_since(Instant::now());
        let global = tokio::time::timeout(wait, self.global.clone().acquire_owned()).await;
        let Ok(Ok(global)) = global else {
            return Err(crate::err!(
                RateLimited,
                "more than max_concurrent_fetches fetches are in flight; try again shortly"
            ));
        };
        let wait = deadline.saturating_duration_since(Instant::now());
        let host_permit = tokio::time::timeout(wait, host_sem.acquire_owned()).await;
        let Ok(Ok(host_permit)) = host_permit else {
            return Err(crate::err!(
                RateLimited,
                "more than per_host_concurrency ({}) fetches to {host} are in flight; try again shortly",
                self.per_host_concurrency
            ));
        };
        Ok(Permit {
            _global: global,
            _host: host_permit,
        })
    }

    fn take_token(&self, host: &str, now: Instant) -> Result<Arc<Semaphore>, Error> {
        let per_second = f64::from(self.rate.per_minute) / 60.0;
        let burst = f64::from(self.rate.burst);
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if hosts.len() >= MAX_TRACKED_HOSTS && !hosts.contains_key(host) {
            let concurrency = self.per_host_concurrency;
            let idle = |s: &HostState| s.in_flight.available_permits() == concurrency;
            // First forget hosts that carry no information (idle, bucket full again) ...
            hosts.retain(|_, s| {
                let refilled = (s.tokens
                    + now.saturating_duration_since(s.refilled).as_secs_f64() * per_second)
                    .min(burst);
                !(refilled >= burst && idle(s))
            });
            // ... then, under a flood of distinct hosts, every idle one: its bucket restarts full, which the
            // global concurrency cap still bounds.
            if hosts.len() >= MAX_TRACKED_HOSTS {
                hosts.retain(|_, s| !idle(s));
            }
            if hosts.len() >= MAX_TRACKED_HOSTS {
                return Err(crate::err!(
                    RateLimited,
                    "fetches to more than {MAX_TRACKED_HOSTS} distinct hosts are in flight; try again shortly"
                ));
            }
        }
        let state = hosts.entry(host.to_owned()).or_insert_with(|| HostState {
            in_flight: Arc::new(Semaphore::new(self.per_host_concurrency)),
            tokens: burst,
            refilled: now,
        });
        let elapsed = now.saturating_duration_since(state.refilled);
        state.tokens = (state.tokens + elapsed.as_secs_f64() * per_second).min(burst);
        state.refilled = now;
        if state.tokens < 1.0 {
            let wait = Duration::from_secs_f64((1.0 - state.tokens) / per_second);
            return Err(crate::err!(
                RateLimited,
                "fetches to {host} exceed per_host_rate ({} per minute, burst {}); next slot in {} ms",
                self.rate.per_minute,
                self.rate.burst,
                wait.as_millis().max(1)
            ));
        }
        state.tokens -= 1.0;
        Ok(state.in_flight.clone())
    }

    /// How many hosts are tracked (for tests and counters).
    #[cfg(test)]
    pub fn tracked_hosts(&self) -> usize {
        self.hosts.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn limiter(json: &str) -> Limiter {
        Limiter::new(&Config::from_json(json).unwrap())
    }

    #[test]
    fn token_bucket_allows_burst_then_refills_at_the_rate() {
        let l = limiter(r#"{"per_host_rate": {"per_minute": 60, "burst": 3}}"#);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.take_token("a.example", t0).is_ok());
        }
        let e = l.take_token("a.example", t0).unwrap_err();
        assert_eq!(e.code(), ErrorCode::RateLimited);
        assert!(e.description().contains("per_host_rate"), "{e}");
        // Other hosts have their own bucket.
        assert!(l.take_token("b.example", t0).is_ok());
        // One token per second at 60 per minute.
        assert!(l
            .take_token("a.example", t0 + Duration::from_millis(500))
            .is_err());
        assert!(l
            .take_token("a.example", t0 + Duration::from_millis(1500))
            .is_ok());
        assert!(l
            .take_token("a.example", t0 + Duration::from_millis(1600))
            .is_err());
    }

    #[test]
    fn host_table_is_bounded() {
        let l = limiter("{}");
        let t0 = Instant::now();
        for i in 0..(MAX_TRACKED_HOSTS * 2) {
            l.take_token(&format!("h{i}.example"), t0 + Duration::from_secs(3600))
                .unwrap();
        }
        assert!(l.tracked_hosts() <= MAX_TRACKED_HOSTS, "{}", l.tracked_hosts());
        // A host seen before the flood starts with a full bucket again: it was forgotten, not blocked.
        assert!(l.take_token("h0.example", t0 + Duration::from_secs(3600)).is_ok());
    }

    #[tokio::test]
    async fn concurrency_caps_wait_until_the_deadline_then_refuse() {
        let l = limiter(r#"{"max_concurrent_fetches": 2, "per_host_concurrency": 1}"#);
        let soon = || Instant::now() + Duration::from_millis(50);
        let p1 = l.acquire("a.example", soon()).await.unwrap();
        let e = l.acquire("a.example", soon()).await.err().unwrap();
        assert_eq!(e.code(), ErrorCode::RateLimited);
        assert!(e.description().contains("per_host_concurrency"));
        let p2 = l.acquire("b.example", soon()).await.unwrap();
        let e = l.acquire("c.example", soon()).await.err().unwrap();
        assert!(e.description().contains("max_concurrent_fetches"));
        drop(p1);
        assert!(l.acquire("a.example", soon()).await.is_ok());
        drop(p2);
    }
}
