//! Time as the engine sees it, replaceable so that tests move a clock instead of sleeping.

use std::time::{Instant, SystemTime};

/// Time as the engine sees it.
pub trait Clock: Send + Sync + 'static {
    /// Monotonic time, for freshness.
    fn now(&self) -> Instant;
    /// Wall-clock time, for `Expires` and for reporting.
    fn wall(&self) -> SystemTime;
}

/// The real clocks.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }
}
