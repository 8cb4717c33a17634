//! Following a created resource to its end with a watch, as a small state machine in the
//! manner of kube-runtime's watcher (`Empty -> InitListed -> Watching`), advanced by one
//! step function; the states say where it is, no flags do:
//!
//! ```text
//! Opening(version) --watch opened--> Watching --stream ended--> Pausing --> Opening
//!        |                              |
//!        +--410 Gone--> Listing <-------+ (410 event)     Listing --listed--> Opening
//! ```
//!
//! The watch resumes from the last resourceVersion seen whenever it ends or breaks; a
//! `410 Gone` (history expired) re-lists the one object and watches on from the list's
//! resourceVersion, following only the uid this attempt created or attached to. A stream
//! that ends or breaks at once is re-opened with back-off, which a stream that delivered
//! something or lasted resets. `api_timeout` limits one unbroken outage ([`Outage`]),
//! never the sum of short ones. The kind decides what a status means
//! ([`crate::kinds::Kind`]); this module adds the time limits ([`Tracker`]): the first
//! status within `status_timeout`, an `ACK.Recoverable` error for at most
//! `recoverable_timeout`, everything within `--time-limit`.
//!
//! kube-runtime's watcher itself is not used: it begins with a list (our watch starts
//! from the create's answer, one request fewer), retries on its own schedule, and would
//! add a dependency to the static binary for a loop this size.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use kube::Api;
use kube::api::{ListParams, WatchEvent, WatchParams};
use tokio::time::Instant;

use crate::ack::Verdict;
use crate::api::{self, Backoff, CallError, Class};
use crate::decode::explain;
use crate::exit::{Failure, JobFailure, Timeout, Unreachable};
use crate::kinds::{self, Kind};
use crate::log::log;
use crate::progress::Progress;
use crate::update::Update;

/// How long a single watch request stays open before it is renewed.
const WATCH_SECONDS: u32 = 290;

/// A watch that ends or breaks sooner than this without delivering anything is re-opened
/// with back-off, so that a proxy closing every stream at once causes no hot loop.
const HEALTHY_STREAM: Duration = Duration::from_secs(2);

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

/// The resource being followed.
pub struct Target<'a, K: Kind> {
    pub api: &'a Api<K>,
    pub name: &'a str,
    /// The SageMaker name, for the console links.
    pub job_name: &'a str,
    /// The uid this attempt created or attached to: after a re-list, a resource of the same
    /// name with another uid is not this step's.
    pub uid: Option<String>,
}

/// Follows `resource` until it succeeds (`Ok`), fails or a limit passes (`Err`); every
/// state seen goes to `progress`.
pub async fn follow<K: Kind>(
    target: Target<'_, K>,
    resource: K,
    goal: Goal,
    limits: Limits,
    progress: &Progress<K>,
) -> Result<(), Failure> {
    let version = resource.meta().resource_version.clone().unwrap_or_default();
    let mut follower = Follower {
        target,
        progress,
        tracker: Tracker::new(limits, goal),
        outage: Outage {
            since: None,
            limit: limits.api_timeout,
        },
        backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(10)),
        watched: false,
    };
    if follower.see(resource)? {
        return Ok(());
    }
    let mut state = State::Opening(version);
    loop {
        state = match follower.step(state).await? {
            State::Done => return Ok(()),
            next => next,
        };
    }
}

/// Where the follower is.
enum State<K> {
    /// Open a watch from this resourceVersion.
    Opening(String),
    /// A watch is open.
    Watching(Watch<K>),
    /// The watch history expired: list the one object again.
    Listing,
    /// The stream ended: open the next one from `version` after `pause`.
    Pausing { version: String, pause: Duration },
    /// The resource is done (the goal reached).
    Done,
}

/// An open watch stream and what it has done so far.
struct Watch<K> {
    events: BoxStream<'static, kube::Result<WatchEvent<K>>>,
    /// The last resourceVersion seen.
    version: String,
    opened: Instant,
    /// It delivered an event or a bookmark.
    delivered: bool,
    /// The outage the opening ended: a stream whose first message is an ERROR did not
    /// really open, and the outage goes on.
    outage_before: Option<Instant>,
}

impl<K> Watch<K> {
    fn healthy(&self) -> bool {
        self.delivered || self.opened.elapsed() >= HEALTHY_STREAM
    }
}

/// How a watch stream ended.
enum End {
    /// Cleanly (the server's timeout, a restart): resume.
    Closed,
    /// Broken connection or an ERROR event: resume after this delay (the server's, if any).
    Failed(String, Option<Duration>),
}

struct Follower<'a, K: Kind> {
    target: Target<'a, K>,
    progress: &'a Progress<K>,
    tracker: Tracker,
    outage: Outage,
    backoff: Backoff,
    /// A watch was allowed once: later refusals may be a restarting server's.
    watched: bool,
}

