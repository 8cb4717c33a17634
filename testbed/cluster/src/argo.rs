//! Argo Workflows v3.7.18 (built from `../shared/argo-src`, wrapper `testbed/go/argo`),
//! configured as Kubeflow Pipelines 1.8 configures it: the Workflow CRDs (`minimal`, as
//! released), the `workflow-controller-configmap` in the `argo` namespace with KFP's
//! artifact repository (S3, bucket `mlpipeline`, KFP's `keyFormat`, `insecure`, the keys
//! in the Secret `mlpipeline-minio-artifact` of each pipeline namespace, logs archived)
//! and `imagePullPolicy: IfNotPresent` for the executor, and the executor image from the
//! cluster's registry. The controller watches every namespace (KFP's multi-user mode).
//!
//! The controller runs in the node's network namespace, as it would in a pod on the node:
//! it serves its health endpoint on `:6060` of every interface, a port no flag changes,
//! which there means the node's own interfaces (two clusters side by side do not collide,
//! nothing listens beyond this machine). Its metrics servers are off.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ObjectMeta, PostParams};

use crate::control_plane::Cluster;
use crate::error::ClusterError;
use crate::go_build::Tool;
use crate::process::Server;

/// Where the controller's configuration lives.
pub const ARGO_NAMESPACE: &str = "argo";

/// The Secret KFP's artifact repository names, in each pipeline namespace.
pub const ARTIFACT_SECRET: &str = "mlpipeline-minio-artifact";

/// KFP 1.8's artifact key format.
pub const KEY_FORMAT: &str = "artifacts/{{workflow.name}}/{{workflow.creationTimestamp.Y}}/{{workflow.creationTimestamp.m}}/{{workflow.creationTimestamp.d}}/{{pod.name}}";

/// The role Argo's emissary executor needs in a pipeline namespace (its Role
/// `argo-executor`), besides what the step itself needs: report the step's outputs as a
/// `WorkflowTaskResult`, and read the artifact repository's keys.
pub const EXECUTOR_ROLE: &str = "argo-executor";

/// A running workflow-controller. Dropping it kills it.
#[derive(Debug)]
pub struct Argo {
    server: Server,
}

/// Where the artifacts go.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    /// `host:port` of the S3 server.
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
}

impl Argo {
    /// Installs the CRDs and the configuration, then starts the controller with `command`
    /// (the node's network namespace around the controller's binary) and the admin
    /// kubeconfig written under `dir`.
    pub fn start(
        dir: &Path,
        cluster: &Cluster,
        mut command: std::process::Command,
        executor_image: &str,
        store: &ArtifactStore,
        group: Option<u32>,
    ) -> Result<Argo, ClusterError> {
        for crd in crds()? {
            cluster.apply_crd(&crd)?;
        }
        cluster.create_namespace(ARGO_NAMESPACE)?;
        let configmaps: Api<ConfigMap> = Api::namespaced(cluster.client(), ARGO_NAMESPACE);
        let configmap = ConfigMap {
            metadata: ObjectMeta {
                name: Some("workflow-controller-configmap".into()),
                ..ObjectMeta::default()
            },
            data: Some(controller_config(&store.endpoint)),
            ..ConfigMap::default()
        };
        cluster.block_on(configmaps.create(&PostParams::default(), &configmap))?;
        let kubeconfig = dir.join("workflow-controller.kubeconfig");
        cluster.write_kubeconfig(&kubeconfig, ARGO_NAMESPACE)?;
        command
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .arg(format!("--namespace={ARGO_NAMESPACE}"))
            .arg("--configmap=workflow-controller-configmap")
            .arg(format!("--executor-image={executor_image}"))
            .arg("--executor-image-pull-policy=IfNotPresent")
            .arg("--loglevel=info")
            .env("LEADER_ELECTION_DISABLE", "true");
        let server = Server::spawn_command(
            "workflow-controller",
            command,
            dir.join("workflow-controller.log"),
            group,
        )?;
        Ok(Argo { server })
    }

    /// Fails with the log's tail if the controller has exited.
    pub fn check_running(&mut self) -> Result<(), ClusterError> {
        self.server.check_running()
    }

    /// The controller's log.
    pub fn log(&self) -> &Path {
        &self.server.log
    }

    /// Leaves the controller running when this handle is dropped.
    pub fn detach(&mut self) {
        self.server.detach();
    }
}

