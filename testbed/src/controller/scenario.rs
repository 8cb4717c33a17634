//! Scenarios: scripts of what SageMaker does with one training job. Time in SageMaker is
//! counted in reconciles: every reconcile of the custom resource first advances its job by
//! one step of the timeline, then describes it, so each step is observed exactly once and in
//! order, whatever the machine's speed.

/// `TrainingJobStatus` of SageMaker's `DescribeTrainingJob`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Running.
    InProgress,
    /// Finished successfully.
    Completed,
    /// Finished with an error (`failureReason` set).
    Failed,
    /// `StopTrainingJob` was called and the job is shutting down.
    Stopping,
    /// Stopped (by a user or a limit).
    Stopped,
}

impl JobStatus {
    /// The API string.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::InProgress => "InProgress",
            JobStatus::Completed => "Completed",
            JobStatus::Failed => "Failed",
            JobStatus::Stopping => "Stopping",
            JobStatus::Stopped => "Stopped",
        }
    }
}

/// A debugger or profiler rule evaluation as `DescribeTrainingJob` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleState {
    /// `ruleConfigurationName`.
    pub name: String,
    /// `ruleEvaluationStatus`: InProgress, NoIssuesFound, IssuesFound, Error, Stopping, Stopped.
    pub status: String,
    /// `statusDetails`.
    pub details: Option<String>,
}

/// What `DescribeTrainingJob` returns at one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    /// `TrainingJobStatus`.
    pub status: JobStatus,
    /// `SecondaryStatus` (Starting, Downloading, Training, Uploading, Completed, Failed, ...).
    pub secondary: String,
    /// `FailureReason`.
    pub failure_reason: Option<String>,
    /// `DebugRuleEvaluationStatuses`.
    pub debug_rules: Vec<RuleState>,
    /// `ProfilerRuleEvaluationStatuses`.
    pub profiler_rules: Vec<RuleState>,
}

impl JobState {
    /// A state without failure reason or rules.
    pub fn new(status: JobStatus, secondary: &str) -> JobState {
        JobState {
            status,
            secondary: secondary.into(),
            failure_reason: None,
            debug_rules: vec![],
            profiler_rules: vec![],
        }
    }

    /// A Failed/Failed state with this `failureReason`.
    pub fn failed(reason: &str) -> JobState {
        JobState {
            failure_reason: Some(reason.into()),
            ..JobState::new(JobStatus::Failed, "Failed")
        }
    }
}

/// Which AWS SDK formatted an error message (the controller switched at v1.2.15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdkVersion {
    /// aws-sdk-go v1 (controller <= v1.2.14): `Code: msg\n\tstatus code: 400, request id: ...`.
    V1,
    /// aws-sdk-go-v2 (controller >= v1.2.15): `api error Code: msg` (modelled codes: `Code: msg`).
    V2,
}

/// Error codes the TrainingJob controller treats as terminal (`terminal_codes` in generator.yaml).
pub const TERMINAL_CODES: [&str; 5] = [
    "ResourceNotFound",
    "ResourceInUse",
    "InvalidParameterCombination",
    "InvalidParameterValue",
    "MissingParameter",
];

/// Error codes SageMaker models, which aws-sdk-go-v2 prints without the `api error` prefix.
const MODELLED_CODES: [&str; 4] = [
    "ResourceInUse",
    "ResourceLimitExceeded",
    "ResourceNotFound",
    "ConflictException",
];

/// An error answer of the SageMaker API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// e.g. `ValidationException`.
    pub code: String,
    /// The service's message.
    pub message: String,
    /// HTTP status of the AWS answer (shown by the v1 format).
    pub http_status: u16,
    /// The message format.
    pub sdk: SdkVersion,
}

impl AwsError {
    /// An error in the aws-sdk-go-v2 format with HTTP status 400.
    pub fn new(code: &str, message: &str) -> AwsError {
        AwsError {
            code: code.into(),
            message: message.into(),
            http_status: 400,
            sdk: SdkVersion::V2,
        }
    }

