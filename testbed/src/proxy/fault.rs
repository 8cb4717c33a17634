//! The fault vocabulary: what the proxy does to the next requests instead of, or on top of,
//! forwarding them. Rules are consulted in the order they were added; each applies to a
//! number of matching requests (one by default) and then disappears.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::request_log::Verb;

/// What one rule does. Each request takes at most one rule of each [`Stage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Delay(Duration),
    Status(u16),
    TooManyRequests(u32),
    LoseAnswer(u16),
    WatchError(u16),
    CloseWatchAfterEvents(usize),
    CloseWatchAfter(Duration),
    ResetWatchAfter(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Before anything else: hold the request.
    Delay,
    /// Instead of the server's answer.
    Answer,
    /// On a forwarded watch's stream.
    Stream,
}

impl Action {
    fn stage(self) -> Stage {
        match self {
            Action::Delay(_) => Stage::Delay,
            Action::Status(_)
            | Action::TooManyRequests(_)
            | Action::LoseAnswer(_)
            | Action::WatchError(_) => Stage::Answer,
            Action::CloseWatchAfterEvents(_)
            | Action::CloseWatchAfter(_)
            | Action::ResetWatchAfter(_) => Stage::Stream,
        }
    }
}

/// One programmed fault: an action for the next [`Fault::times`] requests that match
/// [`Fault::only`] and [`Fault::only_path`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    action: Action,
    times: usize,
    verb: Option<Verb>,
    path: Option<String>,
}

impl Fault {
    fn new(action: Action, verb: Option<Verb>) -> Fault {
        Fault {
            action,
            times: 1,
            verb,
            path: None,
        }
    }

    /// Answers with this code and a Kubernetes `Status` of the matching reason (403
    /// `Forbidden`, 410 `Expired`, 500 `InternalError`, 503 `ServiceUnavailable`, ...); the
    /// request never reaches the server.
    pub fn status(code: u16) -> Fault {
        Fault::new(Action::Status(code), None)
    }

    /// Answers 429 `TooManyRequests` with `Retry-After` and `details.retryAfterSeconds`, as
    /// API Priority and Fairness does; the request never reaches the server.
    pub fn too_many_requests(retry_after_secs: u32) -> Fault {
        Fault::new(Action::TooManyRequests(retry_after_secs), None)
    }

    /// Holds the request this long, then handles it as the other rules say (a slow network
    /// or server; on a create, a create that lands late). A held request is forwarded even
    /// if its client has gone meanwhile, as bytes already sent would be.
    pub fn delay(d: Duration) -> Fault {
        Fault::new(Action::Delay(d), None)
    }

    /// Forwards the request, so the server acts on it, but the answer is lost: the client
    /// gets this code instead (e.g. 504 from a gateway that gave up, or 500).
    pub fn lose_answer(code: u16) -> Fault {
        Fault::new(Action::LoseAnswer(code), None)
    }

    /// Answers a watch with 200 and one `ERROR` event carrying this code's `Status`, then
    /// ends the stream; 410 is the watch cache's `Expired` for a resourceVersion older than
    /// its history, which a client answers by listing again. Watches only.
    pub fn watch_error(code: u16) -> Fault {
        Fault::new(Action::WatchError(code), Some(Verb::Watch))
    }

    /// Forwards a watch and ends its stream cleanly after `n` events (bookmarks are not
    /// counted). Watches only.
    pub fn close_watch_after_events(n: usize) -> Fault {
        Fault::new(Action::CloseWatchAfterEvents(n), Some(Verb::Watch))
    }

    /// Forwards a watch and ends its stream cleanly after `d` (as a server's timeout does).
    /// Watches only.
    pub fn close_watch_after(d: Duration) -> Fault {
        Fault::new(Action::CloseWatchAfter(d), Some(Verb::Watch))
    }

    /// Forwards a watch and resets its connection after `d` (a TCP reset mid-stream, which
    /// the client reads as "connection reset by peer", as from a load balancer). Watches
    /// only.
    pub fn reset_watch_after(d: Duration) -> Fault {
        Fault::new(Action::ResetWatchAfter(d), Some(Verb::Watch))
    }

    /// Applies to this many matching requests (default 1); `usize::MAX` until cleared.
    pub fn times(mut self, n: usize) -> Fault {
        self.times = n;
        self
    }

    /// Applies only to requests of this verb.
    pub fn only(mut self, verb: Verb) -> Fault {
        self.verb = Some(verb);
        self
    }

    /// Applies only to requests whose path contains `fragment` (an object's name, a
    /// `/status` subresource, a namespace).
    pub fn only_path(mut self, fragment: &str) -> Fault {
        self.path = Some(fragment.to_owned());
        self
    }

    fn matches(&self, verb: Verb, path: &str) -> bool {
        self.times > 0
            && self.verb.is_none_or(|v| v == verb)
            && self.path.as_deref().is_none_or(|p| path.contains(p))
    }
}

/// What happens to one request, one rule per stage at most.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    pub delay: Option<Duration>,
    pub answer: Option<Action>,
    pub stream: Option<Action>,
}

/// The rules of a running proxy.
#[derive(Debug, Default)]
pub(crate) struct Rules(Mutex<Vec<Fault>>);

impl Rules {
    pub fn add(&self, fault: Fault) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(fault);
    }

    pub fn clear(&self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Takes the first matching rule of each stage for one request. A stream rule is taken
    /// only when the request is forwarded (no answer rule applies).
    pub fn decide(&self, verb: Verb, path: &str) -> Decision {
        let mut rules = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut take = |stage: Stage| {
            let rule = rules
                .iter_mut()
                .find(|f| f.action.stage() == stage && f.matches(verb, path))?;
            rule.times -= 1;
            Some(rule.action)
        };
        let delay = take(Stage::Delay).map(|a| match a {
            Action::Delay(d) => d,
            _ => Duration::ZERO,
        });
        let answer = take(Stage::Answer);
        let stream = match answer {
            None => take(Stage::Stream),
            Some(_) => None,
        };
        rules.retain(|f| f.times > 0);
        Decision {
            delay,
            answer,
            stream,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_apply_in_order_per_stage_and_run_out() {
        let rules = Rules::default();
        rules.add(Fault::status(503).times(2).only(Verb::Create));
        rules.add(Fault::delay(Duration::from_millis(5)).only_path("/status"));
        rules.add(Fault::status(500));
        rules.add(Fault::reset_watch_after(Duration::from_secs(1)));
        let create = rules.decide(Verb::Create, "/apis/g/v/namespaces/n/things");
        assert_eq!(create.answer, Some(Action::Status(503)));
        assert_eq!(create.delay, None);
        // A watch takes the first answer rule for any verb (500), so not the stream rule.
        let watch = rules.decide(Verb::Watch, "/apis/g/v/namespaces/n/things");
        assert_eq!(watch.answer, Some(Action::Status(500)));
        assert_eq!(watch.stream, None);
        let watch = rules.decide(Verb::Watch, "/apis/g/v/namespaces/n/things");
        assert_eq!(
            watch.stream,
            Some(Action::ResetWatchAfter(Duration::from_secs(1)))
        );
        let status = rules.decide(Verb::Patch, "/apis/g/v/namespaces/n/things/a/status");
        assert_eq!(status.delay, Some(Duration::from_millis(5)));
        assert_eq!(status.answer, None);
        let create = rules.decide(Verb::Create, "/apis/g/v/namespaces/n/things");
        assert_eq!(create.answer, Some(Action::Status(503)));
        assert_eq!(rules.decide(Verb::Create, "/x"), Decision::default());
    }
}
