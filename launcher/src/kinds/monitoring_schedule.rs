//! A MonitoringSchedule: long-lived; done when `monitoringScheduleStatus` is `Scheduled`
//! with `ACK.ResourceSynced` True. `Failed` fails with `failureReason` (the controller
//! also sets Terminal); `Stopped` fails (Synced True, not Terminal: ACK cannot start a
//! stopped schedule). `Pending` or Synced False waits. The results of its monitoring
//! executions never decide the step; the last one is logged. Controller v1.9.1,
//! semantics notes 2.8.
//!
//! An update (the controller updates `monitoringScheduleConfig`) is taken when SageMaker
//! shows a `lastModifiedTime` other than the one before the patch, or when the
//! controller's own post-update write shows: right after UpdateMonitoringSchedule it
//! writes Synced False (`MonitoringSchedule is in Pending status.`) while the status
//! field still holds the old `Scheduled` (not trusted when the schedule was not settled
//! before the patch). A status that merely changed proves nothing: the conditions get new
//! timestamps every 30 s.

use std::time::Duration;

use component_runtime::Component;
use generated::monitoring_schedule::{MonitoringSchedule, MonitoringScheduleStatus};

use super::{Class, Fact, Kind, Marks, reason};
use crate::ack::{self, Verdict};

impl Kind for MonitoringSchedule {
    const NOUN: &'static str = "monitoring schedule";
    const NAME_MAX: usize = 63;
    const NAME_PREFIX: &'static str = "monitoring-schedule";
    const CLASS: Class = Class::Service;
    /// Scheduling takes seconds; a running monitoring execution delays an update.
    const TIME_LIMIT: Option<Duration> = Some(Duration::from_secs(30 * 60));

    fn state_verdict(status: &MonitoringScheduleStatus) -> Verdict {
        let synced = ack::synced(Self::conditions(status));
        match status.monitoring_schedule_status.as_deref() {
            Some("Scheduled") if synced => Verdict::Succeeded {
                warnings: Vec::new(),
            },
            Some("Failed") => Verdict::Failed(format!(
                "the monitoring schedule failed: {}",
                reason(status.failure_reason.as_deref())
            )),
            Some("Stopped") => Verdict::Failed(
                "the monitoring schedule was stopped (the ACK controller cannot start it again)"
                    .to_owned(),
            ),
            _ => Verdict::Waiting { recoverable: None },
        }
    }

    fn facts(status: &MonitoringScheduleStatus) -> Vec<Fact> {
        let mut facts = Vec::new();
        if let Some(state) = &status.monitoring_schedule_status {
            facts.push(("monitoring schedule status".to_owned(), state.clone()));
        }
        if let Some(last) = &status.last_monitoring_execution_summary
            && let Some(state) = &last.monitoring_execution_status
        {
            facts.push(("last monitoring execution".to_owned(), state.clone()));
        }
        facts
    }

    fn update_marks(&self) -> Marks {
        let status = self.status.as_ref();
        Marks {
            last_modified_time: status.and_then(|s| s.last_modified_time.clone()),
            settled: status.is_some_and(|s| {
                s.monitoring_schedule_status.as_deref() == Some("Scheduled")
                    && ack::synced(Self::conditions(s))
            }),
        }
    }