    /// SageMaker's usual input error (Recoverable for ACK).
    pub fn validation(message: &str) -> AwsError {
        AwsError::new("ValidationException", message)
    }

    /// The same error in another SDK's format.
    pub fn with_sdk(mut self, sdk: SdkVersion) -> AwsError {
        self.sdk = sdk;
        self
    }

    /// Whether ACK sets `ACK.Terminal` for it (otherwise `ACK.Recoverable`).
    pub fn is_terminal(&self) -> bool {
        TERMINAL_CODES.contains(&self.code.as_str())
    }

    /// The error string the controller writes into the condition message.
    pub fn text(&self) -> String {
        match self.sdk {
            SdkVersion::V1 => format!(
                "{}: {}\n\tstatus code: {}, request id: {}",
                self.code,
                self.message,
                self.http_status,
                request_id(&self.code, &self.message)
            ),
            SdkVersion::V2 if MODELLED_CODES.contains(&self.code.as_str()) => {
                format!("{}: {}", self.code, self.message)
            }
            SdkVersion::V2 => format!("api error {}: {}", self.code, self.message),
        }
    }
}

/// A deterministic request id (UUID-shaped) so expected messages can be written in tests.
pub fn request_id(code: &str, message: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in code.bytes().chain(message.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let x = format!("{h:016x}{:016x}", h.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15);
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// The script for one training job (see the module docs for the time model).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// `CreateTrainingJob` answers these errors, one per attempt, before it succeeds.
    pub create_errors: Vec<AwsError>,
    /// Keep answering the last of `create_errors` forever (the job is never created).
    pub repeat_last_error: bool,
    /// `DescribeTrainingJob` answers, one step per reconcile; the last one repeats.
    pub timeline: Vec<JobState>,
    /// Reconciles a job stays `Stopping` after `StopTrainingJob` before it is `Stopped`.
    pub stopping_reconciles: usize,
    /// `ProfilingStatus` (`Enabled` or `Disabled`).
    pub profiling_status: String,
}

fn steps(list: &[(JobStatus, &str)]) -> Vec<JobState> {
    list.iter().map(|(s, sec)| JobState::new(*s, sec)).collect()
}

impl Scenario {
    fn with_timeline(timeline: Vec<JobState>) -> Scenario {
        Scenario {
            create_errors: vec![],
            repeat_last_error: false,
            timeline,
            stopping_reconciles: 1,
            profiling_status: "Disabled".into(),
        }
    }

    /// Starting, Downloading, Training, Uploading, then Completed with model artifacts.
    pub fn completes() -> Scenario {
        use JobStatus::*;
        Self::with_timeline(steps(&[
            (InProgress, "Starting"),
            (InProgress, "Downloading"),
            (InProgress, "Training"),
            (InProgress, "Uploading"),
            (Completed, "Completed"),
        ]))
    }

    /// Starting, then `training_steps` reconciles of Training, then Uploading and Completed.
    pub fn completes_after(training_steps: usize) -> Scenario {
        let mut t = vec![JobState::new(JobStatus::InProgress, "Starting")];
        t.extend((0..training_steps).map(|_| JobState::new(JobStatus::InProgress, "Training")));
        t.push(JobState::new(JobStatus::InProgress, "Uploading"));
        t.push(JobState::new(JobStatus::Completed, "Completed"));
        Self::with_timeline(t)
    }

    /// Starting, Downloading, Training, then Failed with this `failureReason`.
    pub fn fails(reason: &str) -> Scenario {
        use JobStatus::*;
        let mut t = steps(&[
            (InProgress, "Starting"),
            (InProgress, "Downloading"),
            (InProgress, "Training"),
        ]);
        t.push(JobState::failed(reason));
        Self::with_timeline(t)
    }

    /// Starting, Training, then stopped from outside Kubernetes (Stopping, Stopped).
    pub fn stopped() -> Scenario {
        use JobStatus::*;
        Self::with_timeline(steps(&[
            (InProgress, "Starting"),
            (InProgress, "Training"),
            (Stopping, "Stopping"),
            (Stopped, "Stopped"),
        ]))
    }

    /// Stops for exceeding `maxRuntimeInSeconds` (Stopped / MaxRuntimeExceeded).
    pub fn max_runtime_exceeded() -> Scenario {
        use JobStatus::*;
        Self::with_timeline(steps(&[
            (InProgress, "Starting"),
            (InProgress, "Training"),
            (Stopped, "MaxRuntimeExceeded"),
        ]))
    }

    /// Starting, Downloading, then Training forever (for delete and controller-stop tests).
    pub fn runs_forever() -> Scenario {
        use JobStatus::*;
        Self::with_timeline(steps(&[
            (InProgress, "Starting"),
            (InProgress, "Downloading"),
            (InProgress, "Training"),
        ]))
    }

    /// `CreateTrainingJob` fails with `error` on every attempt.
    pub fn create_fails(error: AwsError) -> Scenario {
        Scenario {
            create_errors: vec![error],
            repeat_last_error: true,
            ..Self::completes()
        }
    }

    /// `CreateTrainingJob` fails with these errors, one per attempt, then the job completes.
    pub fn create_fails_then_completes(errors: Vec<AwsError>) -> Scenario {
        Scenario {
            create_errors: errors,
            repeat_last_error: false,
            ..Self::completes()
        }
    }

    /// Adds a debugger rule: InProgress while the job runs and for one more step after it
    /// ends, then `final_status` (NoIssuesFound, IssuesFound, Error).
    pub fn with_debug_rule(mut self, name: &str, final_status: &str) -> Scenario {
        add_rule(&mut self.timeline, name, final_status, |s| {
            &mut s.debug_rules
        });
        self
    }

    /// Adds a profiler rule like [`Self::with_debug_rule`] and sets profiling Enabled.
    pub fn with_profiler_rule(mut self, name: &str, final_status: &str) -> Scenario {
        add_rule(&mut self.timeline, name, final_status, |s| {
            &mut s.profiler_rules
        });
        self.profiling_status = "Enabled".into();
        self
    }
}

fn add_rule(
    timeline: &mut Vec<JobState>,
    name: &str,
    final_status: &str,
    rules: fn(&mut JobState) -> &mut Vec<RuleState>,
) {
    for s in timeline.iter_mut() {
        rules(s).push(RuleState {
            name: name.into(),
            status: "InProgress".into(),
            details: None,
        });
    }
    if let Some(mut last) = timeline.last().cloned() {
        let details = match final_status {
            "IssuesFound" => Some(format!(
                "RuleEvaluationConditionMet: Evaluation of the rule {name} at step 0 resulted in the condition being met\n"
            )),
            "Error" => Some("ClientError: An error occurred while evaluating the rule".to_string()),
            _ => None,
        };
        if let Some(r) = rules(&mut last).iter_mut().find(|r| r.name == name) {
            r.status = final_status.into();
            r.details = details;
        }
        timeline.push(last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_in_both_sdk_formats() {
        let e = AwsError::validation("bad instance type");
        assert_eq!(e.text(), "api error ValidationException: bad instance type");
        let v1 = e.clone().with_sdk(SdkVersion::V1).text();
        assert!(
            v1.starts_with(
                "ValidationException: bad instance type\n\tstatus code: 400, request id: "
            ),
            "{v1}"
        );
        assert_eq!(
            AwsError::new("ResourceLimitExceeded", "limit").text(),
            "ResourceLimitExceeded: limit"
        );
        assert!(AwsError::new("InvalidParameterValue", "x").is_terminal());
        assert!(!e.is_terminal());
    }

    #[test]
    fn debug_rule_outlives_the_job_by_one_step() {
        let s = Scenario::completes().with_debug_rule("LossNotDecreasing", "IssuesFound");
        let n = s.timeline.len();
        assert_eq!(s.timeline[n - 2].debug_rules[0].status, "InProgress");
        assert_eq!(s.timeline[n - 2].status, JobStatus::Completed);
        assert_eq!(s.timeline[n - 1].debug_rules[0].status, "IssuesFound");
    }
}
