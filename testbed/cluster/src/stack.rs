//! A cluster with a node that runs real pods, and Argo Workflows on it: the whole stack a
//! compiled KFP v1 pipeline runs on. Each part is its own module with its own handle;
//! this one starts them in order, holds them, and tears everything down on drop (a
//! watchdog does it if the test process dies first).
//!
//! Start order: the node's namespaces (their holder leads the process group), etcd and
//! kube-apiserver on the host's end of the node's link, the registry with the sandbox and
//! executor images, containerd, kube-controller-manager and kube-scheduler, the kubelet
//! and kube-proxy (then the node is waited for: Ready, no taint), the S3 server, Argo's
//! workflow-controller.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Node, ServiceAccount};
use kube::api::{Api, ObjectMeta, PostParams};

use crate::argo::{Argo, ArtifactStore};
use crate::containerd::{Containerd, ContainerdConfig};
use crate::control_plane::{Cluster, ControlPlane, Identity};
use crate::error::ClusterError;
use crate::go_build::Tool;
use crate::images;
use crate::kube_controller_manager::KubeControllerManager;
use crate::kube_proxy::KubeProxy;
use crate::kube_scheduler::KubeScheduler;
use crate::kubelet::{Kubelet, KubeletConfig};
use crate::netns::{NodeNames, NodeNamespace};
use crate::registry::Registry;
use crate::s3::S3Server;
use crate::teardown::{Teardown, Watchdog};

/// The service account KFP v1 runs every step as.
pub const PIPELINE_RUNNER: &str = "pipeline-runner";

/// How long the node may take to become Ready and untainted (usually 10 to 20 s).
const NODE_READY_TIMEOUT: Duration = Duration::from_secs(180);

/// Choices for [`Stack::start_with`].
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// The node's name.
    pub node_name: String,
}

impl Default for StackOptions {
    fn default() -> StackOptions {
        StackOptions {
            node_name: "ack-kfp-node".into(),
        }
    }
}

/// The running stack. Fields drop in order: Argo first, the namespaces and the teardown
/// last.
pub struct Stack {
    argo: Argo,
    s3: S3Server,
    kube_proxy: KubeProxy,
    kubelet: Kubelet,
    containerd: Containerd,
    scheduler: KubeScheduler,
    controller_manager: KubeControllerManager,
    registry: Registry,
    executor_image: String,
    cluster: Cluster,
    node: NodeNamespace,
    teardown: Teardown,
    watchdog: Option<Watchdog>,
    temp: Option<tempfile::TempDir>,
    detached: bool,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("cluster", &self.cluster)
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

/// What `cargo xtask cluster up --nodes` leaves behind.
#[derive(Debug)]
pub struct DetachedStack {
    /// The admin kubeconfig.
    pub kubeconfig: PathBuf,
    /// The process group.
    pub group: u32,
    /// The registry (`host:port`) containerd pulls from.
    pub registry: String,
    /// The S3 server (`host:port`).
    pub s3: String,
    /// The host's end of the node's link.
    pub host_address: Ipv4Addr,
}

impl Stack {
    /// [`Stack::start_with`] the default options, in a temporary directory.
    pub fn start() -> Result<Stack, ClusterError> {
        Self::start_with(&StackOptions::default())
    }

    /// Builds what is missing (Go tools, images, the S3 server's venv), then starts the
    /// stack in a temporary directory.
    pub fn start_with(options: &StackOptions) -> Result<Stack, ClusterError> {
        let temp = tempfile::Builder::new()
            .prefix("ack-kfp-stack-")
            .tempdir()
            .map_err(|e| ClusterError::io("cannot create", &std::env::temp_dir(), e))?;
        let dir = temp.path().to_path_buf();
        Self::start_in(dir, Some(temp), options)
    }

    /// Starts a stack in `dir`, which is kept (no watchdog; torn down on drop unless
    /// [`Stack::detach`]ed first): for `cargo xtask cluster up --nodes`, which adds the
    /// ACK controller and our SageMaker API to the stack's process group before it
    /// detaches.
    pub fn start_kept(dir: &Path, options: &StackOptions) -> Result<Stack, ClusterError> {
        std::fs::create_dir_all(dir).map_err(|e| ClusterError::io("cannot create", dir, e))?;
        Self::start_in(dir.to_path_buf(), None, options)
    }

    /// Leaves everything running after this handle is gone: writes `dir/kubeconfig` and
    /// the teardown's record for [`Cluster::stop_detached`].
    pub fn detach(mut self) -> Result<DetachedStack, ClusterError> {
        let dir = self.cluster.dir().to_path_buf();
        let kubeconfig = dir.join("kubeconfig");
        self.cluster.write_kubeconfig(&kubeconfig, "default")?;
        self.teardown.record(&dir)?;
        let detached = DetachedStack {
            kubeconfig,
            group: self.teardown.group,
            registry: self.registry.host(),
            s3: self.s3.endpoint(),
            host_address: self.node.host_address(),
        };
        self.keep_running();
        Ok(detached)
    }

