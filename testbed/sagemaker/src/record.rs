//! A resource SageMaker holds: the Create request it echoes, its ARN and times, and where
//! it is on its script's timeline.

use std::collections::VecDeque;
use std::time::{Instant, SystemTime};

use serde_json::{Map, Value};

use crate::kind::{Class, Kind};
use crate::script::{Effect, Lasts, Phase, Script, Stage, UpdateOutcome};

/// Seconds since the epoch, to the millisecond: SageMaker's timestamps are JSON numbers
/// of epoch seconds with a fraction.
pub(crate) fn now_epoch() -> f64 {
    let millis = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    millis as f64 / 1000.0
}

/// A resource and its progress.
#[derive(Debug)]
pub(crate) struct Record {
    pub kind: Kind,
    pub name: String,
    pub arn: String,
    /// The Create request without `Tags` (Describe does not return them).
    pub request: Map<String, Value>,
    pub created: f64,
    pub modified: f64,
    /// When the current status began (a job's end time once it has ended).
    pub entered: f64,
    /// The script it was created with (stop, delete and update behaviour).
    pub script: Script,
    /// An `Update<Kind>` request not yet taken.
    pub pending: Option<Map<String, Value>>,
    pub pending_since: f64,
    timeline: VecDeque<Phase>,
    shown: u32,
    since: Instant,
    advanced: bool,
}

/// What a Describe shows of the current phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shown {
    pub status: Option<String>,
    pub failure_reason: Option<String>,
    pub secondary_status: Option<String>,
}

impl Record {
    pub fn new(
        kind: Kind,
        name: &str,
        arn: String,
        request: Map<String, Value>,
        script: Script,
    ) -> Record {
        let now = now_epoch();
        let mut record = Record {
            kind,
            name: name.into(),
            arn,
            request,
            created: now,
            modified: now,
            entered: now,
            timeline: script.timeline.iter().cloned().collect(),
            script,
            pending: None,
            pending_since: now,
            shown: 0,
            since: Instant::now(),
            advanced: false,
        };
        if record.timeline.is_empty() {
            record
                .timeline
                .push_back(Phase::new(Stage::Done, Lasts::Forever));
        }
        record
    }

    /// Moves past every phase that has ended, applying the effects of the phases entered.
    /// Returns false when the resource is gone (a delete finished).
    pub fn advance_timeline(&mut self) -> bool {
        while self.timeline.len() > 1 {
            let over = match self.timeline[0].lasts {
                Lasts::Describes(n) => self.shown >= n,
                Lasts::For(d) => self.since.elapsed() >= d,
                Lasts::UntilAdvanced => self.advanced,
                Lasts::Forever => false,
            };
            if !over {
                break;
            }
            // A timed phase ends when its time is up, whenever SageMaker is next asked:
            // the next phase began then.
            let began = match self.timeline[0].lasts {
                Lasts::For(d) => self.since + d,
                _ => Instant::now(),
            };
            self.timeline.pop_front();
            if !self.enter_phase(began) {
                return false;
            }
        }
        true
    }

    /// Counts a Describe answer of the current phase.
    pub fn count_describe(&mut self) {
        self.shown += 1;
    }

    /// A test's command: the current phase ends now.
    pub fn advance(&mut self) {
        self.advanced = true;
    }

    fn enter_phase(&mut self, began: Instant) -> bool {
        self.shown = 0;
        self.since = began;
        self.advanced = false;
        let at = now_epoch() - began.elapsed().as_secs_f64();
        self.modified = at;
        self.entered = at;
        match self.timeline[0].effect.clone() {
            Effect::None => {}
            Effect::ApplyUpdate => {
                if let Some(update) = self.pending.take() {
                    for (key, value) in update {
                        self.request.insert(key, value);
                    }
                }
            }
            Effect::RollBack(_) => self.pending = None,
            Effect::Remove => return false,
        }
        true
    }

    /// Replaces what is left of the timeline (stop, delete, update).
    fn replace_timeline(&mut self, phases: Vec<Phase>) {
        self.timeline = phases.into();
        // The first new phase is entered now; a phase that lasts no time is skipped at
        // the next Describe.
        let _ = self.enter_phase(Instant::now());
    }

