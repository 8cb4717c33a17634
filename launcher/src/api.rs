//! Calls to the Kubernetes API with one retry policy for all of them.
//!
//! kube's own retry layer is switched off so that every retry is decided, and logged, here:
//! transport errors and 5xx answers back off exponentially, a 429 waits as long as the
//! server's `retryAfterSeconds` says, 401/403 stop at once (RBAC) unless the same call
//! succeeded before in this run, and any other answer (404, 409, 422...) goes back to the
//! caller, who knows what it means.

use std::future::Future;
use std::time::Duration;

use kube::core::Status;
use tokio::time::Instant;

use crate::exit::Failure;
use crate::log::log;

#[derive(Debug)]
pub enum CallError {
    /// An answer the caller must interpret.
    Api(Box<Status>),
    /// Retrying did not help, or cannot.
    Failed(Failure),
}

/// Exponential backoff between `min` and `max`.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
    min: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            next: min,
            min,
            max,
        }
    }

    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    pub fn reset(&mut self) {
        self.next = self.min;
    }
}

/// What to do about an error from kube.
pub enum Class {
    /// Try again, after the server's delay if it gave one.
    Transient(Option<Duration>),
    Forbidden,
    Answer(Box<Status>),
}

pub fn classify(error: kube::Error) -> (Class, String) {
    let text = error.to_string();
    let class = match error {
        kube::Error::Api(status) => match status.code {
            429 => Class::Transient(
                status
                    .details
                    .as_ref()
                    .map(|d| Duration::from_secs(u64::from(d.retry_after_seconds)))
                    .filter(|d| !d.is_zero()),
            ),
            500..=599 => Class::Transient(None),
            401 | 403 => Class::Forbidden,
            _ => Class::Answer(status),
        },
        // Connection refused or reset, timeouts, broken streams: the API may come back.
        _ => Class::Transient(None),
    };
    (class, text)
}

/// Runs `call` until it succeeds, the API gives an answer for the caller, or transient
/// failures have gone on for `give_up_after`.
pub async fn call<T, F, Fut>(what: &str, give_up_after: Duration, call: F) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    call_with(what, give_up_after, false, call).await
}

/// [`call`] for a call that already succeeded in this run, so the credentials were
/// allowed: a 401/403 is retried like a transient error until `give_up_after` (and then
/// fails as refused). A kube-apiserver that was just restarted refuses requests until its
/// RBAC caches are loaded, and a client reaching it directly (a one-node control plane,
/// the test tier's loopback server) sees those refusals.
pub async fn call_allowed_before<T, F, Fut>(
    what: &str,
    give_up_after: Duration,
    call: F,
) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    call_with(what, give_up_after, true, call).await
}

async fn call_with<T, F, Fut>(
    what: &str,
    give_up_after: Duration,
    allowed_before: bool,
    mut call: F,
) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let deadline = Instant::now() + give_up_after;
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
    loop {
        let error = match call().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        match classify(error) {
            (Class::Answer(status), _) => return Err(CallError::Api(status)),
            (Class::Forbidden, text) if allowed_before && Instant::now() < deadline => {
                let delay = backoff.next_delay();
                log!(
                    "refused to {what} though allowed before ({text}); a restarted API server \
                     refuses until its RBAC caches are loaded: retrying in {:.1}s",
                    delay.as_secs_f64()
                );
                tokio::time::sleep(delay).await;
            }
            (Class::Forbidden, text) => {
                return Err(CallError::Failed(Failure::Forbidden(format!(
                    "the Kubernetes API refused to {what}: {text}. The step's service account \
                     needs get, list, watch, create and delete on this resource."
                ))));
            }
            (Class::Transient(server_delay), text) => {
                if Instant::now() >= deadline {
                    return Err(CallError::Failed(Failure::Unreachable(format!(
                        "could not {what} for {}s: {text}",
                        give_up_after.as_secs()
                    ))));
                }
                let delay = server_delay.unwrap_or_else(|| backoff.next_delay());
                log!(
                    "could not {what} ({text}); retrying in {:.1}s",
                    delay.as_secs_f64()
                );
                tokio::time::sleep(delay).await;
            }
        }
    }
}
