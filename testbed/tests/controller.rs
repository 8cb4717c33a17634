//! Each controller scenario, driven by the sample CRs, produces the status sequence that
//! `ack-trainingjob-controller-semantics.md` describes. Sequences are read from the store's
//! event history (every write is one event), so they are exact and independent of timing.

mod common;

use std::time::Duration;

use common::{NS, bed, sample_named};
use serde_json::{Value, json};
use testbed::{
    AwsError, Controller, ControllerOptions, EventType, FINALIZER, JobState, JobStatus,
    ResourceRef, Scenario, SdkVersion, TestBed, UNMANAGED_REASON,
};

const WAIT: Duration = Duration::from_secs(20);

fn start(scenario: Scenario) -> (TestBed, Controller) {
    let bed = bed();
    let controller = bed.start_controller(ControllerOptions {
        scenario,
        ..Default::default()
    });
    (bed, controller)
}

fn r() -> ResourceRef {
    ResourceRef::training_job()
}

fn create(bed: &TestBed, file: &str, name: &str) -> Value {
    bed.create(&r(), NS, sample_named(file, name)).unwrap()
}

fn status<'a>(o: &'a Value, field: &str) -> Option<&'a str> {
    o.get("status")
        .and_then(|s| s.get(field))
        .and_then(Value::as_str)
}

