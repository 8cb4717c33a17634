//! The launcher against a real kube-apiserver ([`testbed::cluster`]): one namespace per
//! test, the launcher authenticated as a ServiceAccount bound only to
//! `component-template/rbac.yaml`, directly or through a [`FaultProxy`] that logs its
//! requests and injects faults. Two clusters per test binary at most, each started by the
//! first test that asks: [`shared`], where nothing reconciles TrainingJobs unless the test
//! writes their status itself ([`Namespace::complete_jobs`]), and [`with_controller`],
//! where the real ACK controller does, with our SageMaker API.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use k8s_openapi::api::rbac::v1::Role;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams, WatchEvent};
use serde_json::{Value, json};
use testbed::FaultProxy;
use testbed::ack::AckStack;
use testbed::cluster::Cluster;

use super::Step;

/// The step's ServiceAccount (standalone KFP's).
pub const SERVICE_ACCOUNT: &str = "pipeline-runner";

/// The RBAC manifest users apply.
pub fn rbac_yaml() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../component-template/rbac.yaml"
    );
    std::fs::read_to_string(path).expect("component-template/rbac.yaml")
}

/// The TrainingJob CRD installed, started once per test binary (the watchdog stops it
/// when the binary exits).
pub fn shared() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(start)
}

/// The real ACK SageMaker controller (v1.9.1) and our SageMaker API on a cluster of their
/// own (every CRD of the release installed), started once per test binary: a TrainingJob
/// completes on the controller's first Describe, within a second, unless its SageMaker
/// name is scripted (`stack.sagemaker.script`). SageMaker names are the binary's: each test
/// uses its own.
pub fn with_controller() -> &'static AckStack {
    AckStack::shared()
}

/// A cluster of its own, for a test that restarts the API server.
pub fn start() -> Cluster {
    let cluster = Cluster::start().expect("cluster starts");
    let crd = super::training_job_crd();
    cluster
        .apply_crd(&serde_saphyr::from_str(&crd).expect("CRD YAML"))
        .expect("CRD accepted");
    cluster
}

/// A test's namespace with the step's Role (edited by `edit_role`) bound to its
/// ServiceAccount.
pub struct Namespace<'c> {
    pub cluster: &'c Cluster,
    pub name: String,
    /// The ServiceAccount's kubeconfig: what the launcher runs with.
    pub kubeconfig: String,
}

impl<'c> Namespace<'c> {
    pub fn new(cluster: &'c Cluster, name: &str) -> Namespace<'c> {
        Self::with_role(cluster, name, |_| {})
    }

    pub fn with_role(
        cluster: &'c Cluster,
        name: &str,
        edit_role: impl FnOnce(&mut Role),
    ) -> Namespace<'c> {
        cluster.create_namespace(name).expect("namespace");
        cluster
            .apply_role_yaml(&rbac_yaml(), name, SERVICE_ACCOUNT, edit_role)
            .expect("RBAC applied");
        let kubeconfig = cluster
            .service_account_kubeconfig(name, SERVICE_ACCOUNT)
            .expect("token");
        Namespace {
            cluster,
            name: name.to_owned(),
            kubeconfig,
        }
    }

    /// A launcher step running as the ServiceAccount.
    pub fn step(&self) -> Step {
        Step::with_kubeconfig(&self.kubeconfig)
    }

    /// A fault proxy in front of the cluster, and a step running as the ServiceAccount
    /// through it.
    pub fn proxied_step(&self) -> (FaultProxy, Step) {
        let proxy = FaultProxy::start(self.cluster).expect("proxy starts");
        let step = Step::with_kubeconfig(&proxy.kubeconfig_yaml(&self.kubeconfig, self.cluster));
        (proxy, step)
    }

    /// A launcher step running as the administrator (to set up a scene).
    pub fn admin_step(&self) -> Step {
        Step::with_kubeconfig(&self.cluster.kubeconfig_yaml(&self.name))
    }

    pub fn training_jobs(&self) -> Api<DynamicObject> {
        let resource = ApiResource::erase::<generated::training_job::TrainingJob>(&());
        Api::namespaced_with(self.cluster.client(), &self.name, &resource)
    }

    /// The TrainingJob as the server has it (read as the administrator).
    pub fn object(&self, name: &str) -> Option<Value> {
        let object = self
            .cluster
            .block_on(self.training_jobs().get_opt(name))
            .expect("get");
        object.map(|o| serde_json::to_value(o).expect("JSON"))
    }

    /// Every TrainingJob in the namespace.
    pub fn names(&self) -> Vec<String> {
        self.cluster
            .block_on(self.training_jobs().list(&Default::default()))
            .expect("list")
            .items
            .into_iter()
            .filter_map(|o| o.metadata.name)
            .collect()
    }

