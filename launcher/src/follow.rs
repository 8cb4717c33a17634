//! Following a created resource to its end with a watch.
//!
//! The watch is resumed from the last resourceVersion seen whenever it ends or breaks; a
//! `410 Gone` (history expired) re-lists the one object and watches on from the list's
//! resourceVersion. The kind decides what a status means ([`crate::kinds::Kind`]); this
//! module only adds the two time limits: the first status must come within
//! `status_timeout`, and an `ACK.Recoverable` error may last at most `recoverable_timeout`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use kube::Api;
use kube::api::{ListParams, WatchEvent, WatchParams};
use tokio::time::Instant;

use crate::ack::Verdict;
use crate::api::{self, Backoff, CallError, Class};
use crate::exit::Failure;
use crate::kinds::{self, Kind};
use crate::log::log;

/// How long a single watch request stays open before it is renewed.
const WATCH_SECONDS: u32 = 290;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub status_timeout: Duration,
    pub recoverable_timeout: Duration,
    pub api_timeout: Duration,
}

/// The last state of the resource the launcher saw: what the outputs are written from,
/// whichever way the run ends.
pub type LastSeen<K> = Arc<Mutex<Option<K>>>;

/// Logs what changes and decides when the job is done.
struct Tracker {
    limits: Limits,
    job_name: String,
    started: Instant,
    has_status: bool,
    recoverable: Option<(Instant, String)>,
    facts: BTreeMap<String, String>,
    arn_logged: bool,
}

impl Tracker {
    fn observe<K: Kind>(&mut self, job: &K) -> Result<bool, Failure> {
        self.has_status |= job.status().is_some();
        let elapsed = self.started.elapsed().as_secs_f64();
        let facts: BTreeMap<String, String> = kinds::progress(job).into_iter().collect();
        for (key, value) in &facts {
            if self.facts.get(key) != Some(value) {
                log!("{key}: {value} (after {elapsed:.1}s)");
            }
        }
        self.facts = facts;
        if !self.arn_logged
            && let Some(arn) = kinds::arn(job)
        {
            self.arn_logged = true;
            log!("SageMaker {} {arn}", K::NOUN);
            for (label, link) in K::links(arn, &self.job_name) {
                log!("{label}: {link}");
            }
        }
        match kinds::verdict(job) {
            Verdict::Succeeded { warnings } => {
                for warning in warnings {
                    log!("warning: {warning}");
                }
                Ok(true)
            }
            Verdict::Failed(message) => Err(Failure::JobFailed(message)),
            Verdict::Waiting { recoverable: None } => {
                self.recoverable = None;
                Ok(false)
            }
            Verdict::Waiting {
                recoverable: Some(message),
            } => {
                let since = self
                    .recoverable
                    .take()
                    .map_or_else(Instant::now, |(since, _)| since);
                self.recoverable = Some((since, message));
                Ok(false)
            }
        }
    }

    fn deadline(&self) -> Option<Instant> {
        if !self.has_status {
            return Some(self.started + self.limits.status_timeout);
        }
        self.recoverable
            .as_ref()
            .map(|(since, _)| *since + self.limits.recoverable_timeout)
    }

    fn timed_out(&self) -> Failure {
        match &self.recoverable {
            Some((_, message)) if self.has_status => Failure::TimedOut(format!(
                "the ACK controller kept reporting a recoverable error for {}s: {message}",
                self.limits.recoverable_timeout.as_secs()
            )),
            _ => Failure::TimedOut(format!(
                "the ACK controller wrote no status within {}s: is the ACK SageMaker \
                 controller running in this cluster, watching this namespace, with a region \
                 and AWS credentials?",
                self.limits.status_timeout.as_secs()
            )),
        }
    }
}

