//! The definition and long-lived kinds (Model, EndpointConfig, the four monitoring job
//! definitions, Endpoint, MonitoringSchedule, ModelPackageGroup) through the real launcher
//! binary, against the test bed's API server and its simulated controller
//! (`testbed::HostingController`): success and failure of each kind, Endpoint and
//! MonitoringSchedule updates (done only once the controller took them, with resyncs
//! restamping the old state meanwhile), refused updates of the kinds that cannot be
//! updated, cancellation (a finished or updated resource is never deleted) and the time
//! limit.

mod common;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{NS, eventually, send_signal};
use serde_json::{Value, json};
use testbed::Fault;
use testbed::{
    HostingController, HostingControllerOptions, HostingKind, HostingOutcome,
    LAST_ENDPOINT_CONFIG_ANNOTATION, TestBed, UpdateOutcome, Verb,
};

/// One kind's subcommand, a valid set of inputs and its outputs.
struct Case {
    kind: HostingKind,
    subcommand: &'static str,
    name_input: &'static str,
    inputs: &'static [(&'static str, &'static str)],
    outputs: &'static [&'static str],
}

const ROLE: &str = "arn:aws:iam::123456789012:role/ack-sagemaker-execution-role";
const JOB_RESOURCES: &str = r#"{"clusterConfig": {"instanceCount": 1, "instanceType": "ml.m5.xlarge", "volumeSizeInGB": 20}}"#;
const ENDPOINT_INPUT: &str =
    r#"{"endpointInput": {"endpointName": "serve-1", "localPath": "/opt/ml/processing/input"}}"#;
const ENDPOINT_AND_TRUTH_INPUT: &str = r#"{"endpointInput": {"endpointName": "serve-1", "localPath": "/opt/ml/processing/input"}, "groundTruthS3Input": {"s3URI": "s3://b/ground-truth"}}"#;
const OUTPUT_CONFIG: &str = r#"{"monitoringOutputs": [{"s3Output": {"s3URI": "s3://b/monitoring", "localPath": "/opt/ml/processing/output"}}]}"#;
const SCHEDULE_A: &str = r#"{"monitoringJobDefinitionName": "dq-a", "monitoringType": "DataQuality", "scheduleConfig": {"scheduleExpression": "cron(0 * ? * * *)"}}"#;
const SCHEDULE_B: &str = r#"{"monitoringJobDefinitionName": "dq-b", "monitoringType": "DataQuality", "scheduleConfig": {"scheduleExpression": "cron(0 * ? * * *)"}}"#;

fn model() -> Case {
    Case {
        kind: HostingKind::model(),
        subcommand: "model",
        name_input: "model_name",
        inputs: &[
            ("region", "us-west-2"),
            ("execution_role_arn", ROLE),
            (
                "primary_container",
                r#"{"image": "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1", "modelDataURL": "s3://b/model.tar.gz", "environment": {"API_TOKEN": "s3cr3t-value"}}"#,
            ),
        ],
        outputs: &generated::model::ModelOutputPaths::NAMES,
    }
}

fn endpoint_config() -> Case {
    Case {
        kind: HostingKind::endpoint_config(),
        subcommand: "endpoint-config",
        name_input: "endpoint_config_name",
        inputs: &[
            ("region", "us-west-2"),
            (
                "production_variants",
                r#"[{"variantName": "AllTraffic", "modelName": "xgboost-model", "initialInstanceCount": 1, "instanceType": "ml.m5.large", "initialVariantWeight": 1.0}]"#,
            ),
        ],
        outputs: &generated::endpoint_config::EndpointConfigOutputPaths::NAMES,
    }
}

fn endpoint() -> Case {
    Case {
        kind: HostingKind::endpoint(),
        subcommand: "endpoint",
        name_input: "endpoint_name",
        inputs: &[
            ("region", "us-west-2"),
            ("endpoint_config_name", "config-a"),
        ],
        outputs: &generated::endpoint::EndpointOutputPaths::NAMES,
    }
}

fn monitoring_schedule() -> Case {
    Case {
        kind: HostingKind::monitoring_schedule(),
        subcommand: "monitoring-schedule",
        name_input: "monitoring_schedule_name",
        inputs: &[
            ("region", "us-west-2"),
            ("monitoring_schedule_config", SCHEDULE_A),
        ],
        outputs: &generated::monitoring_schedule::MonitoringScheduleOutputPaths::NAMES,
    }
}

