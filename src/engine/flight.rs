//! Single flight (FET-03): concurrent misses for one client_id share one fetch. The first caller starts it; the
//! others wait on its answer, each until its own deadline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::watch;

use super::core::{Core, FlightResult, Lookup};
use super::runtime::IoShared;
use super::stats::bump;
use crate::client_id::ClientIdUrl;

/// The fetches in flight, by client_id.
#[derive(Default)]
pub(crate) struct Flights(Mutex<HashMap<String, watch::Receiver<Option<FlightResult>>>>);

impl Flights {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, watch::Receiver<Option<FlightResult>>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Core {
    /// Joins the fetch in flight for this client_id, or starts one. Returns the receiver and whether this call
    /// started the fetch.
    pub(crate) fn start_flight(
        self: Arc<Core>,
        io: &Arc<IoShared>,
        url: ClientIdUrl,
    ) -> (watch::Receiver<Option<FlightResult>>, bool) {
        let mut flights = io.flights.lock();
        if let Some(rx) = flights.get(url.as_str()) {
            return (rx.clone(), false);
        }
        let (tx, rx) = watch::channel(None);
        flights.insert(url.as_str().to_owned(), rx.clone());
        drop(flights);
        let task_io = io.clone();
        io.handle.spawn(async move {
            let result = self.fetch_document(&task_io, &url).await;
            task_io.flights.lock().remove(url.as_str());
            let _ = tx.send(Some(result));
        });
        (rx, true)
    }

    /// Waits for the single flight of `url`, at most until `deadline`. Unless `force`d (an operator's refresh),
    /// a fresh entry stored by a flight that finished since the caller's miss is used instead.
    pub(crate) async fn flight(
        self: Arc<Core>,
        io: Arc<IoShared>,
        url: ClientIdUrl,
        deadline: Option<Instant>,
        force: bool,
    ) -> FlightResult {
        if !force {
            let flights = io.flights.lock();
            if !flights.contains_key(url.as_str()) {
                if let Lookup::Fresh(r) = self.lookup_quiet(url.as_str()) {
                    drop(flights);
                    bump(&self.counters.coalesced);
                    return Ok(r);
                }
            }
        }
        let key_for_error = url.as_str().to_owned();
        let (mut rx, started) = self.clone().start_flight(&io, url);
        if !started {
            bump(&self.counters.coalesced);
        }
        let wait = rx.wait_for(|v| v.is_some());
        let outcome = match deadline {
            Some(d) => match tokio::time::timeout(d.saturating_duration_since(Instant::now()), wait).await {
                Ok(r) => r.map(|v| v.clone()),
                Err(_) => {
                    return Err(crate::err!(
                        Timeout,
                        "resolving {key_for_error} did not complete within the caller's deadline"
                    ))
                }
            },
            None => wait.await.map(|v| v.clone()),
        };
        match outcome {
            Ok(Some(result)) => result,
            _ => Err(crate::err!(
                Internal,
                "the fetch for {key_for_error} ended without a result"
            )),
        }
    }
}
