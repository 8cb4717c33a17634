//! A fake SageMaker account: training jobs by name, each following its scenario's timeline,
//! plus a log of the API calls the controller made.

use std::collections::BTreeMap;

use serde_json::Value;

use super::scenario::{AwsError, JobState, JobStatus, RuleState, Scenario};

/// One SageMaker API call made by the simulated controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsCall {
    /// `CreateTrainingJob`, `DescribeTrainingJob` or `StopTrainingJob`.
    pub operation: &'static str,
    /// The `TrainingJobName`.
    pub job_name: String,
    /// The error text if the call failed.
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
struct Job {
    arn: String,
    output_path: String,
    timeline: Vec<JobState>,
    cursor: usize,
    stopping_reconciles: usize,
    profiling_status: String,
    creation_time: i64,
    last_modified: i64,
    instance_count: i64,
}

/// A `DescribeTrainingJob` answer, reduced to what the controller copies.
#[derive(Debug, Clone)]
pub(crate) struct Description {
    pub arn: String,
    pub state: JobState,
    pub creation_time: i64,
    pub last_modified: i64,
    pub model_artifacts: Option<String>,
    pub profiling_status: String,
    pub instance_count: i64,
}

/// The account's jobs and the call log.
#[derive(Debug, Default)]
pub(crate) struct FakeSageMaker {
    jobs: BTreeMap<String, Job>,
    attempts: BTreeMap<String, usize>,
    pub calls: Vec<AwsCall>,
    pub region: String,
    pub account: String,
}

impl FakeSageMaker {
    pub(crate) fn new(region: &str, account: &str) -> FakeSageMaker {
        FakeSageMaker {
            region: region.into(),
            account: account.into(),
            ..Default::default()
        }
    }

    fn arn(&self, name: &str) -> String {
        format!(
            "arn:aws:sagemaker:{}:{}:training-job/{}",
            self.region,
            self.account,
            name.to_lowercase()
        )
    }

    fn log(&mut self, operation: &'static str, name: &str, error: Option<String>) {
        self.calls.push(AwsCall {
            operation,
            job_name: name.into(),
            error,
        });
    }

    /// A job created outside this controller (e.g. by an earlier run): it stays in `state`.
    pub(crate) fn add_existing(&mut self, name: &str, state: JobState, now: i64) {
        let job = Job {
            arn: self.arn(name),
            output_path: format!("s3://sagemaker-{}-{}/existing", self.region, self.account),
            timeline: vec![state],
            cursor: 0,
            stopping_reconciles: 1,
            profiling_status: "Disabled".into(),
            creation_time: now - 86_400,
            last_modified: now - 3_600,
            instance_count: 1,
        };
        self.jobs.insert(name.into(), job);
    }

    /// Advances the job one step of its timeline (the passing of SageMaker time).
    pub(crate) fn tick(&mut self, name: &str, now: i64) {
        if let Some(job) = self.jobs.get_mut(name)
            && job.cursor + 1 < job.timeline.len()
        {
            job.cursor += 1;
            if job.timeline[job.cursor] != job.timeline[job.cursor - 1] {
                job.last_modified = now;
            }
        }
    }

    pub(crate) fn describe(&mut self, name: &str) -> Option<Description> {
        let found = self.jobs.get(name).map(|job| {
            let state = job.timeline[job.cursor.min(job.timeline.len() - 1)].clone();
            let model_artifacts = matches!(state.status, JobStatus::Completed | JobStatus::Stopped)
                .then(|| {
                    format!(
                        "{}/{name}/output/model.tar.gz",
                        job.output_path.trim_end_matches('/')
                    )
                });
            Description {
                arn: job.arn.clone(),
                state,
                creation_time: job.creation_time,
                last_modified: job.last_modified,
                model_artifacts,
                profiling_status: job.profiling_status.clone(),
                instance_count: job.instance_count,
            }
        });
        let error = found.is_none().then(|| {
            AwsError::validation(&format!(
                "Requested resource not found: TrainingJob {name} does not exist"
            ))
            .text()
        });
        self.log("DescribeTrainingJob", name, error);
        found
    }

    /// `CreateTrainingJob`: the scenario's next scripted error, or a new job (its ARN).
    pub(crate) fn create(
        &mut self,
        name: &str,
        spec: &Value,
        scenario: &Scenario,
        now: i64,
    ) -> Result<String, AwsError> {
        let attempt = self.attempts.entry(name.into()).or_default();
        *attempt += 1;
        let n = *attempt;
        let scripted = match scenario.create_errors.get(n - 1) {
            Some(e) => Some(e.clone()),
            None if scenario.repeat_last_error => scenario.create_errors.last().cloned(),
            None => None,
        };
        if let Some(e) = scripted {
            self.log("CreateTrainingJob", name, Some(e.text()));
            return Err(e);
        }
        if self.jobs.contains_key(name) {
            let e = AwsError::new(
                "ResourceInUse",
                &format!(
                    "Training job names must be unique within an AWS account and region, and a training job with this name already exists ({})",
                    self.arn(name)
                ),
            );
            self.log("CreateTrainingJob", name, Some(e.text()));
            return Err(e);
        }
        let job = Job {
            arn: self.arn(name),
            output_path: spec
                .pointer("/outputDataConfig/s3OutputPath")
                .and_then(Value::as_str)
                .unwrap_or("s3://unknown")
                .into(),
            timeline: if scenario.timeline.is_empty() {
                vec![JobState::new(JobStatus::InProgress, "Starting")]
            } else {
                scenario.timeline.clone()
            },
            cursor: 0,
            stopping_reconciles: scenario.stopping_reconciles,
            profiling_status: scenario.profiling_status.clone(),
            creation_time: now,
            last_modified: now,
            instance_count: spec
                .pointer("/resourceConfig/instanceCount")
                .and_then(Value::as_i64)
                .unwrap_or(1),
        };
        let arn = job.arn.clone();
        self.jobs.insert(name.into(), job);
        self.log("CreateTrainingJob", name, None);
        Ok(arn)
    }

    /// `StopTrainingJob`: the job turns Stopping, then Stopped after `stopping_reconciles`.
    pub(crate) fn stop(&mut self, name: &str, now: i64) -> Result<(), AwsError> {
        let Some(job) = self.jobs.get_mut(name) else {
            let e = AwsError::new(
                "ResourceNotFound",
                &format!("Requested resource not found: TrainingJob {name} does not exist"),
            );
            self.log("StopTrainingJob", name, Some(e.text()));
            return Err(e);
        };
        let current = job.timeline[job.cursor].clone();
        let rules = |list: &[RuleState], status: &str| -> Vec<RuleState> {
            list.iter()
                .map(|r| RuleState {
                    status: if r.status == "InProgress" {
                        status.into()
                    } else {
                        r.status.clone()
                    },
                    ..r.clone()
                })
                .collect()
        };
        let stopping = JobState {
            debug_rules: rules(&current.debug_rules, "Stopping"),
            profiler_rules: rules(&current.profiler_rules, "Stopping"),
            ..JobState::new(JobStatus::Stopping, "Stopping")
        };
        let stopped = JobState {
            debug_rules: rules(&current.debug_rules, "Stopped"),
            profiler_rules: rules(&current.profiler_rules, "Stopped"),
            ..JobState::new(JobStatus::Stopped, "Stopped")
        };
        let mut timeline = vec![stopping; job.stopping_reconciles.max(1)];
        timeline.push(stopped);
        job.timeline = timeline;
        job.cursor = 0;
        job.last_modified = now;
        self.log("StopTrainingJob", name, None);
        Ok(())
    }
}