impl<K: Kind> Follower<'_, K> {
    /// Advances the follower by one state.
    async fn step(&mut self, state: State<K>) -> Result<State<K>, Failure> {
        match state {
            State::Opening(version) => self.open(version).await,
            State::Watching(watch) => self.next_event(watch).await,
            State::Listing => self.relist().await,
            State::Pausing { version, pause } => {
                let deadline = self.tracker.deadline();
                tokio::select! {
                    () = tokio::time::sleep(pause) => Ok(State::Opening(version)),
                    () = sleep_until(deadline) => Err(self.tracker.timed_out::<K>()),
                }
            }
            State::Done => Ok(State::Done),
        }
    }

    async fn open(&mut self, version: String) -> Result<State<K>, Failure> {
        let Target { api, name, .. } = self.target;
        let params = WatchParams::default()
            .fields(&format!("metadata.name={name}"))
            .timeout(WATCH_SECONDS);
        let opened = api::call_with(
            "watch the resource",
            self.outage.left(),
            self.watched,
            || api.watch(&params, &version),
        )
        .await;
        match opened {
            Ok(events) => {
                self.watched = true;
                // The watch opened: the API answers.
                Ok(State::Watching(Watch {
                    events: events.boxed(),
                    version,
                    opened: Instant::now(),
                    delivered: false,
                    outage_before: self.outage.since.take(),
                }))
            }
            Err(CallError::Api(status)) if status.code == 410 => Ok(State::Listing),
            Err(CallError::Api(status)) => Err(Failure::Unreachable(Unreachable::Answer {
                what: "watch",
                message: status.message,
            })),
            Err(CallError::Failed(failure)) => Err(explain(api, name, failure).await),
        }
    }

    /// Reads the next message of an open watch.
    async fn next_event(&mut self, mut watch: Watch<K>) -> Result<State<K>, Failure> {
        let deadline = self.tracker.deadline();
        let next = tokio::select! {
            next = watch.events.try_next() => next,
            () = sleep_until(deadline) => return Err(self.tracker.timed_out::<K>()),
        };
        let end = match next {
            Ok(Some(WatchEvent::Added(resource) | WatchEvent::Modified(resource))) => {
                self.check_uid(&resource)?;
                watch.delivered = true;
                watch.version = resource.meta().resource_version.clone().unwrap_or_default();
                if self.see(resource)? {
                    return Ok(State::Done);
                }
                return Ok(State::Watching(watch));
            }
            Ok(Some(WatchEvent::Deleted(_))) => {
                return Err(Failure::JobFailed(JobFailure::Deleted));
            }
            Ok(Some(WatchEvent::Bookmark(bookmark))) => {
                watch.delivered = true;
                watch.version = bookmark.metadata.resource_version;
                return Ok(State::Watching(watch));
            }
            Ok(Some(WatchEvent::Error(status))) if status.code == 410 => {
                log!("watch history expired (410 Gone); listing again");
                self.stream_ended(&watch);
                return Ok(State::Listing);
            }
            Ok(Some(WatchEvent::Error(status))) => {
                if matches!(status.code, 401 | 403) {
                    return Err(api::forbidden("watch the resource", &status.message));
                }
                if !watch.delivered {
                    self.outage.since = watch.outage_before;
                }
                self.outage.failed();
                End::Failed(
                    format!("watch error {} {}", status.code, status.message),
                    None,
                )
            }
            Ok(None) => End::Closed,
            Err(error) => match api::classify(error) {
                (Class::Forbidden, text) => {
                    return Err(api::forbidden("watch the resource", &text));
                }
                (Class::Fatal(failure), _) => {
                    return Err(explain(self.target.api, self.target.name, failure).await);
                }
                (Class::Transient(server_delay), text) => {
                    self.outage.failed();
                    End::Failed(format!("watch interrupted ({text})"), server_delay)
                }
                (Class::Answer(status), text) => {
                    self.outage.failed();
                    End::Failed(format!("watch interrupted ({text})"), status_delay(&status))
                }
            },
        };
        self.stream_ended(&watch);
        let pause = match end {
            End::Closed if watch.healthy() => return Ok(State::Opening(watch.version)),
            End::Closed => self.backoff.next_delay(),
            End::Failed(text, server_delay) => {
                let left = self.outage.left();
                if left.is_zero() {
                    return Err(Failure::Unreachable(Unreachable::WatchKeptFailing {
                        seconds: self.outage.limit.as_secs_f64(),
                        text,
                    }));
                }
                let delay = server_delay
                    .unwrap_or_else(|| self.backoff.next_delay())
                    .min(left);
                log!("{text}; resuming in {:.1}s", delay.as_secs_f64());
                delay
            }
        };
        Ok(State::Pausing {
            version: watch.version,
            pause,
        })
    }

    /// A stream that delivered or lasted resets the back-off.
    fn stream_ended(&mut self, watch: &Watch<K>) {
        if watch.healthy() {
            self.backoff.reset();
        }
    }

    /// Lists the one object again after its watch history expired; watches on from the
    /// list's resourceVersion, unless the object shows the resource is done.
    async fn relist(&mut self) -> Result<State<K>, Failure> {
        let Target { api, name, .. } = self.target;
        let params = ListParams::default().fields(&format!("metadata.name={name}"));
        let list = match api::call("list the resource", self.outage.left(), || {
            api.list(&params)
        })
        .await
        {
            Ok(list) => list,
            Err(CallError::Api(status)) => {
                return Err(Failure::Unreachable(Unreachable::Answer {
                    what: "list",
                    message: status.message,
                }));
            }
            Err(CallError::Failed(failure)) => return Err(explain(api, name, failure).await),
        };
        self.outage.recovered();
        let Some(resource) = list.items.into_iter().next() else {
            return Err(Failure::JobFailed(JobFailure::Deleted));
        };
        self.check_uid(&resource)?;
        if self.see(resource)? {
            return Ok(State::Done);
        }
        Ok(State::Opening(
            list.metadata.resource_version.unwrap_or_default(),
        ))
    }

    /// A resource of the name with another uid is not this step's.
    fn check_uid(&self, resource: &K) -> Result<(), Failure> {
        if self.target.uid.is_some() && resource.meta().uid != self.target.uid {
            return Err(Failure::JobFailed(JobFailure::Replaced(
                self.target.name.to_owned(),
            )));
        }
        Ok(())
    }

    /// Records and judges one state of the resource: `Ok(true)` when it is done.
    fn see(&mut self, resource: K) -> Result<bool, Failure> {
        let done = self.tracker.observe(&resource, self.target.job_name);
        self.progress.saw(&resource);
        done
    }
}

