//! The launcher against a real kube-apiserver ([`testbed::cluster`]): one cluster per test
//! binary, one namespace per test, the launcher authenticated as a ServiceAccount bound
//! only to `component-template/rbac.yaml`, and the simulated controller reconciling that
//! namespace as a kube-rs client.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use k8s_openapi::api::rbac::v1::Role;
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use serde_json::Value;
use testbed::cluster::Cluster;
use testbed::{ClusterController, ControllerOptions, Scenario};

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

/// A cluster of its own, for a test that restarts the API server.
pub fn start() -> Cluster {
    let cluster = Cluster::start().expect("cluster starts");
    let crd = std::fs::read_to_string(testbed::training_job_crd_path()).expect("vendored CRD");
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

    pub fn controller(&self, scenario: Scenario) -> ClusterController {
        ClusterController::start(
            self.cluster.client(),
            self.cluster.handle(),
            &self.name,
            ControllerOptions {
                scenario,
                ..ControllerOptions::default()
            },
        )
    }

    /// A launcher step running as the ServiceAccount.
    pub fn step(&self) -> Step {
        Step::with_kubeconfig(&self.kubeconfig)
    }

    /// A launcher step running as the administrator (to set up a scene).
    pub fn admin_step(&self) -> Step {
        Step::with_kubeconfig(&self.cluster.kubeconfig_yaml(&self.name))
    }

    pub fn training_jobs(&self) -> Api<DynamicObject> {
        let resource = ApiResource {
            group: "sagemaker.services.k8s.aws".into(),
            version: "v1alpha1".into(),
            api_version: "sagemaker.services.k8s.aws/v1alpha1".into(),
            kind: "TrainingJob".into(),
            plural: "trainingjobs".into(),
        };
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
}

/// Waits until `check` holds, up to 30 s (a real server and a busy machine are slower
/// than the double).
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
