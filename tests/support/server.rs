//! A scriptable loopback HTTP/1.1 origin (TLS or plain) with hand-written framing.
//!
//! Why by hand and not with an HTTP server library: the engine's tests need replies that a correct
//! server library refuses to produce (a Content-Length that lies, a body dripped byte by byte, an
//! endless chunked body, a connection closed before any response). Writing the wire bytes ourselves
//! gives full control.
//!
//! Why a background thread with its own runtime: the engine has a blocking API whose tests run
//! without any runtime, and async tests must not have their runtime blocked by the origin. Every
//! public method is synchronous and safe to call from both kinds of test.
//!
//! Network safety: listeners bind only 127.0.0.1 or [::1].

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// Largest request head (request line + headers) accepted; beyond it the origin answers 431.
pub const MAX_HEAD: usize = 64 * 1024;

/// How long `stop()` waits for the background listener to confirm it has closed.
const STOP_WAIT: Duration = Duration::from_secs(10);

/// How the body of a [`Reply`] is delimited on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length` (added automatically unless a Content-Length header was given); keep-alive.
    Length,
    /// `Transfer-Encoding: chunked` (added unless given); keep-alive.
    Chunked,
    /// No length: the body ends when the server closes the connection (`Connection: close` is sent).
    Close,
    /// `Content-Length: n` whatever the real body size; the connection is closed after the body,
    /// so a larger `n` shows up as a truncated body and a smaller one as trailing garbage.
    LengthOverride(u64),
}

/// One scripted response.
#[derive(Clone, Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Reason phrase; `None` = the standard phrase for the code.
    pub reason: Option<String>,
    /// Headers, in order, duplicates allowed (for duplicate-header tests).
    pub headers: Vec<(String, String)>,
    /// Body bytes (for `stream_forever`: the repeated pattern; a 1 KiB filler if empty).
    pub body: Vec<u8>,
    /// Body delimitation.
    pub framing: Framing,
    /// Sleep after reading the request, before writing anything.
    pub delay_before_headers: Duration,
    /// Write the body `n` bytes at a time every `interval` (headers go out at once).
    pub drip: Option<(Duration, usize)>,
    /// Read the request and never answer (the connection stays open until the client gives up).
    pub hang: bool,
    /// Read the request and close the connection without a single response byte (no TLS close_notify).
    pub close_without_response: bool,
    /// Endless body: chunked (or raw, with `Close` framing) until the client goes away.
    pub stream_forever: bool,
}

impl Reply {
    /// `200 OK`, `Content-Type: application/json`, the given body.
    pub fn json(body: impl Into<Vec<u8>>) -> Reply {
        Reply::status(200).content_type("application/json").body(body)
    }

    /// A reply with this status, no headers and an empty body.
    pub fn status(code: u16) -> Reply {
        Reply {
            status: code,
            reason: None,
            headers: Vec::new(),
            body: Vec::new(),
            framing: Framing::Length,
            delay_before_headers: Duration::ZERO,
            drip: None,
            hang: false,
            close_without_response: false,
            stream_forever: false,
        }
    }

    /// A redirect (`code` should be 3xx) to `location`.
    pub fn redirect(code: u16, location: &str) -> Reply {
        Reply::status(code).header("Location", location)
    }

    /// `text/plain` body with the given status.
    pub fn text(code: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply::status(code).content_type("text/plain").body(body)
    }