fn model_package_group() -> Case {
    Case {
        kind: HostingKind::model_package_group(),
        subcommand: "model-package-group",
        name_input: "model_package_group_name",
        inputs: &[
            ("region", "us-west-2"),
            ("model_package_group_description", "churn models"),
        ],
        outputs: &generated::model_package_group::ModelPackageGroupOutputPaths::NAMES,
    }
}

fn job_definitions() -> [Case; 4] {
    [
        Case {
            kind: HostingKind::data_quality_job_definition(),
            subcommand: "data-quality-job-definition",
            name_input: "job_definition_name",
            inputs: &[
                ("region", "us-west-2"),
                ("role_arn", ROLE),
                ("job_resources", JOB_RESOURCES),
                (
                    "data_quality_app_specification",
                    r#"{"imageURI": "159807026194.dkr.ecr.us-west-2.amazonaws.com/sagemaker-model-monitor-analyzer"}"#,
                ),
                ("data_quality_job_input", ENDPOINT_INPUT),
                ("data_quality_job_output_config", OUTPUT_CONFIG),
            ],
            outputs:
                &generated::data_quality_job_definition::DataQualityJobDefinitionOutputPaths::NAMES,
        },
        Case {
            kind: HostingKind::model_bias_job_definition(),
            subcommand: "model-bias-job-definition",
            name_input: "job_definition_name",
            inputs: &[
                ("region", "us-west-2"),
                ("role_arn", ROLE),
                ("job_resources", JOB_RESOURCES),
                (
                    "model_bias_app_specification",
                    r#"{"imageURI": "clarify:1.0", "configURI": "s3://b/analysis_config.json"}"#,
                ),
                ("model_bias_job_input", ENDPOINT_AND_TRUTH_INPUT),
                ("model_bias_job_output_config", OUTPUT_CONFIG),
            ],
            outputs: &generated::model_bias_job_definition::ModelBiasJobDefinitionOutputPaths::NAMES,
        },
        Case {
            kind: HostingKind::model_explainability_job_definition(),
            subcommand: "model-explainability-job-definition",
            name_input: "job_definition_name",
            inputs: &[
                ("region", "us-west-2"),
                ("role_arn", ROLE),
                ("job_resources", JOB_RESOURCES),
                (
                    "model_explainability_app_specification",
                    r#"{"imageURI": "clarify:1.0", "configURI": "s3://b/analysis_config.json"}"#,
                ),
                ("model_explainability_job_input", ENDPOINT_INPUT),
                ("model_explainability_job_output_config", OUTPUT_CONFIG),
            ],
            outputs: &generated::model_explainability_job_definition::ModelExplainabilityJobDefinitionOutputPaths::NAMES,
        },
        Case {
            kind: HostingKind::model_quality_job_definition(),
            subcommand: "model-quality-job-definition",
            name_input: "job_definition_name",
            inputs: &[
                ("region", "us-west-2"),
                ("role_arn", ROLE),
                ("job_resources", JOB_RESOURCES),
                (
                    "model_quality_app_specification",
                    r#"{"imageURI": "monitor:1.0", "problemType": "BinaryClassification"}"#,
                ),
                ("model_quality_job_input", ENDPOINT_AND_TRUTH_INPUT),
                ("model_quality_job_output_config", OUTPUT_CONFIG),
            ],
            outputs:
                &generated::model_quality_job_definition::ModelQualityJobDefinitionOutputPaths::NAMES,
        },
    ]
}

/// The six definition kinds.
fn definitions() -> Vec<Case> {
    let mut cases = vec![model(), endpoint_config()];
    cases.extend(job_definitions());
    cases
}

fn all_cases() -> Vec<Case> {
    let mut cases = definitions();
    cases.extend([endpoint(), monitoring_schedule(), model_package_group()]);
    cases
}

struct Bed {
    bed: TestBed,
    controller: HostingController,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    runs: Cell<usize>,
}

fn start(case: &Case, tweak: impl FnOnce(&mut HostingControllerOptions)) -> Bed {
    start_with(case, HostingOutcome::Succeeds, tweak)
}

fn start_with(
    case: &Case,
    outcome: HostingOutcome,
    tweak: impl FnOnce(&mut HostingControllerOptions),
) -> Bed {
    let bed = TestBed::start().expect("test bed");
    bed.register_crd_yaml(&case.kind.crd_yaml().expect("CRD"))
        .expect("CRD registers");
    let mut options = HostingControllerOptions::new(case.kind.clone(), outcome);
    options.time_scale = Duration::from_millis(1);
    tweak(&mut options);
    let controller = bed.start_hosting_controller(options);
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    bed.write_kubeconfig(&kubeconfig, NS).expect("kubeconfig");
    Bed {
        bed,
        controller,
        dir,
        kubeconfig,
        runs: Cell::new(0),
    }
}

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stderr: String,
    outputs: BTreeMap<String, String>,
}

