//! Scripts: what SageMaker does with one resource (by name). A script is a timeline of
//! phases that the resource's Describe answers show, one after the other, plus what
//! Create, Stop, Delete and Update do, and transient errors to answer with first.
//!
//! Phases advance when SageMaker is asked (per Describe), after wall time, or on a test's
//! command ([`crate::SageMaker::advance`]), never in the background: the ACK controller
//! only learns of a change at its next Describe anyway. Its requeue after a resource
//! that is not synced is a constant 30 s, so a script that shows the final state on the
//! first Describe after Create (as [`Script::completes`] does) never makes a test wait
//! for it.

use std::time::Duration;

use crate::error::AwsError;
use crate::kind::Verb;

/// What a phase shows, in terms every kind understands; [`Stage::Status`] for any literal
/// status value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// The kind's status while SageMaker works: `InProgress` (jobs, ModelPackageGroup),
    /// `Creating` (Endpoint), `Pending` (MonitoringSchedule).
    Working,
    /// The kind's success: `Completed` (jobs, ModelPackageGroup), `InService` (Endpoint),
    /// `Scheduled` (MonitoringSchedule). Definitions (no status) are done once created.
    Done,
    /// `Failed`, with SageMaker's `FailureReason`.
    Failed(String),
    /// Any status value (e.g. `OutOfService`, `Stopped`), with an optional reason.
    Status {
        /// The status member's value.
        status: String,
        /// `FailureReason`, if any.
        failure_reason: Option<String>,
    },
}

/// How long a phase lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lasts {
    /// Shown by this many Describe answers (0: skipped). The controller describes a kind
    /// with late-initialized fields twice per reconcile, others once.
    Describes(u32),
    /// Shown until this much time has passed since the phase began.
    For(Duration),
    /// Shown until the test calls [`crate::SageMaker::advance`].
    UntilAdvanced,
    /// The last phase: shown from then on.
    Forever,
}

/// What a phase does besides showing its stage (internal: stop, delete and update make
/// these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    None,
    /// The pending Endpoint or MonitoringSchedule update becomes the resource's.
    ApplyUpdate,
    /// The pending Endpoint update is dropped and the reason set (a rollback).
    RollBack(String),
    /// The resource is gone: Describe answers "not found" from now on.
    Remove,
}

/// One phase of a resource's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase {
    pub(crate) stage: Stage,
    pub(crate) lasts: Lasts,
    pub(crate) secondary_status: Option<String>,
    pub(crate) effect: Effect,
}

impl Phase {
    /// A phase showing `stage` for `lasts`.
    pub fn new(stage: Stage, lasts: Lasts) -> Phase {
        Phase {
            stage,
            lasts,
            secondary_status: None,
            effect: Effect::None,
        }
    }

    /// A TrainingJob's `SecondaryStatus` in this phase (default: derived from the status:
    /// `Training`, `Completed`, `Failed`, `Stopping`, `Stopped`).
    pub fn secondary_status(mut self, status: &str) -> Phase {
        self.secondary_status = Some(status.into());
        self
    }

    pub(crate) fn effect(mut self, effect: Effect) -> Phase {
        self.effect = effect;
        self
    }
}

/// What an `Update<Kind>` leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// The new configuration is taken (Endpoint: InService with it; MonitoringSchedule:
    /// Scheduled with it).
    Taken,
    /// Endpoint only: SageMaker rolls back to the configuration it had, InService, with
    /// this `FailureReason`.
    RolledBack(String),
    /// MonitoringSchedule only: the new configuration is kept and the schedule is
    /// `Failed` with this `FailureReason`.
    Fails(String),
}

/// A transient error answered to the next `times` requests of one verb (or of any verb)
/// about this name, before anything else is looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub(crate) verb: Option<Verb>,
    pub(crate) error: AwsError,
    pub(crate) times: u32,
}

/// What SageMaker does with one resource. Build one with a constructor and the `with`
/// methods; hand it to [`crate::SageMaker::script`] before the resource is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub(crate) timeline: Vec<Phase>,
    pub(crate) refuse_create: Option<AwsError>,
    pub(crate) stopping: Lasts,
    pub(crate) deleting: Lasts,
    pub(crate) updating: Lasts,
    pub(crate) update: UpdateOutcome,
    pub(crate) faults: Vec<Fault>,
    pub(crate) rules_end: String,
    pub(crate) slow: Vec<(Verb, Duration)>,
}

impl Default for Script {
    /// [`Script::completes`].
    fn default() -> Script {
        Script::completes()
    }
}

impl Script {
    /// Any timeline; the last phase lasts forever whatever it says.
    pub fn timeline(phases: Vec<Phase>) -> Script {
        Script {
            timeline: phases,
            refuse_create: None,
            stopping: Lasts::Describes(1),
            deleting: Lasts::Describes(0),
            updating: Lasts::Describes(0),
            update: UpdateOutcome::Taken,
            faults: Vec::new(),
            rules_end: "NoIssuesFound".into(),
            slow: Vec::new(),
        }
    }

