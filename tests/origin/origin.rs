//! The test origin: one program that serves the tests of every language (cargo example `test-origin`).
//!
//! It is the Rust tests' scriptable origin and throwaway PKI (`tests/support`) behind a line protocol, so that the
//! C, Python, Go and Java tests and the Keycloak drivers get the same origin and the same certificates as the Rust
//! tests: one throwaway CA per run of the program, leaves issued by it for the names each listener asks for.
//!
//! Started as a child process; its standard input is the control channel, so it ends when the test that started
//! it ends, however that happens. On standard output it first prints `NAME=value` lines, then `READY`:
//!
//! ```text
//! CA=/tmp/cimd-testpki-.../ca.pem     the CA to trust (PEM)
//! READY
//! ```
//!
//! (`--c-fixtures` also starts the C tests' fixtures, `tests/c/fixtures.rs`, and prints their `PORT`,
//! `CLOSED_PORT` and `PUBLISHED` before `READY`.) After that, every line read is one JSON command, and every
//! command gets exactly one JSON line back: `{"ok": true, ...}` or `{"ok": false, "error": "..."}`. Commands:
//!
//! | `op` | fields | answer |
//! | --- | --- | --- |
//! | `listen` | `tls` (`trusted` (default), `plain`, `foreign`, `expired`, `not_yet_valid`, `wrong_name`, `self_signed`), `names` (default `["localhost"]`), `port` (default 0), `ip` (`127.0.0.1` (default) or `::1`), `also_v6` (the same port on [::1] too, if it exists) | `listener`, `port`, `v6` |
//! | `route` | `listener`, `path`, `host` (only requests with this Host name), `replies` (the n-th request gets the n-th, the last repeats; empty removes the route) | |
//! | `count` | `listener`, `path`, `host` | `count` |
//! | `requests` | `listener`, `path`, `host` (filters, both optional) | `requests`: `method`, `path`, `version`, `host`, `headers` (`[name, value]` pairs), `connection` |
//! | `clear` | `listener` (forgets its recorded requests: counts start again at 0) | |
//! | `stats` | `listener` | `connections`, `tls_failures`, `served` |
//! | `close` | `listener` | |
//! | `closed_port` | | `port`: a port on 127.0.0.1 where nothing listens |
//!
//! A reply: `status` (200), `reason`, `headers` (`[name, value]` pairs, in order, duplicates kept), `body` (text)
//! or `body_hex` (bytes), `framing` (`length` (default), `chunked`, `close`), `content_length` (announced whatever
//! the body's size, then the connection closes), `delay_ms` (before the status line), `drip_ms` and
//! `drip_bytes` (the body a few bytes at a time), `hang` (never answer), `reset` (close without answering),
//! `stream_forever` (an endless body). Unknown fields are refused, so a misspelt one never passes silently.
//!
//! Network safety: it listens on 127.0.0.1 and [::1] only (the support code refuses anything else).

#[path = "../support/mod.rs"]
mod support;

#[path = "../c/fixtures.rs"]
mod c_fixtures;

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use support::{closed_port, Reply, Request, Server, TestPki};

const USAGE: &str =
    "usage: test-origin [--c-fixtures]  (then JSON commands on stdin; see tests/origin/origin.rs)";

/// The certificate a listener presents.
#[derive(Deserialize, Default, Clone, Copy, Debug)]
#[serde(rename_all = "snake_case")]
enum Tls {
    /// Leaves from the run's CA for the listener's names.
    #[default]
    Trusted,
    /// No TLS at all.
    Plain,
    /// A leaf for the first name from another CA that nothing trusts.
    Foreign,
    /// A leaf for the first name from the run's CA that expired yesterday.
    Expired,
    /// A leaf for the first name from the run's CA that is valid from next month.
    NotYetValid,
    /// A leaf from the run's CA for `other.invalid` only.
    WrongName,
    /// A self-signed leaf for the first name.
    SelfSigned,
}

#[derive(Deserialize, Default, Clone, Copy, Debug)]
#[serde(rename_all = "snake_case")]
enum Framing {
    #[default]
    Length,
    Chunked,
    Close,
}

fn ok_status() -> u16 {
    200
}

/// One scripted answer (see the module docs).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ReplySpec {
    #[serde(default = "ok_status")]
    status: u16,
    reason: Option<String>,
    #[serde(default)]
    headers: Vec<(String, String)>,
    body: Option<String>,
    body_hex: Option<String>,
    #[serde(default)]
    framing: Framing,
    content_length: Option<u64>,
    #[serde(default)]
    delay_ms: u64,
    drip_ms: Option<u64>,
    drip_bytes: Option<usize>,
    #[serde(default)]
    hang: bool,
    #[serde(default)]
    reset: bool,
    #[serde(default)]
    stream_forever: bool,
}

fn default_names() -> Vec<String> {
    vec!["localhost".to_string()]
}

fn default_ip() -> IpAddr {
    IpAddr::V4(Ipv4Addr::LOCALHOST)
}