    fn update_taken(before: &Marks, now: &Self) -> bool {
        let status = now.status.as_ref();
        if before.last_modified_time.as_ref() != status.and_then(|s| s.last_modified_time.as_ref())
        {
            return true;
        }
        let pending_after_update = status.is_some_and(|s| {
            s.monitoring_schedule_status.as_deref() == Some("Scheduled")
                && ack::condition(Self::conditions(s), "ACK.ResourceSynced").is_none()
                && Self::conditions(s).iter().any(|c| {
                    c.r#type == "ACK.ResourceSynced"
                        && c.message.as_deref() == Some("MonitoringSchedule is in Pending status.")
                })
        });
        before.settled && pending_after_update
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::kinds::testing::resource;
    use crate::kinds::{progress, verdict};

    fn schedule(state: &str, synced: &str, message: &str, modified: &str) -> MonitoringSchedule {
        let status: Value = json!({"monitoringScheduleStatus": state, "lastModifiedTime": modified,
            "failureReason": "no baseline",
            "lastMonitoringExecutionSummary": {"monitoringExecutionStatus": "CompletedWithViolations"},
            "conditions": [{"type": "ACK.ResourceSynced", "status": synced, "message": message}]});
        let spec = json!({"monitoringScheduleName": "s", "monitoringScheduleConfig": {}});
        resource(spec, status)
    }

    #[test]
    fn scheduled_and_synced_is_done() {
        let done = schedule(
            "Scheduled",
            "True",
            "MonitoringSchedule is in Scheduled status.",
            "2026-12-01T09:00:00Z",
        );
        assert_eq!(verdict(&done), Verdict::Succeeded { warnings: vec![] });
        // Violations found by an execution are the monitoring's result, not the step's.
        assert!(progress(&done).contains(&(
            "last monitoring execution".to_owned(),
            "CompletedWithViolations".to_owned()
        )));
        let waiting = Verdict::Waiting { recoverable: None };
        assert_eq!(
            verdict(&schedule(
                "Pending",
                "False",
                "MonitoringSchedule is in Pending status.",
                "2026-12-01T09:00:00Z"
            )),
            waiting
        );
        assert_eq!(
            verdict(&schedule(
                "Scheduled",
                "False",
                "MonitoringSchedule is in Pending status.",
                "2026-12-01T09:00:00Z"
            )),
            waiting
        );
        assert!(
            matches!(verdict(&schedule("Failed", "True", "", "2026-12-01T09:00:00Z")), Verdict::Failed(m) if m.contains("no baseline"))
        );
        assert!(
            matches!(verdict(&schedule("Stopped", "True", "", "2026-12-01T09:00:00Z")), Verdict::Failed(m) if m.contains("stopped"))
        );
    }

    #[test]
    fn an_update_is_taken_on_the_controllers_markers_only() {
        let settled = schedule(
            "Scheduled",
            "True",
            "MonitoringSchedule is in Scheduled status.",
            "2026-12-01T10:00:00Z",
        );
        let before = MonitoringSchedule::update_marks(&settled);
        // Resyncs that only renew the conditions: the old Scheduled, Synced True.
        let mut resynced = settled.clone();
        if let Some(condition) = resynced
            .status
            .as_mut()
            .and_then(|s| s.conditions.as_mut())
            .and_then(|c| c.first_mut())
        {
            condition.last_transition_time =
                serde_json::from_value(json!("2026-12-01T10:30:00Z")).ok();
        }
        assert_ne!(resynced, settled);
        assert!(!MonitoringSchedule::update_taken(&before, &resynced));
        // The controller's write after UpdateMonitoringSchedule: Synced False with the old state.
        let updated = schedule(
            "Scheduled",
            "False",
            "MonitoringSchedule is in Pending status.",
            "2026-12-01T10:00:00Z",
        );
        assert!(MonitoringSchedule::update_taken(&before, &updated));
        // SageMaker's next Describe: a new lastModifiedTime.
        assert!(MonitoringSchedule::update_taken(
            &before,
            &schedule(
                "Pending",
                "False",
                "MonitoringSchedule is in Pending status.",
                "2026-12-01T10:05:00Z"
            )
        ));
        // Patched while still pending: only a new lastModifiedTime counts.
        let pending = MonitoringSchedule::update_marks(&schedule(
            "Pending",
            "False",
            "MonitoringSchedule is in Pending status.",
            "2026-12-01T10:00:00Z",
        ));
        assert!(!MonitoringSchedule::update_taken(&pending, &updated));
        assert!(MonitoringSchedule::update_taken(
            &pending,
            &schedule("Scheduled", "True", "", "2026-12-01T10:05:00Z")
        ));
    }

    #[test]
    fn updatable_fields() {
        assert_eq!(
            MonitoringSchedule::UPDATABLE_FIELDS,
            ["monitoringScheduleConfig"]
        );
    }
}
