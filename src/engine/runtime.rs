//! The engine's I/O side: an async runtime with the HTTP client, the rate limiter and the in-flight table, made
//! on first need and made again in a child process after `fork()`, because threads do not survive a fork (the
//! cache does, so a pre-fork server that warmed its cache in the parent keeps its hits in every worker).

use std::future::Future;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use super::flight::Flights;
use crate::config::Config;
use crate::error::Error;
use crate::fetch::{Fetcher, Resolver};
use crate::limits::Limiter;

/// What a live runtime carries; shared by every task of one process.
pub(crate) struct IoShared {
    pub(crate) fetcher: Fetcher,
    pub(crate) limiter: Limiter,
    pub(crate) flights: Flights,
    pub(crate) handle: tokio::runtime::Handle,
}

/// The runtime of one process.
struct Io {
    pid: u32,
    runtime: Option<tokio::runtime::Runtime>,
    shared: Arc<IoShared>,
}

impl Drop for Io {
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        if self.pid == std::process::id() {
            // Never block: the engine may be dropped from inside someone else's async context.
            runtime.shutdown_background();
        } else {
            // Inherited through fork(): the runtime's threads exist only in the parent, so shutting it down
            // would wait for or signal threads that are not there, and its I/O state (connections, locks) is
            // the parent's. Nothing of it is touched: it is parked, reachable, for the life of the process.
            INHERITED_IO
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((runtime, self.shared.clone()));
        }
    }
}

/// The I/O sides inherited through fork() (see `Drop for Io`): one per engine per fork. Never removed, and a
/// static is never dropped, so nothing of them runs in this process.
static INHERITED_IO: Mutex<Vec<InheritedIo>> = Mutex::new(Vec::new());

type InheritedIo = (tokio::runtime::Runtime, Arc<IoShared>);

/// Makes and keeps the I/O side.
pub(crate) struct Runtime {
    tls: rustls::ClientConfig,
    resolver: Arc<dyn Resolver>,
    worker_threads: usize,
    io: Mutex<Option<Io>>,
}

impl Runtime {
    pub(crate) fn new(
        tls: rustls::ClientConfig,
        resolver: Arc<dyn Resolver>,
        worker_threads: usize,
    ) -> Runtime {
        Runtime {
            tls,
            resolver,
            worker_threads,
            io: Mutex::new(None),
        }
    }

    /// The I/O side for this process, made on first use and again after a `fork()`.
    pub(crate) fn io(&self, config: &Config) -> Result<Arc<IoShared>, Error> {
        let pid = std::process::id();
        let mut io = self.io.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(current) = io.as_ref() {
            if current.pid == pid {
                return Ok(current.shared.clone());
            }
        }
        // An I/O side from before a fork() is parked by its Drop; this process gets its own.
        drop(io.take());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.worker_threads)
            .thread_name("cimd-io")
            .enable_all()
            .build()
            .map_err(|e| crate::err!(Internal, "cannot start the engine's runtime: {e}"))?;
        let fetcher = {
            let _guard = runtime.enter();
            Fetcher::new(config, self.tls.clone(), self.resolver.clone())
                .map_err(|e| crate::err!(Internal, "{e}"))?
        };
        let shared = Arc::new(IoShared {
            fetcher,
            limiter: Limiter::new(config),
            flights: Flights::default(),
            handle: runtime.handle().clone(),
        });
        *io = Some(Io {
            pid,
            runtime: Some(runtime),
            shared: shared.clone(),
        });
        Ok(shared)
    }

    /// Stops the I/O threads, waiting up to `timeout`; the next need starts them again.
    pub(crate) fn shutdown(&self, timeout: Duration) {
        let io = self.io.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut io) = io {
            if io.pid == std::process::id() {
                if let Some(runtime) = io.runtime.take() {
                    runtime.shutdown_timeout(timeout);
                }
            }
        }
    }

    /// True while an I/O side exists for this process.
    #[cfg(test)]
    pub(crate) fn is_running(&self) -> bool {
        self.io.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }
}

/// The one bridge from a plain thread to the runtime: runs `task` there and waits for its answer here. `what`
/// names the call for the error a stopped runtime gives.
pub(crate) fn block_on<T: Send + 'static>(
    io: &IoShared,
    what: &str,
    task: impl Future<Output = Result<T, Error>> + Send + 'static,
) -> Result<T, Error> {
    let (tx, rx) = mpsc::sync_channel(1);
    io.handle.spawn(async move {
        let _ = tx.send(task.await);
    });
    rx.recv().unwrap_or_else(|_| {
        Err(crate::err!(
            Internal,
            "the engine's runtime stopped during {what}"
        ))
    })
}