/// Logs what changes and decides when the resource is done, and when a limit passed.
struct Tracker {
    limits: Limits,
    goal: Goal,
    started: Instant,
    has_status: bool,
    /// Since when, and with which message, an `ACK.Recoverable` error lasts.
    recoverable: Option<(Instant, String)>,
    facts: BTreeMap<String, String>,
    arn_logged: bool,
}

impl Tracker {
    fn new(limits: Limits, goal: Goal) -> Tracker {
        Tracker {
            limits,
            goal,
            started: Instant::now(),
            has_status: false,
            recoverable: None,
            facts: BTreeMap::new(),
            arn_logged: false,
        }
    }

    fn observe<K: Kind>(&mut self, resource: &K, job_name: &str) -> Result<bool, Failure> {
        self.has_status |= resource.status().is_some();
        let elapsed = self.started.elapsed().as_secs_f64();
        let facts: BTreeMap<String, String> = kinds::progress(resource).into_iter().collect();
        for (key, value) in &facts {
            if self.facts.get(key) != Some(value) {
                log!("{key}: {value} (after {elapsed:.1}s)");
            }
        }
        self.facts = facts;
        if !self.arn_logged
            && let Some(arn) = kinds::arn(resource)
        {
            self.arn_logged = true;
            log!("SageMaker {} {arn}", K::NOUN);
            for (label, link) in K::links(arn, job_name) {
                log!("{label}: {link}");
            }
        }
        let verdict = match &mut self.goal {
            Goal::Done => kinds::verdict(resource),
            Goal::Update(update) => update.verdict(resource),
        };
        match verdict {
            Verdict::Succeeded { warnings } => {
                for warning in warnings {
                    log!("warning: {warning}");
                }
                Ok(true)
            }
            Verdict::Failed(message) => Err(Failure::JobFailed(JobFailure::Failed(message))),
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
            return Failure::TimedOut(Timeout::TimeLimit {
                noun: K::NOUN,
                goal: match self.goal {
                    Goal::Update(_) => "updated",
                    Goal::Done => "done",
                },
                seconds: limit.as_secs(),
            });
        }
        Failure::TimedOut(match &self.recoverable {
            Some((_, message)) if self.has_status => Timeout::Recoverable {
                seconds: self.limits.recoverable_timeout.as_secs(),
                message: message.clone(),
            },
            _ => Timeout::NoStatus {
                seconds: self.limits.status_timeout.as_secs(),
            },
        })
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

fn status_delay(status: &kube::core::Status) -> Option<Duration> {
    status
        .details
        .as_ref()
        .map(|d| Duration::from_secs(u64::from(d.retry_after_seconds)))
        .filter(|d| !d.is_zero())
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
