//! Shared set-up for the engine's integration tests: a stub resolver that maps test host names to loopback,
//! a manual clock, and engine construction against the throwaway test CA.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use cimd::Clock;
use cimd::{BoxFuture, Resolver};
use cimd::{Config, Engine};

#[path = "../support/mod.rs"]
pub mod support;

pub use support::{Reply, Server, TestPki};

/// One answer of the stub: addresses, or a resolution failure message.
pub type Answer = Result<Vec<IpAddr>, String>;

/// Answers from a table; a name may have a sequence of answers (the last one repeats), for rebinding tests.
#[derive(Default)]
pub struct StubResolver {
    answers: Mutex<HashMap<String, Vec<Answer>>>,
    lookups: Mutex<HashMap<String, usize>>,
    total: AtomicUsize,
    delay_ms: AtomicUsize,
}

impl StubResolver {
    pub fn new() -> Arc<StubResolver> {
        Arc::new(StubResolver::default())
    }

    /// `name` resolves to `addrs`.
    pub fn set(&self, name: &str, addrs: &[&str]) {
        self.set_sequence(name, vec![Ok(addrs.iter().map(|a| a.parse().unwrap()).collect())]);
    }

    /// `name` gets these answers in turn.
    pub fn set_sequence(&self, name: &str, answers: Vec<Answer>) {
        self.answers.lock().unwrap().insert(name.to_owned(), answers);
    }

    pub fn lookups(&self, name: &str) -> usize {
        *self.lookups.lock().unwrap().get(name).unwrap_or(&0)
    }

    pub fn total(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }

    /// Every answer arrives after this delay (a slow DNS server).
    pub fn set_delay(&self, d: Duration) {
        self.delay_ms.store(d.as_millis() as usize, Ordering::SeqCst);
    }
}

impl Resolver for StubResolver {
    fn lookup(&self, host: &str) -> BoxFuture<'static, io::Result<Vec<IpAddr>>> {
        self.total.fetch_add(1, Ordering::SeqCst);
        let n = {
            let mut l = self.lookups.lock().unwrap();
            let n = l.entry(host.to_owned()).or_insert(0);
            *n += 1;
            *n
        };
        let answer = {
            let answers = self.answers.lock().unwrap();
            match answers.get(host) {
                Some(seq) => seq[(n - 1).min(seq.len() - 1)].clone(),
                None => Err(format!("{host}: NXDOMAIN (stub)")),
            }
        };
        let delay = Duration::from_millis(self.delay_ms.load(Ordering::SeqCst) as u64);
        Box::pin(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            answer.map_err(|e| io::Error::new(io::ErrorKind::NotFound, e))
        })
    }
}

/// A clock the test moves by hand.
pub struct ManualClock {
    start: Instant,
    wall: SystemTime,
    offset: Mutex<Duration>,
}

impl ManualClock {
    pub fn new() -> Arc<ManualClock> {
        Arc::new(ManualClock {
            start: Instant::now(),
            wall: SystemTime::now(),
            offset: Mutex::new(Duration::ZERO),
        })
    }

    pub fn advance(&self, d: Duration) {
        *self.offset.lock().unwrap() += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        // Real elapsed time counts too, so that timeouts and the clock never disagree about order.
        Instant::now() + *self.offset.lock().unwrap()
    }
    fn wall(&self) -> SystemTime {
        self.wall + self.start.elapsed() + *self.offset.lock().unwrap()
    }
}

/// The names every test certificate covers.
pub const NAMES: &[&str] = &["c.example", "d.example", "e.example", "localhost"];

/// A test world: PKI, one HTTPS origin on 127.0.0.1, a stub resolver mapping NAMES there, a manual clock.
pub struct World {
    pub pki: TestPki,
    pub server: Server,
    pub resolver: Arc<StubResolver>,
    pub clock: Arc<ManualClock>,
}

impl World {
    pub fn new() -> World {
        let pki = TestPki::new(NAMES);
        let server = Server::start(pki.server_config());
        let resolver = StubResolver::new();
        for n in NAMES {
            resolver.set(n, &["127.0.0.1"]);
        }
        World {
            pki,
            server,
            resolver,
            clock: ManualClock::new(),
        }
    }

    /// `https://HOST:PORT/PATH` on this world's origin.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.server.port())
    }

    /// The base test configuration (loopback allowed, the test CA trusted) with `extra` keys merged in.
    pub fn config(&self, extra: serde_json::Value) -> Config {
        let mut base = serde_json::json!({
            "allow_loopback": true,
            "extra_ca_file": self.pki.ca_pem_path.to_str().unwrap(),
            "fetch_timeout_ms": 3000,
            "connect_timeout_ms": 1000,
        });
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        Config::from_value(base).unwrap()
    }

    pub fn engine(&self, extra: serde_json::Value) -> Engine {
        Engine::builder(self.config(extra))
            .resolver(self.resolver.clone())
            .clock(self.clock.clone())
            .build()
            .unwrap()
    }
}

/// A minimal valid document for `client_id`.
pub fn doc(client_id: &str) -> serde_json::Value {
    serde_json::json!({
        "client_id": client_id,
        "client_name": "Test Client",
        "redirect_uris": ["https://c.example/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    })
}

pub fn json_reply(v: &serde_json::Value) -> Reply {
    Reply::json(serde_json::to_vec(v).unwrap())
}

/// Runs the calling test again inside an isolated network namespace (only loopback exists there), unless it
/// already runs in one. Returns true when the caller should go on (it is isolated), false when the isolated
/// run has been done (and asserted) on its behalf. Used by tests that attempt a connection to a non-loopback
/// address: there, the kernel answers "network unreachable" and no packet leaves the machine.
pub fn isolated(test_name: &str) -> bool {
    if std::env::var("CIMD_IN_NETNS").as_deref() == Ok("1") {
        return true;
    }
    let exe = std::env::current_exe().unwrap();
    let netns = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/netns");
    let out = std::process::Command::new(netns)
        .arg(exe)
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .output()
        .expect("scripts/netns runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "isolated run of {test_name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    false
}
