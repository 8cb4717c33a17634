//! The simulated controller of the definition and long-lived kinds, driven through the test
//! bed's HTTP API with kube-rs (create, merge patches of the spec, delete) and judged by
//! the object's stored history: the states in order, the update markers, the rollback,
//! delete-and-wait, and the SageMaker calls it records.

mod common;

use std::time::Duration;

use common::NS;
use kube::Api;
use kube::api::{ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::{Value, json};
use testbed::{
    HostingController, HostingControllerOptions, HostingKind, HostingOutcome,
    LAST_ENDPOINT_CONFIG_ANNOTATION, TestBed, UpdateOutcome,
};

struct Bed {
    bed: TestBed,
    controller: HostingController,
    kind: HostingKind,
    rt: tokio::runtime::Runtime,
    api: Api<DynamicObject>,
}

fn start(kind: &HostingKind, tweak: impl FnOnce(&mut HostingControllerOptions)) -> Bed {
    start_with(kind, HostingOutcome::Succeeds, tweak)
}

fn start_with(
    kind: &HostingKind,
    outcome: HostingOutcome,
    tweak: impl FnOnce(&mut HostingControllerOptions),
) -> Bed {
    let bed = TestBed::start().expect("test bed");
    bed.register_crd_yaml(&kind.crd_yaml().expect("CRD"))
        .expect("CRD registered");
    if *kind == HostingKind::endpoint() {
        // The endpoint's variants come from its EndpointConfig resource when there is one.
        bed.register_crd_yaml(&HostingKind::endpoint_config().crd_yaml().expect("CRD"))
            .expect("CRD registered");
    }
    let mut options = HostingControllerOptions::new(kind.clone(), outcome);
    tweak(&mut options);
    let controller = bed.start_hosting_controller(options);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = rt.block_on(common::client(&bed));
    let gvk = GroupVersionKind::gvk("sagemaker.services.k8s.aws", "v1alpha1", kind.kind);
    let api = Api::namespaced_with(
        client,
        NS,
        &ApiResource::from_gvk_with_plural(&gvk, kind.plural),
    );
    Bed {
        bed,
        controller,
        kind: kind.clone(),
        rt,
        api,
    }
}

impl Bed {
    fn create(&self, name: &str, spec: Value) {
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "sagemaker.services.k8s.aws/v1alpha1",
            "kind": self.kind.kind,
            "metadata": {"name": name},
            "spec": spec,
        }))
        .expect("object");
        self.rt
            .block_on(self.api.create(&Default::default(), &object))
            .expect("created");
    }

    fn patch_spec(&self, name: &str, spec: Value) {
        self.rt
            .block_on(self.api.patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": spec })),
            ))
            .expect("patched");
    }

    fn delete(&self, name: &str) {
        self.rt
            .block_on(self.api.delete(name, &DeleteParams::default()))
            .expect("deleted");
    }

    fn get(&self, name: &str) -> Option<Value> {
        self.bed.get(&self.kind.resource(), NS, name)
    }

    fn wait(&self, name: &str, what: &str, mut pred: impl FnMut(&Value) -> bool) -> Value {
        self.bed
            .wait_for(
                &self.kind.resource(),
                NS,
                name,
                Duration::from_secs(10),
                |o| o.is_some_and(&mut pred),
            )
            .unwrap_or_else(|e| panic!("never {what}: {:?}", e.last))
            .expect("there")
    }

    fn wait_gone(&self, name: &str) {
        self.bed
            .wait_for(
                &self.kind.resource(),
                NS,
                name,
                Duration::from_secs(10),
                |o| o.is_none(),
            )
            .unwrap_or_else(|e| panic!("never gone: {:?}", e.last));
    }

    /// Every stored state of the object, oldest first.
    fn history(&self, name: &str) -> Vec<Value> {
        self.bed
            .history(&self.kind.resource(), NS, name)
            .into_iter()
            .map(|e| e.object)
            .collect()
    }

    fn state(&self, object: &Value) -> String {
        let field = self.kind.state_field().expect("a state field");
        object["status"][field]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// The condition of this type: (status, message).
fn condition(object: &Value, kind: &str) -> Option<(String, String)> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (s("status"), s("message"))
        })
}

fn has(object: &Value, kind: &str, status: &str, message: &str) -> bool {
    condition(object, kind) == Some((status.into(), message.into()))
}