#[derive(Deserialize, Debug)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum Command {
    Listen {
        #[serde(default)]
        tls: Tls,
        #[serde(default = "default_names")]
        names: Vec<String>,
        #[serde(default)]
        port: u16,
        #[serde(default = "default_ip")]
        ip: IpAddr,
        #[serde(default)]
        also_v6: bool,
    },
    Route {
        listener: u64,
        path: String,
        host: Option<String>,
        replies: Vec<ReplySpec>,
    },
    Count {
        listener: u64,
        path: String,
        host: Option<String>,
    },
    Requests {
        listener: u64,
        path: Option<String>,
        host: Option<String>,
    },
    Clear {
        listener: u64,
    },
    Stats {
        listener: u64,
    },
    Close {
        listener: u64,
    },
    ClosedPort,
}

/// One listener: its server, and the same port on [::1] when asked for (both share routes and records).
struct Listener {
    server: Server,
    _v6: Option<Server>,
}

struct Origin {
    pki: TestPki,
    listeners: HashMap<u64, Listener>,
    next_id: u64,
}

/// A DNS name (letters, digits, `-`, `.`, a leading `*.`) or an IP address, so that a bad name is an error
/// here rather than a failure inside the certificate generator.
fn check_name(name: &str) -> Result<(), String> {
    let dns = name.strip_prefix("*.").unwrap_or(name);
    let is_dns = !dns.is_empty()
        && dns.len() <= 253
        && dns
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    if is_dns || name.parse::<IpAddr>().is_ok() {
        Ok(())
    } else {
        Err(format!("not a DNS name or an IP address: {name:?}"))
    }
}

fn decode_hex(hex: &str) -> Result<Vec<u8>, String> {
    let digits = hex.as_bytes();
    if digits.len() % 2 != 0 {
        return Err("body_hex has an odd number of digits".to_string());
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("body_hex: not a hex byte: {:?}", String::from_utf8_lossy(pair)))
        })
        .collect()
}

impl ReplySpec {
    fn into_reply(self) -> Result<Reply, String> {
        if !(100..=999).contains(&self.status) {
            return Err(format!("status {} is not a three-digit code", self.status));
        }
        let body = match (self.body, self.body_hex) {
            (Some(_), Some(_)) => return Err("a reply has both body and body_hex".to_string()),
            (Some(text), None) => text.into_bytes(),
            (None, Some(hex)) => decode_hex(&hex)?,
            (None, None) => Vec::new(),
        };
        let mut reply = Reply::status(self.status).body(body);
        for (name, value) in &self.headers {
            let bad = |s: &str| s.contains(['\r', '\n']);
            if name.is_empty() || name.contains([':', ' ']) || bad(name) || bad(value) {
                return Err(format!("not a header line: {name:?}: {value:?}"));
            }
            reply = reply.header(name, value);
        }
        if let Some(reason) = &self.reason {
            reply = reply.reason(reason);
        }
        reply = match self.framing {
            Framing::Length => reply,
            Framing::Chunked => reply.chunked(),
            Framing::Close => reply.close_delimited(),
        };
        if let Some(n) = self.content_length {
            reply = reply.content_length(n);
        }
        reply = reply.delay(Duration::from_millis(self.delay_ms));
        match (self.drip_ms, self.drip_bytes) {
            (None, None) => {}
            (Some(ms), bytes) => reply = reply.drip(Duration::from_millis(ms), bytes.unwrap_or(1)),
            (None, Some(_)) => return Err("drip_bytes needs drip_ms".to_string()),
        }
        if self.hang {
            reply = reply.hang();
        }
        if self.reset {
            reply = reply.reset();
        }
        if self.stream_forever {
            reply = reply.stream_forever();
        }
        Ok(reply)
    }
}

fn request_json(r: &Request) -> Value {
    json!({
        "method": r.method,
        "path": r.path,
        "version": r.version,
        "host": r.host_name(),
        "headers": r.headers,
        "connection": r.connection,
    })
}

/// Whether a recorded request matches the optional path and Host name filters.
fn matches(r: &Request, path: Option<&str>, host: Option<&str>) -> bool {
    path.is_none_or(|p| r.path == p)
        && host.is_none_or(|h| r.host_name().as_deref() == Some(h.to_ascii_lowercase().as_str()))
}

impl Origin {
    fn listener(&self, id: u64) -> Result<&Server, String> {
        self.listeners
            .get(&id)
            .map(|l| &l.server)
            .ok_or_else(|| format!("no listener {id} (closed, or never opened)"))
    }