    /// Creates a TrainingJob as the administrator.
    pub fn create(&self, object: Value) {
        let object: DynamicObject = serde_json::from_value(object).expect("object");
        self.cluster
            .block_on(self.training_jobs().create(&PostParams::default(), &object))
            .expect("created");
    }

    /// Deletes a TrainingJob as the administrator.
    pub fn delete(&self, name: &str) {
        self.cluster
            .block_on(self.training_jobs().delete(name, &Default::default()))
            .expect("deleted");
    }

    /// Writes a TrainingJob's status as the administrator (a merge patch of `/status`, as
    /// the controller writes it).
    pub fn write_status(&self, name: &str, status: Value) {
        self.cluster
            .block_on(write_status(&self.training_jobs(), name, status))
            .expect("status written");
    }

    /// Writes the status of every TrainingJob that appears in the namespace (and of those
    /// already there without one) as `script` says, until dropped.
    ///
    /// The API tests need a status that moves through the real API server, not a
    /// controller's semantics (those are the outcome tests'), and the real ACK controller
    /// takes a 30 s requeue per step: so the test writes it, as the controller would, through
    /// the administrator's client.
    pub fn complete_jobs(&self, script: Script) -> Completer {
        let task = self
            .cluster
            .handle()
            .spawn(complete_jobs(self.training_jobs(), script));
        Completer(task.abort_handle())
    }
}

/// The status writes [`Namespace::complete_jobs`] plays for each TrainingJob.
#[derive(Debug, Clone, Copy)]
pub struct Script {
    /// Before the first write.
    pub wait: Duration,
    /// How many `InProgress` writes (each a MODIFIED event) come before `Completed`.
    pub steps: usize,
    /// Between two writes.
    pub every: Duration,
}

impl Default for Script {
    fn default() -> Script {
        Script {
            wait: Duration::ZERO,
            steps: 2,
            every: Duration::from_millis(100),
        }
    }
}

/// Stops writing statuses when dropped.
#[derive(Debug)]
pub struct Completer(tokio::task::AbortHandle);

impl Drop for Completer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The ACK metadata and conditions the controller writes for a TrainingJob named `name`.
pub fn job_status(name: &str, state: &str, secondary: &str, synced: bool, step: usize) -> Value {
    let stamp = format!("2026-01-01T00:{:02}:{:02}Z", step / 60 % 60, step % 60);
    json!({
        "ackResourceMetadata": {
            "arn": format!("arn:aws:sagemaker:us-west-2:123456789012:training-job/{name}"),
            "ownerAccountID": "123456789012", "region": "us-west-2"},
        "trainingJobStatus": state,
        "secondaryStatus": secondary,
        "conditions": [{"type": "ACK.ResourceSynced",
            "status": if synced { "True" } else { "False" },
            "message": format!("TrainingJob is in {state} status."),
            "lastTransitionTime": stamp}],
    })
}

async fn write_status(api: &Api<DynamicObject>, name: &str, status: Value) -> kube::Result<()> {
    let patch = json!({"status": status});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map(|_| ())
}

async fn complete_jobs(api: Api<DynamicObject>, script: Script) {
    let mut seen = std::collections::BTreeSet::new();
    let play = |name: String| {
        let api = api.clone();
        tokio::spawn(async move {
            tokio::time::sleep(script.wait).await;
            for step in 0..script.steps {
                let status = job_status(&name, "InProgress", "Training", false, step);
                if write_status(&api, &name, status).await.is_err() {
                    return;
                }
                tokio::time::sleep(script.every).await;
            }
            let mut done = job_status(&name, "Completed", "Completed", true, script.steps);
            done["modelArtifacts"] = json!({"s3ModelArtifacts":
                format!("s3://ack-sagemaker-data/output/{name}/output/model.tar.gz")});
            let _ = write_status(&api, &name, done).await;
        });
    };
    loop {
        let Ok(list) = api.list(&Default::default()).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        for object in &list.items {
            let name = object.metadata.name.clone().unwrap_or_default();
            if object.data.get("status").is_none_or(Value::is_null) && seen.insert(name.clone()) {
                play(name);
            }
        }
        let version = list.metadata.resource_version.unwrap_or_default();
        let Ok(stream) = api.watch(&Default::default(), &version).await else {
            continue;
        };
        let mut stream = std::pin::pin!(stream);
        while let Some(Ok(event)) = stream.next().await {
            if let WatchEvent::Added(object) = event {
                let name = object.metadata.name.clone().unwrap_or_default();
                if seen.insert(name.clone()) {
                    play(name);
                }
            }
        }
    }
}

/// Waits until `check` holds, up to 30 s (a real server on a busy machine).
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
