//! Calls to the Kubernetes API with one retry policy for all of them.
//!
//! kube's own retry layer is switched off so that every retry is decided, and logged, here:
//! transport errors and 5xx answers back off exponentially, a 429 waits as long as the
//! server's `retryAfterSeconds` says, every wait is cut to the time left, 401/403 and
//! credential errors stop at once (exit 4) unless the same call succeeded before in this
//! run, TLS and configuration errors and answers that do not decode into the generated
//! types stop at once with their own codes, and any other answer (404, 409, 422...) goes
//! back to the caller, who knows what it means. Errors are told apart by their types
//! (kube's variants, a rustls error in the chain), never by their text.

use std::future::Future;
use std::time::Duration;

use kube::core::Status;
use tokio::time::Instant;

use crate::exit::{ConfigError, Failure, Forbidden, Undecodable, Unreachable};
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
    /// 401/403, or credentials that could not be obtained (a token file, an exec plugin).
    Forbidden,
    /// Retrying cannot help: TLS verification, configuration, an undecodable answer.
    Fatal(Failure),
    Answer(Box<Status>),
}

/// The error and every cause under it, as one line.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Whether TLS failed: a rustls error anywhere in the chain (a certificate the client
/// does not trust, a handshake the two sides cannot complete), which retrying does not
/// fix. An `io::Error` carries its cause inside, not as its source.
fn is_tls(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if error.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && is_tls(inner)
        {
            return true;
        }
        next = error.source();
    }
    false
}

pub fn classify(error: kube::Error) -> (Class, String) {
    let text = match &error {
        kube::Error::Api(status) => {
            format!("{} {}: {}", status.code, status.reason, status.message)
        }
        other => chain(other),
    };
    let tls = is_tls(&error);
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
        kube::Error::Auth(_) => Class::Forbidden,
        kube::Error::SerdeError(_) => {
            Class::Fatal(Failure::Undecodable(Undecodable::Answer(text.clone())))
        }
        kube::Error::InferConfig(_)
        | kube::Error::InferKubeconfig(_)
        | kube::Error::RustlsTls(_)
        | kube::Error::TlsRequired
        | kube::Error::ProxyProtocolUnsupported { .. }
        | kube::Error::ProxyProtocolDisabled { .. }
        | kube::Error::BuildRequest(_) => {
            Class::Fatal(Failure::Config(ConfigError::Unusable(text.clone())))
        }
        // A certificate the client does not trust does not become trusted by retrying.
        _ if tls => Class::Fatal(Failure::Config(ConfigError::Tls(text.clone()))),
        // Connection refused or reset, timeouts, broken streams: the API may come back.
        _ => Class::Transient(None),
    };
    (class, text)
}

/// The failure for a 401/403 or missing credentials when trying to `what`.
pub fn forbidden(what: &str, text: &str) -> Failure {
    Failure::Forbidden(Forbidden::Refused {
        what: what.to_owned(),
        text: text.to_owned(),
    })
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

/// [`call`], where `allowed_before` says the same call already succeeded in this run, so
/// the credentials were allowed: a 401/403 is then retried like a transient error until
/// `give_up_after` (and then fails as refused). A kube-apiserver that was just restarted
/// refuses requests until its RBAC caches are loaded, and a client reaching it directly (a
/// one-node control plane, the test tier's loopback server) sees those refusals.
pub async fn call_with<T, F, Fut>(
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
                let delay = backoff
                    .next_delay()
                    .min(deadline.saturating_duration_since(Instant::now()));
                log!(
                    "refused to {what} though allowed before ({text}); a restarted API server \
                     refuses until its RBAC caches are loaded: retrying in {:.1}s",
                    delay.as_secs_f64()
                );
                tokio::time::sleep(delay).await;
            }
            (Class::Forbidden, text) => return Err(CallError::Failed(forbidden(what, &text))),
            (Class::Fatal(failure), _) => return Err(CallError::Failed(failure)),
            (Class::Transient(server_delay), text) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(CallError::Failed(Failure::Unreachable(
                        Unreachable::GaveUp {
                            what: what.to_owned(),
                            seconds: give_up_after.as_secs_f64(),
                            text,
                        },
                    )));
                }
                // Never past the deadline, whatever the server asked for: one last try then.
                let delay = server_delay
                    .unwrap_or_else(|| backoff.next_delay())
                    .min(left);
                log!(
                    "could not {what} ({text}); retrying in {:.1}s",
                    delay.as_secs_f64()
                );
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// The Kubernetes client: the in-cluster service account or the kubeconfig, with kube's
/// own retries off. Neither a missing or broken kubeconfig nor an unusable CA gets better
/// by waiting: they end the step at once.
pub async fn client() -> Result<kube::Client, Failure> {
    let mut config = kube::Config::infer()
        .await
        .map_err(|e| Failure::Config(ConfigError::NoConfig(chain(&e))))?;
    // Retries are decided (and logged) here, not below.
    config.default_retry = false;
    kube::Client::try_from(config).map_err(|e| match classify(e) {
        (Class::Forbidden, text) => Failure::Forbidden(Forbidden::Credentials(text)),
        (_, text) => Failure::Config(ConfigError::Client(text)),
    })
}