    /// Done on the first Describe after Create: Completed, InService, Scheduled.
    pub fn completes() -> Script {
        Script::timeline(vec![Phase::new(Stage::Done, Lasts::Forever)])
    }

    /// Failed with `reason` on the first Describe after Create.
    pub fn fails(reason: &str) -> Script {
        Script::timeline(vec![Phase::new(
            Stage::Failed(reason.into()),
            Lasts::Forever,
        )])
    }

    /// Working (InProgress, Creating, Pending) for `lasts`, then done.
    pub fn works(lasts: Lasts) -> Script {
        Script::timeline(vec![
            Phase::new(Stage::Working, lasts),
            Phase::new(Stage::Done, Lasts::Forever),
        ])
    }

    /// Working for `lasts`, then failed with `reason`.
    pub fn works_then_fails(lasts: Lasts, reason: &str) -> Script {
        Script::timeline(vec![
            Phase::new(Stage::Working, lasts),
            Phase::new(Stage::Failed(reason.into()), Lasts::Forever),
        ])
    }

    /// Working until [`crate::SageMaker::advance`], then done: for a test that acts while
    /// the resource runs (cancel, restart the controller, re-attach).
    pub fn works_until_advanced() -> Script {
        Script::works(Lasts::UntilAdvanced)
    }

    /// For demos (`cargo xtask cluster up`, `cargo xtask demo`): working for 25 s (a job
    /// `Starting`, then `Training`), then done. The controller sees the first phase right
    /// after Create and the end at its requeue 30 s later.
    pub fn demo() -> Script {
        Script::timeline(vec![
            Phase::new(Stage::Working, Lasts::For(Duration::from_secs(10)))
                .secondary_status("Starting"),
            Phase::new(Stage::Working, Lasts::For(Duration::from_secs(15)))
                .secondary_status("Training"),
            Phase::new(Stage::Done, Lasts::Forever),
        ])
    }

    /// Every Create answers `error` (e.g. [`AwsError::validation`]); nothing is created.
    pub fn refuse_create(mut self, error: AwsError) -> Script {
        self.refuse_create = Some(error);
        self
    }

    /// After `Stop<Kind>` the job is `Stopping` for `lasts` (default: one Describe), then
    /// `Stopped`.
    pub fn stopping_for(mut self, lasts: Lasts) -> Script {
        self.stopping = lasts;
        self
    }

    /// After `Delete<Kind>` the resource shows `Deleting` for `lasts` before it is gone
    /// (default: gone at once; MonitoringSchedule has no Deleting status and stays as it
    /// was meanwhile).
    pub fn deleting_for(mut self, lasts: Lasts) -> Script {
        self.deleting = lasts;
        self
    }

    /// After `Update<Kind>` the resource is `Updating` (Endpoint) or `Pending`
    /// (MonitoringSchedule) for `lasts` (default: 0, the next Describe shows the outcome).
    pub fn updating_for(mut self, lasts: Lasts) -> Script {
        self.updating = lasts;
        self
    }

    /// An Endpoint update is rolled back: InService on the configuration it had, with
    /// `reason` as its `FailureReason`.
    pub fn update_rolls_back(mut self, reason: &str) -> Script {
        self.update = UpdateOutcome::RolledBack(reason.into());
        self
    }

    /// A MonitoringSchedule update fails: the schedule keeps the new configuration and
    /// shows `Failed` with `reason` as its `FailureReason`.
    pub fn update_fails(mut self, reason: &str) -> Script {
        self.update = UpdateOutcome::Fails(reason.into());
        self
    }

    /// Every request with `verb` about this name is answered only `after` it arrived
    /// (SageMaker taking its time, while the controller waits for the answer): a window in
    /// which a test acts while, say, a Create is under way. Keep it well under the
    /// controller's HTTP client timeout (60 s).
    pub fn slow(mut self, verb: Verb, after: Duration) -> Script {
        self.slow.push((verb, after));
        self
    }

    /// The next `times` requests with `verb` (`None`: any verb) about this name answer
    /// `error` ([`AwsError::throttling`], [`AwsError::internal`], ...). The controller's
    /// SDK makes 3 attempts per call, so 3 or more reach the controller as an error.
    pub fn fault(mut self, verb: Option<Verb>, error: AwsError, times: u32) -> Script {
        self.faults.push(Fault { verb, error, times });
        self
    }

    /// A TrainingJob's debug rules (`DebugRuleConfigurations`) end with this
    /// `RuleEvaluationStatus` once the job has ended (default `NoIssuesFound`; they are
    /// `InProgress` while it runs).
    pub fn debug_rules_end(mut self, status: &str) -> Script {
        self.rules_end = status.into();
        self
    }
}