fn synced(object: &Value) -> String {
    condition(object, "ACK.ResourceSynced")
        .map(|c| c.0)
        .unwrap_or_default()
}

fn stamp(object: &Value) -> Value {
    object["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "ACK.ResourceSynced"))
        .map(|c| c["lastTransitionTime"].clone())
        .unwrap_or(Value::Null)
}

fn quick(o: &mut HostingControllerOptions) {
    o.create_seconds = 60.0;
    o.update_seconds = 60.0;
    o.delete_seconds = 30.0;
}

fn endpoint_spec(config: &str) -> Value {
    json!({"endpointName": "Serve-1", "endpointConfigName": config})
}

fn definition_spec(kind: &HostingKind, name: &str) -> Value {
    let mut spec = json!({ kind.name_field: name });
    match kind.kind {
        "Model" => spec["executionRoleARN"] = json!("arn:aws:iam::123456789012:role/r"),
        "EndpointConfig" => {
            spec["productionVariants"] = json!([{"variantName": "v1", "modelName": "m"}]);
        }
        job_definition => {
            let prefix = job_definition.trim_end_matches("JobDefinition");
            let prefix = format!("{}{}", prefix[..1].to_ascii_lowercase(), &prefix[1..]);
            spec["roleARN"] = json!("arn:aws:iam::123456789012:role/r");
            spec["jobResources"] = json!({"clusterConfig": {"instanceCount": 1}});
            for field in ["AppSpecification", "JobInput", "JobOutputConfig"] {
                spec[format!("{prefix}{field}")] = json!({});
            }
        }
    }
    spec
}

#[test]
fn each_definition_gets_its_arn_and_synced_then_is_deleted_at_once() {
    for kind in HostingKind::definitions() {
        let bed = start(&kind, |_| {});
        bed.create("def-1", definition_spec(&kind, "Def-1"));
        let done = bed.wait("def-1", "synced", |o| synced(o) == "True");
        let arn = done["status"]["ackResourceMetadata"]["arn"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(
            arn,
            format!(
                "arn:aws:sagemaker:us-west-2:123456789012:{}/def-1",
                kind.arn_type
            )
        );
        assert_eq!(done["metadata"]["finalizers"], json!([kind.finalizer()]));
        let types: Vec<&str> = done["status"]["conditions"]
            .as_array()
            .expect("conditions")
            .iter()
            .filter_map(|c| c["type"].as_str())
            .collect();
        if kind.late_initialized {
            assert_eq!(
                types,
                ["ACK.LateInitialized", "ACK.ResourceSynced", "Ready"],
                "{}",
                kind.kind
            );
            // Late initialisation is a spec write of the controller's.
            assert_eq!(
                bed.wait(
                    "def-1",
                    "late-initialised",
                    |o| o["spec"]["enableNetworkIsolation"] == false
                )["metadata"]["generation"],
                2
            );
        } else {
            assert_eq!(types, ["ACK.ResourceSynced", "Ready"], "{}", kind.kind);
        }
        assert!(has(
            &done,
            "ACK.ResourceSynced",
            "True",
            "Resource synced successfully"
        ));
        assert!(has(&done, "Ready", "True", "Resource synced successfully"));
        assert_eq!(bed.controller.created("Def-1"), 1);

        bed.delete("def-1");
        bed.wait_gone("def-1");
        assert_eq!(bed.controller.delete_calls("Def-1"), 1);
        assert_eq!(bed.controller.deleted("Def-1"), 1);
        assert!(!bed.controller.exists("Def-1"));
    }
}

#[test]
fn a_definition_spec_edit_is_terminal_not_implemented_and_tags_are_ignored() {
    let kind = HostingKind::model();
    let bed = start(&kind, |_| {});
    bed.create("model-1", definition_spec(&kind, "model-1"));
    let synced_once = bed.wait("model-1", "synced", |o| {
        synced(o) == "True" && o["metadata"]["generation"] == 2
    });
    bed.patch_spec("model-1", json!({"tags": [{"key": "team", "value": "ml"}]}));
    // A tag edit is reconciled (its generation moved) without any problem.
    std::thread::sleep(Duration::from_millis(50));
    let after_tags = bed.get("model-1").expect("there");
    assert_eq!(after_tags["metadata"]["generation"], 3);
    assert_eq!(synced(&after_tags), "True");
    assert!(condition(&after_tags, "ACK.Terminal").is_none());
    assert_eq!(
        after_tags["status"]["ackResourceMetadata"],
        synced_once["status"]["ackResourceMetadata"]
    );

    bed.patch_spec(
        "model-1",
        json!({"executionRoleARN": "arn:aws:iam::123456789012:role/other"}),
    );
    let terminal = bed.wait("model-1", "terminal", |o| {
        has(o, "ACK.Terminal", "True", "not implemented")
    });
    assert!(has(
        &terminal,
        "ACK.ResourceSynced",
        "False",
        "Resource not synced"
    ));
    let synced_condition = terminal["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "ACK.ResourceSynced"))
        .cloned()
        .expect("synced");
    assert_eq!(
        synced_condition["reason"],
        "resource is in terminal condition"
    );
    assert!(has(&terminal, "Ready", "False", "not implemented"));
    assert_eq!(bed.controller.created("model-1"), 1);

    // Back to the original spec: synced again.
    bed.patch_spec(
        "model-1",
        json!({"executionRoleARN": "arn:aws:iam::123456789012:role/r"}),
    );
    bed.wait("model-1", "synced again", |o| {
        synced(o) == "True" && condition(o, "ACK.Terminal").is_none()
    });
}

#[test]
fn a_rejected_create_is_recoverable_forever_without_an_arn() {
    let kind = HostingKind::endpoint_config();
    let message = "api error ValidationException: Could not find model \"m\".";
    let bed = start_with(&kind, HostingOutcome::Rejected(message.into()), |_| {});
    bed.create("config-1", definition_spec(&kind, "config-1"));
    let rejected = bed.wait("config-1", "recoverable", |o| {
        has(o, "ACK.Recoverable", "True", message)
    });
    assert_eq!(synced(&rejected), "Unknown");
    // Retried every requeue (30 simulated s), never with an ARN.
    std::thread::sleep(Duration::from_millis(150));
    let later = bed.get("config-1").expect("there");
    assert_ne!(stamp(&later), stamp(&rejected), "retried");
    assert!(later["status"]["ackResourceMetadata"].is_null());
    assert!(has(&later, "ACK.Recoverable", "True", message));
    assert_eq!(bed.controller.created("config-1"), 0);
    bed.delete("config-1");
    bed.wait_gone("config-1");
    assert_eq!(bed.controller.delete_calls("config-1"), 0);
}

#[test]
fn an_endpoint_is_creating_then_in_service_and_resyncs_without_changing() {
    let kind = HostingKind::endpoint();
    let bed = start(&kind, quick);
    bed.bed
        .create(
            &HostingKind::endpoint_config().resource(),
            NS,
            json!({"apiVersion": "sagemaker.services.k8s.aws/v1alpha1", "kind": "EndpointConfig",
                "metadata": {"name": "config-a"},
                "spec": {"endpointConfigName": "config-a", "productionVariants": [
                    {"variantName": "blue", "modelName": "m", "initialInstanceCount": 2, "initialVariantWeight": 1.0}]}}),
        )
        .expect("config");
    bed.create("serve-1", endpoint_spec("config-a"));
    let serving = bed.wait("serve-1", "InService", |o| bed.state(o) == "InService");
    let states: Vec<(String, String)> = bed
        .history("serve-1")
        .iter()
        .filter(|o| !bed.state(o).is_empty())
        .map(|o| (bed.state(o), synced(o)))
        .collect();
    assert_eq!(states[0], ("Creating".into(), "False".into()), "{states:?}");
    assert_eq!(
        states.last(),
        Some(&("InService".into(), "True".into())),
        "{states:?}"
    );
    let history = bed.history("serve-1");
    let creating = history
        .iter()
        .find(|o| bed.state(o) == "Creating")
        .expect("Creating");
    assert!(
        has(
            creating,
            "ACK.ResourceSynced",
            "False",
            "Endpoint is in Creating status."
        ),
        "{creating}"
    );
    assert!(has(
        &serving,
        "ACK.ResourceSynced",
        "True",
        "Endpoint is in InService status."
    ));
    assert!(has(
        &serving,
        "Ready",
        "True",
        "Endpoint is in InService status."
    ));
    assert!(condition(&serving, "ACK.Terminal").is_none());
    let status = &serving["status"];
    assert!(
        status["creationTime"]
            .as_str()
            .is_some_and(|t| t.starts_with("2025-01-01T"))
    );
    assert!(status["lastModifiedTime"].as_str() > status["creationTime"].as_str());
    assert_eq!(status["productionVariants"][0]["variantName"], "blue");
    assert_eq!(status["productionVariants"][0]["currentInstanceCount"], 2);
    assert!(
        status["ackResourceMetadata"]["arn"]
            .as_str()
            .is_some_and(|a| a.ends_with(":endpoint/serve-1"))
    );

    // Every resync rewrites the conditions with a new timestamp, nothing else.
    let resynced = bed.wait("serve-1", "a resync", |o| stamp(o) != stamp(&serving));
    let mut before = serving["status"].clone();
    let mut after = resynced["status"].clone();
    before["conditions"] = Value::Null;
    after["conditions"] = Value::Null;
    assert_eq!(before, after);
    assert_eq!(bed.controller.created("Serve-1"), 1);
    assert_eq!(bed.controller.updated("Serve-1"), 0);
}

#[test]
fn a_failed_endpoint_is_terminal_with_synced_true_and_an_out_of_service_one_is_not() {
    let kind = HostingKind::endpoint();
    let bed = start_with(
        &kind,
        HostingOutcome::Fails("CapacityError: no ml.g5.xlarge".into()),
        quick,
    );
    bed.create("serve-1", endpoint_spec("config-a"));
    let failed = bed.wait("serve-1", "Failed", |o| bed.state(o) == "Failed");
    assert_eq!(
        failed["status"]["failureReason"],
        "CapacityError: no ml.g5.xlarge"
    );
    let terminal = "Endpoint status reached terminal state: Failed. Check the FailureReason.";
    assert!(has(&failed, "ACK.Terminal", "True", terminal));
    assert!(has(
        &failed,
        "ACK.ResourceSynced",
        "True",
        "Endpoint is in Failed status."
    ));
    assert!(has(&failed, "Ready", "False", terminal));

    let bed = start_with(&kind, HostingOutcome::Stops, quick);
    bed.create("serve-2", endpoint_spec("config-a"));
    let out = bed.wait("serve-2", "OutOfService", |o| {
        bed.state(o) == "OutOfService"
    });
    assert_eq!(synced(&out), "True");
    assert!(condition(&out, "ACK.Terminal").is_none());
}

#[test]
fn an_endpoint_update_marks_the_annotation_then_updating_then_serves_the_new_config() {
    let kind = HostingKind::endpoint();
    let bed = start(&kind, quick);
    bed.create("serve-1", endpoint_spec("config-a"));
    let serving = bed.wait("serve-1", "InService", |o| bed.state(o) == "InService");
    let old_modified = serving["status"]["lastModifiedTime"].clone();
    let before = bed.history("serve-1").len();

    // Tags alone are no update.
    bed.patch_spec("serve-1", json!({"tags": [{"key": "team", "value": "ml"}]}));
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(bed.controller.updated("Serve-1"), 0);

    bed.patch_spec("serve-1", json!({"endpointConfigName": "config-b"}));
    let done = bed.wait("serve-1", "serving config-b", |o| {
        bed.state(o) == "InService"
            && synced(o) == "True"
            && o["status"]["lastModifiedTime"] != old_modified
    });
    assert_eq!(
        done["metadata"]["annotations"][LAST_ENDPOINT_CONFIG_ANNOTATION],
        "config-b"
    );
    assert!(done["status"]["pendingDeploymentSummary"].is_null());
    assert!(done["status"]["failureReason"].is_null());
    assert!(
        done["status"]["lastModifiedTime"].as_str() > old_modified.as_str(),
        "{done}"
    );
    assert_eq!(bed.controller.updated("Serve-1"), 1);
    assert_eq!(bed.controller.created("Serve-1"), 1);

    let history = bed.history("serve-1");
    let after_patch = &history[before..];
    let marked = after_patch
        .iter()
        .position(|o| o["metadata"]["annotations"][LAST_ENDPOINT_CONFIG_ANNOTATION] == "config-b")
        .expect("the annotation is written");
    // The annotation comes before the status of the update call.
    assert_eq!(bed.state(&after_patch[marked]), "InService");
    let answer = &after_patch[marked + 1];
    assert_eq!(bed.state(answer), "Updating");
    assert_eq!(answer["status"]["lastModifiedTime"], old_modified);
    assert!(has(
        answer,
        "ACK.ResourceSynced",
        "False",
        "Endpoint is in Updating status."
    ));
    let described = &after_patch[marked + 2];
    assert_eq!(bed.state(described), "Updating");
    assert_ne!(described["status"]["lastModifiedTime"], old_modified);
    assert_eq!(
        described["status"]["pendingDeploymentSummary"]["endpointConfigName"],
        "config-b"
    );
    assert!(has(
        described,
        "ACK.Recoverable",
        "True",
        "Endpoint in Updating state cannot be modified or deleted."
    ));
    // Once marked, nothing showed InService + Synced before the end of the update (the
    // patch itself and the annotation's write still show the old InService + Synced).
    let first_done = after_patch[marked + 1..]
        .iter()
        .find(|o| bed.state(o) == "InService" && synced(o) == "True")
        .expect("done");
    assert_eq!(
        first_done["status"]["lastModifiedTime"],
        done["status"]["lastModifiedTime"]
    );
}

#[test]
fn an_edit_while_creating_waits_then_updates() {
    let kind = HostingKind::endpoint();
    let bed = start(&kind, quick);
    bed.create("serve-1", endpoint_spec("config-a"));
    bed.wait("serve-1", "Creating", |o| bed.state(o) == "Creating");
    bed.patch_spec("serve-1", json!({"deploymentConfig": {"autoRollbackConfiguration": {"alarms": [{"alarmName": "5xx"}]}}}));
    bed.wait("serve-1", "the update to wait", |o| {
        has(
            o,
            "ACK.Recoverable",
            "True",
            "Endpoint in Creating state cannot be modified or deleted.",
        )
    });
    bed.wait("serve-1", "updated", |o| {
        bed.state(o) == "InService" && synced(o) == "True" && bed.controller.updated("Serve-1") == 1
    });
}

#[test]
fn a_rolled_back_update_is_terminal_on_the_old_config_until_the_spec_goes_back() {
    let kind = HostingKind::endpoint();
    let bed = start(&kind, |o| {
        quick(o);
        o.update_outcome = UpdateOutcome::RollsBack("ModelError: health check failed".into());
    });
    bed.create("serve-1", endpoint_spec("config-a"));
    bed.wait("serve-1", "InService", |o| bed.state(o) == "InService");
    bed.patch_spec("serve-1", json!({"endpointConfigName": "config-b"}));
    let message = "api error EndpointUpdateError: unable to update endpoint. check FailureReason. latest EndpointConfigName is config-a";
    let rolled = bed.wait("serve-1", "the rollback", |o| {
        has(o, "ACK.Terminal", "True", message)
    });
    assert_eq!(bed.state(&rolled), "InService");
    assert_eq!(
        rolled["status"]["failureReason"],
        "ModelError: health check failed"
    );
    assert!(has(&rolled, "ACK.ResourceSynced", "False", message));
    assert!(has(&rolled, "Ready", "False", message));
    // A Terminal error is not requeued: no resync rewrites it.
    let writes = bed.history("serve-1").len();
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(bed.history("serve-1").len(), writes);
    assert_eq!(bed.controller.updated("Serve-1"), 1);

    bed.patch_spec("serve-1", json!({"endpointConfigName": "config-a"}));
    bed.wait("serve-1", "synced on the old config", |o| {
        synced(o) == "True" && condition(o, "ACK.Terminal").is_none()
    });
    assert_eq!(bed.controller.updated("Serve-1"), 1);
}

#[test]
fn deleting_a_creating_endpoint_waits_for_it_then_deletes_it() {
    let kind = HostingKind::endpoint();
    let bed = start(&kind, quick);
    bed.create("serve-1", endpoint_spec("config-a"));
    bed.wait("serve-1", "Creating", |o| bed.state(o) == "Creating");
    bed.delete("serve-1");
    bed.wait("serve-1", "the delete to wait", |o| {
        has(
            o,
            "ACK.Recoverable",
            "True",
            "Endpoint in Creating state cannot be modified or deleted.",
        )
    });
    assert_eq!(bed.controller.delete_calls("Serve-1"), 0);
    let deleting = bed.wait("serve-1", "Deleting", |o| bed.state(o) == "Deleting");
    assert!(has(
        &deleting,
        "ACK.Recoverable",
        "True",
        "Endpoint is Deleting."
    ));
    assert!(
        deleting["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    );
    bed.wait_gone("serve-1");
    assert_eq!(bed.controller.delete_calls("Serve-1"), 1);
    assert_eq!(bed.controller.deleted("Serve-1"), 1);
    assert!(!bed.controller.exists("Serve-1"));
}

fn schedule_spec(definition: &str) -> Value {
    json!({"monitoringScheduleName": "watch-1", "monitoringScheduleConfig": {
        "monitoringJobDefinitionName": definition, "monitoringType": "DataQuality",
        "scheduleConfig": {"scheduleExpression": "cron(0 * ? * * *)"}}})
}

#[test]
fn a_monitoring_schedule_is_pending_then_scheduled_and_an_update_shows_the_old_status_first() {
    let kind = HostingKind::monitoring_schedule();
    let bed = start(&kind, quick);
    bed.create("watch-1", schedule_spec("dq-1"));
    bed.wait("watch-1", "Pending", |o| {
        bed.state(o) == "Pending"
            && has(
                o,
                "ACK.ResourceSynced",
                "False",
                "MonitoringSchedule is in Pending status.",
            )
    });
    let scheduled = bed.wait("watch-1", "Scheduled", |o| bed.state(o) == "Scheduled");
    assert!(has(
        &scheduled,
        "ACK.ResourceSynced",
        "True",
        "MonitoringSchedule is in Scheduled status."
    ));
    let old_modified = scheduled["status"]["lastModifiedTime"].clone();
    let before = bed.history("watch-1").len();

    let mut config = schedule_spec("dq-2")["monitoringScheduleConfig"].clone();
    config["monitoringJobDefinitionName"] = json!("dq-2");
    bed.patch_spec("watch-1", json!({ "monitoringScheduleConfig": config }));
    let done = bed.wait("watch-1", "scheduled again", |o| {
        bed.state(o) == "Scheduled"
            && synced(o) == "True"
            && o["status"]["lastModifiedTime"] != old_modified
    });
    assert_eq!(bed.controller.updated("watch-1"), 1);
    let history = bed.history("watch-1");
    let after_patch: Vec<&Value> = history[before..]
        .iter()
        .filter(|o| o["metadata"]["generation"] == 2)
        .collect();
    // The patch itself, then the update call's write: Synced False from a hard-coded
    // Pending while the status field and the times are the persisted ones.
    let answer = after_patch
        .iter()
        .find(|o| synced(o) == "False")
        .expect("the update's write");
    assert_eq!(bed.state(answer), "Scheduled");
    assert_eq!(answer["status"]["lastModifiedTime"], old_modified);
    assert!(has(
        answer,
        "ACK.ResourceSynced",
        "False",
        "MonitoringSchedule is in Pending status."
    ));
    let pending = after_patch
        .iter()
        .find(|o| bed.state(o) == "Pending")
        .expect("described Pending");
    assert_ne!(pending["status"]["lastModifiedTime"], old_modified);
    assert!(done["status"]["lastModifiedTime"].as_str() > old_modified.as_str());
}

#[test]
fn a_monitoring_schedule_fails_with_terminal_or_stops_without() {
    let kind = HostingKind::monitoring_schedule();
    let bed = start_with(
        &kind,
        HostingOutcome::Fails("no such definition".into()),
        quick,
    );
    bed.create("watch-1", schedule_spec("dq-1"));
    let failed = bed.wait("watch-1", "Failed", |o| bed.state(o) == "Failed");
    assert_eq!(failed["status"]["failureReason"], "no such definition");
    assert_eq!(synced(&failed), "True");
    assert!(has(
        &failed,
        "ACK.Terminal",
        "True",
        "MonitoringSchedule status reached terminal state: Failed. Check the FailureReason."
    ));

    let bed = start_with(&kind, HostingOutcome::Stops, quick);
    bed.create("watch-2", schedule_spec("dq-1"));
    let stopped = bed.wait("watch-2", "Stopped", |o| bed.state(o) == "Stopped");
    assert_eq!(synced(&stopped), "True");
    assert!(condition(&stopped, "ACK.Terminal").is_none());
}

#[test]
fn deleting_a_monitoring_schedule_waits_while_pending_then_deletes_it() {
    let kind = HostingKind::monitoring_schedule();
    let bed = start(&kind, |o| {
        quick(o);
        o.delete_seconds = 70.0;
    });
    bed.create("watch-1", schedule_spec("dq-1"));
    bed.wait("watch-1", "Pending", |o| bed.state(o) == "Pending");
    bed.delete("watch-1");
    bed.wait("watch-1", "the delete to wait", |o| {
        has(
            o,
            "ACK.Recoverable",
            "True",
            "MonitoringSchedule in Pending state cannot be modified or deleted.",
        )
    });
    bed.wait("watch-1", "deleting", |o| {
        has(
            o,
            "ACK.Recoverable",
            "True",
            "MonitoringSchedule is Deleting.",
        )
    });
    bed.wait_gone("watch-1");
    // No Deleting state: the delete is called every round until SageMaker forgets it.
    assert!(
        bed.controller.delete_calls("watch-1") >= 2,
        "{:?}",
        bed.controller.calls()
    );
    assert_eq!(bed.controller.deleted("watch-1"), 1);
}

#[test]
fn a_model_package_group_goes_pending_in_progress_completed_and_fails_without_terminal() {
    let kind = HostingKind::model_package_group();
    let bed = start(&kind, quick);
    bed.create("group-1", json!({"modelPackageGroupName": "group-1"}));
    bed.wait("group-1", "Completed", |o| bed.state(o) == "Completed");
    let states: Vec<(String, String)> = bed
        .history("group-1")
        .iter()
        .filter(|o| !bed.state(o).is_empty())
        .map(|o| (bed.state(o), synced(o)))
        .collect();
    assert_eq!(
        states,
        [
            ("Pending".into(), "False".into()),
            ("InProgress".into(), "False".into()),
            ("Completed".into(), "True".into())
        ]
    );
    bed.delete("group-1");
    let deleting = bed.wait("group-1", "Deleting", |o| bed.state(o) == "Deleting");
    assert!(has(
        &deleting,
        "ACK.Recoverable",
        "True",
        "ModelPackageGroup is deleting."
    ));
    bed.wait_gone("group-1");
    assert_eq!(bed.controller.deleted("group-1"), 1);

    let bed = start_with(&kind, HostingOutcome::Fails("quota".into()), quick);
    bed.create("group-2", json!({"modelPackageGroupName": "group-2"}));
    let failed = bed.wait("group-2", "Failed", |o| bed.state(o) == "Failed");
    assert_eq!(synced(&failed), "True");
    assert!(has(
        &failed,
        "Ready",
        "True",
        "ModelPackageGroup is in Failed status."
    ));
    assert!(condition(&failed, "ACK.Terminal").is_none());
}

#[test]
fn a_resync_before_the_controller_acts_on_an_update_still_shows_the_old_state() {
    // With a slow work queue, a resync in between rewrites the old InService + Synced True
    // after the patch: "the status changed" is no sign that the update was taken.
    let kind = HostingKind::endpoint();
    let bed = start(&kind, |o| {
        quick(o);
        o.resync_seconds = 10.0;
        o.reaction_seconds = 45.0;
    });
    bed.create("serve-1", endpoint_spec("config-a"));
    let serving = bed.wait("serve-1", "InService", |o| bed.state(o) == "InService");
    bed.patch_spec("serve-1", json!({"endpointConfigName": "config-b"}));
    let resynced = bed.wait("serve-1", "a resync after the patch", |o| {
        o["metadata"]["generation"] == 2
            && stamp(o) != stamp(&serving)
            && bed.state(o) == "InService"
    });
    assert_eq!(synced(&resynced), "True");
    assert!(
        resynced["metadata"]["annotations"][LAST_ENDPOINT_CONFIG_ANNOTATION].is_null(),
        "{resynced}"
    );
    assert_eq!(bed.controller.updated("Serve-1"), 0);
    bed.wait("serve-1", "Updating", |o| bed.state(o) == "Updating");
    assert_eq!(bed.controller.updated("Serve-1"), 1);
}
