//! The hosting, monitoring and registry kinds (Model, EndpointConfig, Endpoint,
//! MonitoringSchedule, the four monitoring job definitions, ModelPackageGroup) through the
//! real launcher binary as KFP runs it, as the step's ServiceAccount bound only to
//! `component-template/rbac.yaml`, against the real ACK SageMaker controller and our
//! SageMaker API (`common::kfp`). What SageMaker does is each name's script; what the
//! controller makes of it is its own.
//!
//! For every kind: success with the outputs exactly what the controller wrote; SageMaker's
//! failure with its reason; a validation error from Create, at once; a name SageMaker
//! already has, never reported as the step's; SIGTERM while being created (the controller
//! deletes the SageMaker resource, the finalizer goes); a retried attempt that re-attaches
//! (one Create). For Endpoint and MonitoringSchedule the update path, judged only by the
//! real controller's own markers (its writes are recorded by a watch: the states that look
//! done before the controller has acted are there, and the step did not end on them), an
//! update that rolls back or fails, and cancels that delete nothing; for the other kinds,
//! other inputs refused. Time limits and the Role's `patch`.
//!
//! Each test runs its kinds or cases at once (`each`): the controller's 30 s requeue (a
//! constant: an Endpoint or schedule update ends on the Describe after it, a resource
//! deleted while it is being created waits for one) is waited for once per test.

mod common;

use std::time::Duration;

use common::kfp::{Outcome, REGION, Scene, each, finalizer, snake_case};
use serde_json::{Value, json};
use testbed::ack::{AwsError, Kind, Lasts, Phase, Script, Stage, Verb, abbr, is_true, samples};
use testbed::{Fault, FaultProxy};

/// The kinds of this file.
const KINDS: [Kind; 9] = [
    Kind::Model,
    Kind::EndpointConfig,
    Kind::Endpoint,
    Kind::MonitoringSchedule,
    Kind::DataQualityJobDefinition,
    Kind::ModelBiasJobDefinition,
    Kind::ModelExplainabilityJobDefinition,
    Kind::ModelQualityJobDefinition,
    Kind::ModelPackageGroup,
];

/// The kinds SageMaker keeps no state for: done once created.
const DEFINITIONS: [Kind; 6] = [
    Kind::Model,
    Kind::EndpointConfig,
    Kind::DataQualityJobDefinition,
    Kind::ModelBiasJobDefinition,
    Kind::ModelExplainabilityJobDefinition,
    Kind::ModelQualityJobDefinition,
];

/// The annotation the controller writes when it calls UpdateEndpoint.
const LAST_CONFIG: &str = "sagemaker.services.k8s.aws/last-endpoint-config-for-update";

fn is_definition(kind: Kind) -> bool {
    DEFINITIONS.contains(&kind)
}

/// The kind's state in a resource as the API server holds it.
fn state(kind: Kind, resource: &Value) -> Option<String> {
    let field = testbed::ack::state_field(kind)?;
    resource["status"][field].as_str().map(str::to_owned)
}

