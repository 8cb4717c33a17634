//! The real ACK SageMaker controller (v1.9.1, runtime 95428e7) on a real kube-apiserver,
//! with our SageMaker API, for every one of the 13 kinds: the emulator is faithful where
//! the controller looks. A resource made by the admin client reaches the state its
//! script says, late initialization completes, and a forced reconcile afterwards finds
//! no difference between the spec and SageMaker's echo (no Terminal "not implemented",
//! no Update call); SageMaker's failure arrives as the controller reports it; errors on
//! Create, throttling and 5xx are what the controller expects; deletes stop or delete in
//! SageMaker and remove the finalizer; an Endpoint update is taken or rolled back, a
//! MonitoringSchedule update taken.
//!
//! One stack for the binary, a namespace per test; each test runs its kinds at once, so
//! the controller's 30 s requeues (a constant) overlap.

use std::time::Duration;

use serde_json::{Value, json};
use testbed::ack::samples::{self, spec};
use testbed::ack::{
    AckStack, AwsError, Kind, Namespace, Script, Verb, abbr, condition, is_true, state_field,
};

const JOBS: [Kind; 4] = [
    Kind::TrainingJob,
    Kind::HyperParameterTuningJob,
    Kind::ProcessingJob,
    Kind::TransformJob,
];

/// The kinds with late-initialized fields (an `ACK.LateInitialized` condition).
const LATE_INITIALIZED: [Kind; 5] = [
    Kind::TrainingJob,
    Kind::HyperParameterTuningJob,
    Kind::TransformJob,
    Kind::Model,
    Kind::EndpointConfig,
];

fn is_job(kind: Kind) -> bool {
    JOBS.contains(&kind)
}

fn is_definition(kind: Kind) -> bool {
    state_field(kind).is_none()
}