    fn listen(
        &mut self,
        tls: Tls,
        names: &[String],
        port: u16,
        ip: IpAddr,
        also_v6: bool,
    ) -> Result<Value, String> {
        if !ip.is_loopback() {
            return Err(format!(
                "{ip} is not a loopback address: the test origin listens on loopback only"
            ));
        }
        if ip != IpAddr::V4(Ipv4Addr::LOCALHOST) && ip != IpAddr::V6(Ipv6Addr::LOCALHOST) {
            return Err(format!("{ip}: the test origin listens on 127.0.0.1 or ::1 only"));
        }
        if names.is_empty() {
            return Err("names is empty: a listener needs at least one certificate name".to_string());
        }
        for name in names {
            check_name(name)?;
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let first = names.first().copied().unwrap_or("localhost");
        let config = match tls {
            Tls::Trusted => Some(self.pki.config_for(&names)),
            Tls::Plain => None,
            Tls::Foreign => Some(self.pki.foreign_ca_config(first)),
            Tls::Expired => Some(self.pki.expired_config(first)),
            Tls::NotYetValid => Some(self.pki.not_yet_valid_config(first)),
            Tls::WrongName => Some(self.pki.wrong_name_config()),
            Tls::SelfSigned => Some(self.pki.self_signed_config(first)),
        };
        let started = match (config, ip) {
            (Some(c), IpAddr::V4(_)) => Server::start_on(port, c),
            (Some(c), IpAddr::V6(_)) if port == 0 => Server::try_start_v6(c),
            (None, IpAddr::V4(_)) if port == 0 => Ok(Server::start_plain()),
            _ => Err(std::io::Error::other(
                "this combination (a fixed port on [::1], or plain HTTP on a fixed port or on [::1]) is not offered",
            )),
        };
        let server = started.map_err(|e| format!("cannot listen on {ip} port {port}: {e}"))?;
        let v6 = if also_v6 && ip.is_ipv4() {
            server.sibling_on(IpAddr::V6(Ipv6Addr::LOCALHOST)).ok()
        } else {
            None
        };
        let id = self.next_id;
        self.next_id += 1;
        let answer = json!({"listener": id, "port": server.port(), "v6": v6.is_some()});
        self.listeners.insert(id, Listener { server, _v6: v6 });
        Ok(answer)
    }

    fn run(&mut self, command: Command) -> Result<Value, String> {
        match command {
            Command::Listen {
                tls,
                names,
                port,
                ip,
                also_v6,
            } => self.listen(tls, &names, port, ip, also_v6),
            Command::Route {
                listener,
                path,
                host,
                replies,
            } => {
                let server = self.listener(listener)?;
                if !path.starts_with('/') {
                    return Err(format!("path {path:?} does not start with /"));
                }
                let replies = replies
                    .into_iter()
                    .map(ReplySpec::into_reply)
                    .collect::<Result<Vec<_>, _>>()?;
                match host {
                    Some(h) => server.route_host(&h, &path, replies),
                    None => server.route(&path, replies),
                }
                Ok(json!({}))
            }
            Command::Count { listener, path, host } => {
                let requests = self.listener(listener)?.requests();
                let n = requests
                    .iter()
                    .filter(|r| matches(r, Some(&path), host.as_deref()))
                    .count();
                Ok(json!({"count": n}))
            }
            Command::Requests { listener, path, host } => {
                let requests = self.listener(listener)?.requests();
                let list: Vec<Value> = requests
                    .iter()
                    .filter(|r| matches(r, path.as_deref(), host.as_deref()))
                    .map(request_json)
                    .collect();
                Ok(json!({"requests": list}))
            }
            Command::Clear { listener } => {
                self.listener(listener)?.clear_requests();
                Ok(json!({}))
            }
            Command::Stats { listener } => {
                let s = self.listener(listener)?;
                Ok(
                    json!({"connections": s.connections(), "tls_failures": s.tls_failures(), "served": s.served()}),
                )
            }
            Command::Close { listener } => {
                self.listener(listener)?;
                self.listeners.remove(&listener);
                Ok(json!({}))
            }
            Command::ClosedPort => Ok(json!({"port": closed_port()})),
        }
    }
}

fn answer(origin: &mut Origin, line: &str) -> Value {
    let result = serde_json::from_str::<Command>(line)
        .map_err(|e| format!("not a command ({e}): {line}"))
        .and_then(|c| origin.run(c));
    match result {
        Ok(mut v) => {
            v["ok"] = json!(true);
            v
        }
        Err(error) => json!({"ok": false, "error": error}),
    }
}

fn main() {
    let c_fixtures = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => false,
        [flag] if flag == "--c-fixtures" => true,
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    let mut origin = Origin {
        pki: TestPki::new(&[]),
        listeners: HashMap::new(),
        next_id: 1,
    };
    let mut out = std::io::stdout().lock();
    let mut lines = vec![("CA", origin.pki.ca_pem_path.display().to_string())];
    let _fixtures = if c_fixtures {
        match c_fixtures::serve(&origin.pki) {
            Ok(f) => {
                lines.extend(f.values.iter().cloned());
                Some(f)
            }
            Err(e) => {
                eprintln!("test-origin: the C fixtures: {e}");
                std::process::exit(1);
            }
        }
    } else {
        None
    };
    for (name, value) in lines {
        if writeln!(out, "{name}={value}").is_err() {
            return;
        }
    }
    if writeln!(out, "READY").and_then(|_| out.flush()).is_err() {
        return;
    }
    // Serve until our stdin closes: the test that started us has ended (or died).
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let reply = answer(&mut origin, &line);
        if writeln!(out, "{reply}").and_then(|_| out.flush()).is_err() {
            break;
        }
    }
    // Returning drops the listeners and the PKI, whose temporary directory (the CA file) goes with it.
}