/// (type, status, message, reason) of each condition, in order.
fn conditions(o: &Value) -> Vec<(String, String, String, String)> {
    o.pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let s = |k: &str| {
                        c.get(k)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    (s("type"), s("status"), s("message"), s("reason"))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn cond(t: &str, s: &str, m: &str, reason: &str) -> (String, String, String, String) {
    (t.into(), s.into(), m.into(), reason.into())
}

fn synced(o: &Value) -> Option<(&str, &str)> {
    o.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == "ACK.ResourceSynced")
        .map(|c| {
            (
                c["status"].as_str().unwrap_or_default(),
                c.get("message").and_then(Value::as_str).unwrap_or_default(),
            )
        })
}

fn wait(bed: &TestBed, name: &str, mut pred: impl FnMut(&Value) -> bool) -> Value {
    bed.wait_for(&r(), NS, name, WAIT, |o| o.is_some_and(&mut pred))
        .unwrap()
        .unwrap()
}

fn wait_status(bed: &TestBed, name: &str, job_status: &str) -> Value {
    wait(bed, name, |o| {
        status(o, "trainingJobStatus") == Some(job_status)
            && synced(o).is_some_and(|s| s.0 == "True")
    })
}

/// Distinct consecutive (trainingJobStatus, secondaryStatus, Synced status, Synced message)
/// tuples of the object's history.
fn status_sequence(bed: &TestBed, name: &str) -> Vec<(String, String, String, String)> {
    let mut out: Vec<(String, String, String, String)> = Vec::new();
    for e in bed.history(&r(), NS, name) {
        let o = &e.object;
        let Some(job) = status(o, "trainingJobStatus") else {
            continue;
        };
        let (ss, sm) = synced(o).unwrap_or_default();
        let t = (
            job.to_string(),
            status(o, "secondaryStatus").unwrap_or_default().to_string(),
            ss.to_string(),
            sm.to_string(),
        );
        if out.last() != Some(&t) {
            out.push(t);
        }
    }
    out
}

fn seq(items: &[(&str, &str, &str, &str)]) -> Vec<(String, String, String, String)> {
    items
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect()
}

/// How many times the simulated SageMaker was called with `operation`.
fn calls(c: &Controller, operation: &str) -> usize {
    c.aws_calls()
        .iter()
        .filter(|c| c.operation == operation)
        .count()
}

fn creates(c: &Controller) -> usize {
    calls(c, "CreateTrainingJob")
}

#[test]
fn completes_with_late_init_finalizer_arn_and_model_artifacts() {
    let (bed, controller) = start(Scenario::completes());
    let mut body = sample_named("my-training-job.yaml", "my-training-job");
    body["metadata"]["annotations"] = json!({"services.k8s.aws/region": "eu-west-1"});
    bed.create(&r(), NS, body).unwrap();
    let done = wait_status(&bed, "my-training-job", "Completed");

    let in_progress = "TrainingJob is in InProgress status.";
    assert_eq!(
        status_sequence(&bed, "my-training-job"),
        seq(&[
            ("InProgress", "Starting", "False", in_progress),
            ("InProgress", "Downloading", "False", in_progress),
            ("InProgress", "Training", "False", in_progress),
            ("InProgress", "Uploading", "False", in_progress),
            (
                "Completed",
                "Completed",
                "True",
                "TrainingJob is in Completed status."
            ),
        ])
    );
    let done_msg = "TrainingJob is in Completed status.";
    let late = "Late initialization successful";
    assert_eq!(
        conditions(&done),
        vec![
            cond("ACK.ResourceSynced", "True", done_msg, ""),
            cond("ACK.LateInitialized", "True", late, late),
            cond("Ready", "True", done_msg, ""),
        ]
    );
    assert_eq!(done["metadata"]["finalizers"], json!([FINALIZER]));
    assert_eq!(
        done["status"]["ackResourceMetadata"],
        json!({"arn": "arn:aws:sagemaker:us-west-2:123456789012:training-job/my-training-job", "ownerAccountID": "123456789012", "region": "eu-west-1", "partition": "aws"})
    );
    assert_eq!(
        done["status"]["modelArtifacts"]["s3ModelArtifacts"],
        "s3://sagemaker-us-west-2-123456789012/xgboost/output/my-training-job/output/model.tar.gz"
    );
    assert_eq!(done["status"]["profilingStatus"], "Disabled");
    assert!(done["status"].get("failureReason").is_none());
    // Late initialisation wrote the spec once: generation 2.
    let spec = &done["spec"];
    assert_eq!(done["metadata"]["generation"], 2);
    assert_eq!(spec["enableNetworkIsolation"], false);
    assert_eq!(spec["enableManagedSpotTraining"], false);
    assert_eq!(spec["enableInterContainerTrafficEncryption"], false);
    assert_eq!(
        spec["algorithmSpecification"]["enableSageMakerMetricsTimeSeries"],
        false
    );
    assert_eq!(spec["outputDataConfig"]["kmsKeyID"], "");
    assert_eq!(spec["outputDataConfig"]["compressionType"], "GZIP");
    // The first writes: create, finalizer, late-init spec patch, then status.
    let history = bed.history(&r(), NS, "my-training-job");
    assert_eq!(history[0].event_type, EventType::Added);
    assert_eq!(
        history[1].object["metadata"]["finalizers"],
        json!([FINALIZER])
    );
    assert!(history[1].object.get("status").is_none());
    assert_eq!(history[2].object["metadata"]["generation"], 2);
    assert_eq!(
        status(&history[3].object, "secondaryStatus"),
        Some("Starting")
    );
    assert_eq!(creates(&controller), 1);
}

#[test]
fn failed_job_is_synced_true_with_failure_reason_and_no_terminal() {
    let reason = "AlgorithmError: framework error: ValueError: could not convert string to float";
    let (bed, controller) = start(Scenario::fails(reason));
    create(&bed, "xgboost-trainingjob.yaml", "xgboost-mnist-20250101");
    let done = wait_status(&bed, "xgboost-mnist-20250101", "Failed");
    assert_eq!(done["status"]["failureReason"], reason);
    assert_eq!(done["status"]["secondaryStatus"], "Failed");
    let types: Vec<String> = conditions(&done).into_iter().map(|c| c.0).collect();
    assert_eq!(
        types,
        ["ACK.ResourceSynced", "ACK.LateInitialized", "Ready"]
    );
    assert_eq!(
        synced(&done),
        Some(("True", "TrainingJob is in Failed status."))
    );
    assert!(done["status"].get("modelArtifacts").is_none());
    let last = status_sequence(&bed, "xgboost-mnist-20250101");
    assert_eq!(last.len(), 4);
    assert_eq!(last[2].1, "Training");
    assert_eq!(creates(&controller), 1);
}

#[test]
fn stopped_outside_kubernetes_goes_through_stopping() {
    let (bed, _c) = start(Scenario::stopped());
    create(&bed, "my-training-job.yaml", "stopped-job");
    let done = wait_status(&bed, "stopped-job", "Stopped");
    assert_eq!(
        synced(&done),
        Some(("True", "TrainingJob is in Stopped status."))
    );
    assert_eq!(
        status_sequence(&bed, "stopped-job"),
        seq(&[
            (
                "InProgress",
                "Starting",
                "False",
                "TrainingJob is in InProgress status."
            ),
            (
                "InProgress",
                "Training",
                "False",
                "TrainingJob is in InProgress status."
            ),
            (
                "Stopping",
                "Stopping",
                "False",
                "TrainingJob is in Stopping status."
            ),
            (
                "Stopped",
                "Stopped",
                "True",
                "TrainingJob is in Stopped status."
            ),
        ])
    );
    assert!(conditions(&done).iter().all(|c| c.0 != "ACK.Terminal"));
}

#[test]
fn max_runtime_exceeded_is_stopped() {
    let (bed, _c) = start(Scenario::max_runtime_exceeded());
    create(&bed, "my-training-job.yaml", "too-long");
    let done = wait_status(&bed, "too-long", "Stopped");
    assert_eq!(done["status"]["secondaryStatus"], "MaxRuntimeExceeded");
}

#[test]
fn name_known_to_sagemaker_is_terminal_with_the_old_jobs_status() {
    let (bed, controller) = start(Scenario::completes());
    controller.add_existing_job(
        "xgboost-mnist-20250101",
        JobState::new(JobStatus::Completed, "Completed"),
    );
    create(&bed, "xgboost-trainingjob.yaml", "xgboost-mnist-20250101");
    let done = wait(&bed, "xgboost-mnist-20250101", |o| {
        !conditions(o).is_empty()
    });
    assert_eq!(
        conditions(&done),
        vec![
            cond(
                "ACK.ResourceSynced",
                "True",
                "TrainingJob is in Completed status.",
                ""
            ),
            cond(
                "ACK.Terminal",
                "True",
                "Resource already exists",
                UNMANAGED_REASON
            ),
            cond("Ready", "False", "Resource already exists", "ACK.Terminal"),
        ]
    );
    // The status is the *old* job's, the CR was never managed, nothing was created.
    assert_eq!(done["status"]["trainingJobStatus"], "Completed");
    assert!(
        done["status"]["modelArtifacts"]["s3ModelArtifacts"]
            .as_str()
            .unwrap()
            .contains("/existing/")
    );
    assert!(done["metadata"].get("finalizers").is_none());
    assert_eq!(creates(&controller), 0);
    // Terminal: no requeue, so exactly one status write happened.
    let writes = |bed: &TestBed| bed.history(&r(), NS, "xgboost-mnist-20250101").len();
    let before = writes(&bed);
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(writes(&bed), before);
    assert_eq!(before, 2);
}

fn assert_recoverable(done: &Value, message: &str) {
    assert_eq!(
        conditions(done),
        vec![
            cond(
                "ACK.ResourceSynced",
                "Unknown",
                "Unable to determine if desired resource state matches latest observed state",
                message
            ),
            cond("ACK.Recoverable", "True", message, ""),
            cond("Ready", "False", message, "ACK.Recoverable"),
        ]
    );
    assert!(done["status"].get("trainingJobStatus").is_none());
    assert!(done["status"].get("ackResourceMetadata").is_none());
}

const BAD_INSTANCE: &str = "1 validation error detected: Value 'ml.m4.huge' at 'resourceConfig.instanceType' failed to satisfy constraint: Member must satisfy enum value set: [ml.m5.xlarge, ml.m4.xlarge]";

#[test]
fn validation_exception_sdk_v2_is_recoverable_and_retried() {
    let (bed, controller) = start(Scenario::create_fails(AwsError::validation(BAD_INSTANCE)));
    create(&bed, "my-training-job.yaml", "invalid-v2");
    let message = format!("api error ValidationException: {BAD_INSTANCE}");
    let done = wait(&bed, "invalid-v2", |o| !conditions(o).is_empty());
    assert_recoverable(&done, &message);
    // Retried with backoff; each attempt adds the finalizer and removes it again.
    bed.wait_for(&r(), NS, "invalid-v2", WAIT, |_| creates(&controller) >= 3)
        .unwrap();
    let now = bed.get(&r(), NS, "invalid-v2").unwrap();
    assert!(
        now["metadata"]
            .get("finalizers")
            .is_none_or(|f| f == &json!([]))
    );
    let finalizer_writes = bed
        .history(&r(), NS, "invalid-v2")
        .iter()
        .filter(|e| e.object["metadata"]["finalizers"] == json!([FINALIZER]))
        .count();
    assert!(finalizer_writes >= 1);
}

#[test]
fn validation_exception_sdk_v1_is_recoverable() {
    let err = AwsError::validation(BAD_INSTANCE).with_sdk(SdkVersion::V1);
    let (bed, _c) = start(Scenario::create_fails(err.clone()));
    create(&bed, "my-training-job.yaml", "invalid-v1");
    let done = wait(&bed, "invalid-v1", |o| !conditions(o).is_empty());
    let message = format!(
        "ValidationException: {BAD_INSTANCE}\n\tstatus code: 400, request id: {}",
        testbed::request_id(&err.code, &err.message)
    );
    assert_eq!(err.text(), message);
    assert_recoverable(&done, &message);
}

#[test]
fn recoverable_error_that_recovers_completes() {
    let throttle = AwsError::new("ThrottlingException", "Rate exceeded");
    let (bed, controller) = start(Scenario::create_fails_then_completes(vec![
        throttle.clone(),
        throttle,
    ]));
    create(&bed, "my-training-job.yaml", "flaky");
    let done = wait_status(&bed, "flaky", "Completed");
    assert!(conditions(&done).iter().all(|c| c.0 != "ACK.Recoverable"));
    let recoverable_writes = bed
        .history(&r(), NS, "flaky")
        .iter()
        .filter(|e| {
            conditions(&e.object).iter().any(|c| {
                c.0 == "ACK.Recoverable" && c.2 == "api error ThrottlingException: Rate exceeded"
            })
        })
        .count();
    assert!(recoverable_writes >= 1);
    assert_eq!(creates(&controller), 3);
    assert_eq!(status_sequence(&bed, "flaky").len(), 5);
}

#[test]
fn terminal_error_code_is_not_retried() {
    let err = AwsError::new(
        "InvalidParameterValue",
        "The hyperparameter num_round must be positive",
    );
    let (bed, controller) = start(Scenario::create_fails(err));
    create(&bed, "xgboost-trainingjob.yaml", "terminal-code");
    let done = wait(&bed, "terminal-code", |o| !conditions(o).is_empty());
    let message = "api error InvalidParameterValue: The hyperparameter num_round must be positive";
    assert_eq!(
        conditions(&done),
        vec![
            cond(
                "ACK.ResourceSynced",
                "False",
                "Resource not synced",
                message
            ),
            cond("ACK.Terminal", "True", message, ""),
            cond("Ready", "False", message, "ACK.Terminal"),
        ]
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(creates(&controller), 1);
}

#[test]
fn debug_rule_issues_found_keeps_synced_false_until_the_rule_ends() {
    let (bed, _c) =
        start(Scenario::completes().with_debug_rule("LossNotDecreasing", "IssuesFound"));
    create(&bed, "my-training-job.yaml", "debugged");
    let done = wait(&bed, "debugged", |o| {
        o.pointer("/status/debugRuleEvaluationStatuses/0/ruleEvaluationStatus")
            .and_then(Value::as_str)
            == Some("IssuesFound")
    });
    let sequence = status_sequence(&bed, "debugged");
    let n = sequence.len();
    assert_eq!(
        sequence[n - 2],
        seq(&[(
            "Completed",
            "Completed",
            "False",
            "DebugRule is in InProgress status."
        )])[0]
    );
    assert_eq!(
        sequence[n - 1],
        seq(&[(
            "Completed",
            "Completed",
            "True",
            "TrainingJob is in Completed status."
        )])[0]
    );
    let rule = &done["status"]["debugRuleEvaluationStatuses"][0];
    assert_eq!(rule["ruleConfigurationName"], "LossNotDecreasing");
    assert!(
        rule["statusDetails"]
            .as_str()
            .unwrap()
            .starts_with("RuleEvaluationConditionMet")
    );
    assert!(
        rule["ruleEvaluationJobARN"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:sagemaker:us-west-2:123456789012:processing-job/")
    );
}

#[test]
fn profiler_rule_in_progress_keeps_synced_false_when_profiling_is_enabled() {
    let (bed, _c) =
        start(Scenario::completes().with_profiler_rule("ProfilerReport", "NoIssuesFound"));
    create(&bed, "my-training-job.yaml", "profiled");
    let done = wait_status(&bed, "profiled", "Completed");
    assert_eq!(done["status"]["profilingStatus"], "Enabled");
    assert_eq!(
        done["status"]["profilerRuleEvaluationStatuses"][0]["ruleEvaluationStatus"],
        "NoIssuesFound"
    );
    let sequence = status_sequence(&bed, "profiled");
    assert!(
        sequence
            .iter()
            .any(|s| s.3 == "ProfilerRule is in InProgress status." && s.0 == "Completed")
    );
}

#[test]
fn absent_controller_never_writes_status() {
    let bed = bed();
    create(&bed, "my-training-job.yaml", "nobody-home");
    std::thread::sleep(Duration::from_millis(100));
    let o = bed.get(&r(), NS, "nobody-home").unwrap();
    assert!(o.get("status").is_none());
    assert_eq!(bed.history(&r(), NS, "nobody-home").len(), 1);
}

#[test]
fn controller_stopped_mid_job_writes_nothing_more() {
    let (bed, controller) = start(Scenario::runs_forever());
    create(&bed, "my-training-job.yaml", "orphaned");
    wait(&bed, "orphaned", |o| {
        status(o, "secondaryStatus") == Some("Training")
    });
    controller.stop();
    let writes = bed.history(&r(), NS, "orphaned").len();
    let reconciles = controller.reconcile_count();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(bed.history(&r(), NS, "orphaned").len(), writes);
    assert_eq!(controller.reconcile_count(), reconciles);
    // New objects are not reconciled either.
    create(&bed, "xgboost-trainingjob.yaml", "after-stop");
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        bed.get(&r(), NS, "after-stop")
            .unwrap()
            .get("status")
            .is_none()
    );
}

#[test]
fn deleting_a_running_job_stops_it_then_removes_the_finalizer() {
    let (bed, controller) = start(Scenario::runs_forever());
    create(&bed, "my-training-job.yaml", "cancelled");
    wait(&bed, "cancelled", |o| {
        status(o, "secondaryStatus") == Some("Training")
    });
    let marked = bed.delete(&r(), NS, "cancelled").unwrap();
    assert!(marked["metadata"]["deletionTimestamp"].is_string());
    bed.wait_for(&r(), NS, "cancelled", WAIT, |o| o.is_none())
        .unwrap();
    let history = bed.history(&r(), NS, "cancelled");
    let tail: Vec<&str> = history[history.len() - 3..]
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(tail, ["MODIFIED", "MODIFIED", "DELETED"]);
    let stopping = &history[history.len() - 2].object;
    assert_eq!(status(stopping, "trainingJobStatus"), Some("Stopping"));
    assert_eq!(
        synced(stopping),
        Some(("False", "TrainingJob is in Stopping status."))
    );
    assert!(conditions(stopping).contains(&cond(
        "ACK.Recoverable",
        "True",
        "TrainingJob is Stopping.",
        ""
    )));
    let deleted = &history[history.len() - 1].object;
    assert_eq!(deleted["metadata"]["finalizers"], json!([]));
    assert_eq!(calls(&controller, "StopTrainingJob"), 1);
}

#[test]
fn deleting_a_finished_job_only_removes_the_finalizer() {
    let (bed, controller) = start(Scenario::completes());
    create(&bed, "my-training-job.yaml", "finished");
    wait_status(&bed, "finished", "Completed");
    bed.delete(&r(), NS, "finished").unwrap();
    bed.wait_for(&r(), NS, "finished", WAIT, |o| o.is_none())
        .unwrap();
    assert_eq!(calls(&controller, "StopTrainingJob"), 0);
}

#[test]
fn retain_deletion_policy_never_calls_aws() {
    let (bed, controller) = start(Scenario::runs_forever());
    let mut body = sample_named("my-training-job.yaml", "kept");
    body["metadata"]["annotations"] = json!({"services.k8s.aws/deletion-policy": "retain"});
    bed.create(&r(), NS, body).unwrap();
    wait(&bed, "kept", |o| {
        status(o, "secondaryStatus") == Some("Training")
    });
    bed.delete(&r(), NS, "kept").unwrap();
    bed.wait_for(&r(), NS, "kept", WAIT, |o| o.is_none())
        .unwrap();
    assert_eq!(calls(&controller, "StopTrainingJob"), 0);
}

#[test]
fn per_name_scenarios_override_the_default() {
    let (bed, controller) = start(Scenario::completes());
    controller.set_scenario_for("special", Scenario::fails("special failure"));
    create(&bed, "my-training-job.yaml", "special");
    create(&bed, "my-training-job.yaml", "ordinary");
    assert_eq!(
        wait_status(&bed, "special", "Failed")["status"]["failureReason"],
        "special failure"
    );
    wait_status(&bed, "ordinary", "Completed");
}

/// The launcher's view: a kube-rs watch over HTTP sees the controller's status changes.
#[tokio::test]
async fn kube_watch_follows_the_controller_to_completion() {
    use futures::{StreamExt, TryStreamExt};
    use kube::api::{PostParams, WatchEvent, WatchParams};

    let (bed, _c) = start(Scenario::completes_after(2));
    let api = common::api(&bed).await;
    let created = api
        .create(
            &PostParams::default(),
            &common::sample("xgboost-trainingjob.yaml"),
        )
        .await
        .unwrap();
    let wp = WatchParams::default()
        .fields("metadata.name=xgboost-mnist-20250101")
        .timeout(60);
    let mut stream = api
        .watch(&wp, &created.metadata.resource_version.unwrap())
        .await
        .unwrap()
        .boxed();
    let mut seen: Vec<String> = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let ev = tokio::time::timeout_at(deadline, stream.try_next())
            .await
            .expect("in time")
            .unwrap()
            .expect("open");
        if let WatchEvent::Modified(o) = ev {
            let secondary = o.data["status"]["secondaryStatus"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if !secondary.is_empty() && seen.last() != Some(&secondary) {
                seen.push(secondary);
            }
            if o.data["status"]["trainingJobStatus"] == "Completed" {
                break;
            }
        }
    }
    assert_eq!(seen, ["Starting", "Training", "Uploading", "Completed"]);
}

/// A CR deleted and created again under the same name (a retried pipeline step) meets the
/// SageMaker job of its first incarnation: Terminal, handled by one fresh worker.
#[test]
fn recreated_name_meets_its_earlier_job_as_terminal() {
    let (bed, controller) = start(Scenario::completes());
    create(&bed, "my-training-job.yaml", "rerun");
    wait_status(&bed, "rerun", "Completed");
    bed.delete(&r(), NS, "rerun").unwrap();
    bed.wait_for(&r(), NS, "rerun", WAIT, |o| o.is_none())
        .unwrap();
    let second = create(&bed, "my-training-job.yaml", "rerun");
    let done = wait(&bed, "rerun", |o| {
        conditions(o).iter().any(|c| c.0 == "ACK.Terminal")
    });
    assert_eq!(done["metadata"]["uid"], second["metadata"]["uid"]);
    assert_eq!(done["status"]["trainingJobStatus"], "Completed");
    std::thread::sleep(Duration::from_millis(100));
    let uid = &second["metadata"]["uid"];
    let writes = bed
        .history(&r(), NS, "rerun")
        .into_iter()
        .filter(|e| &e.object["metadata"]["uid"] == uid)
        .count();
    assert_eq!(writes, 2, "ADDED and one Terminal status write");
    assert_eq!(creates(&controller), 1);
}