    fn start_in(
        dir: PathBuf,
        temp: Option<tempfile::TempDir>,
        options: &StackOptions,
    ) -> Result<Stack, ClusterError> {
        // Everything that may take minutes first, so that start-up is start-up.
        for tool in [Tool::Etcd, Tool::KubeApiserver]
            .into_iter()
            .chain(Tool::NODE)
        {
            tool.ensure_built()?;
        }
        let pause = images::pause()?;
        let argoexec = images::argoexec()?;

        let names = NodeNames::draw()?;
        let node = NodeNamespace::create(&dir, &names, None)?;
        let group = node.pid();
        let teardown = Teardown {
            group,
            dir: Some(dir.clone()),
            cgroup: Some(names.cgroup.clone()),
            veth: Some(names.veth.clone()),
        };
        // From here on an error drops what started; the guard runs the teardown for what
        // left the group (nothing has yet, but the cgroups and the veth pair exist).
        let watchdog = match temp {
            Some(_) => Some(Watchdog::start(&teardown)?),
            None => None,
        };
        let guard = TeardownOnError(Some(teardown.clone()));
        let host = IpAddr::V4(node.host_address());
        let plane = ControlPlane {
            address: host,
            node_name: Some(options.node_name.clone()),
        };
        let cluster = Cluster::start_in(dir.clone(), None, &plane, Some(group))?;
        let registry = Registry::start(&dir, host, Some(group))?;
        let sandbox_image = registry.push(
            &pause.dir,
            &pause.tag,
            &format!("{}:{}", pause.name, pause.tag),
        )?;
        let executor_image = registry.push(
            &argoexec.dir,
            &argoexec.tag,
            &format!("{}:{}", argoexec.name, argoexec.tag),
        )?;
        let containerd = Containerd::start(
            &dir,
            &node,
            &ContainerdConfig {
                sandbox_image,
                plain_http: vec![registry.host()],
                docker_hub_mirror: Some(registry.host()),
            },
            Some(group),
        )?;
        let controller_manager = KubeControllerManager::start(
            &dir,
            &Tool::KubeControllerManager.ensure_built()?,
            &cluster.identity_kubeconfig(Identity::KubeControllerManager)?,
            &cluster.ca_file(),
            &cluster.service_account_key_file(),
            Some(group),
        )?;
        let scheduler = KubeScheduler::start(
            &dir,
            &Tool::KubeScheduler.ensure_built()?,
            &cluster.identity_kubeconfig(Identity::KubeScheduler)?,
            Some(group),
        )?;
        let kubelet = Kubelet::start(
            &dir,
            node.command(&Tool::Kubelet.ensure_built()?),
            cluster.ca(),
            &KubeletConfig {
                node_name: options.node_name.clone(),
                node_address: node.node_address(),
                kubeconfig: cluster.identity_kubeconfig(Identity::Kubelet)?,
                runtime_endpoint: containerd.endpoint(),
                cgroup_root: node.cgroup().kubelet_root(),
            },
            Some(group),
        )?;
        let kube_proxy = KubeProxy::start(
            &dir,
            node.command(&Tool::KubeProxy.ensure_built()?),
            &cluster.identity_kubeconfig(Identity::KubeProxy)?,
            &options.node_name,
            node.node_address(),
            Some(group),
        )?;
        let s3 = S3Server::start(&dir, host, Some(group))?;
        let (access_key, secret_key) = s3.keys();
        let store = ArtifactStore {
            endpoint: s3.endpoint(),
            access_key: access_key.into(),
            secret_key: secret_key.into(),
        };
        let argo = Argo::start(
            &dir,
            &cluster,
            node.net_command(&Tool::WorkflowController.ensure_built()?),
            &executor_image,
            &store,
            Some(group),
        )?;
        let mut stack = Stack {
            argo,
            s3,
            kube_proxy,
            kubelet,
            containerd,
            scheduler,
            controller_manager,
            registry,
            executor_image,
            cluster,
            node,
            teardown,
            watchdog,
            temp,
            detached: false,
        };
        stack.wait_for_node()?;
        stack.wait_for_argo()?;
        std::mem::forget(guard);
        Ok(stack)
    }