/// The condition `type_` in an outcome's `conditions` output: (status, message).
fn condition(run: &Outcome<'_, '_>, type_: &str) -> Option<(String, String)> {
    run.json("conditions")
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .map(|c| {
            (
                c["status"].as_str().unwrap_or_default().to_owned(),
                c["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
}

/// `Create<Kind>`, `Delete<Kind>`, ...: SageMaker's operation on `kind`.
fn op(verb: &str, kind: Kind) -> String {
    format!("{verb}{}", kind.api_name())
}

/// How often SageMaker's log has `verb` on `kind` about `name`.
fn calls(scene: &Scene<'_>, verb: &str, kind: Kind, name: &str) -> usize {
    scene.sagemaker().count(name, &op(verb, kind))
}

/// The console page each kind's step logs, if it has one.
fn console_page(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Model => Some("models"),
        Kind::EndpointConfig => Some("endpointConfig"),
        Kind::Endpoint => Some("endpoints"),
        Kind::ModelPackageGroup => Some("model-registry"),
        _ => None,
    }
}

/// A Model's containers with a secret in their environment (never logged).
const SECRET_CONTAINERS: &str = r#"[{"containerHostname": "xgboost", "environment": {"API_TOKEN": "s3cr3t-value"}, "image": "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1", "imageConfig": {"repositoryAccessMode": "Platform"}, "modelDataURL": "s3://ack-kfp-testbed/churn/models/model.tar.gz"}]"#;

#[test]
fn each_kind_succeeds_with_the_outputs_the_controller_wrote() {
    let scene = Scene::shared("hk-done");
    each(&KINDS, |&kind| {
        // Upper case in the SageMaker name: the Kubernetes name and the ARN are lower case.
        let name = scene.prepare(kind, &format!("{}-Ok", abbr(kind)), Script::completes());
        let mut launch = scene.launch(kind, &name);
        if kind == Kind::Model {
            launch = launch.input("containers", SECRET_CONTAINERS);
        }
        let run = launch.run();
        run.assert_code(0);
        run.assert_outputs_written();
        run.assert_outputs_match();
        assert_eq!(run.output("sagemaker_resource_name"), name);
        let arn = kind.arn(REGION, &scene.sagemaker().account(), &name);
        assert!(arn.ends_with(&name.to_ascii_lowercase()), "{arn}");
        assert_eq!(
            run.json("ack_resource_metadata")["arn"],
            arn.as_str(),
            "{}",
            run.context()
        );
        // Done means Synced True (and the kind's ready state), never Terminal.
        assert_eq!(
            condition(&run, "ACK.ResourceSynced")
                .map(|c| c.0)
                .as_deref(),
            Some("True"),
            "{}",
            run.context()
        );
        assert!(
            condition(&run, "ACK.Terminal").is_none_or(|c| c.0 != "True"),
            "{}",
            run.context()
        );
        if let Some(done) = kind.done_status() {
            assert_eq!(run.state(), done, "{}", run.context());
        }
        if kind == Kind::Endpoint {
            assert!(!run.output("creation_time").is_empty());
            let variants = run.json("production_variants");
            assert_eq!(variants[0]["variantName"], "AllTraffic", "{variants}");
            assert_eq!(variants[0]["currentInstanceCount"], 1, "{variants}");
        }
        run.assert_logged(&arn);
        if let Some(page) = console_page(kind) {
            run.assert_logged(&format!("#/{page}/{name}"));
        }
        run.assert_logged("succeeded");
        run.assert_not_logged("s3cr3t-value");
        assert_eq!(calls(&scene, "Create", kind, &name), 1, "{}", run.context());
        assert_eq!(calls(&scene, "Delete", kind, &name), 0, "{}", run.context());
        // Kept after success, with the controller's finalizer.
        let kept = scene.get(kind, &name).expect("kept after success");
        assert!(kept["metadata"]["deletionTimestamp"].is_null(), "{kept}");
        assert_eq!(kept["metadata"]["finalizers"][0], finalizer(kind).as_str());
    });
}

/// A failure SageMaker reports, and what the step says of it.
#[derive(Debug)]
struct Failing {
    kind: Kind,
    base: &'static str,
    script: Script,
    /// The state output, for the kinds with a state.
    state: Option<&'static str>,
    /// What the log must say.
    logged: &'static str,
    /// SageMaker's `FailureReason`, handed on as the `failure_reason` output.
    reason: Option<&'static str>,
}

fn status(value: &str) -> Script {
    Script::timeline(vec![Phase::new(
        Stage::Status {
            status: value.into(),
            failure_reason: None,
        },
        Lasts::Forever,
    )])
}

#[test]
fn sagemakers_failure_fails_the_step_with_its_reason() {
    let capacity = "CapacityError: insufficient ml.c5.large capacity in us-west-2a";
    let schedule = "Job definition hk-fail-ms-dq was not found";
    let role = "The role arn:aws:iam::123456789012:role/ack-sagemaker-execution-role cannot be assumed by SageMaker";
    let mut cases = vec![
        Failing {
            kind: Kind::Endpoint,
            base: "ep-failed",
            script: Script::fails(capacity),
            state: Some("Failed"),
            logged: capacity,
            reason: Some(capacity),
        },
        Failing {
            kind: Kind::Endpoint,
            base: "ep-out",
            script: status("OutOfService"),
            state: Some("OutOfService"),
            logged: "the endpoint is OutOfService",
            reason: None,
        },
        Failing {
            kind: Kind::MonitoringSchedule,
            base: "ms-failed",
            script: Script::fails(schedule),
            state: Some("Failed"),
            logged: schedule,
            reason: Some(schedule),
        },
        Failing {
            kind: Kind::MonitoringSchedule,
            base: "ms-stopped",
            script: status("Stopped"),
            state: Some("Stopped"),
            logged: "the monitoring schedule was stopped",
            reason: None,
        },
        Failing {
            kind: Kind::ModelPackageGroup,
            base: "mpg-failed",
            script: Script::fails("quota exceeded"),
            state: Some("Failed"),
            logged: "the model package group is Failed",
            reason: None,
        },
    ];
    // A definition has no state: SageMaker refuses to create it, with a code the
    // controller takes as terminal.
    for kind in DEFINITIONS {
        cases.push(Failing {
            kind,
            base: abbr(kind),
            script: Script::completes()
                .refuse_create(AwsError::terminal("InvalidParameterValue", role)),
            state: None,
            logged: role,
            reason: None,
        });
    }
    let scene = Scene::shared("hk-fail");
    each(&cases, |case| {
        let kind = case.kind;
        let name = scene.prepare(kind, case.base, case.script.clone());
        let run = scene.launch(kind, &name).run();
        run.assert_code(1);
        run.assert_logged(case.logged);
        run.assert_outputs_written();
        run.assert_outputs_match();
        if let Some(state) = case.state {
            assert_eq!(run.state(), state, "{}", run.context());
        }
        if let Some(reason) = case.reason {
            assert_eq!(run.output("failure_reason"), reason, "{}", run.context());
        }
        if is_definition(kind) {
            // Never created: no ARN, and the controller's Terminal says why.
            assert!(
                run.json("ack_resource_metadata")["arn"].is_null(),
                "{}",
                run.context()
            );
            let (terminal, message) = condition(&run, "ACK.Terminal").expect("Terminal");
            assert_eq!(terminal, "True");
            assert_eq!(message, format!("api error InvalidParameterValue: {role}"));
            assert!(scene.sagemaker().describe(kind, &name).is_none());
        } else {
            assert_eq!(calls(&scene, "Create", kind, &name), 1, "{}", run.context());
        }
        // A failed resource is left for the user to look at.
        assert_eq!(calls(&scene, "Delete", kind, &name), 0, "{}", run.context());
        assert!(scene.get(kind, &name).is_some());
    });
}

#[test]
fn a_validation_error_from_create_fails_at_once() {
    let scene = Scene::shared("hk-invalid");
    let message = "1 validation error detected: Value 'ml.c5.huge' at 'instanceType' failed to \
                   satisfy constraint: Member must satisfy enum value set";
    each(&KINDS, |&kind| {
        let (mut launch, name, expected) = if kind == Kind::Endpoint {
            // SageMaker's own refusal: the configuration it names does not exist.
            let name = scene.prepare(kind, abbr(kind), Script::completes());
            let launch = scene
                .launch(kind, &name)
                .input("endpoint_config_name", &format!("{name}-missing"));
            (launch, name, "Could not find endpoint configuration")
        } else {
            let script = Script::completes().refuse_create(AwsError::validation(message));
            let name = scene.prepare(kind, abbr(kind), script);
            (scene.launch(kind, &name), name, message)
        };
        // The controller retries a ValidationException for ever (Recoverable): the step
        // must not wait out its limits.
        launch = launch
            .flag("--recoverable-timeout", "600")
            .flag("--status-timeout", "600");
        let run = launch.run();
        run.assert_code(1);
        run.assert_logged("SageMaker rejected the job");
        run.assert_logged(&format!("api error ValidationException: {expected}"));
        assert!(
            run.took < Duration::from_secs(60),
            "waited {:?}\n{}",
            run.took,
            run.context()
        );
        run.assert_outputs_written();
        run.assert_outputs_match();
        assert!(run.json("ack_resource_metadata")["arn"].is_null());
        assert!(scene.sagemaker().describe(kind, &name).is_none());
        assert!(calls(&scene, "Create", kind, &name) >= 1);
    });
}

#[test]
fn a_name_sagemaker_already_has_is_not_reported_as_the_steps() {
    let scene = Scene::shared("hk-known");
    each(&KINDS, |&kind| {
        // SageMaker holds a resource of the name that no step of this namespace made.
        let name = scene.prepare(kind, abbr(kind), Script::completes());
        let arn = scene
            .sagemaker()
            .seed(kind, REGION, &json!({ kind.name_member(): name }))
            .expect("seeded");
        let run = scene.launch(kind, &name).run();
        run.assert_code(1);
        run.assert_logged("Resource already exists");
        run.assert_logged("SageMaker already has a");
        // Nothing of the other resource is the step's: no ARN or links in the log, none of
        // its status in the outputs (only the conditions, which are this resource's).
        run.assert_not_logged(&arn);
        run.assert_not_logged("console:");
        run.assert_outputs_written();
        // Not even its name: a later step must not take that resource for this one's.
        for (output, ty) in run.launch.component.outputs() {
            if output != "conditions" {
                run.assert_output_is(&output, &ty, None);
            }
        }
        let (terminal, message) = condition(&run, "ACK.Terminal").expect("Terminal");
        assert_eq!(
            (terminal.as_str(), message.as_str()),
            ("True", "Resource already exists")
        );
        // The controller did copy that resource's ARN into this one: the step withheld it.
        let resource = scene.get(kind, &name).expect("the resource");
        assert_eq!(
            resource["status"]["ackResourceMetadata"]["arn"],
            arn.as_str()
        );
        // Neither created nor deleted in SageMaker.
        let ops = scene.sagemaker().ops(&name);
        assert!(
            !ops.iter()
                .any(|op| op.starts_with("Create") || op.starts_with("Delete")),
            "{ops:?}\n{}",
            run.context()
        );
        assert!(scene.sagemaker().describe(kind, &name).is_some());
    });
}

/// A script that keeps `kind` being created for a while: a definition's Create answered
/// only after `for_definitions`; the other kinds working for `describes` Describes.
fn being_created(kind: Kind, for_definitions: Duration, describes: u32) -> Script {
    if is_definition(kind) {
        Script::completes().slow(Verb::Create, for_definitions)
    } else {
        Script::works(Lasts::Describes(describes))
    }
}

/// Whether the controller is creating `kind`'s resource: a definition's Create under
/// way (the finalizer is added just before it is sent), another kind working.
fn creating(kind: Kind, resource: &Value) -> bool {
    match kind.working_status() {
        None => {
            resource["metadata"]["finalizers"].is_array()
                && resource["status"]["ackResourceMetadata"]["arn"].is_null()
        }
        Some(working) => state(kind, resource).as_deref() == Some(working),
    }
}

#[test]
fn sigterm_while_being_created_deletes_the_resource_in_sagemaker() {
    let scene = Scene::shared("hk-sigterm");
    each(&KINDS, |&kind| {
        // Working for two Describes: the one after Create and the delete's, which
        // therefore meets a resource SageMaker cannot delete yet.
        let name = scene.prepare(
            kind,
            abbr(kind),
            being_created(kind, Duration::from_secs(4), 2),
        );
        let proxy = FaultProxy::start(&scene.stack().cluster).expect("proxy");
        let running = scene.launch(kind, &name).through(&proxy).spawn();
        scene.eventually(
            kind,
            &name,
            "being created",
            Duration::from_secs(30),
            || scene.get(kind, &name).is_some_and(|r| creating(kind, &r)),
        );
        running.signal("TERM");
        let run = running.wait();
        run.assert_code(143);
        run.assert_outputs_written();
        run.assert_logged(&format!("deleted {}", name.to_ascii_lowercase()));
        assert_eq!(proxy.requests().count(testbed::Verb::Delete), 1);
        if let Some(working) = kind.working_status() {
            assert_eq!(run.state(), working, "{}", run.context());
            // The controller deletes nothing SageMaker is still creating: it waits.
            let waits = format!(
                "{} in {working} state cannot be modified or deleted.",
                kind.api_name()
            );
            scene
                .ns
                .wait(kind, &name.to_ascii_lowercase(), "waiting to delete", |r| {
                    testbed::ack::condition(r, "ACK.Recoverable")
                        .is_some_and(|(s, m)| s == "True" && m.as_deref() == Some(waits.as_str()))
                });
        }
        // Then it deletes it in SageMaker and removes its finalizer.
        scene.ns.wait_gone(kind, &name.to_ascii_lowercase());
        assert_eq!(calls(&scene, "Create", kind, &name), 1, "{}", run.context());
        assert_eq!(calls(&scene, "Delete", kind, &name), 1, "{}", run.context());
        assert!(scene.sagemaker().describe(kind, &name).is_none());
    });
}

#[test]
fn a_retried_step_re_attaches_to_what_its_first_attempt_created() {
    let scene = Scene::shared("hk-retry");
    each(&KINDS, |&kind| {
        let name = scene.prepare(
            kind,
            abbr(kind),
            being_created(kind, Duration::from_secs(3), 1),
        );
        let launch = scene.launch(kind, &name);
        // The first attempt's pod dies (SIGKILL: no clean-up) while the resource is being
        // created; KFP runs the step again with the same run and step.
        let first = launch.spawn();
        scene.eventually(
            kind,
            &name,
            "being created",
            Duration::from_secs(30),
            || scene.get(kind, &name).is_some_and(|r| creating(kind, &r)),
        );
        first.signal("KILL");
        let killed = first.wait();
        assert_eq!(killed.code, None, "{}", killed.context());
        let retry = launch.run();
        retry.assert_code(0);
        retry.assert_logged("re-attaching");
        retry.assert_outputs_match();
        if let Some(done) = kind.done_status() {
            assert_eq!(retry.state(), done, "{}", retry.context());
        }
        // And once more after success: still the one resource.
        let again = launch.run();
        again.assert_code(0);
        again.assert_logged("re-attaching");
        assert_eq!(
            again.json("ack_resource_metadata"),
            retry.json("ack_resource_metadata")
        );
        assert_eq!(
            calls(&scene, "Create", kind, &name),
            1,
            "{}",
            again.context()
        );
        assert_eq!(
            calls(&scene, "Delete", kind, &name),
            0,
            "{}",
            again.context()
        );
    });
}

#[test]
fn a_kind_that_cannot_be_updated_refuses_other_inputs_and_changes_nothing() {
    let mut kinds = DEFINITIONS.to_vec();
    kinds.push(Kind::ModelPackageGroup);
    let scene = Scene::shared("hk-fixed");
    each(&kinds, |&kind| {
        let name = scene.prepare(kind, abbr(kind), Script::completes());
        let first = scene.launch(kind, &name).run();
        first.assert_code(0);
        let before = scene.get(kind, &name).expect("created");

        // Another run's step with other inputs (another tag) and the same name.
        let proxy = FaultProxy::start(&scene.stack().cluster).expect("proxy");
        let other = scene
            .launch(kind, &name)
            .identity("uid-run-2", "hk-fixed.step")
            .input("tags", r#"[{"key": "team", "value": "other"}]"#)
            .through(&proxy)
            .run();
        other.assert_code(6);
        other.assert_logged("cannot update");
        let requests = proxy.requests();
        assert_eq!(
            requests.count(testbed::Verb::Patch)
                + requests.count(testbed::Verb::Update)
                + requests.count(testbed::Verb::Delete),
            0,
            "{:?}",
            requests.records()
        );
        let after = scene.get(kind, &name).expect("kept");
        assert_eq!(after["spec"], before["spec"]);
        assert_eq!(
            after["metadata"]["annotations"],
            before["metadata"]["annotations"]
        );
        // Its outputs are not the other run's resource's.
        assert!(other.json("ack_resource_metadata")["arn"].is_null());
        // A retry of the step that made it re-attaches.
        let retried = scene.launch(kind, &name).run();
        retried.assert_code(0);
        retried.assert_logged("re-attaching");
        assert_eq!(retried.output("sagemaker_resource_name"), name);
        assert_eq!(calls(&scene, "Create", kind, &name), 1);
    });
}

// ---------------------------------------------------------------------------------------
// Updates: Endpoint and MonitoringSchedule.

/// An Endpoint in service on its first configuration, made by a first step; the name of a
/// second configuration SageMaker has, to update to.
struct Deployed {
    name: String,
    first: String,
    second: String,
    /// The first step's `last_modified_time`.
    modified: String,
}

/// The first step: creates the endpoint (run 1), with `script` for it in SageMaker; seeds
/// a second configuration of the same model.
fn deploy(scene: &Scene<'_>, base: &str, script: Script) -> Deployed {
    let kind = Kind::Endpoint;
    let name = scene.prepare(kind, base, script);
    let second = format!("{name}-second");
    let (config_kind, request) =
        samples::dependency(kind, &second, &format!("{name}-model")).expect("a configuration");
    scene
        .sagemaker()
        .seed(config_kind, REGION, &request)
        .expect("seeded");
    let first = scene
        .launch(kind, &name)
        .identity("uid-run-1", "deploy")
        .run();
    first.assert_code(0);
    assert_eq!(first.state(), "InService");
    Deployed {
        first: format!("{name}-uses"),
        modified: first.output("last_modified_time").to_owned(),
        name,
        second,
    }
}

/// A state of the endpoint that the step must not take for the update: done-looking
/// (InService, Synced True) with the `lastModifiedTime` from before.
fn old_and_done_looking(resource: &Value, modified: &str) -> bool {
    resource["status"]["endpointStatus"] == "InService"
        && is_true(resource, "ACK.ResourceSynced")
        && resource["status"]["lastModifiedTime"] == modified
}

#[test]
fn endpoint_updates_end_on_the_controllers_markers_and_fail_on_a_rollback() {
    let scene = Scene::shared("hk-ep-update");
    let cases = ["taken", "rolled-back", "retried", "refused"];
    each(&cases, |&case| {
        let script = match case {
            "rolled-back" => Script::completes().update_rolls_back(
                "The primary container for production variant AllTraffic did not pass the ping health check",
            ),
            _ => Script::completes(),
        };
        let ep = deploy(&scene, &format!("ep-{case}"), script);
        let proxy = FaultProxy::start(&scene.stack().cluster).expect("proxy");
        let second = if case == "refused" {
            format!("{}-missing", ep.name)
        } else {
            ep.second.clone()
        };
        let update = scene
            .launch(Kind::Endpoint, &ep.name)
            .identity("uid-run-2", "deploy")
            .input("endpoint_config_name", &second)
            .input("tags", r#"[{"key": "team", "value": "data"}]"#)
            .through(&proxy);
        match case {
            "taken" => {
                let run = update.run();
                update_taken(&scene, &ep, &proxy, &run);
                // The same inputs again from a third run: nothing to update. A retry of the
                // update step: done, nothing patched.
                let patches = proxy.requests().count(testbed::Verb::Patch);
                let same = update.clone().identity("uid-run-3", "deploy").run();
                same.assert_code(0);
                same.assert_logged("nothing to update");
                assert_eq!(same.state(), "InService");
                let retried = update.run();
                retried.assert_code(0);
                assert_eq!(proxy.requests().count(testbed::Verb::Patch), patches);
                assert_eq!(scene.sagemaker().count(&ep.name, "UpdateEndpoint"), 1);
            }
            "rolled-back" => {
                let run = update.run();
                run.assert_code(1);
                run.assert_logged("the ACK controller has taken the update");
                run.assert_logged("EndpointUpdateError");
                run.assert_outputs_written();
                run.assert_outputs_match();
                // SageMaker's reason is handed on; the endpoint serves the old configuration.
                assert_eq!(
                    run.output("failure_reason"),
                    "The primary container for production variant AllTraffic did not pass the ping health check"
                );
                assert_eq!(run.state(), "InService");
                let now = scene
                    .sagemaker()
                    .describe(Kind::Endpoint, &ep.name)
                    .expect("kept");
                assert_eq!(now["EndpointConfigName"], ep.first.as_str());
                assert_eq!(scene.sagemaker().count(&ep.name, "UpdateEndpoint"), 1);
            }
            "retried" => {
                // The first attempt of the update step dies after its patch.
                let first = update.spawn();
                scene.eventually(
                    Kind::Endpoint,
                    &ep.name,
                    "the patch",
                    Duration::from_secs(30),
                    || {
                        scene
                            .get(Kind::Endpoint, &ep.name)
                            .is_some_and(|r| r["spec"]["endpointConfigName"] == second.as_str())
                    },
                );
                first.signal("KILL");
                let _ = first.wait();
                // The retried attempt follows that update, rather than trusting the state.
                let retry = update.run();
                retry.assert_code(0);
                retry.assert_logged("being updated by an earlier attempt of this step");
                retry.assert_outputs_match();
                assert_eq!(retry.state(), "InService");
                assert!(
                    retry.output("last_modified_time") > ep.modified.as_str(),
                    "{}",
                    retry.context()
                );
                let patches = proxy.requests().count(testbed::Verb::Patch);
                let again = update.run();
                again.assert_code(0);
                assert_eq!(proxy.requests().count(testbed::Verb::Patch), patches);
                assert_eq!(scene.sagemaker().count(&ep.name, "UpdateEndpoint"), 1);
            }
            _ => {
                // SageMaker refuses the update (no such configuration): a new failure that
                // the controller will retry for ever, so the step fails at once.
                let run = update.flag("--recoverable-timeout", "600").run();
                run.assert_code(1);
                run.assert_logged("Could not find endpoint configuration");
                assert!(run.took < Duration::from_secs(30), "{}", run.context());
                run.assert_outputs_match();
                let now = scene
                    .sagemaker()
                    .describe(Kind::Endpoint, &ep.name)
                    .expect("kept");
                assert_eq!(now["EndpointConfigName"], ep.first.as_str());
                assert_eq!(now["EndpointStatus"], "InService");
            }
        }
        assert_eq!(scene.sagemaker().count(&ep.name, "CreateEndpoint"), 1);
        assert_eq!(scene.sagemaker().count(&ep.name, "DeleteEndpoint"), 0);
        assert_eq!(proxy.requests().count(testbed::Verb::Delete), 0);
        let kept = scene.get(Kind::Endpoint, &ep.name).expect("kept");
        assert!(kept["metadata"]["deletionTimestamp"].is_null(), "{kept}");
    });
}

/// The update step succeeded only once the controller had taken the update.
fn update_taken(scene: &Scene<'_>, ep: &Deployed, proxy: &FaultProxy, run: &Outcome<'_, '_>) {
    run.assert_code(0);
    run.assert_outputs_written();
    run.assert_outputs_match();
    // The controller does not update tags: left out, with a warning.
    run.assert_logged("warning: input for `tags` differs");
    run.assert_logged("the ACK controller has taken the update");
    // The outputs are the state after the update: in service, modified since.
    assert_eq!(run.state(), "InService");
    assert!(
        run.output("last_modified_time") > ep.modified.as_str(),
        "{}",
        run.context()
    );
    assert_eq!(run.json("pending_deployment_summary"), json!({}));
    assert_eq!(run.output("sagemaker_resource_name"), ep.name);
    // Before the controller acted, the resource looked done twice: the launcher's own
    // patch answered with the old InService, and the controller wrote its annotation in a
    // metadata patch before its status patch. The step ended on neither.
    let patched = |r: &Value| r["spec"]["endpointConfigName"] == ep.second.as_str();
    assert!(
        run.versions.iter().any(|r| patched(r)
            && r["metadata"]["annotations"][LAST_CONFIG].is_null()
            && old_and_done_looking(r, &ep.modified)),
        "no version with the patch and the old, done-looking state\n{}",
        run.context()
    );
    assert!(
        run.versions.iter().any(|r| patched(r)
            && r["metadata"]["annotations"][LAST_CONFIG] == ep.second.as_str()
            && old_and_done_looking(r, &ep.modified)),
        "no version with the controller's annotation and the old state\n{}",
        run.context()
    );
    // One patch accepted, of the one updatable field the inputs changed.
    let records = proxy.requests().records();
    let patches: Vec<_> = records
        .iter()
        .filter(|r| r.verb == testbed::Verb::Patch)
        .collect();
    let (accepted, refused): (Vec<&&testbed::RequestRecord>, Vec<_>) =
        patches.iter().partition(|r| (200..300).contains(&r.status));
    assert_eq!(accepted.len(), 1, "{patches:?}");
    assert!(refused.iter().all(|r| r.status == 409), "{patches:?}");
    let body: Value = serde_json::from_str(&accepted[0].body).expect("a JSON patch");
    assert_eq!(body["spec"], json!({"endpointConfigName": ep.second}));
    let resource = scene.get(Kind::Endpoint, &ep.name).expect("kept");
    let annotations = &resource["metadata"]["annotations"];
    assert_eq!(annotations[LAST_CONFIG], ep.second.as_str());
    assert_eq!(
        annotations["ack-kfp.launcher/kfp-run-step"],
        "uid-run-2/deploy"
    );
    assert!(
        annotations["ack-kfp.launcher/update-from"].is_string(),
        "{annotations}"
    );
    assert_eq!(
        resource["spec"]["tags"],
        json!([{"key": "team", "value": "ml-platform"}])
    );
    // SageMaker: one UpdateEndpoint to the new configuration, which it now serves.
    let updates: Vec<_> = scene
        .sagemaker()
        .calls_for(&ep.name)
        .into_iter()
        .filter(|c| c.op == "UpdateEndpoint")
        .collect();
    assert_eq!(updates.len(), 1, "{}", run.context());
    assert_eq!(updates[0].request["EndpointConfigName"], ep.second.as_str());
    let now = scene
        .sagemaker()
        .describe(Kind::Endpoint, &ep.name)
        .expect("endpoint");
    assert_eq!(now["EndpointConfigName"], ep.second.as_str());
}

/// A schedule made by a first step, and the config of an update (another expression).
fn schedule(scene: &Scene<'_>, base: &str, script: Script) -> (String, String, String) {
    let kind = Kind::MonitoringSchedule;
    let name = scene.prepare(kind, base, script);
    let first = scene
        .launch(kind, &name)
        .identity("uid-run-1", "monitor")
        .run();
    first.assert_code(0);
    assert_eq!(first.state(), "Scheduled");
    let mut config =
        samples::spec(kind, &name, &format!("{name}-uses"))["monitoringScheduleConfig"].clone();
    config["scheduleConfig"]["scheduleExpression"] = json!("cron(0 0 ? * * *)");
    (
        name,
        config.to_string(),
        first.output("last_modified_time").to_owned(),
    )
}

#[test]
fn monitoring_schedule_updates_end_on_the_controllers_markers_and_fail_with_sagemakers_reason() {
    let scene = Scene::shared("hk-ms-update");
    let reason = "The monitoring job definition has no baseline constraints";
    each(&["taken", "fails"], |&case| {
        let kind = Kind::MonitoringSchedule;
        let script = match case {
            "fails" => Script::completes().update_fails(reason),
            _ => Script::completes(),
        };
        let (name, config, modified) = schedule(&scene, &format!("ms-{case}"), script);
        let proxy = FaultProxy::start(&scene.stack().cluster).expect("proxy");
        let update = scene
            .launch(kind, &name)
            .identity("uid-run-2", "monitor")
            .input("monitoring_schedule_config", &config)
            .through(&proxy);
        let run = update.run();
        run.assert_logged("the ACK controller has taken the update");
        run.assert_outputs_written();
        run.assert_outputs_match();
        // The launcher's patch answered with the old Scheduled and Synced True, and the
        // controller's first write after UpdateMonitoringSchedule still shows Scheduled
        // (Synced False, "Pending"): the step ended on neither.
        let patched = |r: &Value| {
            r["spec"]["monitoringScheduleConfig"]["scheduleConfig"]["scheduleExpression"]
                == "cron(0 0 ? * * *)"
                && r["status"]["monitoringScheduleStatus"] == "Scheduled"
                && r["status"]["lastModifiedTime"] == modified.as_str()
        };
        assert!(
            run.versions
                .iter()
                .any(|r| patched(r) && is_true(r, "ACK.ResourceSynced")),
            "{}",
            run.context()
        );
        assert!(
            run.versions.iter().any(|r| patched(r)
                && testbed::ack::condition(r, "ACK.ResourceSynced")
                    == Some((
                        "False".into(),
                        Some("MonitoringSchedule is in Pending status.".into())
                    ))),
            "{}",
            run.context()
        );
        assert!(
            run.output("last_modified_time") > modified.as_str(),
            "{}",
            run.context()
        );
        let updates = scene.sagemaker().count(&name, "UpdateMonitoringSchedule");
        assert_eq!(updates, 1, "{}", run.context());
        let now = scene.sagemaker().describe(kind, &name).expect("kept");
        assert_eq!(
            now["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"],
            "cron(0 0 ? * * *)"
        );
        if case == "fails" {
            run.assert_code(1);
            run.assert_logged(reason);
            assert_eq!(run.state(), "Failed");
            assert_eq!(run.output("failure_reason"), reason);
        } else {
            run.assert_code(0);
            assert_eq!(run.state(), "Scheduled");
            // The same inputs from another run, and a retry of the update step: nothing
            // to patch, done.
            let patches = proxy.requests().count(testbed::Verb::Patch);
            let same = update.clone().identity("uid-run-3", "monitor").run();
            same.assert_code(0);
            let retried = update.run();
            retried.assert_code(0);
            assert_eq!(proxy.requests().count(testbed::Verb::Patch), patches);
            assert_eq!(
                scene.sagemaker().count(&name, "UpdateMonitoringSchedule"),
                1
            );
        }
        assert_eq!(proxy.requests().count(testbed::Verb::Delete), 0);
        assert_eq!(calls(&scene, "Delete", kind, &name), 0);
        assert_eq!(calls(&scene, "Create", kind, &name), 1);
    });
}

/// What a cancel meets.
#[derive(Debug, Clone, Copy)]
enum Cancel {
    /// An update step, while SageMaker updates.
    DuringUpdate(Kind),
    /// A step on a resource in service: a retried attempt of the step that made it, then
    /// another run's step with the same inputs.
    Finished(Kind),
}

#[test]
fn cancelling_an_update_or_a_finished_resource_deletes_nothing() {
    let scene = Scene::shared("hk-cancel");
    let cases = [
        Cancel::DuringUpdate(Kind::Endpoint),
        Cancel::DuringUpdate(Kind::MonitoringSchedule),
        Cancel::Finished(Kind::Endpoint),
        Cancel::Finished(Kind::MonitoringSchedule),
    ];
    each(&cases, |&case| {
        let proxy = FaultProxy::start(&scene.stack().cluster).expect("proxy");
        let (kind, name) = match case {
            Cancel::DuringUpdate(kind) => {
                // SageMaker updates until the test ends.
                let script = Script::completes().updating_for(Lasts::UntilAdvanced);
                let (name, update) = if kind == Kind::Endpoint {
                    let ep = deploy(&scene, "ep-updating", script);
                    let update = scene
                        .launch(kind, &ep.name)
                        .identity("uid-run-2", "deploy")
                        .input("endpoint_config_name", &ep.second);
                    (ep.name, update)
                } else {
                    let (name, config, _) = schedule(&scene, "ms-updating", script);
                    let update = scene
                        .launch(kind, &name)
                        .identity("uid-run-2", "monitor")
                        .input("monitoring_schedule_config", &config);
                    (name, update)
                };
                let running = update.through(&proxy).spawn();
                // The controller's write after its Update call.
                let marker = format!(
                    "{} is in {} status.",
                    kind.api_name(),
                    if kind == Kind::Endpoint {
                        "Updating"
                    } else {
                        "Pending"
                    }
                );
                scene.eventually(
                    kind,
                    &name,
                    "the update under way",
                    Duration::from_secs(30),
                    || {
                        scene.get(kind, &name).is_some_and(|r| {
                            testbed::ack::condition(&r, "ACK.ResourceSynced")
                                .is_some_and(|(_, m)| m.as_deref() == Some(marker.as_str()))
                        })
                    },
                );
                running.signal("TERM");
                let run = running.wait();
                run.assert_code(143);
                run.assert_outputs_written();
                run.assert_logged("nothing of this step's to delete");
                (kind, name)
            }
            Cancel::Finished(kind) => {
                let name =
                    scene.prepare(kind, &format!("{}-done", abbr(kind)), Script::completes());
                let launch = scene.launch(kind, &name);
                launch.run().assert_code(0);
                let done = kind.done_status().expect("a state");
                // Each finds the resource done, and is cancelled while it reads it (the
                // read is held, so the signal lands in it).
                for (run_id, retry) in [
                    (format!("uid-{}", scene.ns.name), true),
                    ("uid-other".to_owned(), false),
                ] {
                    let step = launch.clone().identity(
                        &run_id,
                        &format!("{}.{}", scene.ns.name, snake_case(kind.api_name())),
                    );
                    let creates = proxy.requests().count(testbed::Verb::Create);
                    proxy.inject(Fault::delay(Duration::from_millis(800)).only(testbed::Verb::Get));
                    let running = step.through(&proxy).spawn();
                    scene.eventually(
                        kind,
                        &name,
                        "the step to find it",
                        Duration::from_secs(30),
                        || proxy.requests().count(testbed::Verb::Create) > creates,
                    );
                    std::thread::sleep(Duration::from_millis(100));
                    running.signal("TERM");
                    let run = running.wait();
                    run.assert_code(143);
                    run.assert_outputs_written();
                    if retry {
                        // The attempt read it before leaving it: the outputs show it.
                        assert_eq!(run.state(), done, "{}", run.context());
                    }
                }
                (kind, name)
            }
        };
        assert_eq!(
            proxy.requests().count(testbed::Verb::Delete),
            0,
            "{:?}",
            proxy.requests().records()
        );
        let kept = scene.get(kind, &name).expect("kept");
        assert!(kept["metadata"]["deletionTimestamp"].is_null(), "{kept}");
        assert_eq!(calls(&scene, "Delete", kind, &name), 0);
    });
}

#[test]
fn a_resource_or_an_update_not_done_within_the_time_limit_exits_5() {
    let scene = Scene::shared("hk-limit");
    each(&["creating", "update-not-taken", "updating"], |&case| {
        let kind = Kind::Endpoint;
        let proxy = FaultProxy::start(&scene.stack().cluster).expect("proxy");
        let (name, run) = match case {
            "creating" => {
                let name = scene.prepare(kind, "ep-creating", Script::works_until_advanced());
                let run = scene
                    .launch(kind, &name)
                    .flag("--time-limit", "5")
                    .through(&proxy)
                    .run();
                run.assert_code(5);
                run.assert_logged("not done within the time limit");
                assert_eq!(run.state(), "Creating");
                (name, run)
            }
            _ => {
                // The controller never gets its Update call through (throttled for as long
                // as the test lasts), or SageMaker never finishes updating.
                let script = if case == "update-not-taken" {
                    Script::completes().fault(Some(Verb::Update), AwsError::throttling(), 100_000)
                } else {
                    Script::completes().updating_for(Lasts::UntilAdvanced)
                };
                let ep = deploy(&scene, &format!("ep-{case}"), script);
                let run = scene
                    .launch(kind, &ep.name)
                    .identity("uid-run-2", "deploy")
                    .input("endpoint_config_name", &ep.second)
                    .flag("--time-limit", "5")
                    .through(&proxy)
                    .run();
                run.assert_code(5);
                run.assert_logged("not updated within the time limit");
                assert!(run.took < Duration::from_secs(25), "{}", run.context());
                let expected = if case == "updating" {
                    "Updating"
                } else {
                    "InService"
                };
                assert_eq!(run.state(), expected, "{}", run.context());
                // Patched, and left as it is.
                let resource = scene.get(kind, &ep.name).expect("kept");
                assert_eq!(resource["spec"]["endpointConfigName"], ep.second.as_str());
                (ep.name, run)
            }
        };
        run.assert_outputs_written();
        assert_eq!(proxy.requests().count(testbed::Verb::Delete), 0);
        let kept = scene.get(kind, &name).expect("kept");
        assert!(kept["metadata"]["deletionTimestamp"].is_null(), "{kept}");
    });
}

#[test]
fn without_patch_in_the_role_an_update_is_refused_and_nothing_changes() {
    let scene = Scene::with_role(testbed::ack::AckStack::shared(), "hk-no-patch", |role| {
        for rule in role.rules.iter_mut().flatten() {
            rule.verbs.retain(|v| v != "patch");
        }
    });
    let ep = deploy(&scene, "ep", Script::completes());
    let run = scene
        .launch(Kind::Endpoint, &ep.name)
        .identity("uid-run-2", "deploy")
        .input("endpoint_config_name", &ep.second)
        .run();
    run.assert_code(4);
    run.assert_logged("refused");
    run.assert_logged("patch");
    let resource = scene.get(Kind::Endpoint, &ep.name).expect("kept");
    assert_eq!(resource["spec"]["endpointConfigName"], ep.first.as_str());
    assert_eq!(scene.sagemaker().count(&ep.name, "UpdateEndpoint"), 0);
}
