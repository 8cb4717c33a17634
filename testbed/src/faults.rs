//! Fault injection: what the next requests should suffer, programmed by a test while the
//! server runs. Rules are consumed in the order they were added; each one applies to a
//! number of matching requests and then disappears.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::api_error::ApiError;
use crate::request_log::Verb;
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Status(u16),
    TooManyRequests(u64),
    Delay(Duration),
}

/// One programmed fault: an answer (or delay) for the next `times` requests matching `only`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    action: Action,
    times: usize,
    only: Option<Verb>,
}

impl Fault {
    /// Answer with this HTTP code and the matching `Status` body (500 `InternalError`,
    /// 503 `ServiceUnavailable`, 504 `Timeout`, ...). The store is not touched.
    pub fn status(code: u16) -> Fault {
        Fault {
            action: Action::Status(code),
            times: 1,
            only: None,
        }
    }

    /// Answer 429 `TooManyRequests` with `Retry-After: <seconds>`.
    pub fn too_many_requests(retry_after_secs: u64) -> Fault {
        Fault {
            action: Action::TooManyRequests(retry_after_secs),
            times: 1,
            only: None,
        }
    }

    /// Hold the request this long before handling it normally (a slow server).
    pub fn delay(d: Duration) -> Fault {
        Fault {
            action: Action::Delay(d),
            times: 1,
            only: None,
        }
    }

    /// Apply to this many matching requests (default 1); `usize::MAX` for "until cleared".
    pub fn times(mut self, n: usize) -> Fault {
        self.times = n;
        self
    }

    /// Apply only to requests of this verb.
    pub fn only(mut self, verb: Verb) -> Fault {
        self.only = Some(verb);
        self
    }
}

#[derive(Debug, Default)]
struct State {
    rules: Vec<Fault>,
    watch_close_after_events: Option<usize>,
    watch_close_after: Option<Duration>,
    watch_reset_after: Option<Duration>,
    watch_error: Option<u16>,
    refuse_until: Option<Instant>,
}

/// The fault controls of a running test bed (cheap to clone; all clones share state).
#[derive(Debug, Clone)]
pub struct Faults {
    state: Arc<Mutex<State>>,
    store: Arc<Store>,
    refuse: Arc<tokio::sync::Notify>,
}

/// What the router must do to one request before (or instead of) handling it.
#[derive(Debug, Default)]
pub(crate) struct Decision {
    pub delay: Option<Duration>,
    pub error: Option<ApiError>,
}

impl Faults {
    pub(crate) fn new(store: Arc<Store>) -> Faults {
        Faults {
            state: Arc::default(),
            store,
            refuse: Arc::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a fault rule after the existing ones.
    pub fn inject(&self, fault: Fault) {
        self.state().rules.push(fault);
    }

    /// Every watch stream opened from now on ends (cleanly) after sending `n` events
    /// (ADDED/MODIFIED/DELETED; bookmarks are not counted). `None` turns it off.
    pub fn close_watches_after_events(&self, n: Option<usize>) {
        self.state().watch_close_after_events = n;
    }

    /// Every watch stream opened from now on ends after this long. `None` turns it off.
    pub fn close_watches_after(&self, d: Option<Duration>) {
        self.state().watch_close_after = d;
    }

    /// Every watch stream opened from now on is cut after this long: the connection is
    /// aborted mid-stream (no final chunk), which the client sees as an error, as when a
    /// load balancer or an API server restart resets it. `None` turns it off.
    pub fn reset_watches_after(&self, d: Option<Duration>) {
        self.state().watch_reset_after = d;
    }

    /// Every watch stream opened from now on sends one `ERROR` event with this code's
    /// `Status` (as a watch cache does for a 500 or a 403 mid-stream) and ends. `None`
    /// turns it off.
    pub fn watch_error_events(&self, code: Option<u16>) {
        self.state().watch_error = code;
    }

    /// Closes the listening socket for `d`: new connections are refused (ECONNREFUSED),
    /// connections already open keep working.
    pub fn refuse_connections_for(&self, d: Duration) {
        self.state().refuse_until = Some(Instant::now() + d);
        self.refuse.notify_one();
    }

    /// Drops the event history: a watch or list resuming from any earlier resourceVersion
    /// gets 410 Gone, and every open watch stream ends with an `ERROR` 410 event.
    pub fn expire_history(&self) {
        self.store.expire_history();
    }

    /// Removes every rule and watch limit.
    pub fn clear(&self) {
        let mut s = self.state();
        s.rules.clear();
        s.watch_close_after_events = None;
        s.watch_close_after = None;
        s.watch_reset_after = None;
        s.watch_error = None;
    }

    /// Consumes the rules matching one request of `verb`.
    pub(crate) fn decide(&self, verb: Verb) -> Decision {
        let mut s = self.state();
        let mut decision = Decision::default();
        let applies = |f: &Fault| f.times > 0 && f.only.is_none_or(|v| v == verb);
        if let Some(f) = s
            .rules
            .iter_mut()
            .find(|f| applies(f) && matches!(f.action, Action::Delay(_)))
        {
            f.times -= 1;
            if let Action::Delay(d) = f.action {
                decision.delay = Some(d);
            }
        }
        if let Some(f) = s
            .rules
            .iter_mut()
            .find(|f| applies(f) && !matches!(f.action, Action::Delay(_)))
        {
            f.times -= 1;
            decision.error = match f.action {
                Action::Status(code) => Some(ApiError::injected(code)),
                Action::TooManyRequests(secs) => Some(ApiError::too_many_requests(secs)),
                Action::Delay(_) => None,
            };
        }
        s.rules.retain(|f| f.times > 0);
        decision
    }

    /// The limits for a watch stream that starts now: (events, duration).
    pub(crate) fn watch_limits(&self) -> (Option<usize>, Option<Duration>) {
        let s = self.state();
        (s.watch_close_after_events, s.watch_close_after)
    }

    /// The `ERROR` event a watch stream that starts now is to send instead of events.
    pub(crate) fn watch_error(&self) -> Option<u16> {
        self.state().watch_error
    }

    /// When a watch stream that starts now is to be reset, if at all.
    pub(crate) fn watch_reset(&self) -> Option<Duration> {
        self.state().watch_reset_after
    }

    /// Until when the listener must stay closed, if a refusal is pending.
    pub(crate) fn refuse_until(&self) -> Option<Instant> {
        self.state().refuse_until.filter(|t| *t > Instant::now())
    }

    pub(crate) async fn refusal_requested(&self) {
        self.refuse.notified().await;
    }
}
