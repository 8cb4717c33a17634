//! Following a created resource to its end with a watch.
//!
//! The watch is resumed from the last resourceVersion seen whenever it ends or breaks; a
//! `410 Gone` (history expired) re-lists the one object and watches on from the list's
//! resourceVersion, following only the uid this attempt created or attached to. A stream
//! that ends or breaks at once is re-opened with back-off. `api_timeout` limits one
//! unbroken outage ([`Outage`]), never the sum of short ones. The kind decides what a
//! status means ([`crate::kinds::Kind`]); this module only adds the two time limits: the
//! first status must come within `status_timeout`, and an `ACK.Recoverable` error may last
//! at most `recoverable_timeout`.

use std::collections::BTreeMap;
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
use crate::update::Update;

/// How long a single watch request stays open before it is renewed.
const WATCH_SECONDS: u32 = 290;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub status_timeout: Duration,
    pub recoverable_timeout: Duration,
    pub api_timeout: Duration,
    /// How long the resource may take to be done at all (`--time-limit`, else the kind's).
    pub time_limit: Option<Duration>,
}

/// What the step waits for.
#[derive(Debug)]
pub enum Goal {
    /// The resource it created (or re-attached to, or found as the inputs want it) done.
    Done,
    /// The controller to have taken this update, and then the resource done.
    Update(Update),
}

/// Keeps the last state of the resource seen: what the outputs are written from,
/// whichever way the run ends.
pub type LastSeen<'a, K> = &'a (dyn Fn(&K) + Sync);

