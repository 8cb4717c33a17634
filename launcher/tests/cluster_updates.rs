//! An Endpoint update through a real kube-apiserver, as the step's ServiceAccount bound
//! only to `component-template/rbac.yaml`: the launcher merge-patches the endpoint's
//! updatable fields (its Role's `patch`, which only the updatable kinds get, is needed:
//! without it the step ends with exit 4 and the endpoint is unchanged), and it finishes
//! only after the controller's markers of the update, not on the old `InService` that the
//! controller's metadata patch shows before its status patch.
//!
//! The test plays the controller's writes itself, in the order sagemaker-controller v1.9.1
//! makes them (semantics notes 2.6): a metadata patch with the
//! `last-endpoint-config-for-update` annotation, a status patch with `Updating`, resyncs
//! that only renew the conditions' timestamps, and then SageMaker's `InService` with a new
//! `lastModifiedTime`.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::cluster::{Namespace, eventually};
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use testbed::cluster::Cluster;

const CONFIG_ANNOTATION: &str = "sagemaker.services.k8s.aws/last-endpoint-config-for-update";

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let cluster = Cluster::start().expect("cluster starts");
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../crds/sagemaker-controller/sagemaker.services.k8s.aws_endpoints.yaml"
        );
        let crd = std::fs::read_to_string(path).expect("vendored Endpoint CRD");
        cluster
            .apply_crd(&serde_saphyr::from_str(&crd).expect("CRD YAML"))
            .expect("CRD accepted");
        cluster
    })
}

/// A namespace with the step's Role (without `drop_verb`, if given) and an Endpoint `e`
/// in service with configuration `a`, as the controller leaves a created endpoint.
struct Scene {
    namespace: String,
    kubeconfig: tempfile::NamedTempFile,
    outputs: tempfile::TempDir,
}

fn endpoints(namespace: &str) -> Api<DynamicObject> {
    let resource = ApiResource {
        group: "sagemaker.services.k8s.aws".into(),
        version: "v1alpha1".into(),
        api_version: "sagemaker.services.k8s.aws/v1alpha1".into(),
        kind: "Endpoint".into(),
        plural: "endpoints".into(),
    };
    Api::namespaced_with(cluster().client(), namespace, &resource)
}

fn conditions(synced: &str, state: &str, stamp: &str) -> Value {
    json!([
        {"type": "ACK.ResourceSynced", "status": synced, "message": format!("Endpoint is in {state} status."),
         "lastTransitionTime": stamp},
        {"type": "Ready", "status": synced, "message": format!("Endpoint is in {state} status."),
         "lastTransitionTime": stamp}
    ])
}

impl Scene {
    fn new(namespace: &str, drop_verb: Option<&str>) -> Scene {
        let cluster = cluster();
        // The step's Role and ServiceAccount, as the TrainingJob scenarios have them.
        let step = Namespace::with_role(cluster, namespace, |role| {
            for rule in role.rules.iter_mut().flatten() {
                rule.verbs.retain(|v| Some(v.as_str()) != drop_verb);
            }
        });
        let kubeconfig = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(kubeconfig.path(), &step.kubeconfig).expect("kubeconfig");
        let api = endpoints(namespace);
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "sagemaker.services.k8s.aws/v1alpha1", "kind": "Endpoint",
            "metadata": {"name": "e", "annotations": {"services.k8s.aws/region": "us-west-2"},
                "finalizers": ["finalizers.sagemaker.services.k8s.aws/Endpoint"]},
            "spec": {"endpointName": "e", "endpointConfigName": "a",
                "tags": [{"key": "team", "value": "ml"}]}
        }))
        .expect("object");
        cluster
            .block_on(api.create(&PostParams::default(), &object))
            .expect("created");
        let scene = Scene {
            namespace: namespace.to_owned(),
            kubeconfig,
            outputs: tempfile::tempdir().expect("tempdir"),
        };
        scene.status(json!({
            "ackResourceMetadata": {"arn": "arn:aws:sagemaker:us-west-2:123456789012:endpoint/e",
                "ownerAccountID": "123456789012", "region": "us-west-2"},
            "endpointStatus": "InService", "creationTime": "2026-12-01T10:00:00Z",
            "lastModifiedTime": "2026-12-01T10:00:00Z",
            "conditions": conditions("True", "InService", "2026-12-01T10:00:00Z")
        }));
        scene
    }

    /// Writes the status as the controller does (a merge patch of `/status`).
    fn status(&self, status: Value) {
        let patch = json!({"status": status});
        cluster()
            .block_on(endpoints(&self.namespace).patch_status(
                "e",
                &PatchParams::default(),
                &Patch::Merge(&patch),
            ))
            .expect("status written");
    }

    fn annotate(&self, config: &str) {
        let patch = json!({"metadata": {"annotations": {CONFIG_ANNOTATION: config}}});
        cluster()
            .block_on(endpoints(&self.namespace).patch(
                "e",
                &PatchParams::default(),
                &Patch::Merge(&patch),
            ))
            .expect("annotated");
    }

    fn object(&self) -> Value {
        let object = cluster()
            .block_on(endpoints(&self.namespace).get("e"))
            .expect("the endpoint");
        serde_json::to_value(object).expect("JSON")
    }

    /// The step that moves `e` to configuration `b`, with other tags (which the controller
    /// does not update).
    fn update_step(&self, time_limit: &str) -> Child {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ack-kfp-launcher"));
        command
            .arg("endpoint")
            .env("KUBECONFIG", self.kubeconfig.path())
            .env("RUST_BACKTRACE", "0")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .args(["--region", "us-west-2", "--endpoint_name", "e"])
            .args(["--endpoint_config_name", "b"])
            .args(["--tags", r#"[{"key": "team", "value": "data"}]"#])
            .args(["--kfp-run-id", "run-2", "--kfp-step-id", "update-endpoint"])
            .args(["--api-timeout", "10", "--time-limit", time_limit]);
        for name in generated::endpoint::EndpointOutputPaths::NAMES {
            command
                .arg(format!("--{name}_output_path"))
                .arg(self.outputs.path().join(name));
        }
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("launcher starts")
    }

    fn output(&self, name: &str) -> String {
        std::fs::read_to_string(self.outputs.path().join(name)).unwrap_or_default()
    }
}

/// Gives the launcher time to act on the last write, then checks it is still waiting.
fn still_waiting(step: &mut Child, after: &str) {
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        step.try_wait().expect("status").is_none(),
        "the launcher ended after {after}, before the controller had taken the update"
    );
}