    /// Waits until the node is Ready and carries no taint that keeps pods off.
    fn wait_for_node(&mut self) -> Result<(), ClusterError> {
        let nodes: Api<Node> = Api::all(self.cluster.client());
        let name = self.cluster.node_name().unwrap_or_default().to_owned();
        let deadline = Instant::now() + NODE_READY_TIMEOUT;
        loop {
            self.check_running()?;
            if let Some(node) = self.cluster.block_on(nodes.get_opt(&name))? {
                let ready = node
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
                let tainted = node
                    .spec
                    .as_ref()
                    .and_then(|s| s.taints.as_ref())
                    .is_some_and(|t| t.iter().any(|t| t.effect != "PreferNoSchedule"));
                if ready && !tainted {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(ClusterError::NotReady {
                    name: "the node (Ready, untainted)",
                    log_tail: crate::process::log_tail(self.kubelet.log()),
                });
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Waits until the workflow controller answers its health check.
    fn wait_for_argo(&mut self) -> Result<(), ClusterError> {
        let addr = SocketAddr::new(IpAddr::V4(self.node.node_address()), 6060);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            self.argo.check_running()?;
            if std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(ClusterError::NotReady {
                    name: "workflow-controller",
                    log_tail: crate::process::log_tail(self.argo.log()),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Fails with the log's tail of the first part that has exited.
    pub fn check_running(&mut self) -> Result<(), ClusterError> {
        self.kubelet.check_running()?;
        self.kube_proxy.check_running()?;
        self.scheduler.check_running()?;
        self.controller_manager.check_running()?;
        self.argo.check_running()
    }

    /// The control plane (its admin client, kubeconfigs, service accounts, roles).
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The registry containerd pulls from (also as the mirror of Docker Hub).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The artifact store.
    pub fn s3(&self) -> &S3Server {
        &self.s3
    }

    /// The executor image Argo runs (in the registry).
    pub fn executor_image(&self) -> &str {
        &self.executor_image
    }

    /// The stack's directory: every part's state and log.
    pub fn dir(&self) -> &Path {
        self.cluster.dir()
    }

    /// The workflow controller's log.
    pub fn argo_log(&self) -> &Path {
        self.argo.log()
    }

    /// What the teardown removes besides the directory: the node's cgroup root's name and
    /// the host's end of its veth pair (for tests that check nothing is left).
    pub fn host_objects(&self) -> (String, String) {
        (
            self.teardown.cgroup.clone().unwrap_or_default(),
            self.teardown.veth.clone().unwrap_or_default(),
        )
    }

    /// Makes `namespace` ready for pipelines as KFP's profile controller would: the
    /// `pipeline-runner` ServiceAccount, bound to the step's Role (`rbac_yaml`, a Role and
    /// a RoleBinding as in `component-template/rbac.yaml`) and to the executor's Role,
    /// the artifact repository's Secret, and the `kube-root-ca.crt` ConfigMap waited for
    /// (kube-controller-manager publishes it; pods need it for their token volume).
    pub fn prepare_namespace(&self, namespace: &str, rbac_yaml: &str) -> Result<(), ClusterError> {
        let cluster = &self.cluster;
        cluster.create_namespace(namespace)?;
        let accounts: Api<ServiceAccount> = Api::namespaced(cluster.client(), namespace);
        let account = ServiceAccount {
            metadata: ObjectMeta {
                name: Some(PIPELINE_RUNNER.into()),
                ..ObjectMeta::default()
            },
            ..ServiceAccount::default()
        };
        cluster.block_on(accounts.create(&PostParams::default(), &account))?;
        cluster.apply_role_yaml(rbac_yaml, namespace, PIPELINE_RUNNER, |_| {})?;
        let (access_key, secret_key) = self.s3.keys();
        crate::argo::prepare_namespace(
            cluster,
            namespace,
            PIPELINE_RUNNER,
            &ArtifactStore {
                endpoint: self.s3.endpoint(),
                access_key: access_key.into(),
                secret_key: secret_key.into(),
            },
        )?;
        let configmaps: Api<ConfigMap> = Api::namespaced(cluster.client(), namespace);
        let deadline = Instant::now() + Duration::from_secs(60);
        while cluster
            .block_on(configmaps.get_opt("kube-root-ca.crt"))?
            .is_none()
        {
            if Instant::now() > deadline {
                return Err(ClusterError::Invalid(format!(
                    "namespace {namespace}: kube-controller-manager did not publish kube-root-ca.crt"
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    fn keep_running(&mut self) {
        self.detached = true;
        self.argo.detach();
        self.s3.detach();
        self.kube_proxy.detach();
        self.kubelet.detach();
        self.containerd.detach();
        self.scheduler.detach();
        self.controller_manager.detach();
        self.registry.detach();
        self.cluster.keep_running();
        self.node.detach();
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if self.detached {
            return;
        }
        // Every process of the stack is in its process group or its node's cgroup, and
        // the teardown kills both at once; the fields' own drops (after this) then only
        // reap their children.
        self.teardown.run();
        drop(self.watchdog.take());
        drop(self.temp.take());
    }
}

/// Runs the teardown if the stack does not start.
struct TeardownOnError(Option<Teardown>);

impl Drop for TeardownOnError {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            t.run();
        }
    }
}