    /// The status values of the current phase, as this kind shows them.
    pub fn shown(&self) -> Shown {
        let phase = &self.timeline[0];
        let (status, failure_reason) = match &phase.stage {
            Stage::Working => (self.kind.working_status(), None),
            Stage::Done => (self.kind.done_status(), None),
            Stage::Failed(reason) => (Some("Failed"), Some(reason.clone())),
            Stage::Status {
                status,
                failure_reason,
            } => (Some(status.as_str()), failure_reason.clone()),
        };
        let status = status.filter(|_| self.kind.status_member().is_some());
        let secondary_status = phase.secondary_status.clone().or_else(|| {
            status.map(|s| match s {
                "InProgress" => "Training".to_string(),
                other => other.to_string(),
            })
        });
        Shown {
            status: status.map(str::to_string),
            failure_reason,
            secondary_status,
        }
    }

    /// `Stop<Kind>` of a running job: Stopping, then Stopped.
    pub fn stop(&mut self) {
        let stopping = Phase::new(status("Stopping"), self.script.stopping);
        let stopped = Phase::new(status("Stopped"), Lasts::Forever);
        self.replace_timeline(vec![stopping, stopped]);
    }

    /// `Delete<Kind>`: gone at once, or after a Deleting phase. Returns false when the
    /// resource is gone now.
    pub fn delete(&mut self) -> bool {
        let lasts = self.script.deleting;
        if self.kind.class() == Class::Definition || lasts == Lasts::Describes(0) {
            return false;
        }
        let deleting = match self.kind.class() {
            // No Deleting status: the schedule shows what it showed until it is gone.
            Class::Schedule => Phase::new(self.timeline[0].stage.clone(), lasts),
            _ => Phase::new(status("Deleting"), lasts),
        };
        let gone = Phase::new(Stage::Done, Lasts::Forever).effect(Effect::Remove);
        self.replace_timeline(vec![deleting, gone]);
        true
    }

    /// `UpdateEndpoint` or `UpdateMonitoringSchedule`: the request waits in `pending`
    /// while the resource is Updating (Pending), then is taken or rolled back.
    pub fn update(&mut self, request: Map<String, Value>) {
        self.pending = Some(request);
        self.pending_since = now_epoch();
        let working = match self.kind.class() {
            Class::Endpoint => status("Updating"),
            _ => Stage::Working,
        };
        let outcome = match &self.script.update {
            UpdateOutcome::RolledBack(reason) if self.kind == Kind::Endpoint => Phase::new(
                Stage::Status {
                    status: "InService".into(),
                    failure_reason: Some(reason.clone()),
                },
                Lasts::Forever,
            )
            .effect(Effect::RollBack(reason.clone())),
            UpdateOutcome::Fails(reason) if self.kind.class() == Class::Schedule => {
                Phase::new(Stage::Failed(reason.clone()), Lasts::Forever)
                    .effect(Effect::ApplyUpdate)
            }
            _ => Phase::new(Stage::Done, Lasts::Forever).effect(Effect::ApplyUpdate),
        };
        self.replace_timeline(vec![Phase::new(working, self.script.updating), outcome]);
    }
}