/// Follows `job` until it succeeds (`Ok`), fails or a limit passes (`Err`).
pub async fn follow<K: Kind>(
    api: &Api<K>,
    job: K,
    job_name: &str,
    limits: Limits,
    last_seen: &LastSeen<K>,
) -> Result<(), Failure> {
    let name = job.meta().name.clone().unwrap_or_default();
    let mut tracker = Tracker {
        limits,
        job_name: job_name.to_owned(),
        started: Instant::now(),
        has_status: false,
        recoverable: None,
        facts: BTreeMap::new(),
        arn_logged: false,
    };
    let mut resource_version = job.meta().resource_version.clone().unwrap_or_default();
    if see(&mut tracker, last_seen, job)? {
        return Ok(());
    }
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
    let mut failing_since: Option<Instant> = None;
    // Set once a watch was allowed: later refusals may be a restarting server's.
    let mut watched = false;
    loop {
        let params = WatchParams::default()
            .fields(&format!("metadata.name={name}"))
            .timeout(WATCH_SECONDS);
        let watch = if watched {
            api::call_allowed_before("watch the resource", limits.api_timeout, || {
                api.watch(&params, &resource_version)
            })
            .await
        } else {
            api::call("watch the resource", limits.api_timeout, || {
                api.watch(&params, &resource_version)
            })
            .await
        };
        let stream = match watch {
            Ok(stream) => {
                watched = true;
                stream
            }
            Err(CallError::Api(status)) if status.code == 410 => {
                match relist(api, &name, limits, &mut tracker, last_seen).await? {
                    Some(version) => resource_version = version,
                    None => return Ok(()),
                }
                continue;
            }
            Err(CallError::Api(status)) => {
                return Err(Failure::Unreachable(format!(
                    "cannot watch the resource: {}",
                    status.message
                )));
            }
            Err(CallError::Failed(failure)) => return Err(failure),
        };
        let mut stream = stream.boxed();
        loop {
            let deadline = tracker.deadline();
            let next = tokio::select! {
                next = stream.try_next() => next,
                () = sleep_until(deadline) => return Err(tracker.timed_out()),
            };
            match next {
                Ok(Some(WatchEvent::Added(job) | WatchEvent::Modified(job))) => {
                    backoff.reset();
                    failing_since = None;
                    resource_version = job.meta().resource_version.clone().unwrap_or_default();
                    if see(&mut tracker, last_seen, job)? {
                        return Ok(());
                    }
                }
                Ok(Some(WatchEvent::Deleted(_))) => {
                    return Err(Failure::JobFailed(
                        "the resource was deleted before the job finished".to_owned(),
                    ));
                }
                Ok(Some(WatchEvent::Bookmark(bookmark))) => {
                    resource_version = bookmark.metadata.resource_version;
                }
                Ok(Some(WatchEvent::Error(status))) if status.code == 410 => {
                    log!("watch history expired (410 Gone); listing again");
                    match relist(api, &name, limits, &mut tracker, last_seen).await? {
                        Some(version) => resource_version = version,
                        None => return Ok(()),
                    }
                    break;
                }
                Ok(Some(WatchEvent::Error(status))) => {
                    let delay = backoff.next_delay();
                    log!(
                        "watch error {} {}; resuming in {:.1}s",
                        status.code,
                        status.message,
                        delay.as_secs_f64()
                    );
                    tokio::time::sleep(delay).await;
                    break;
                }
                // The server ended the watch (its timeout, or a restart): resume.
                Ok(None) => break,
                Err(error) => {
                    let since = *failing_since.get_or_insert_with(Instant::now);
                    let (class, text) = api::classify(error);
                    if since.elapsed() > limits.api_timeout {
                        return Err(Failure::Unreachable(format!(
                            "the watch kept failing: {text}"
                        )));
                    }
                    let delay = match class {
                        Class::Transient(Some(server_delay)) => server_delay,
                        _ => backoff.next_delay(),
                    };
                    log!(
                        "watch interrupted ({text}); resuming in {:.1}s",
                        delay.as_secs_f64()
                    );
                    tokio::time::sleep(delay).await;
                    break;
                }
            }
        }
    }
}

fn see<K: Kind>(tracker: &mut Tracker, last_seen: &LastSeen<K>, job: K) -> Result<bool, Failure> {
    let done = tracker.observe(&job);
    if let Ok(mut slot) = last_seen.lock() {
        *slot = Some(job);
    }
    done
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Lists the one object again after its watch history expired; returns the list's
/// resourceVersion to watch on from, or `None` when the object shows the job is done.
async fn relist<K: Kind>(
    api: &Api<K>,
    name: &str,
    limits: Limits,
    tracker: &mut Tracker,
    last_seen: &LastSeen<K>,
) -> Result<Option<String>, Failure> {
    let params = ListParams::default().fields(&format!("metadata.name={name}"));
    let list = match api::call("list the resource", limits.api_timeout, || {
        api.list(&params)
    })
    .await
    {
        Ok(list) => list,
        Err(CallError::Api(status)) => {
            return Err(Failure::Unreachable(format!(
                "cannot list the resource: {}",
                status.message
            )));
        }
        Err(CallError::Failed(failure)) => return Err(failure),
    };
    let Some(job) = list.items.into_iter().next() else {
        return Err(Failure::JobFailed(
            "the resource was deleted before the job finished".to_owned(),
        ));
    };
    if see(tracker, last_seen, job)? {
        return Ok(None);
    }
    Ok(Some(list.metadata.resource_version.unwrap_or_default()))
}