    /// Appends a header (no de-duplication: two calls give two header lines).
    /// The same reply with another status code.
    pub fn with_status(mut self, code: u16) -> Reply {
        self.status = code;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Replaces any Content-Type header with this one.
    pub fn content_type(self, value: &str) -> Reply {
        self.no_content_type().header("Content-Type", value)
    }

    /// Removes every Content-Type header.
    pub fn no_content_type(mut self) -> Reply {
        self.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = body.into();
        self
    }

    /// Sets a custom reason phrase.
    pub fn reason(mut self, reason: &str) -> Reply {
        self.reason = Some(reason.to_string());
        self
    }

    /// Adds a `Date` header with the current time (IMF-fixdate), as a real origin would.
    pub fn date_now(self) -> Reply {
        self.header("Date", &http_date(SystemTime::now()))
    }

    /// Chunked transfer coding.
    pub fn chunked(mut self) -> Reply {
        self.framing = Framing::Chunked;
        self
    }

    /// Close-delimited body (no length).
    pub fn close_delimited(mut self) -> Reply {
        self.framing = Framing::Close;
        self
    }

    /// Announce `n` as Content-Length regardless of the real body size (then close).
    pub fn content_length(mut self, n: u64) -> Reply {
        self.framing = Framing::LengthOverride(n);
        self
    }

    /// Wait `d` before sending the status line.
    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay_before_headers = d;
        self
    }

    /// Send the body `bytes_per_tick` bytes every `interval` (0 is treated as 1).
    pub fn drip(mut self, interval: Duration, bytes_per_tick: usize) -> Reply {
        self.drip = Some((interval, bytes_per_tick.max(1)));
        self
    }

    /// Never answer.
    pub fn hang(mut self) -> Reply {
        self.hang = true;
        self
    }

    /// Close the connection without answering.
    pub fn reset(mut self) -> Reply {
        self.close_without_response = true;
        self
    }

    /// Endless body (chunked unless `close_delimited`).
    pub fn stream_forever(mut self) -> Reply {
        self.stream_forever = true;
        self
    }

    fn has_header(&self, name: &str) -> bool {
        self.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
    }
}

/// One request as received by the origin.
#[derive(Clone, Debug)]
pub struct Request {
    /// Method as sent.
    pub method: String,
    /// Raw request-target (path and query, exactly as sent).
    pub path: String,
    /// Version token (e.g. `HTTP/1.1`).
    pub version: String,
    /// Headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// Client socket address.
    pub peer: SocketAddr,
    /// When the request head was complete.
    pub at: Instant,
    /// 1-based id of the TCP connection it came on (same id = connection reused).
    pub connection: usize,
}

impl Request {
    /// First value of a header, name compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The Host header's name, lowercased, without its port (`[::1]` keeps its brackets), if there is one.
    pub fn host_name(&self) -> Option<String> {
        let host = self.header("host")?.trim().to_ascii_lowercase();
        let name = match host.strip_prefix('[') {
            Some(rest) => format!("[{}]", rest.split(']').next().unwrap_or("")),
            None => host.split(':').next().unwrap_or("").to_string(),
        };
        (!name.is_empty()).then_some(name)
    }