/// Logs what changes and decides when the job is done.
struct Tracker {
    limits: Limits,
    goal: Goal,
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
        let verdict = match &mut self.goal {
            Goal::Done => kinds::verdict(job),
            Goal::Update(update) => update.verdict(job),
        };
        match verdict {
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
        let limit = self.limits.time_limit.map(|limit| self.started + limit);
        let other = if self.has_status {
            self.recoverable
                .as_ref()
                .map(|(since, _)| *since + self.limits.recoverable_timeout)
        } else {
            Some(self.started + self.limits.status_timeout)
        };
        match (limit, other) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn timed_out<K: Kind>(&self) -> Failure {
        if let Some(limit) = self.limits.time_limit
            && self.started.elapsed() >= limit
        {
            let what = match self.goal {
                Goal::Update(_) => "updated",
                Goal::Done => "done",
            };
            return Failure::TimedOut(format!(
                "the {} was not {what} within the time limit of {}s (--time-limit); it is left as it is",
                K::NOUN,
                limit.as_secs()
            ));
        }
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

/// One unbroken stretch of failing API calls. Any request that succeeds, and any watch
/// that opens, ends it: `--api-timeout` limits one outage, never the sum of short ones
/// far apart (a load balancer resetting a quiet hours-long watch now and then).
#[derive(Debug)]
struct Outage {
    since: Option<Instant>,
    limit: Duration,
}

impl Outage {
    fn recovered(&mut self) {
        self.since = None;
    }

    fn failed(&mut self) {
        self.since.get_or_insert_with(Instant::now);
    }

    /// How much longer the API may keep failing.
    fn left(&self) -> Duration {
        self.since.map_or(self.limit, |since| {
            self.limit.saturating_sub(since.elapsed())
        })
    }
}

/// A watch that ends or breaks sooner than this without delivering anything is re-opened
/// with back-off, so that a proxy closing every stream at once causes no hot loop.
const HEALTHY_STREAM: Duration = Duration::from_secs(2);

/// How one watch stream ended.
enum End {
    /// Cleanly (the server's timeout, a restart): resume.
    Closed,
    /// The history expired and the object was listed again, at this resourceVersion.
    Relisted(String),
    /// Broken connection or an ERROR event: resume after this delay (the server's, if any).
    Failed(String, Option<Duration>),
}

/// The resource being followed.
pub struct Target<'a, K> {
    pub api: &'a Api<K>,
    pub name: &'a str,
    /// The uid this attempt created or attached to: after a re-list, a resource of the same
    /// name with another uid is not this step's.
    pub uid: Option<String>,
}

/// Follows `job` until it succeeds (`Ok`), fails or a limit passes (`Err`).
pub async fn follow<K: Kind>(
    target: &Target<'_, K>,
    job: K,
    goal: Goal,
    job_name: &str,
    limits: Limits,
    last_seen: LastSeen<'_, K>,
) -> Result<(), Failure> {
    let api = target.api;
    let name = target.name;
    let mut tracker = Tracker {
        limits,
        goal,
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
    let mut outage = Outage {
        since: None,
        limit: limits.api_timeout,
    };
    // Set once a watch was allowed: later refusals may be a restarting server's.
    let mut watched = false;
    loop {
        let params = WatchParams::default()
            .fields(&format!("metadata.name={name}"))
            .timeout(WATCH_SECONDS);
        let watch = api::call_with("watch the resource", outage.left(), watched, || {
            api.watch(&params, &resource_version)
        })
        .await;
        let stream = match watch {
            Ok(stream) => {
                watched = true;
                stream
            }
            Err(CallError::Api(status)) if status.code == 410 => {
                match relist(target, &mut outage, &mut tracker, last_seen).await? {
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
            Err(CallError::Failed(failure)) => return Err(explain(target, failure).await),
        };
        // The watch opened: the API answers. A stream whose first message is an ERROR
        // did not really open, so the outage it interrupted goes on.
        let outage_before = outage.since.take();
        let opened = Instant::now();
        let mut delivered = false;
        let mut stream = stream.boxed();
        let end = loop {
            let deadline = tracker.deadline();
            let next = tokio::select! {
                next = stream.try_next() => next,
                () = sleep_until(deadline) => return Err(tracker.timed_out::<K>()),
            };
            match next {
                Ok(Some(WatchEvent::Added(job) | WatchEvent::Modified(job))) => {
                    if target.uid.is_some() && job.meta().uid != target.uid {
                        return Err(replaced(name));
                    }
                    delivered = true;
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
                    delivered = true;
                    resource_version = bookmark.metadata.resource_version;
                }
                Ok(Some(WatchEvent::Error(status))) if status.code == 410 => {
                    log!("watch history expired (410 Gone); listing again");
                    match relist(target, &mut outage, &mut tracker, last_seen).await? {
                        Some(version) => break End::Relisted(version),
                        None => return Ok(()),
                    }
                }
                Ok(Some(WatchEvent::Error(status))) => {
                    if matches!(status.code, 401 | 403) {
                        return Err(api::forbidden("watch the resource", &status.message));
                    }
                    if !delivered {
                        outage.since = outage_before;
                    }
                    outage.failed();
                    break End::Failed(
                        format!("watch error {} {}", status.code, status.message),
                        None,
                    );
                }
                Ok(None) => break End::Closed,
                Err(error) => match api::classify(error) {
                    (Class::Forbidden, text) => {
                        return Err(api::forbidden("watch the resource", &text));
                    }
                    (Class::Fatal(failure), _) => return Err(explain(target, failure).await),
                    (Class::Transient(server_delay), text) => {
                        outage.failed();
                        break End::Failed(format!("watch interrupted ({text})"), server_delay);
                    }
                    (Class::Answer(status), text) => {
                        outage.failed();
                        break End::Failed(
                            format!("watch interrupted ({text})"),
                            status_delay(&status),
                        );
                    }
                },
            }
        };
        if delivered || opened.elapsed() >= HEALTHY_STREAM {
            backoff.reset();
        }
        let pause = match end {
            End::Relisted(version) => {
                resource_version = version;
                continue;
            }
            End::Closed if delivered || opened.elapsed() >= HEALTHY_STREAM => continue,
            End::Closed => backoff.next_delay(),
            End::Failed(text, server_delay) => {
                let left = outage.left();
                if left.is_zero() {
                    return Err(Failure::Unreachable(format!(
                        "the watch kept failing for {:.1}s: {text}",
                        limits.api_timeout.as_secs_f64()
                    )));
                }
                let delay = server_delay
                    .unwrap_or_else(|| backoff.next_delay())
                    .min(left);
                log!("{text}; resuming in {:.1}s", delay.as_secs_f64());
                delay
            }
        };
        let deadline = tracker.deadline();
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = sleep_until(deadline) => return Err(tracker.timed_out::<K>()),
        }
    }
}

fn status_delay(status: &kube::core::Status) -> Option<Duration> {
    status
        .details
        .as_ref()
        .map(|d| Duration::from_secs(u64::from(d.retry_after_seconds)))
        .filter(|d| !d.is_zero())
}

fn replaced(name: &str) -> Failure {
    Failure::JobFailed(format!(
        "{name} was deleted and another resource of that name took its place; it is not \
         this step's, so it is not followed"
    ))
}

/// Adds the path of the offending field to a decoding failure: the object is read again
/// as plain JSON and decoded step by step.
pub async fn explain<K: Kind>(target: &Target<'_, K>, failure: Failure) -> Failure {
    let Failure::Undecodable(_) = failure else {
        return failure;
    };
    undecodable(target.api, target.name)
        .await
        .unwrap_or(failure)
}

/// Reads `name` as plain JSON and names the first field the generated types cannot hold.
pub async fn undecodable<K: Kind>(api: &Api<K>, name: &str) -> Option<Failure> {
    use kube::api::{ApiResource, DynamicObject};
    let resource = ApiResource::erase::<K>(&());
    let namespace = api.namespace().unwrap_or("default").to_owned();
    let raw: Api<DynamicObject> =
        Api::namespaced_with(api.clone().into_client(), &namespace, &resource);
    let object = raw.get(name).await.ok()?;
    let value = serde_json::to_value(object).ok()?;
    // By reference, as the input reader decodes: one instantiation of the decoder for the
    // spec types both read, not two (the launcher's size).
    let error = serde_path_to_error::deserialize::<_, K>(&value).err()?;
    Some(Failure::Undecodable(format!(
        "{} {name}: field `{}` does not decode into the generated types ({}); the \
         cluster's ACK SageMaker controller is likely newer than the CRD this launcher was \
         generated from: regenerate (`cargo xtask regenerate --controller-version <installed \
         version>`) and use that launcher image",
        K::KIND,
        error.path(),
        error.inner()
    )))
}

fn see<K: Kind>(
    tracker: &mut Tracker,
    last_seen: LastSeen<'_, K>,
    job: K,
) -> Result<bool, Failure> {
    let done = tracker.observe(&job);
    last_seen(&job);
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
    target: &Target<'_, K>,
    outage: &mut Outage,
    tracker: &mut Tracker,
    last_seen: LastSeen<'_, K>,
) -> Result<Option<String>, Failure> {
    let params = ListParams::default().fields(&format!("metadata.name={}", target.name));
    let list = match api::call("list the resource", outage.left(), || {
        target.api.list(&params)
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
        Err(CallError::Failed(failure)) => return Err(explain(target, failure).await),
    };
    outage.recovered();
    let Some(job) = list.items.into_iter().next() else {
        return Err(Failure::JobFailed(
            "the resource was deleted before the job finished".to_owned(),
        ));
    };
    if target.uid.is_some() && job.meta().uid != target.uid {
        return Err(replaced(target.name));
    }
    if see(tracker, last_seen, job)? {
        return Ok(None);
    }
    Ok(Some(list.metadata.resource_version.unwrap_or_default()))
}