impl Run {
    fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("output {name} missing: {self:?}"))
    }

    fn json(&self, name: &str) -> Value {
        serde_json::from_str(self.output(name))
            .unwrap_or_else(|e| panic!("{name} is not JSON ({e}): {self:?}"))
    }

    /// The status of one condition in the `conditions` output.
    fn condition(&self, kind: &str) -> Option<String> {
        self.json("conditions")
            .as_array()?
            .iter()
            .find(|c| c["type"] == kind)
            .and_then(|c| c["status"].as_str().map(str::to_owned))
    }
}

/// A launcher process being run: where its outputs go.
struct Launch {
    outputs: PathBuf,
    names: &'static [&'static str],
}

impl Bed {
    /// The launcher for `case` naming the resource `name`, with `changed` inputs instead
    /// of the case's and `flags` after the usual time limits.
    fn command(
        &self,
        case: &Case,
        name: &str,
        changed: &[(&str, &str)],
        flags: &[&str],
    ) -> (Command, Launch) {
        let n = self.runs.get() + 1;
        self.runs.set(n);
        let outputs = self.dir.path().join(format!("run-{n}"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_ack-kfp-launcher"));
        command
            .arg(case.subcommand)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("RUST_BACKTRACE", "0")
            .env_remove("KUBERNETES_SERVICE_HOST");
        for (input, value) in case.inputs {
            if !changed.iter().any(|(c, _)| c == input) {
                command.arg(format!("--{input}")).arg(value);
            }
        }
        for (input, value) in changed {
            command.arg(format!("--{input}")).arg(value);
        }
        command.arg(format!("--{}", case.name_input)).arg(name);
        for output in case.outputs {
            command
                .arg(format!("--{output}_output_path"))
                .arg(outputs.join(output).join("data"));
        }
        command.args([
            "--status-timeout",
            "5",
            "--recoverable-timeout",
            "2",
            "--api-timeout",
            "10",
        ]);
        command.args(flags);
        (
            command,
            Launch {
                outputs,
                names: case.outputs,
            },
        )
    }

    fn run(&self, case: &Case, name: &str, changed: &[(&str, &str)], flags: &[&str]) -> Run {
        let (mut command, launch) = self.command(case, name, changed, flags);
        let output = command.output().expect("launcher runs");
        finish(&launch, &output)
    }

    fn spawn(
        &self,
        case: &Case,
        name: &str,
        changed: &[(&str, &str)],
        flags: &[&str],
    ) -> (Child, Launch) {
        let (mut command, launch) = self.command(case, name, changed, flags);
        let child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("launcher starts");
        (child, launch)
    }

    fn object(&self, case: &Case, name: &str) -> Option<Value> {
        self.bed.get(&case.kind.resource(), NS, name)
    }

    fn history(&self, case: &Case, name: &str) -> Vec<Value> {
        self.bed
            .history(&case.kind.resource(), NS, name)
            .into_iter()
            .map(|e| e.object)
            .collect()
    }

    fn count(&self, verb: Verb) -> usize {
        self.bed.requests().count(verb)
    }
}

fn finish(launch: &Launch, output: &std::process::Output) -> Run {
    Run {
        code: output.status.code(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        outputs: launch
            .names
            .iter()
            .filter_map(|o| {
                let text = std::fs::read_to_string(launch.outputs.join(o).join("data")).ok()?;
                Some(((*o).to_owned(), text))
            })
            .collect(),
    }
}

fn wait(child: Child, launch: &Launch) -> Run {
    finish(launch, &child.wait_with_output().expect("exits"))
}

/// Every declared output is there; the JSON ones parse as their type and are never `null`.
fn assert_outputs_written(case: &Case, run: &Run) {
    for name in case.outputs {
        let text = run.output(name);
        assert_ne!(text, "null", "{name}");
        match *name {
            "ack_resource_metadata"
            | "pending_deployment_summary"
            | "last_monitoring_execution_summary" => assert!(
                serde_json::from_str::<Value>(text).is_ok_and(|v| v.is_object()),
                "{}: {name}: {text}",
                case.subcommand
            ),
            "conditions" | "production_variants" => assert!(
                serde_json::from_str::<Value>(text).is_ok_and(|v| v.is_array()),
                "{}: {name}: {text}",
                case.subcommand
            ),
            _ => {}
        }
    }
}

fn state_of(object: &Value, case: &Case) -> String {
    case.kind
        .state_field()
        .and_then(|f| object["status"][f].as_str())
        .unwrap_or_default()
        .to_owned()
}

fn synced(object: &Value) -> bool {
    object["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "ACK.ResourceSynced" && c["status"] == "True")
}

fn kfp(run: &'static str, step: &'static str) -> [&'static str; 4] {
    ["--kfp-run-id", run, "--kfp-step-id", step]
}

#[test]
fn each_kind_succeeds_once_done_with_every_output_written() {
    for case in all_cases() {
        let bed = start(&case, |_| {});
        let run = bed.run(&case, "Res-Ok-1", &[], &[]);
        assert_eq!(run.code, Some(0), "{}: {}", case.subcommand, run.stderr);
        assert_outputs_written(&case, &run);
        assert_eq!(run.output("sagemaker_resource_name"), "Res-Ok-1");
        let arn = run.json("ack_resource_metadata")["arn"].clone();
        assert!(
            arn.as_str()
                .is_some_and(|a| a.ends_with(&format!(":{}/res-ok-1", case.kind.arn_type))),
            "{}: {arn}",
            case.subcommand
        );
        // Done means Synced True (and for the long-lived kinds their ready state), never
        // Terminal.
        assert_eq!(
            run.condition("ACK.ResourceSynced").as_deref(),
            Some("True"),
            "{}",
            case.subcommand
        );
        assert_eq!(run.condition("ACK.Terminal"), None, "{}", case.subcommand);
        match case.subcommand {
            "endpoint" => {
                assert_eq!(run.output("endpoint_status"), "InService");
                assert!(!run.output("creation_time").is_empty());
                assert!(
                    !run.json("production_variants")
                        .as_array()
                        .unwrap()
                        .is_empty()
                );
            }
            "monitoring-schedule" => {
                assert_eq!(run.output("monitoring_schedule_status"), "Scheduled");
            }
            "model-package-group" => {
                assert_eq!(run.output("model_package_group_status"), "Completed");
            }
            _ => {}
        }
        assert!(!run.stderr.contains("s3cr3t-value"), "{}", run.stderr);
        assert_eq!(bed.controller.created("Res-Ok-1"), 1, "{}", case.subcommand);
        let object = bed.object(&case, "res-ok-1").expect("kept after success");
        assert!(object["metadata"]["deletionTimestamp"].is_null());
    }
}

#[test]
fn a_failed_endpoint_fails_with_its_failure_reason() {
    let endpoint = endpoint();
    let bed = start_with(
        &endpoint,
        HostingOutcome::Fails("CapacityError: no ml.m5.large capacity".into()),
        |_| {},
    );
    let run = bed.run(&endpoint, "serve-failed", &[], &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_outputs_written(&endpoint, &run);
    assert_eq!(run.output("endpoint_status"), "Failed");
    assert_eq!(
        run.output("failure_reason"),
        "CapacityError: no ml.m5.large capacity"
    );
    assert!(
        run.stderr
            .contains("CapacityError: no ml.m5.large capacity"),
        "the failure reason is not in the log:\n{}",
        run.stderr
    );
}

#[test]
fn an_out_of_service_endpoint_fails() {
    let endpoint = endpoint();
    let bed = start_with(&endpoint, HostingOutcome::Stops, |_| {});
    let run = bed.run(&endpoint, "serve-out", &[], &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("OutOfService"), "{}", run.stderr);
    assert_eq!(run.output("endpoint_status"), "OutOfService");
}

#[test]
fn a_failed_or_stopped_monitoring_schedule_fails() {
    let schedule = monitoring_schedule();
    let bed = start_with(&schedule, HostingOutcome::Stops, |_| {});
    let run = bed.run(&schedule, "watch-stopped", &[], &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("stopped"), "{}", run.stderr);
    assert_outputs_written(&schedule, &run);
    assert_eq!(run.output("monitoring_schedule_status"), "Stopped");

    let bed = start_with(
        &schedule,
        HostingOutcome::Fails("Job definition dq-a not found".into()),
        |_| {},
    );
    let run = bed.run(&schedule, "watch-failed", &[], &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_outputs_written(&schedule, &run);
    assert_eq!(run.output("monitoring_schedule_status"), "Failed");
    assert_eq!(
        run.output("failure_reason"),
        "Job definition dq-a not found"
    );
    assert!(
        run.stderr.contains("Job definition dq-a not found"),
        "the failure reason is not in the log:\n{}",
        run.stderr
    );
}

#[test]
fn a_failed_model_package_group_fails() {
    let group = model_package_group();
    let bed = start_with(&group, HostingOutcome::Fails("quota".into()), |_| {});
    let run = bed.run(&group, "group-failed", &[], &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_outputs_written(&group, &run);
    assert_eq!(run.output("model_package_group_status"), "Failed");
}

#[test]
fn a_definition_sagemaker_rejects_fails() {
    for case in definitions() {
        let message = "api error ValidationException: Could not find model \"xgboost-model\".";
        let bed = start_with(&case, HostingOutcome::Rejected(message.into()), |_| {});
        let run = bed.run(&case, "def-rejected", &[], &[]);
        assert_eq!(run.code, Some(1), "{}: {}", case.subcommand, run.stderr);
        assert!(
            run.stderr.contains("Could not find model"),
            "{}: {}",
            case.subcommand,
            run.stderr
        );
        assert_outputs_written(&case, &run);
        assert_eq!(bed.controller.created("def-rejected"), 0);
    }
}

/// The options of the update tests: resyncs every 10 simulated seconds, and a controller
/// that acts on a spec change only 25 s later, so resyncs rewrite the old, done-looking
/// state after the launcher's patch.
fn slow_to_update(o: &mut HostingControllerOptions) {
    o.resync_seconds = 10.0;
    o.reaction_seconds = 25.0;
    o.update_seconds = 60.0;
}

/// The states after the launcher's patch (generation 2) that look done but are the old
/// state restamped by a resync.
fn restamped_old_states(history: &[Value], case: &Case, done: &str) -> usize {
    history
        .iter()
        .filter(|o| o["metadata"]["generation"] == 2 && state_of(o, case) == done && synced(o))
        .filter(|o| o["status"]["lastModifiedTime"] == history_first_done(history, case, done))
        .count()
}

fn history_first_done(history: &[Value], case: &Case, done: &str) -> Value {
    history
        .iter()
        .find(|o| state_of(o, case) == done && synced(o))
        .map(|o| o["status"]["lastModifiedTime"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn an_endpoint_update_succeeds_only_once_the_controller_has_taken_it() {
    let case = endpoint();
    let bed = start(&case, slow_to_update);
    let first = bed.run(&case, "serve-1", &[], &kfp("run-1", "deploy"));
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let first_modified = first.output("last_modified_time").to_owned();
    let patches = bed.count(Verb::Patch);

    let second = bed.run(
        &case,
        "serve-1",
        &[
            ("endpoint_config_name", "config-b"),
            ("tags", r#"[{"key": "team", "value": "ml"}]"#),
        ],
        &kfp("run-2", "deploy"),
    );
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert_outputs_written(&case, &second);
    // Tags are not updated by the controller: left out of the patch, with a warning.
    assert!(
        second.stderr.contains("warning: input for `tags` differs"),
        "{}",
        second.stderr
    );
    // The outputs are the state after the update: the new lastModifiedTime, in service.
    assert_eq!(second.output("endpoint_status"), "InService");
    assert!(
        second.output("last_modified_time") > first_modified.as_str(),
        "{} !> {first_modified}",
        second.output("last_modified_time")
    );
    assert_eq!(
        second.condition("ACK.ResourceSynced").as_deref(),
        Some("True")
    );
    let object = bed.object(&case, "serve-1").expect("there");
    assert_eq!(
        object["metadata"]["annotations"][LAST_ENDPOINT_CONFIG_ANNOTATION],
        "config-b"
    );
    assert_eq!(object["spec"]["endpointConfigName"], "config-b");
    assert_eq!(
        object["status"]["lastModifiedTime"],
        second.output("last_modified_time")
    );
    assert!(object["status"]["pendingDeploymentSummary"].is_null());
    assert_eq!(bed.controller.updated("serve-1"), 1);
    assert_eq!(bed.controller.created("serve-1"), 1, "no second endpoint");
    assert_eq!(bed.controller.delete_calls("serve-1"), 0);
    // One patch accepted, of the one updatable field the inputs changed (a resync that
    // lands between the launcher's read and its patch makes the server refuse it with 409:
    // it reads again and patches once more).
    let patch_records: Vec<_> = bed
        .bed
        .requests()
        .records()
        .into_iter()
        .filter(|r| r.verb == Verb::Patch)
        .skip(patches)
        .collect();
    let (accepted, refused): (Vec<_>, Vec<_>) = patch_records
        .iter()
        .partition(|r| (200..300).contains(&r.status));
    assert_eq!(accepted.len(), 1, "{patch_records:?}");
    assert!(refused.iter().all(|r| r.status == 409), "{patch_records:?}");
    let body: Value = serde_json::from_str(&accepted[0].body).expect("JSON patch");
    assert_eq!(body["spec"], json!({"endpointConfigName": "config-b"}));
    assert!(object["spec"]["tags"].is_null());
    // Resyncs restamped the old InService + Synced after the patch, and the launcher did
    // not take them for the update.
    let history = bed.history(&case, "serve-1");
    assert!(
        restamped_old_states(&history, &case, "InService") >= 1,
        "the test must meet resyncs of the old state"
    );
}

#[test]
fn an_endpoint_update_that_rolls_back_fails() {
    let case = endpoint();
    let bed = start(&case, |o| {
        slow_to_update(o);
        o.update_outcome = UpdateOutcome::RollsBack(
            "The primary container for production variant AllTraffic did not pass the ping health check".into(),
        );
    });
    let first = bed.run(&case, "serve-1", &[], &kfp("run-1", "deploy"));
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let second = bed.run(
        &case,
        "serve-1",
        &[("endpoint_config_name", "config-b")],
        &kfp("run-2", "deploy"),
    );
    assert_eq!(second.code, Some(1), "{}", second.stderr);
    assert!(
        second.stderr.contains("EndpointUpdateError")
            || second.stderr.contains("did not pass the ping health check"),
        "{}",
        second.stderr
    );
    assert_outputs_written(&case, &second);
    assert_eq!(bed.controller.updated("serve-1"), 1);
    assert_eq!(bed.controller.delete_calls("serve-1"), 0);
}

#[test]
fn rerunning_an_endpoint_with_its_current_inputs_patches_nothing() {
    let case = endpoint();
    let bed = start(&case, slow_to_update);
    let first = bed.run(&case, "serve-1", &[], &kfp("run-1", "deploy"));
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let again = bed.run(&case, "serve-1", &[], &kfp("run-2", "deploy"));
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(bed.count(Verb::Patch), 0);
    assert_eq!(bed.controller.updated("serve-1"), 0);
    assert_eq!(again.output("endpoint_status"), "InService");
}

#[test]
fn a_retried_update_step_follows_the_same_update() {
    let case = endpoint();
    let bed = start(&case, slow_to_update);
    let first = bed.run(&case, "serve-1", &[], &kfp("run-1", "deploy"));
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let first_modified = first.output("last_modified_time").to_owned();

    // The first attempt of the update step dies (its pod is killed) after patching.
    let update = [("endpoint_config_name", "config-b")];
    let (mut child, _) = bed.spawn(&case, "serve-1", &update, &kfp("run-2", "deploy"));
    eventually("the update to be patched", || {
        bed.object(&case, "serve-1")
            .is_some_and(|o| o["spec"]["endpointConfigName"] == "config-b")
    });
    child.kill().expect("killed");
    let _ = child.wait();

    // The retried attempt waits for that update rather than trusting the old state.
    let retry = bed.run(&case, "serve-1", &update, &kfp("run-2", "deploy"));
    assert_eq!(retry.code, Some(0), "{}", retry.stderr);
    assert_eq!(retry.output("endpoint_status"), "InService");
    assert!(
        retry.output("last_modified_time") > first_modified.as_str(),
        "{retry:?}"
    );
    assert_eq!(bed.controller.updated("serve-1"), 1);

    // Once more after success: still done, nothing patched again.
    let patches = bed.count(Verb::Patch);
    let again = bed.run(&case, "serve-1", &update, &kfp("run-2", "deploy"));
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(bed.count(Verb::Patch), patches);
    assert_eq!(bed.controller.updated("serve-1"), 1);
    assert_eq!(bed.controller.created("serve-1"), 1);
}

#[test]
fn a_monitoring_schedule_update_succeeds_only_once_the_controller_has_taken_it() {
    let case = monitoring_schedule();
    let bed = start(&case, slow_to_update);
    let first = bed.run(&case, "watch-1", &[], &kfp("run-1", "monitor"));
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let first_modified = first.output("last_modified_time").to_owned();

    let update = [("monitoring_schedule_config", SCHEDULE_B)];
    let second = bed.run(&case, "watch-1", &update, &kfp("run-2", "monitor"));
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert_outputs_written(&case, &second);
    assert_eq!(second.output("monitoring_schedule_status"), "Scheduled");
    assert!(
        second.output("last_modified_time") > first_modified.as_str(),
        "{second:?}"
    );
    let object = bed.object(&case, "watch-1").expect("there");
    assert_eq!(
        object["spec"]["monitoringScheduleConfig"]["monitoringJobDefinitionName"],
        "dq-b"
    );
    assert_eq!(
        object["status"]["lastModifiedTime"],
        second.output("last_modified_time")
    );
    assert_eq!(bed.controller.updated("watch-1"), 1);
    let history = bed.history(&case, "watch-1");
    assert!(restamped_old_states(&history, &case, "Scheduled") >= 1);

    // The same inputs again, from another run: nothing to patch. A retry of the update
    // step: done.
    let patches = bed.count(Verb::Patch);
    let same = bed.run(&case, "watch-1", &update, &kfp("run-3", "monitor"));
    assert_eq!(same.code, Some(0), "{}", same.stderr);
    let retried = bed.run(&case, "watch-1", &update, &kfp("run-2", "monitor"));
    assert_eq!(retried.code, Some(0), "{}", retried.stderr);
    assert_eq!(bed.count(Verb::Patch), patches);
    assert_eq!(bed.controller.updated("watch-1"), 1);
}

#[test]
fn a_monitoring_schedule_update_that_fails_fails() {
    let case = monitoring_schedule();
    let bed = start(&case, |o| {
        slow_to_update(o);
        o.update_outcome = UpdateOutcome::RollsBack("Job definition dq-b not found".into());
    });
    let first = bed.run(&case, "watch-1", &[], &kfp("run-1", "monitor"));
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let second = bed.run(
        &case,
        "watch-1",
        &[("monitoring_schedule_config", SCHEDULE_B)],
        &kfp("run-2", "monitor"),
    );
    assert_eq!(second.code, Some(1), "{}", second.stderr);
    assert_eq!(second.output("monitoring_schedule_status"), "Failed");
    assert_eq!(bed.controller.updated("watch-1"), 1);
    assert_eq!(bed.controller.delete_calls("watch-1"), 0);
}

#[test]
fn a_kind_that_cannot_be_updated_refuses_other_inputs_and_a_retry_re_attaches() {
    let mut cases = definitions();
    cases.push(model_package_group());
    for case in cases {
        let bed = start(&case, |_| {});
        let first = bed.run(&case, "fixed-1", &[], &kfp("run-1", "step"));
        assert_eq!(first.code, Some(0), "{}: {}", case.subcommand, first.stderr);
        let before = bed.object(&case, "fixed-1").expect("there");

        let other = bed.run(
            &case,
            "fixed-1",
            &[("tags", r#"[{"key": "team", "value": "other"}]"#)],
            &kfp("run-2", "step"),
        );
        assert_eq!(other.code, Some(6), "{}: {}", case.subcommand, other.stderr);
        let after = bed.object(&case, "fixed-1").expect("there");
        assert_eq!(after["spec"], before["spec"], "{}", case.subcommand);
        assert_eq!(
            after["metadata"]["annotations"],
            before["metadata"]["annotations"]
        );
        assert_eq!(bed.count(Verb::Patch), 0, "{}", case.subcommand);

        let retried = bed.run(&case, "fixed-1", &[], &kfp("run-1", "step"));
        assert_eq!(
            retried.code,
            Some(0),
            "{}: {}",
            case.subcommand,
            retried.stderr
        );
        assert_eq!(retried.output("sagemaker_resource_name"), "fixed-1");
        assert_eq!(bed.controller.created("fixed-1"), 1, "{}", case.subcommand);
    }
}

#[test]
fn cancelling_during_endpoint_creation_deletes_it() {
    let case = endpoint();
    let bed = start(&case, |o| o.create_seconds = 400.0);
    let (child, launch) = bed.spawn(&case, "serve-cancelled", &[], &kfp("run-1", "deploy"));
    eventually("the endpoint to be creating", || {
        bed.object(&case, "serve-cancelled")
            .is_some_and(|o| state_of(&o, &case) == "Creating")
    });
    send_signal(&child, "TERM");
    let run = wait(child, &launch);
    assert_eq!(run.code, Some(143), "{}", run.stderr);
    assert_outputs_written(&case, &run);
    assert_eq!(bed.count(Verb::Delete), 1);
    // The controller waits for Creating to end, then deletes the endpoint.
    eventually("the controller to delete the endpoint", || {
        bed.controller.deleted("serve-cancelled") == 1
            && bed.object(&case, "serve-cancelled").is_none()
    });
}

#[test]
fn cancelling_an_update_leaves_the_endpoint() {
    let case = endpoint();
    let bed = start(&case, |o| o.update_seconds = 1e6);
    let first = bed.run(&case, "serve-1", &[], &kfp("run-1", "deploy"));
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let (child, launch) = bed.spawn(
        &case,
        "serve-1",
        &[("endpoint_config_name", "config-b")],
        &kfp("run-2", "deploy"),
    );
    eventually("the endpoint to be updating", || {
        bed.object(&case, "serve-1")
            .is_some_and(|o| state_of(&o, &case) == "Updating")
    });
    send_signal(&child, "TERM");
    let run = wait(child, &launch);
    assert_eq!(run.code, Some(143), "{}", run.stderr);
    assert_eq!(bed.count(Verb::Delete), 0, "{}", run.stderr);
    let object = bed.object(&case, "serve-1").expect("kept");
    assert!(object["metadata"]["deletionTimestamp"].is_null());
    assert_eq!(bed.controller.delete_calls("serve-1"), 0);
}

#[test]
fn cancelling_a_step_on_an_endpoint_in_service_never_deletes_it() {
    let case = endpoint();
    let bed = start(&case, |_| {});
    let first = bed.run(&case, "serve-1", &[], &kfp("run-1", "deploy"));
    assert_eq!(first.code, Some(0), "{}", first.stderr);

    // A retried attempt of the same step (which may delete what its step created), then
    // another run's step with the same inputs: each finds the endpoint in service, and is
    // cancelled while it reads it (the read is held, so the signal lands in it).
    for (ids, retry) in [
        (kfp("run-1", "deploy"), true),
        (kfp("run-2", "deploy"), false),
    ] {
        let creates = bed.count(Verb::Create);
        bed.bed
            .faults()
            .inject(Fault::delay(Duration::from_millis(800)).only(Verb::Get));
        let (child, launch) = bed.spawn(&case, "serve-1", &[], &ids);
        eventually("the step to find the endpoint", || {
            bed.count(Verb::Create) > creates
        });
        std::thread::sleep(Duration::from_millis(100));
        send_signal(&child, "TERM");
        let run = wait(child, &launch);
        assert_eq!(run.code, Some(143), "{ids:?}: {}", run.stderr);
        assert_outputs_written(&case, &run);
        if retry {
            // The attempt read the endpoint before leaving it: the outputs show it.
            assert_eq!(
                run.output("endpoint_status"),
                "InService",
                "{ids:?}: {}",
                run.stderr
            );
        }
    }

    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(bed.count(Verb::Delete), 0);
    assert!(bed.object(&case, "serve-1").is_some());
    assert_eq!(bed.controller.delete_calls("serve-1"), 0);
    assert_eq!(bed.controller.deleted("serve-1"), 0);
}

#[test]
fn a_resource_not_done_within_the_time_limit_exits_5() {
    let case = endpoint();
    let bed = start(&case, |o| o.create_seconds = 1e9);
    let run = bed.run(&case, "serve-slow", &[], &["--time-limit", "0.5"]);
    assert_eq!(run.code, Some(5), "{}", run.stderr);
    assert!(run.stderr.contains("time limit"), "{}", run.stderr);
    assert_outputs_written(&case, &run);
    assert_eq!(run.output("endpoint_status"), "Creating");
    assert_eq!(bed.count(Verb::Delete), 0, "left as it is");

    // An update that does not finish in time.
    let bed = start(&case, |o| o.update_seconds = 1e9);
    let first = bed.run(&case, "serve-1", &[], &kfp("run-1", "deploy"));
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let run = bed.run(
        &case,
        "serve-1",
        &[("endpoint_config_name", "config-b")],
        &[
            "--time-limit",
            "0.5",
            "--kfp-run-id",
            "run-2",
            "--kfp-step-id",
            "deploy",
        ],
    );
    assert_eq!(run.code, Some(5), "{}", run.stderr);
    assert!(run.stderr.contains("time limit"), "{}", run.stderr);
    assert_eq!(run.output("endpoint_status"), "Updating");
    assert_eq!(bed.count(Verb::Delete), 0);
}