    /// All values of a header, in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

type Responder = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

enum Route {
    Seq { replies: Vec<Reply>, next: usize },
    Func(Responder),
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    /// Routes for one Host name only (name, path); they come before the path's own route.
    host_routes: HashMap<(String, String), Route>,
    /// Answers every path without a route of its own (instead of 404).
    fallback: Option<Responder>,
    requests: Vec<Request>,
    /// Long runs (soak, memory benchmarks) turn recording off so that the log does not grow without bound.
    not_recording: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    connections: AtomicUsize,
    tls_failures: AtomicUsize,
    /// Requests dispatched, recorded or not.
    served: AtomicUsize,
}

impl Shared {
    /// Poison-tolerant lock: a panicking responder in one test must not break every later call.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the request and picks the reply for it.
    fn dispatch(&self, req: Request) -> Reply {
        self.served.fetch_add(1, Ordering::Relaxed);
        let responder = {
            let mut st = self.lock();
            if !st.not_recording {
                st.requests.push(req.clone());
            }
            let host_key = req.host_name().map(|h| (h, req.path.clone()));
            let route = match host_key {
                Some(key) if st.host_routes.contains_key(&key) => st.host_routes.get_mut(&key),
                _ => st.routes.get_mut(&req.path),
            };
            match route {
                Some(Route::Seq { replies, next }) => {
                    let i = (*next).min(replies.len().saturating_sub(1));
                    *next = next.saturating_add(1);
                    return replies.get(i).cloned().unwrap_or_else(not_found);
                }
                Some(Route::Func(f)) => f.clone(),
                None => match &st.fallback {
                    Some(f) => f.clone(),
                    None => return not_found(),
                },
            }
        };
        responder(&req)
    }
}

fn not_found() -> Reply {
    Reply::text(404, "not found\n")
}

/// The listener currently running (between start/restart and stop).
struct Running {
    stop: oneshot::Sender<()>,
    done: mpsc::Receiver<()>,
}

/// A scriptable loopback origin. See the module docs.
pub struct Server {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tls: Option<TlsAcceptor>,
    handle: tokio::runtime::Handle,
    running: Mutex<Option<Running>>,
    rt_stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Server {
    /// Start on 127.0.0.1:0 with the given TLS config.
    ///
    /// Routes are keyed by the exact raw request-target; the Host header is recorded, not routed on.
    pub fn start(tls: Arc<rustls::ServerConfig>) -> Server {
        Server::spawn(IpAddr::V4(Ipv4Addr::LOCALHOST), Some(tls)).expect("start TLS origin on 127.0.0.1")
    }

    /// Start on [::1]:0 (panics if the host has no IPv6 loopback; see [`Server::try_start_v6`]).
    pub fn start_v6(tls: Arc<rustls::ServerConfig>) -> Server {
        Server::try_start_v6(tls).expect("start TLS origin on [::1] (no IPv6 loopback?)")
    }

    /// Start on [::1]:0, or an error if IPv6 loopback is unavailable (so a test can skip).
    pub fn try_start_v6(tls: Arc<rustls::ServerConfig>) -> io::Result<Server> {
        Server::spawn(IpAddr::V6(Ipv6Addr::LOCALHOST), Some(tls))
    }

    /// Plain HTTP on 127.0.0.1:0 (for "https client talks to an http port" tests).
    pub fn start_plain() -> Server {
        Server::spawn(IpAddr::V4(Ipv4Addr::LOCALHOST), None).expect("start plain origin on 127.0.0.1")
    }

    /// Start on 127.0.0.1:`port` (e.g. 443 inside the demo's network namespace).
    pub fn start_on(port: u16, tls: Arc<rustls::ServerConfig>) -> io::Result<Server> {
        Server::spawn_on(IpAddr::V4(Ipv4Addr::LOCALHOST), port, Some(tls))
    }

    /// Listens on `ip` at this server's port too, sharing its routes, records and counters (e.g. [::1]
    /// beside 127.0.0.1, for clients whose `localhost` resolves to both). Stopping one stops only its own port.
    pub fn sibling_on(&self, ip: IpAddr) -> io::Result<Server> {
        Server::listen(
            SocketAddr::new(ip, self.port()),
            self.shared.clone(),
            self.tls.clone(),
        )
    }

    fn spawn(ip: IpAddr, tls: Option<Arc<rustls::ServerConfig>>) -> io::Result<Server> {
        Server::spawn_on(ip, 0, tls)
    }

    fn spawn_on(ip: IpAddr, port: u16, tls: Option<Arc<rustls::ServerConfig>>) -> io::Result<Server> {
        let tls = tls.map(TlsAcceptor::from);
        Server::listen(SocketAddr::new(ip, port), Arc::new(Shared::default()), tls)
    }

    fn listen(at: SocketAddr, shared: Arc<Shared>, tls: Option<TlsAcceptor>) -> io::Result<Server> {
        assert!(at.ip().is_loopback(), "the test origin binds loopback only");
        let std_listener = bind(at)?;
        let addr = std_listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = rt.handle().clone();
        let (rt_stop, rt_stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("test-origin-{}", addr.port()))
            .spawn(move || {
                rt.block_on(async {
                    let _ = rt_stop_rx.await;
                });
                // Dropping the runtime here (its own thread) cancels every remaining task.
            })?;
        let server = Server {
            shared,
            addr,
            tls,
            handle,
            running: Mutex::new(None),
            rt_stop: Some(rt_stop),
            thread: Some(thread),
        };
        server.run(std_listener);
        Ok(server)
    }

    fn run(&self, std_listener: StdListener) {
        let (stop, stop_rx) = oneshot::channel();
        let (done_tx, done) = mpsc::channel();
        let shared = self.shared.clone();
        let tls = self.tls.clone();
        self.handle.spawn(async move {
            if let Ok(listener) = TcpListener::from_std(std_listener) {
                accept_loop(listener, shared, tls, stop_rx).await;
            }
            let _ = done_tx.send(());
        });
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = Some(Running { stop, done });
    }

    /// Listening port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Listening address (127.0.0.1 or [::1]).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://{host}:{port}{path}` (or `http://` for a plain server), for building client_ids.
    pub fn url(&self, host: &str, path: &str) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{host}:{}{path}", self.port())
    }