/// What a pipeline namespace needs besides the step's own Role: the artifact
/// repository's Secret, and the executor's Role bound to `service_account`.
pub fn prepare_namespace(
    cluster: &Cluster,
    namespace: &str,
    service_account: &str,
    store: &ArtifactStore,
) -> Result<(), ClusterError> {
    let pp = PostParams::default();
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(ARTIFACT_SECRET.into()),
            ..ObjectMeta::default()
        },
        string_data: Some(BTreeMap::from([
            ("accesskey".to_string(), store.access_key.clone()),
            ("secretkey".to_string(), store.secret_key.clone()),
        ])),
        ..Secret::default()
    };
    let role = Role {
        metadata: ObjectMeta {
            name: Some(EXECUTOR_ROLE.into()),
            ..ObjectMeta::default()
        },
        rules: Some(vec![
            PolicyRule {
                api_groups: Some(vec!["argoproj.io".into()]),
                resources: Some(vec!["workflowtaskresults".into()]),
                verbs: vec!["create".into(), "patch".into()],
                ..PolicyRule::default()
            },
            PolicyRule {
                api_groups: Some(vec![String::new()]),
                resources: Some(vec!["secrets".into()]),
                resource_names: Some(vec![ARTIFACT_SECRET.into()]),
                verbs: vec!["get".into()],
                ..PolicyRule::default()
            },
        ]),
    };
    let binding = RoleBinding {
        metadata: ObjectMeta {
            name: Some(EXECUTOR_ROLE.into()),
            ..ObjectMeta::default()
        },
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: EXECUTOR_ROLE.into(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: service_account.into(),
            namespace: Some(namespace.into()),
            ..Subject::default()
        }]),
    };
    let client = cluster.client();
    cluster.block_on(async {
        Api::<Secret>::namespaced(client.clone(), namespace)
            .create(&pp, &secret)
            .await?;
        Api::<Role>::namespaced(client.clone(), namespace)
            .create(&pp, &role)
            .await?;
        Api::<RoleBinding>::namespaced(client, namespace)
            .create(&pp, &binding)
            .await?;
        Ok::<_, kube::Error>(())
    })?;
    Ok(())
}

/// The controller's configuration: KFP 1.8's (`third-party/argo` in its manifests), the
/// endpoint being this machine's S3 server.
fn controller_config(endpoint: &str) -> BTreeMap<String, String> {
    let artifacts = format!(
        "archiveLogs: true\n\
         s3:\n  \
           endpoint: \"{endpoint}\"\n  \
           bucket: \"{bucket}\"\n  \
           keyFormat: \"{KEY_FORMAT}\"\n  \
           insecure: true\n  \
           accessKeySecret:\n    name: {ARTIFACT_SECRET}\n    key: accesskey\n  \
           secretKeySecret:\n    name: {ARTIFACT_SECRET}\n    key: secretkey\n",
        bucket = crate::s3::BUCKET,
    );
    BTreeMap::from([
        ("artifactRepository".to_string(), artifacts),
        (
            "executor".to_string(),
            "imagePullPolicy: IfNotPresent\n".to_string(),
        ),
        ("metricsConfig".to_string(), "enabled: false\n".to_string()),
        (
            "telemetryConfig".to_string(),
            "enabled: false\n".to_string(),
        ),
    ])
}

/// The Workflow CRDs as released (`manifests/base/crds/minimal` of the source the wrapper
/// module builds).
pub fn crds() -> Result<Vec<CustomResourceDefinition>, ClusterError> {
    let dir = source_dir()?.join("manifests/base/crds/minimal");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| ClusterError::io("cannot read", &dir, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("argoproj.io_"))
        })
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ClusterError::io("cannot read", path, e))?;
            serde_saphyr::from_str(&text)
                .map_err(|e| ClusterError::Invalid(format!("{}: {e}", path.display())))
        })
        .collect()
}

/// The Argo source folder: the `replace` target of the wrapper module's go.mod.
pub fn source_dir() -> Result<PathBuf, ClusterError> {
    let module = Tool::WorkflowController.module_dir();
    let go_mod = module.join("go.mod");
    let text = std::fs::read_to_string(&go_mod)
        .map_err(|e| ClusterError::io("cannot read", &go_mod, e))?;
    let target = text
        .lines()
        .find_map(|line| {
            let (from, to) = line.trim().trim_start_matches("replace").split_once("=>")?;
            (from.trim() == "github.com/argoproj/argo-workflows/v3").then(|| to.trim().to_owned())
        })
        .ok_or_else(|| {
            ClusterError::Invalid(format!(
                "{}: no replace of the Argo module",
                go_mod.display()
            ))
        })?;
    Ok(module.join(target))
}
