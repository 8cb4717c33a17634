//! What a TrainingJob's status means: when it is done, whether it succeeded, and what to
//! tell the user on the way. Follows the ACK SageMaker controller's semantics (v1.9.1).
//!
//! - First what the ACK conditions say, as for every kind ([`crate::ack`]): `ACK.Terminal`
//!   fails (a "Resource already exists" terminal carries the status of the *other*, older
//!   job of that name); a Recoverable validation error fails; other Recoverable errors are
//!   waited out (the caller bounds how long).
//! - `trainingJobStatus` Completed with `ACK.ResourceSynced` True: succeeded, unless a
//!   debug rule ended `Error` or `IssuesFound`. Synced stays False while rules still run.
//!   Profiler rules only report on resource use (e.g. ProfilerReport's low GPU
//!   utilisation); their `IssuesFound` or `Error` is logged as a warning, not a failure.
//! - `Failed`: failed with `failureReason` (the controller sets no Terminal for it).
//!   `Stopped`: failed.
//! - Anything else (no status yet, InProgress, Stopping): waiting.

use component_runtime::Component;
use generated::training_job::{TrainingJob, TrainingJobStatus};

use super::{Class, Fact, Kind, Link, reason};
use crate::ack::{self, Verdict};

impl Kind for TrainingJob {
    const NOUN: &'static str = "training job";
    const NAME_MAX: usize = 63;
    const NAME_PREFIX: &'static str = "training-job";
    const CLASS: Class = Class::Job;
    const TIME_LIMIT: Option<std::time::Duration> = None;

    fn state_verdict(status: &TrainingJobStatus) -> Verdict {
        let synced = ack::synced(Self::conditions(status));
        match status.training_job_status.as_deref() {
            Some("Completed") if synced => rule_verdict(status),
            Some("Failed") => Verdict::Failed(format!(
                "the training job failed: {}",
                reason(status.failure_reason.as_deref())
            )),
            Some("Stopped") => Verdict::Failed("the training job was stopped".to_owned()),
            _ => Verdict::Waiting { recoverable: None },
        }
    }

    fn facts(status: &TrainingJobStatus) -> Vec<Fact> {
        facts(status)
    }

    fn links(arn: &str, job_name: &str) -> Vec<Link> {
        console_links(arn, job_name)
            .map(|[console, logs]| vec![("console", console), ("logs", logs)])
            .unwrap_or_default()
    }
}

fn rule_verdict(status: &TrainingJobStatus) -> Verdict {
    let bad = |s: Option<&str>| matches!(s, Some("Error" | "IssuesFound"));
    let failed_debug: Vec<String> = status
        .debug_rule_evaluation_statuses
        .iter()
        .flatten()
        .filter(|r| bad(r.rule_evaluation_status.as_deref()))
        .map(|r| {
            rule_text(
                r.rule_configuration_name.as_deref(),
                r.rule_evaluation_status.as_deref(),
                r.status_details.as_deref(),
            )
        })
        .collect();
    if !failed_debug.is_empty() {
        return Verdict::Failed(format!(
            "the model trained, but debug rules found problems: {}",
            failed_debug.join("; ")
        ));
    }
    let warnings = status
        .profiler_rule_evaluation_statuses
        .iter()
        .flatten()
        .filter(|r| bad(r.rule_evaluation_status.as_deref()))
        .map(|r| {
            format!(
                "profiler rule {}",
                rule_text(
                    r.rule_configuration_name.as_deref(),
                    r.rule_evaluation_status.as_deref(),
                    r.status_details.as_deref()
                )
            )
        })
        .collect();
    Verdict::Succeeded { warnings }
}

fn rule_text(name: Option<&str>, status: Option<&str>, details: Option<&str>) -> String {
    let mut text = format!(
        "{} {}",
        name.unwrap_or("(unnamed rule)"),
        status.unwrap_or("?")
    );
    if let Some(details) = details.filter(|d| !d.is_empty()) {
        text.push_str(&format!(" ({details})"));
    }
    text
}

/// The facts worth a log line when they change, by name (the Recoverable error is
/// added for every kind by [`super::progress`]).
fn facts(status: &TrainingJobStatus) -> Vec<Fact> {
    let mut facts = Vec::new();
    let mut push = |key: String, value: Option<&str>| {
        if let Some(value) = value {
            facts.push((key, value.to_owned()));
        }
    };
    push(
        "training job status".into(),
        status.training_job_status.as_deref(),
    );
    push(
        "secondary status".into(),
        status.secondary_status.as_deref(),
    );
    for rule in status.debug_rule_evaluation_statuses.iter().flatten() {
        let name = rule.rule_configuration_name.as_deref().unwrap_or("?");
        push(
            format!("debug rule {name}"),
            rule.rule_evaluation_status.as_deref(),
        );
    }
    for rule in status.profiler_rule_evaluation_statuses.iter().flatten() {
        let name = rule.rule_configuration_name.as_deref().unwrap_or("?");
        push(
            format!("profiler rule {name}"),
            rule.rule_evaluation_status.as_deref(),
        );
    }
    facts
}