    /// Scripts `path`: the n-th request (counted from this call) gets `replies[n]`, the last repeats.
    /// Replaces any previous route for `path` (e.g. to change a document mid-test); an empty list
    /// removes the route (404).
    pub fn route(&self, path: &str, replies: Vec<Reply>) {
        let mut st = self.shared.lock();
        if replies.is_empty() {
            st.routes.remove(path);
        } else {
            st.routes
                .insert(path.to_string(), Route::Seq { replies, next: 0 });
        }
    }

    /// Scripts `path` for requests whose Host name (lowercased, without the port) is `host`; other hosts
    /// still get the path's own route. An empty list removes the host's route.
    pub fn route_host(&self, host: &str, path: &str, replies: Vec<Reply>) {
        let key = (host.to_ascii_lowercase(), path.to_string());
        let mut st = self.shared.lock();
        if replies.is_empty() {
            st.host_routes.remove(&key);
        } else {
            st.host_routes.insert(key, Route::Seq { replies, next: 0 });
        }
    }

    /// Scripts `path` with a closure that sees each request (e.g. to answer 304 on If-None-Match).
    pub fn route_fn(&self, path: &str, f: impl Fn(&Request) -> Reply + Send + Sync + 'static) {
        self.shared
            .lock()
            .routes
            .insert(path.to_string(), Route::Func(Arc::new(f)));
    }

    /// Answers every path that has no route of its own with a closure (for many generated paths at once).
    pub fn fallback_fn(&self, f: impl Fn(&Request) -> Reply + Send + Sync + 'static) {
        self.shared.lock().fallback = Some(Arc::new(f));
    }

    /// Turns the request log on or off (it is on by default); off also forgets what was recorded.
    pub fn record_requests(&self, on: bool) {
        let mut st = self.shared.lock();
        st.not_recording = !on;
        if !on {
            st.requests = Vec::new();
        }
    }

    /// All requests received so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.lock().requests.clone()
    }