/// Runs `check` for each kind at once, each in its own thread, and fails naming every
/// kind that failed (each failure carries its own report).
fn each_kind(kinds: &[Kind], check: impl Fn(Kind) + Sync) {
    let failures: Vec<String> = std::thread::scope(|scope| {
        let running: Vec<_> = kinds
            .iter()
            .map(|&kind| {
                let check = &check;
                (kind, scope.spawn(move || check(kind)))
            })
            .collect();
        running
            .into_iter()
            .filter_map(|(kind, handle)| {
                handle.join().err().map(|panic| {
                    let text = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
                        .unwrap_or_default();
                    format!("=== {kind} ===\n{text}")
                })
            })
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Creates `kind`'s sample resource in `ns` with `script`; returns its name (in
/// Kubernetes and SageMaker).
fn create(ns: &Namespace, kind: Kind, script: Script) -> String {
    let name = format!("{}-{}", ns.name, abbr(kind));
    ns.create_sample(kind, &name, script);
    name
}

fn state(kind: Kind, resource: &Value) -> Option<String> {
    let field = state_field(kind)?;
    resource["status"][field].as_str().map(str::to_string)
}

/// Done as the controller says it: the kind's success state (or, for definitions, the
/// ARN) with `ACK.ResourceSynced` True, and late initialization complete.
fn done(kind: Kind, resource: &Value) -> bool {
    let end = match state_field(kind) {
        None => resource["status"]["ackResourceMetadata"]["arn"].is_string(),
        Some(_) => state(kind, resource).as_deref() == kind.done_status(),
    };
    end && is_true(resource, "ACK.ResourceSynced")
        && (!LATE_INITIALIZED.contains(&kind) || is_true(resource, "ACK.LateInitialized"))
}

fn assert_no_error_condition(ns: &Namespace, kind: Kind, name: &str, resource: &Value) {
    for type_ in ["ACK.Terminal", "ACK.Recoverable"] {
        assert!(
            !is_true(resource, type_),
            "{type_} on {kind} {name}\n{}",
            ns.report(kind, name, Some(resource))
        );
    }
}

#[test]
fn every_kind_reaches_its_end_and_a_forced_reconcile_finds_no_difference() {
    let stack = AckStack::shared();
    let ns = stack.namespace("done");
    each_kind(&Kind::ALL, |kind| {
        let name = create(&ns, kind, Script::completes());
        let resource = ns.wait(kind, &name, "done", |r| done(kind, r));
        assert_no_error_condition(&ns, kind, &name, &resource);
        let arn = resource["status"]["ackResourceMetadata"]["arn"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(arn, kind.arn("us-east-1", "123456789012", &name));
        match kind {
            Kind::TrainingJob => {
                assert_eq!(
                    resource["status"]["modelArtifacts"]["s3ModelArtifacts"],
                    format!("s3://ack-kfp-testbed/churn/models/{name}/output/model.tar.gz")
                );
                assert_eq!(resource["status"]["secondaryStatus"], "Completed");
                // Late initialization wrote SageMaker's defaults into the spec.
                assert_eq!(
                    resource["spec"]["outputDataConfig"]["compressionType"],
                    "GZIP"
                );
            }
            Kind::HyperParameterTuningJob => {
                let best = &resource["status"]["bestTrainingJob"];
                assert_eq!(best["trainingJobStatus"], "Completed", "{best}");
                assert_eq!(best["tunedHyperParameters"]["num_round"], "10", "{best}");
            }
            Kind::Endpoint => {
                let variant = &resource["status"]["productionVariants"][0];
                assert_eq!(variant["variantName"], "AllTraffic", "{resource}");
                assert_eq!(variant["currentInstanceCount"], 1, "{resource}");
            }
            _ => {}
        }
        // A change SageMaker's side does not compare (tags) makes the controller describe
        // and compare again: any difference between the spec and the echo would now be a
        // Terminal `not implemented` (or an update call).
        let from = stack.controller.log_len();
        let patched = ns.patch(
            kind,
            &name,
            json!({"spec": {"tags": [{"key": "team", "value": "ml-platform"}, {"key": "forced", "value": "reconcile"}]}}),
        );
        let generation = patched["metadata"]["generation"]
            .as_i64()
            .expect("generation");
        let sync = ns.wait_for_sync(kind, &name, generation, from);
        assert!(
            sync.get("error").is_none(),
            "the forced reconcile failed: {sync}\n{}",
            ns.report(kind, &name, None)
        );
        let after = ns.get(kind, &name).expect("still there");
        assert!(
            done(kind, &after),
            "{}",
            ns.report(kind, &name, Some(&after))
        );
        assert_no_error_condition(&ns, kind, &name, &after);
        let ops = stack.sagemaker.ops(&name);
        let create_op = format!("Create{}", kind.api_name());
        assert_eq!(
            ops.iter().filter(|op| **op == create_op).count(),
            1,
            "exactly one Create: {ops:?}"
        );
        assert!(!ops.iter().any(|op| op.starts_with("Update")), "{ops:?}");
    });
}

#[test]
fn every_kind_reports_sagemakers_failure_as_the_controller_does() {
    let stack = AckStack::shared();
    let ns = stack.namespace("fail");
    each_kind(&Kind::ALL, |kind| {
        if is_definition(kind) {
            // Definitions have no state: their failure is an error of Create. A terminal
            // code ends it at once. The finalizer stays: the resource manager turns the
            // error into `ackerr.Terminal`, which the runtime's `createResource` does not
            // see as an AWS error, the only kind after which it drops the finalizer.
            let reason = "The role arn:aws:iam::123456789012:role/x cannot be assumed";
            let script = Script::completes()
                .refuse_create(AwsError::terminal("InvalidParameterValue", reason));
            let name = create(&ns, kind, script);
            let r = ns.wait(kind, &name, "Terminal", |r| is_true(r, "ACK.Terminal"));
            let (_, message) = condition(&r, "ACK.Terminal").expect("Terminal");
            // The SDK's format of a code SageMaker's model does not declare.
            assert_eq!(
                message.as_deref(),
                Some(format!("api error InvalidParameterValue: {reason}").as_str())
            );
            assert!(r["status"]["ackResourceMetadata"]["arn"].is_null(), "{r}");
            assert!(r["metadata"]["finalizers"].is_array(), "{r}");
            return;
        }
        let reason = format!("{}Error: the container exited with code 1", kind.api_name());
        let name = create(&ns, kind, Script::fails(&reason));
        let r = ns.wait(kind, &name, "Failed", |r| {
            state(kind, r).as_deref() == Some("Failed") && is_true(r, "ACK.ResourceSynced")
        });
        if kind != Kind::ModelPackageGroup {
            assert_eq!(r["status"]["failureReason"], reason.as_str(), "{r}");
        }
        match kind {
            // The long-lived kinds are Terminal on Failed (`SetTerminalState`) ...
            Kind::Endpoint | Kind::MonitoringSchedule => {
                let (status, message) = condition(&r, "ACK.Terminal").expect("Terminal");
                assert_eq!(status, "True");
                assert_eq!(
                    message.unwrap_or_default(),
                    format!(
                        "{} status reached terminal state: Failed. Check the FailureReason.",
                        kind.api_name()
                    )
                );
            }
            // ... jobs and groups are not: Synced True, Ready True.
            _ => {
                assert!(!is_true(&r, "ACK.Terminal"), "{r}");
                assert!(is_true(&r, "Ready"), "{r}");
            }
        }
    });
}

#[test]
fn a_validation_error_on_create_is_recoverable_and_retried_for_every_kind() {
    let stack = AckStack::shared();
    let ns = stack.namespace("invalid");
    let message = "1 validation error detected: Value 'ml.m5.huge' at 'instanceType' failed to \
                   satisfy constraint: Member must satisfy enum value set";
    each_kind(&Kind::ALL, |kind| {
        let name = create(
            &ns,
            kind,
            Script::completes().refuse_create(AwsError::validation(message)),
        );
        let r = ns.wait(kind, &name, "Recoverable", |r| {
            is_true(r, "ACK.Recoverable")
        });
        let (_, text) = condition(&r, "ACK.Recoverable").expect("Recoverable");
        // The SDK's format of an error it does not model.
        assert!(
            text.unwrap_or_default()
                .ends_with(&format!("api error ValidationException: {message}")),
            "{r}"
        );
        assert!(r["status"]["ackResourceMetadata"]["arn"].is_null(), "{r}");
        assert!(!is_true(&r, "ACK.Terminal"), "{r}");
        // The controller retries with a growing back-off: Create again and again.
        let create_op = format!("Create{}", kind.api_name());
        assert!(
            stack
                .sagemaker
                .wait_for(&name, &create_op, 2, Duration::from_secs(30)),
            "{}",
            ns.report(kind, &name, Some(&r))
        );
        assert!(stack.sagemaker.describe(kind, &name).is_none());
    });
}

#[test]
fn deleting_a_running_job_stops_it_and_then_removes_the_finalizer() {
    let stack = AckStack::shared();
    let ns = stack.namespace("stop");
    each_kind(&JOBS, |kind| {
        let name = create(&ns, kind, Script::works_until_advanced());
        let r = ns.wait(kind, &name, "InProgress", |r| {
            state(kind, r).as_deref() == Some("InProgress")
        });
        let (synced, message) = condition(&r, "ACK.ResourceSynced").expect("Synced");
        assert_eq!(synced, "False");
        assert_eq!(
            message.as_deref(),
            Some(format!("{} is in InProgress status.", kind.api_name()).as_str())
        );
        ns.delete(kind, &name);
        // Stop, a Describe (Stopping), the controller's 30 s requeue, a Describe
        // (Stopped), the finalizer removed.
        ns.wait_gone(kind, &name);
        let stop = format!("Stop{}", kind.api_name());
        assert_eq!(
            stack.sagemaker.count(&name, &stop),
            1,
            "{:?}",
            stack.sagemaker.ops(&name)
        );
        let record = stack
            .sagemaker
            .describe(kind, &name)
            .expect("jobs are never deleted");
        assert_eq!(record[kind.status_member().expect("status")], "Stopped");
    });
}

#[test]
fn deleting_deletes_in_sagemaker_but_never_stops_a_finished_job() {
    let stack = AckStack::shared();
    let ns = stack.namespace("delete");
    each_kind(&Kind::ALL, |kind| {
        let name = create(&ns, kind, Script::completes());
        ns.wait(kind, &name, "done", |r| done(kind, r));
        ns.delete(kind, &name);
        ns.wait_gone(kind, &name);
        let ops = stack.sagemaker.ops(&name);
        if is_job(kind) {
            assert!(!ops.iter().any(|op| op.starts_with("Stop")), "{ops:?}");
            assert!(stack.sagemaker.describe(kind, &name).is_some());
        } else {
            let delete = format!("Delete{}", kind.api_name());
            assert_eq!(ops.iter().filter(|op| **op == delete).count(), 1, "{ops:?}");
            assert!(stack.sagemaker.describe(kind, &name).is_none());
        }
    });
}

#[test]
fn a_name_sagemaker_already_knows_is_terminal_and_never_created() {
    let stack = AckStack::shared();
    let ns = stack.namespace("known");
    each_kind(&Kind::ALL, |kind| {
        let name = format!("{}-{}", ns.name, abbr(kind));
        stack
            .sagemaker
            .seed(kind, "us-east-1", &json!({ kind.name_member(): name }))
            .expect("seed");
        ns.create(kind, &name, spec(kind, &name, &format!("{name}-uses")));
        let r = ns.wait(kind, &name, "Terminal", |r| is_true(r, "ACK.Terminal"));
        let (_, message) = condition(&r, "ACK.Terminal").expect("Terminal");
        assert_eq!(message.as_deref(), Some("Resource already exists"));
        // The other resource's ARN and state are copied into this one's status.
        assert_eq!(
            r["status"]["ackResourceMetadata"]["arn"],
            kind.arn("us-east-1", "123456789012", &name)
        );
        if let Some(field) = state_field(kind) {
            assert!(r["status"][field].is_string(), "{r}");
        }
        let ops = stack.sagemaker.ops(&name);
        assert!(!ops.iter().any(|op| op.starts_with("Create")), "{ops:?}");
    });
}

#[test]
fn throttling_and_server_errors_are_retried_until_one_create_succeeds() {
    let stack = AckStack::shared();
    let ns = stack.namespace("faults");
    each_kind(&Kind::ALL, |kind| {
        // The SDK makes 3 attempts per call: two throttled Describes never reach the
        // controller; four failed Creates reach it once, as a recoverable error.
        let script = Script::completes()
            .fault(Some(Verb::Describe), AwsError::throttling(), 2)
            .fault(Some(Verb::Create), AwsError::internal(), 4);
        let name = create(&ns, kind, script);
        let r = ns.wait(kind, &name, "done", |r| done(kind, r));
        assert_no_error_condition(&ns, kind, &name, &r);
        let create_op = format!("Create{}", kind.api_name());
        let creates: Vec<_> = stack
            .sagemaker
            .calls_for(&name)
            .into_iter()
            .filter(|c| c.op == create_op)
            .collect();
        assert_eq!(creates.len(), 5, "{creates:?}");
        assert_eq!(creates.iter().filter(|c| c.error.is_none()).count(), 1);
    });
}

#[test]
fn updates_of_an_endpoint_are_taken_or_rolled_back_and_a_schedule_update_taken() {
    let stack = AckStack::shared();
    let ns = stack.namespace("update");
    let annotation = "sagemaker.services.k8s.aws/last-endpoint-config-for-update";
    let cases = [
        ("taken", Script::completes()),
        (
            "rolled-back",
            Script::completes().update_rolls_back("ModelError: the new model does not load"),
        ),
    ];
    let endpoint_update = |(case, script): &(&str, Script)| {
        let name = format!("update-ep-{case}");
        let config = format!("{name}-config");
        let new_config = format!("{name}-config-2");
        let model = format!("{name}-model");
        stack.sagemaker.script(&name, script.clone());
        for c in [&config, &new_config] {
            let (_, request) = samples::dependency(Kind::Endpoint, c, &model).expect("config");
            if c == &config {
                let (k, m) = samples::dependency(Kind::EndpointConfig, &model, "").expect("model");
                stack.sagemaker.seed(k, "us-east-1", &m).expect("model");
            }
            stack
                .sagemaker
                .seed(Kind::EndpointConfig, "us-east-1", &request)
                .expect("config");
        }
        ns.create(Kind::Endpoint, &name, spec(Kind::Endpoint, &name, &config));
        ns.wait(Kind::Endpoint, &name, "InService", |r| {
            done(Kind::Endpoint, r)
        });
        ns.patch(
            Kind::Endpoint,
            &name,
            json!({"spec": {"endpointConfigName": new_config}}),
        );
        let r = if *case == "taken" {
            ns.wait(Kind::Endpoint, &name, "updated", |r| {
                r["metadata"]["annotations"][annotation] == new_config.as_str()
                    && done(Kind::Endpoint, r)
            })
        } else {
            ns.wait(Kind::Endpoint, &name, "Terminal after the rollback", |r| {
                is_true(r, "ACK.Terminal")
            })
        };
        let updates: Vec<_> = stack
            .sagemaker
            .calls_for(&name)
            .into_iter()
            .filter(|c| c.op == "UpdateEndpoint")
            .collect();
        assert_eq!(
            updates.len(),
            1,
            "{}",
            ns.report(Kind::Endpoint, &name, Some(&r))
        );
        assert_eq!(
            updates[0].request["EndpointConfigName"],
            new_config.as_str()
        );
        let now = stack
            .sagemaker
            .describe(Kind::Endpoint, &name)
            .expect("endpoint");
        if *case == "taken" {
            assert_no_error_condition(&ns, Kind::Endpoint, &name, &r);
            assert_eq!(now["EndpointConfigName"], new_config.as_str());
        } else {
            let (_, message) = condition(&r, "ACK.Terminal").expect("Terminal");
            assert_eq!(
                message.as_deref(),
                Some(
                    format!(
                        "api error EndpointUpdateError: unable to update endpoint. check \
                         FailureReason. latest EndpointConfigName is {config}"
                    )
                    .as_str()
                )
            );
            assert_eq!(r["status"]["endpointStatus"], "InService");
            assert_eq!(
                r["status"]["failureReason"],
                "ModelError: the new model does not load"
            );
            assert_eq!(now["EndpointConfigName"], config.as_str());
        }
    };
    let schedule_update = || {
        let kind = Kind::MonitoringSchedule;
        let name = create(&ns, kind, Script::completes());
        ns.wait(kind, &name, "Scheduled", |r| done(kind, r));
        let expression = "cron(0 0 ? * * *)";
        ns.patch(
            kind,
            &name,
            json!({"spec": {"monitoringScheduleConfig": {"scheduleConfig": {"scheduleExpression": expression}}}}),
        );
        // SageMaker holds the new expression once the controller's Describe has moved the
        // update past its Pending phase; the resource, which still shows `Scheduled` from
        // before while the controller calls Update, is then done again.
        let applied = || {
            stack.sagemaker.describe(kind, &name).is_some_and(|now| {
                now["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"]
                    == expression
            })
        };
        ns.wait(kind, &name, "Scheduled with the new config", |r| {
            stack.sagemaker.count(&name, "UpdateMonitoringSchedule") == 1
                && applied()
                && done(kind, r)
        });
    };
    std::thread::scope(|scope| {
        let runs: Vec<_> = cases
            .iter()
            .map(|case| scope.spawn(move || endpoint_update(case)))
            .collect();
        let schedule = scope.spawn(schedule_update);
        for run in runs {
            run.join().expect("endpoint update");
        }
        schedule.join().expect("schedule update");
    });
}
