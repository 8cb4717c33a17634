//! The other job kinds (HyperParameterTuningJob, ProcessingJob, TransformJob) through the
//! real launcher binary, against the test bed's API server and its simulated job
//! controller: success, failure (a Failed job, a validation error), cancellation, a name
//! over the kind's limit, and the outputs on every outcome.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{NS, eventually, send_signal};
use serde_json::Value;
use testbed::{JobControllerOptions, JobKind, JobOutcome, TestBed, Verb};

/// One kind's subcommand, a valid set of inputs and its outputs.
struct Case {
    kind: JobKind,
    subcommand: &'static str,
    name_input: &'static str,
    inputs: &'static [(&'static str, &'static str)],
    outputs: &'static [&'static str],
}

fn cases() -> [Case; 3] {
    [
        Case {
            kind: JobKind::hyper_parameter_tuning_job(),
            subcommand: "hyper-parameter-tuning-job",
            name_input: "hyper_parameter_tuning_job_name",
            inputs: &[
                ("region", "us-west-2"),
                (
                    "hyper_parameter_tuning_job_config",
                    r#"{"strategy": "Bayesian", "hyperParameterTuningJobObjective": {"metricName": "validation:auc", "type_": "Maximize"}, "resourceLimits": {"maxNumberOfTrainingJobs": 4, "maxParallelTrainingJobs": 2}}"#,
                ),
                (
                    "training_job_definition",
                    r#"{"algorithmSpecification": {"trainingImage": "xgboost:1.7-1", "trainingInputMode": "File"}, "roleARN": "arn:aws:iam::123456789012:role/r", "outputDataConfig": {"s3OutputPath": "s3://b/out"}, "resourceConfig": {"instanceCount": 1, "instanceType": "ml.m5.xlarge", "volumeSizeInGB": 5}, "stoppingCondition": {"maxRuntimeInSeconds": 3600}}"#,
                ),
            ],
            outputs:
                &generated::hyper_parameter_tuning_job::HyperParameterTuningJobOutputPaths::NAMES,
        },
        Case {
            kind: JobKind::processing_job(),
            subcommand: "processing-job",
            name_input: "processing_job_name",
            inputs: &[
                ("region", "us-west-2"),
                ("role_arn", "arn:aws:iam::123456789012:role/r"),
                (
                    "app_specification",
                    r#"{"imageURI": "sklearn:1.2-1", "containerEntrypoint": ["python3", "prep.py"]}"#,
                ),
                (
                    "processing_resources",
                    r#"{"clusterConfig": {"instanceCount": 1, "instanceType": "ml.m5.xlarge", "volumeSizeInGB": 30}}"#,
                ),
                ("environment", r#"{"API_TOKEN": "s3cr3t-value"}"#),
            ],
            outputs: &generated::processing_job::ProcessingJobOutputPaths::NAMES,
        },
        Case {
            kind: JobKind::transform_job(),
            subcommand: "transform-job",
            name_input: "transform_job_name",
            inputs: &[
                ("region", "us-west-2"),
                ("model_name", "xgboost-model"),
                (
                    "transform_input",
                    r#"{"contentType": "text/csv", "dataSource": {"s3DataSource": {"s3DataType": "S3Prefix", "s3URI": "s3://b/batch"}}}"#,
                ),
                (
                    "transform_output",
                    r#"{"s3OutputPath": "s3://b/predictions"}"#,
                ),
                (
                    "transform_resources",
                    r#"{"instanceCount": 1, "instanceType": "ml.m5.large"}"#,
                ),
                ("max_payload_in_mb", "6"),
            ],
            outputs: &generated::transform_job::TransformJobOutputPaths::NAMES,
        },
    ]
}

struct Bed {
    bed: TestBed,
    _controller: testbed::JobController,
    dir: tempfile::TempDir,
    kubeconfig: std::path::PathBuf,
}

fn start(kind: &JobKind, outcome: JobOutcome, run_seconds: f64) -> Bed {
    let bed = TestBed::start().expect("test bed");
    bed.register_crd_yaml(&kind.crd_yaml().expect("CRD"))
        .expect("CRD registers");
    let controller = bed.start_job_controller(JobControllerOptions {
        run_seconds,
        time_scale: Duration::from_millis(2),
        ..JobControllerOptions::new(kind.clone(), outcome)
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    bed.write_kubeconfig(&kubeconfig, NS).expect("kubeconfig");
    Bed {
        bed,
        _controller: controller,
        dir,
        kubeconfig,
    }
}

struct Run {
    code: Option<i32>,
    stderr: String,
    outputs: std::collections::BTreeMap<String, String>,
}

impl Bed {
    fn output_path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join("outputs").join(name).join("data")
    }

    fn command(&self, case: &Case, name: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ack-kfp-launcher"));
        command
            .arg(case.subcommand)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("RUST_BACKTRACE", "0")
            .env_remove("KUBERNETES_SERVICE_HOST");
        for (input, value) in case.inputs {
            command.arg(format!("--{input}")).arg(value);
        }
        command.arg(format!("--{}", case.name_input)).arg(name);
        for output in case.outputs {
            command
                .arg(format!("--{output}_output_path"))
                .arg(self.output_path(output));
        }
        command.args([
            "--status-timeout",
            "5",
            "--recoverable-timeout",
            "2",
            "--api-timeout",
            "10",
        ]);
        command
    }

    fn finish(&self, case: &Case, output: std::process::Output) -> Run {
        Run {
            code: output.status.code(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            outputs: case
                .outputs
                .iter()
                .map(|o| {
                    let text = std::fs::read_to_string(self.output_path(o))
                        .unwrap_or_else(|e| panic!("output {o} not written: {e}"));
                    ((*o).to_owned(), text)
                })
                .collect(),
        }
    }

    fn run(&self, case: &Case, name: &str) -> Run {
        let output = self.command(case, name).output().expect("launcher runs");
        self.finish(case, output)
    }

    fn spawn(&self, case: &Case, name: &str) -> Child {
        self.command(case, name)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("launcher starts")
    }

    fn object(&self, case: &Case, name: &str) -> Option<Value> {
        self.bed.get(&case.kind.resource(), NS, name)
    }
}

fn state_output(case: &Case) -> String {
    case.outputs
        .iter()
        .find(|o| o.ends_with("_job_status"))
        .expect("a state output")
        .to_string()
}

/// Every output is there and parses as its type; JSON ones are never `null`.
fn assert_outputs_parse(run: &Run) {
    for (name, text) in &run.outputs {
        if matches!(
            name.as_str(),
            "ack_resource_metadata" | "best_training_job" | "overall_best_training_job"
        ) {
            assert!(
                serde_json::from_str::<Value>(text).is_ok_and(|v| v.is_object()),
                "{name}: {text}"
            );
        }
        if name == "conditions" {
            assert!(
                serde_json::from_str::<Value>(text).is_ok_and(|v| v.is_array()),
                "{name}: {text}"
            );
        }
        assert_ne!(text, "null", "{name}");
    }
}

#[test]
fn each_kind_succeeds_on_completed() {
    for case in cases() {
        let bed = start(&case.kind, JobOutcome::Completes, 30.0);
        let run = bed.run(&case, "Job-Ok-1");
        assert_eq!(run.code, Some(0), "{}: {}", case.subcommand, run.stderr);
        assert_outputs_parse(&run);
        assert_eq!(run.outputs[&state_output(&case)], "Completed");
        let arn: Value = serde_json::from_str(&run.outputs["ack_resource_metadata"]).expect("JSON");
        assert!(
            arn["arn"]
                .as_str()
                .is_some_and(|a| a.ends_with(&format!("{}/job-ok-1", case.kind.arn_type))),
            "{arn}"
        );
        // The kind's console page is logged; the spec's secrets are not.
        assert!(run.stderr.contains("console: https://us-west-2.console.aws.amazon.com/sagemaker/home?region=us-west-2#/"), "{}", run.stderr);
        assert!(!run.stderr.contains("s3cr3t-value"), "{}", run.stderr);
        assert!(
            bed.object(&case, "job-ok-1").is_some(),
            "kept after success"
        );
        if case.kind.kind == "HyperParameterTuningJob" {
            let best: Value =
                serde_json::from_str(&run.outputs["best_training_job"]).expect("JSON");
            assert_eq!(best["trainingJobName"], "Job-Ok-1-003-1a2b3c4d");
            assert!(
                run.stderr
                    .contains("best training job: Job-Ok-1-003-1a2b3c4d (validation:auc = 0.912)"),
                "{}",
                run.stderr
            );
        }
    }
}

#[test]
fn each_kind_fails_on_failed_with_the_reason() {
    for case in cases() {
        let bed = start(
            &case.kind,
            JobOutcome::Fails("AlgorithmError: exit code 1".into()),
            10.0,
        );
        let run = bed.run(&case, "job-failed");
        assert_eq!(run.code, Some(1), "{}: {}", case.subcommand, run.stderr);
        assert_outputs_parse(&run);
        assert_eq!(run.outputs[&state_output(&case)], "Failed");
        assert_eq!(run.outputs["failure_reason"], "AlgorithmError: exit code 1");
        assert!(
            run.stderr.contains("failed: AlgorithmError: exit code 1"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn a_stopped_job_fails_and_a_validation_error_fails_without_waiting() {
    let [_, processing, transform] = cases();
    let bed = start(&processing.kind, JobOutcome::Stops, 10.0);
    let run = bed.run(&processing, "job-stopped");
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("the processing job was stopped"),
        "{}",
        run.stderr
    );

    let bed = start(
        &transform.kind,
        JobOutcome::Rejected(
            "api error ValidationException: Could not find model \"xgboost-model\".".into(),
        ),
        10.0,
    );
    let run = bed.run(&transform, "job-rejected");
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("SageMaker rejected the job"),
        "{}",
        run.stderr
    );
    assert_outputs_parse(&run);
    assert_eq!(run.outputs["transform_job_status"], "");
}

#[test]
fn each_kind_is_stopped_when_the_run_is_cancelled() {
    for case in cases() {
        let bed = start(&case.kind, JobOutcome::Completes, 1e9);
        let child = bed.spawn(&case, "job-cancelled");
        eventually("the job to run", || {
            bed.object(&case, "job-cancelled")
                .is_some_and(|o| o["status"][case.kind.state_field] == "InProgress")
        });
        send_signal(&child, "TERM");
        let run = bed.finish(&case, child.wait_with_output().expect("exits"));
        assert_eq!(run.code, Some(143), "{}: {}", case.subcommand, run.stderr);
        assert_outputs_parse(&run);
        assert_eq!(bed.bed.requests().count(Verb::Delete), 1);
        // The controller's stop pattern: Stopping, then the finalizer goes.
        eventually("the controller to stop the job and release it", || {
            bed.object(&case, "job-cancelled").is_none()
        });
    }
}

#[test]
fn a_tuning_job_name_over_32_characters_is_refused_before_anything_is_sent() {
    let [tuning, ..] = cases();
    let bed = start(&tuning.kind, JobOutcome::Completes, 10.0);
    let run = bed.run(&tuning, &"t".repeat(33));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("input `hyper_parameter_tuning_job_name`")
            && run.stderr.contains("at most 32 characters"),
        "{}",
        run.stderr
    );
    assert!(bed.bed.requests().records().is_empty());
    // Left empty, the launcher's own name fits.
    let run = bed.run(&tuning, "");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}