/// The SageMaker console page and the CloudWatch logs of the job with this ARN.
fn console_links(arn: &str, job_name: &str) -> Option<[String; 2]> {
    // arn:<partition>:sagemaker:<region>:<account>:training-job/<name>
    let (host, region) = ack::console_host(arn)?;
    Some([
        format!("https://{host}/sagemaker/home?region={region}#/jobs/{job_name}"),
        format!(
            "https://{host}/cloudwatch/home?region={region}#logStream:group=/aws/sagemaker/TrainingJobs;prefix={job_name};streamFilter=typeLogStreamPrefix"
        ),
    ])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::kinds::testing::resource;
    use crate::kinds::verdict;

    fn job(status: serde_json::Value) -> TrainingJob {
        let spec = json!({"trainingJobName": "j", "roleARN": "r", "algorithmSpecification": {},
            "outputDataConfig": {}, "resourceConfig": {}, "stoppingCondition": {}});
        resource(spec, status)
    }

    fn synced(status: &str) -> serde_json::Value {
        json!({"type": "ACK.ResourceSynced", "status": status})
    }

    #[test]
    fn completed_and_synced_succeeds() {
        let v = verdict(&job(
            json!({"trainingJobStatus": "Completed", "conditions": [synced("True")]}),
        ));
        assert_eq!(v, Verdict::Succeeded { warnings: vec![] });
    }

    #[test]
    fn completed_while_rules_run_waits() {
        let v = verdict(&job(
            json!({"trainingJobStatus": "Completed", "conditions": [synced("False")]}),
        ));
        assert_eq!(v, Verdict::Waiting { recoverable: None });
    }

    #[test]
    fn terminal_wins_over_a_completed_status() {
        let v = verdict(&job(
            json!({"trainingJobStatus": "Completed", "conditions": [
            synced("True"),
            {"type": "ACK.Terminal", "status": "True", "message": "Resource already exists",
             "reason": "This resource already exists but is not managed by ACK."}]}),
        ));
        let Verdict::Failed(message) = v else {
            panic!("{v:?}")
        };
        assert!(message.contains("Resource already exists"), "{message}");
    }

    #[test]
    fn validation_errors_fail_in_both_formats_and_others_wait() {
        for message in [
            "api error ValidationException: Invalid instance type",
            "ValidationException: Invalid instance type\n\tstatus code: 400, request id: abc",
            "InvalidParameterValue: bad",
        ] {
            let v = verdict(&job(json!({"conditions": [
                {"type": "ACK.Recoverable", "status": "True", "message": message}]})));
            assert!(matches!(v, Verdict::Failed(_)), "{message}: {v:?}");
        }
        let v = verdict(&job(json!({"conditions": [
            {"type": "ACK.Recoverable", "status": "True", "message": "api error ThrottlingException: slow down"}]})));
        assert_eq!(
            v,
            Verdict::Waiting {
                recoverable: Some("api error ThrottlingException: slow down".into())
            }
        );
        let v = verdict(&job(json!({"conditions": [
            {"type": "ACK.Recoverable", "status": "True", "message": "training job is updating"}]})));
        assert!(matches!(
            v,
            Verdict::Waiting {
                recoverable: Some(_)
            }
        ));
    }

    #[test]
    fn failed_and_stopped_fail() {
        let v = verdict(&job(
            json!({"trainingJobStatus": "Failed", "failureReason": "OOM", "conditions": [synced("True")]}),
        ));
        assert_eq!(v, Verdict::Failed("the training job failed: OOM".into()));
        let v = verdict(&job(json!({"trainingJobStatus": "Stopped"})));
        assert_eq!(v, Verdict::Failed("the training job was stopped".into()));
    }

    #[test]
    fn debug_rule_issues_fail_and_profiler_issues_warn() {
        let v = verdict(&job(
            json!({"trainingJobStatus": "Completed", "conditions": [synced("True")],
            "debugRuleEvaluationStatuses": [{"ruleConfigurationName": "VanishingGradient", "ruleEvaluationStatus": "IssuesFound"}]}),
        ));
        let Verdict::Failed(message) = v else {
            panic!("{v:?}")
        };
        assert!(
            message.contains("VanishingGradient IssuesFound"),
            "{message}"
        );
        let v = verdict(&job(
            json!({"trainingJobStatus": "Completed", "conditions": [synced("True")],
            "profilerRuleEvaluationStatuses": [{"ruleConfigurationName": "ProfilerReport", "ruleEvaluationStatus": "IssuesFound"}]}),
        ));
        assert_eq!(
            v,
            Verdict::Succeeded {
                warnings: vec!["profiler rule ProfilerReport IssuesFound".into()]
            }
        );
    }

    #[test]
    fn links_from_the_arn() {
        let [console, logs] = console_links(
            "arn:aws:sagemaker:us-west-2:123456789012:training-job/j",
            "j",
        )
        .expect("links");
        assert_eq!(
            console,
            "https://us-west-2.console.aws.amazon.com/sagemaker/home?region=us-west-2#/jobs/j"
        );
        assert!(
            logs.contains("group=/aws/sagemaker/TrainingJobs;prefix=j"),
            "{logs}"
        );
    }
}