#[test]
fn an_update_patches_the_updatable_fields_and_ends_on_the_controllers_markers() {
    let scene = Scene::new("update", None);
    let mut step = scene.update_step("120");
    eventually("the patch", || {
        scene.object()["spec"]["endpointConfigName"] == "b"
    });
    let patched = scene.object();
    // Only the updatable field: the tags stay as they were (the controller ignores them).
    assert_eq!(patched["spec"]["tags"][0]["value"], "ml");
    let annotations = &patched["metadata"]["annotations"];
    assert_eq!(
        annotations["ack-kfp.launcher/kfp-run-step"],
        "run-2/update-endpoint"
    );
    assert!(
        annotations["ack-kfp.launcher/update-from"].is_string(),
        "{annotations}"
    );
    // A resync: new timestamps, the old state. Not an update.
    scene.status(json!({"conditions": conditions("True", "InService", "2026-12-01T10:10:00Z")}));
    still_waiting(&mut step, "a resync");
    // The controller's metadata patch comes before its status patch: the new annotation
    // with the old InService.
    scene.annotate("b");
    still_waiting(&mut step, "the annotation with the old InService");
    scene.status(json!({"endpointStatus": "Updating",
        "conditions": conditions("False", "Updating", "2026-12-01T10:11:00Z")}));
    still_waiting(&mut step, "Updating");
    scene.status(
        json!({"endpointStatus": "InService", "lastModifiedTime": "2026-12-01T10:11:00Z",
        "conditions": conditions("True", "InService", "2026-12-01T10:20:00Z")}),
    );
    let output = step.wait_with_output().expect("exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("does not update `tags`"), "{stderr}");
    assert_eq!(scene.output("endpoint_status"), "InService");
    assert_eq!(scene.output("last_modified_time"), "2026-12-01T10:11:00Z");
    assert_eq!(scene.output("sagemaker_resource_name"), "e");
    // The step's cancel rules: an updated endpoint is never deleted.
    assert!(scene.object()["metadata"]["deletionTimestamp"].is_null());
}

#[test]
fn without_patch_in_the_role_an_update_is_refused_and_nothing_changes() {
    let scene = Scene::new("update-without-patch", Some("patch"));
    let output = scene.update_step("30").wait_with_output().expect("exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("refused"), "{stderr}");
    assert!(stderr.contains("patch"), "{stderr}");
    assert_eq!(scene.object()["spec"]["endpointConfigName"], "a");
}

#[test]
fn an_update_the_controller_never_takes_ends_at_the_time_limit() {
    let scene = Scene::new("update-time-limit", None);
    let started = Instant::now();
    let output = scene.update_step("3").wait_with_output().expect("exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("not updated within the time limit"),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "{:?}",
        started.elapsed()
    );
    // Patched, and left as it is.
    assert_eq!(scene.object()["spec"]["endpointConfigName"], "b");
}