fn status(value: &str) -> Stage {
    Stage::Status {
        status: value.into(),
        failure_reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(script: Script) -> Record {
        Record::new(Kind::ProcessingJob, "p", "arn".into(), Map::new(), script)
    }

    /// What successive Describes show.
    fn describe(record: &mut Record) -> Option<String> {
        assert!(record.advance_timeline());
        record.count_describe();
        record.shown().status
    }

    #[test]
    fn phases_last_their_number_of_describes_and_the_last_lasts_forever() {
        let mut r = job(Script::works(Lasts::Describes(2)));
        let seen: Vec<_> = (0..4).map(|_| describe(&mut r)).collect();
        assert_eq!(
            seen,
            ["InProgress", "InProgress", "Completed", "Completed"].map(|s| Some(s.to_string()))
        );
    }

    #[test]
    fn timed_phases_follow_each_other_however_rarely_sagemaker_is_asked() {
        let ms = |n| Lasts::For(std::time::Duration::from_millis(n));
        let mut r = job(Script::timeline(vec![
            Phase::new(Stage::Working, ms(30)).secondary_status("Starting"),
            Phase::new(Stage::Working, ms(30)).secondary_status("Training"),
            Phase::new(Stage::Done, Lasts::Forever),
        ]));
        assert_eq!(describe(&mut r).as_deref(), Some("InProgress"));
        // Asked only after both timed phases are over: done, not in the second phase.
        std::thread::sleep(std::time::Duration::from_millis(80));
        assert_eq!(describe(&mut r).as_deref(), Some("Completed"));
    }

    #[test]
    fn a_phase_until_advanced_waits_for_the_test() {
        let mut r = job(Script::works_until_advanced());
        assert_eq!(describe(&mut r).as_deref(), Some("InProgress"));
        assert_eq!(describe(&mut r).as_deref(), Some("InProgress"));
        r.advance();
        assert_eq!(describe(&mut r).as_deref(), Some("Completed"));
    }

    #[test]
    fn a_stopped_job_is_stopping_for_one_describe_then_stopped() {
        let mut r = job(Script::works_until_advanced());
        describe(&mut r);
        r.stop();
        assert_eq!(describe(&mut r).as_deref(), Some("Stopping"));
        assert_eq!(describe(&mut r).as_deref(), Some("Stopped"));
        assert_eq!(r.shown().secondary_status.as_deref(), Some("Stopped"));
    }

    #[test]
    fn a_delete_with_a_deleting_phase_removes_the_record_after_it() {
        let mut r = Record::new(
            Kind::Endpoint,
            "e",
            "arn".into(),
            Map::new(),
            Script::completes().deleting_for(Lasts::Describes(1)),
        );
        assert!(r.delete());
        assert_eq!(describe(&mut r).as_deref(), Some("Deleting"));
        assert!(!r.advance_timeline());
    }

    #[test]
    fn a_rolled_back_update_keeps_the_old_request_and_sets_the_reason() {
        let request: Map<String, Value> =
            serde_json::from_str(r#"{"EndpointConfigName": "old"}"#).unwrap();
        let mut r = Record::new(
            Kind::Endpoint,
            "e",
            "arn".into(),
            request,
            Script::completes().update_rolls_back("bad image"),
        );
        let update: Map<String, Value> =
            serde_json::from_str(r#"{"EndpointConfigName": "new"}"#).unwrap();
        r.update(update.clone());
        assert_eq!(describe(&mut r).as_deref(), Some("InService"));
        assert_eq!(r.shown().failure_reason.as_deref(), Some("bad image"));
        assert_eq!(r.request["EndpointConfigName"], "old");
        assert!(r.pending.is_none());

        let mut taken = Record::new(
            Kind::Endpoint,
            "e",
            "arn".into(),
            Map::new(),
            Script::completes(),
        );
        taken.update(update);
        assert_eq!(describe(&mut taken).as_deref(), Some("InService"));
        assert_eq!(taken.request["EndpointConfigName"], "new");
        assert_eq!(taken.shown().failure_reason, None);
    }

    #[test]
    fn a_failed_schedule_update_keeps_the_new_config_and_fails() {
        let config = |expression: &str| -> Map<String, Value> {
            serde_json::from_value(serde_json::json!({"MonitoringScheduleConfig":
                {"ScheduleConfig": {"ScheduleExpression": expression}}}))
            .unwrap()
        };
        let mut r = Record::new(
            Kind::MonitoringSchedule,
            "s",
            "arn".into(),
            config("hourly"),
            Script::completes()
                .update_fails("the job definition has no baseline")
                .updating_for(Lasts::Describes(1)),
        );
        assert_eq!(describe(&mut r).as_deref(), Some("Scheduled"));
        r.update(config("daily"));
        assert_eq!(describe(&mut r).as_deref(), Some("Pending"));
        assert_eq!(describe(&mut r).as_deref(), Some("Failed"));
        assert_eq!(
            r.shown().failure_reason.as_deref(),
            Some("the job definition has no baseline")
        );
        assert_eq!(r.request, config("daily"));
    }
}