    /// Forgets the recorded requests (counters of connections/TLS failures are kept).
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Number of requests whose raw target equals `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    /// Accepted TCP connections (counted before TLS).
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Requests answered so far, whether or not they were recorded.
    pub fn served(&self) -> usize {
        self.shared.served.load(Ordering::Relaxed)
    }

    /// TLS handshakes that failed (bad cert rejected by the client, plain HTTP on a TLS port, ...).
    pub fn tls_failures(&self) -> usize {
        self.shared.tls_failures.load(Ordering::SeqCst)
    }

    /// Stops accepting and closes every open connection; returns once the port is closed.
    /// Idempotent. Routes and records are kept for [`Server::restart`].
    pub fn stop(&self) {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(r) = running {
            let _ = r.stop.send(());
            let _ = r.done.recv_timeout(STOP_WAIT);
        }
    }

    /// Listens again on the same address after [`Server::stop`]. Returns false if the port could not be
    /// re-bound (someone else took it) or the server is already running.
    pub fn restart(&self) -> bool {
        if self.running.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
            return false;
        }
        match bind(self.addr) {
            Ok(l) => {
                self.run(l);
                true
            }
            Err(_) => false,
        }
    }

    /// Whether the server is currently listening.
    pub fn is_running(&self) -> bool {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if let Some(tx) = self.rt_stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn bind(addr: SocketAddr) -> io::Result<StdListener> {
    if !addr.ip().is_loopback() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "loopback only"));
    }
    let l = StdListener::bind(addr)?;
    l.set_nonblocking(true)?;
    Ok(l)
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let id = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
                    conns.spawn(connection(stream, peer, id, shared.clone(), tls.clone()));
                }
                // e.g. EMFILE: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    conns.shutdown().await;
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    id: usize,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
) {
    let _ = stream.set_nodelay(true);
    match tls {
        None => serve(stream, peer, id, &shared).await,
        Some(acceptor) => match acceptor.accept(stream).await {
            Ok(s) => serve(s, peer, id, &shared).await,
            Err(_) => {
                shared.tls_failures.fetch_add(1, Ordering::SeqCst);
            }
        },
    }
}

/// What the connection loop does after a reply.
enum After {
    KeepAlive,
    /// Graceful end: flush, TLS close_notify, FIN.
    Close,
    /// Abrupt end: drop the socket (no close_notify).
    Drop,
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, peer: SocketAddr, id: usize, shared: &Shared) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let head = match read_head(&mut s, &mut buf).await {
            HeadRead::Head(h) => h,
            HeadRead::Eof => break,
            HeadRead::TooLarge => {
                let _ = write_simple(&mut s, 431, "request head too large\n").await;
                break;
            }
            HeadRead::Garbage => {
                let _ = write_simple(&mut s, 400, "bad request\n").await;
                break;
            }
            HeadRead::Error => return,
        };
        let Some(parsed) = parse_head(&head) else {
            let _ = write_simple(&mut s, 400, "bad request\n").await;
            break;
        };
        let (method, path, version, headers) = parsed;
        // Discard a request body so the next request on the connection parses (clients send GET).
        let body_len = header_value(&headers, "content-length").and_then(|v| v.trim().parse::<usize>().ok());
        let chunked_body = header_value(&headers, "transfer-encoding").is_some();
        if let Some(n) = body_len {
            if discard(&mut s, &mut buf, n).await.is_err() {
                return;
            }
        }
        let client_close = wants_close(&version, &headers) || chunked_body;
        let is_head = method.eq_ignore_ascii_case("HEAD");
        let req = Request {
            method,
            path,
            version,
            headers,
            peer,
            at: Instant::now(),
            connection: id,
        };
        let reply = shared.dispatch(req);
        match write_reply(&mut s, &reply, is_head).await {
            Ok(After::KeepAlive) if !client_close => continue,
            Ok(After::KeepAlive) | Ok(After::Close) => break,
            Ok(After::Drop) | Err(_) => return,
        }
    }
    let _ = s.flush().await;
    let _ = s.shutdown().await;
}

enum HeadRead {
    Head(Vec<u8>),
    Eof,
    TooLarge,
    /// Bytes that cannot start an HTTP request (e.g. a TLS ClientHello on a plain port): answered at
    /// once with 400, as real servers do, instead of waiting for a CRLFCRLF that never comes.
    Garbage,
    Error,
}

/// Reads one request head (through CRLFCRLF) into a fresh Vec, leaving pipelined bytes in `buf`.
async fn read_head<S: AsyncRead + Unpin>(s: &mut S, buf: &mut Vec<u8>) -> HeadRead {
    let mut chunk = [0u8; 4096];
    loop {
        // Tolerate empty lines before a request (RFC 9112 §2.2).
        while buf.starts_with(b"\r\n") {
            buf.drain(..2);
        }
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head: Vec<u8> = buf.drain(..end + 4).collect();
            return HeadRead::Head(head);
        }
        if buf.len() > MAX_HEAD {
            return HeadRead::TooLarge;
        }
        let first_line = buf.split(|&b| b == b'\r').next().unwrap_or(&[]);
        if first_line.iter().any(|&b| !(0x20..0x7f).contains(&b)) {
            return HeadRead::Garbage;
        }
        match s.read(&mut chunk).await {
            Ok(0) => {
                return if buf.is_empty() {
                    HeadRead::Eof
                } else {
                    HeadRead::Error
                }
            }
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or(&[])),
            Err(_) => return HeadRead::Error,
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

type Parsed = (String, String, String, Vec<(String, String)>);

fn parse_head(head: &[u8]) -> Option<Parsed> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || method.is_empty() || target.is_empty() || !version.starts_with("HTTP/") {
        return None;
    }
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (k, v) = line.split_once(':')?;
        if k.is_empty() || k.contains([' ', '\t']) {
            return None;
        }
        headers.push((k.to_string(), v.trim().to_string()));
    }
    Some((
        method.to_string(),
        target.to_string(),
        version.to_string(),
        headers,
    ))
}

fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn wants_close(version: &str, headers: &[(String, String)]) -> bool {
    let conn = header_value(headers, "connection")
        .unwrap_or("")
        .to_ascii_lowercase();
    if version == "HTTP/1.0" {
        !conn.contains("keep-alive")
    } else {
        conn.split(',').any(|t| t.trim() == "close")
    }
}

async fn discard<S: AsyncRead + Unpin>(s: &mut S, buf: &mut Vec<u8>, mut n: usize) -> io::Result<()> {
    let from_buf = n.min(buf.len());
    buf.drain(..from_buf);
    n -= from_buf;
    let mut chunk = [0u8; 4096];
    while n > 0 {
        let want = n.min(chunk.len());
        let got = s.read(chunk.get_mut(..want).unwrap_or(&mut [])).await?;
        if got == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        n -= got;
    }
    Ok(())
}

async fn write_simple<S: AsyncWrite + Unpin>(s: &mut S, status: u16, body: &str) -> io::Result<()> {
    let msg = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        reason_phrase(status),
        body.len()
    );
    s.write_all(msg.as_bytes()).await?;
    s.flush().await
}

/// Statuses that never carry a body (RFC 9110 §6.4.1).
fn bodyless(status: u16) -> bool {
    (100..200).contains(&status) || status == 204 || status == 304
}

async fn write_reply<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    r: &Reply,
    is_head: bool,
) -> io::Result<After> {
    if r.hang {
        // Keep reading (and ignoring) so the task ends when the client gives up.
        let mut sink = [0u8; 1024];
        while matches!(s.read(&mut sink).await, Ok(n) if n > 0) {}
        return Ok(After::Drop);
    }
    if !r.delay_before_headers.is_zero() {
        tokio::time::sleep(r.delay_before_headers).await;
    }
    if r.close_without_response {
        return Ok(After::Drop);
    }
    let no_body = is_head || bodyless(r.status);
    let framing = if r.stream_forever && r.framing != Framing::Close {
        Framing::Chunked
    } else {
        r.framing
    };

    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        r.status,
        r.reason
            .clone()
            .unwrap_or_else(|| reason_phrase(r.status).to_string())
    );
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let user_close = r.headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("connection") && v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close"))
    });
    match framing {
        Framing::Length if !bodyless(r.status) && !r.has_header("content-length") => {
            head.push_str(&format!("Content-Length: {}\r\n", r.body.len()));
        }
        Framing::Length => {}
        Framing::Chunked if !bodyless(r.status) && !r.has_header("transfer-encoding") => {
            head.push_str("Transfer-Encoding: chunked\r\n");
        }
        Framing::Chunked => {}
        Framing::Close if !user_close => head.push_str("Connection: close\r\n"),
        Framing::Close => {}
        Framing::LengthOverride(n) => head.push_str(&format!("Content-Length: {n}\r\n")),
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await?;
    s.flush().await?;

    if !no_body && r.stream_forever {
        let pattern = if r.body.is_empty() {
            vec![b'x'; 1024]
        } else {
            r.body.clone()
        };
        let piece = if framing == Framing::Chunked {
            chunk(&pattern)
        } else {
            pattern
        };
        loop {
            send(s, &piece, r.drip).await?;
        }
    }
    let wire: Vec<u8> = match framing {
        _ if no_body => Vec::new(),
        Framing::Chunked => {
            let mut w = Vec::new();
            for c in r.body.chunks(4096) {
                w.extend_from_slice(&chunk(c));
            }
            w.extend_from_slice(b"0\r\n\r\n");
            w
        }
        _ => r.body.clone(),
    };
    send(s, &wire, r.drip).await?;
    Ok(match framing {
        Framing::Close | Framing::LengthOverride(_) => After::Close,
        _ if user_close => After::Close,
        _ => After::KeepAlive,
    })
}

fn chunk(data: &[u8]) -> Vec<u8> {
    let mut w = format!("{:x}\r\n", data.len()).into_bytes();
    w.extend_from_slice(data);
    w.extend_from_slice(b"\r\n");
    w
}

/// Writes `data`, all at once or dripped.
async fn send<S: AsyncWrite + Unpin>(
    s: &mut S,
    data: &[u8],
    drip: Option<(Duration, usize)>,
) -> io::Result<()> {
    match drip {
        None => s.write_all(data).await?,
        Some((interval, n)) => {
            for (i, piece) in data.chunks(n.max(1)).enumerate() {
                if i > 0 {
                    tokio::time::sleep(interval).await;
                }
                s.write_all(piece).await?;
                s.flush().await?;
            }
        }
    }
    s.flush().await
}

/// Standard reason phrases for the codes tests use; anything else gets "Unknown".
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// IMF-fixdate (RFC 9110 §5.6.7) for `t`, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let secs = i64::try_from(secs).unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = super::pki::civil_from_days(days);
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let wd = WD.get(days.rem_euclid(7) as usize).copied().unwrap_or("Thu");
    let mon = MON.get((m as usize).wrapping_sub(1)).copied().unwrap_or("Jan");
    format!(
        "{wd}, {d:02} {mon} {y:04} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A TCP listener on 127.0.0.1 that accepts and never speaks: connect succeeds, a TLS handshake (or
/// an HTTP request) never gets an answer. For connect/handshake timeout tests.
///
/// Accepted sockets are held open until drop, so the client sees silence, not a reset.
pub struct SilentListener {
    port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for SilentListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SilentListener")
            .field("port", &self.port)
            .finish()
    }
}

impl SilentListener {
    /// Binds 127.0.0.1:0 and starts holding connections.
    pub fn start() -> SilentListener {
        let listener =
            bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)).expect("bind silent listener");
        let port = listener.local_addr().expect("silent listener addr").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (acc, st) = (accepted.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name(format!("silent-{port}"))
            .spawn(move || {
                let mut held = Vec::new();
                while !st.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((sock, _)) => {
                            acc.fetch_add(1, Ordering::SeqCst);
                            held.push(sock);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
            .expect("spawn silent listener thread");
        SilentListener {
            port,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), self.port)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for SilentListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A port on 127.0.0.1 with nothing listening (bound, then released): connecting gets "refused".
pub fn closed_port() -> u16 {
    let l =
        StdListener::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)).expect("bind for closed_port");
    let port = l.local_addr().expect("closed_port addr").port();
    drop(l);
    port
}

/// Polls `cond` every 5 ms until it holds or `timeout` passes; returns whether it held.
///
/// Why: server-side counters (e.g. `tls_failures`) are updated by the origin's thread a moment after
/// the client has already seen its error.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
