//! The control plane: etcd and kube-apiserver as child processes ([`Cluster`]), the
//! clients, kubeconfigs and namespaces the tests ask of it.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ObjectMeta, PostParams};

use crate::error::ClusterError;
use crate::go_build::Tool;
use crate::kubeconfig;
use crate::process::{Server, free_port, log_tail, wait_for_port};
use crate::random::random_hex;
use crate::teardown::{Teardown, Watchdog};
use crate::tls;

/// How long kube-apiserver may take to answer `/readyz` with 200 (on 2 busy cores it
/// usually takes 5 to 15 s).
const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// A running etcd + kube-apiserver. Dropping it kills both and removes their directory.
pub struct Cluster {
    runtime: tokio::runtime::Runtime,
    /// Removed on drop; `None` for a detached cluster (`cargo xtask cluster up`) or one
    /// inside a [`Stack`](crate::Stack) (which removes the directory).
    temp: Option<tempfile::TempDir>,
    dir: PathBuf,
    etcd: Mutex<Server>,
    apiserver: Mutex<Option<Server>>,
    apiserver_bin: PathBuf,
    apiserver_args: Vec<String>,
    group: u32,
    watchdog: Option<Watchdog>,
    detached: bool,
    url: String,
    ca: tls::Ca,
    ca_pem: String,
    /// The same CA, DER (for the fault proxy's client side).
    ca_der: Vec<u8>,
    admin_token: String,
    /// The static tokens of the node's and the control plane's other parts.
    identity_tokens: BTreeMap<Identity, String>,
    node_name: Option<String>,
    client: kube::Client,
}

/// Where kube-apiserver listens and whom it admits.
#[derive(Debug, Clone)]
pub(crate) struct ControlPlane {
    /// The address it binds and advertises (127.0.0.1, or the host's end of a node's
    /// link, which its pods reach through the `kubernetes` Service).
    pub address: IpAddr,
    /// With a node: its name. Then the API server authorizes nodes (`Node,RBAC`), admits
    /// pods with their ServiceAccount's token (the `ServiceAccount` plugin, which envtest
    /// turns off), reaches the kubelet with a client certificate, and its certificate
    /// names the `kubernetes` Service's addresses.
    pub node_name: Option<String>,
}

impl ControlPlane {
    fn loopback() -> ControlPlane {
        ControlPlane {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            node_name: None,
        }
    }
}

/// The identities a node's cluster gives its other parts (static tokens), each allowed
/// what kubeadm allows it: the kubelet by the Node authorizer, the others by the API
/// server's bootstrap RBAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Identity {
    /// `system:node:<node>` in `system:nodes`.
    Kubelet,
    /// `system:kube-proxy`.
    KubeProxy,
    /// `system:kube-scheduler`.
    KubeScheduler,
    /// `system:kube-controller-manager`.
    KubeControllerManager,
}

impl Identity {
    const ALL: [Identity; 4] = [
        Identity::Kubelet,
        Identity::KubeProxy,
        Identity::KubeScheduler,
        Identity::KubeControllerManager,
    ];

    /// The user name and the groups (comma-separated).
    fn user(self, node_name: &str) -> (String, &'static str) {
        match self {
            Identity::Kubelet => (format!("system:node:{node_name}"), "system:nodes"),
            Identity::KubeProxy => ("system:kube-proxy".into(), ""),
            Identity::KubeScheduler => ("system:kube-scheduler".into(), ""),
            Identity::KubeControllerManager => ("system:kube-controller-manager".into(), ""),
        }
    }
}

/// The service cluster IP range, and the `kubernetes` Service's address in it.
pub const SERVICE_CIDR: &str = "10.0.0.0/24";
const KUBERNETES_SERVICE_IP: &str = "10.0.0.1";

/// kube-apiserver's port on a node's link (the address is the cluster's own).
const NODE_APISERVER_PORT: u16 = 6443;

/// What `cargo xtask cluster up` leaves behind: the kubeconfig and the process group.
#[derive(Debug)]
pub struct Detached {
    /// The admin kubeconfig (namespace `default`).
    pub kubeconfig: PathBuf,
    /// The process group of etcd and kube-apiserver (`kill -- -<group>` stops both).
    pub group: u32,
}

impl Cluster {
    /// Builds the Go tools if needed, then starts etcd and kube-apiserver in a temporary
    /// directory and waits for `/readyz`.
    pub fn start() -> Result<Cluster, ClusterError> {
        let temp = tempfile::Builder::new()
            .prefix("testbed-cluster-")
            .tempdir()
            .map_err(|e| ClusterError::io("cannot create", &std::env::temp_dir(), e))?;
        let dir = temp.path().to_path_buf();
        Self::start_in(dir, Some(temp), &ControlPlane::loopback(), None)
    }

    /// Starts a cluster in `dir` that outlives this process: writes `dir/kubeconfig` and
    /// `dir/pgid`; [`Cluster::stop_detached`] stops it.
    pub fn start_detached(dir: &Path) -> Result<Detached, ClusterError> {
        Self::start_kept(dir)?.detach()
    }

    /// Starts a cluster in `dir`, which is kept (no watchdog; the processes are killed on
    /// drop unless [`Cluster::detach`]ed first): for `cargo xtask cluster up`, which adds
    /// more processes to the cluster's group before it detaches.
    pub fn start_kept(dir: &Path) -> Result<Cluster, ClusterError> {
        std::fs::create_dir_all(dir).map_err(|e| ClusterError::io("cannot create", dir, e))?;
        Self::start_in(dir.to_path_buf(), None, &ControlPlane::loopback(), None)
    }

    /// Leaves the processes running after this handle is gone: writes `dir/kubeconfig`
    /// and the teardown's record for [`Cluster::stop_detached`].
    pub fn detach(mut self) -> Result<Detached, ClusterError> {
        let kubeconfig = self.dir.join("kubeconfig");
        self.write_kubeconfig(&kubeconfig, "default")?;
        let group = self.group;
        Teardown {
            group,
            dir: Some(self.dir.clone()),
            ..Teardown::default()
        }
        .record(&self.dir)?;
        // The processes are meant to outlive this one.
        self.keep_running();
        Ok(Detached { kubeconfig, group })
    }

    /// Stops a cluster (or a [`Stack`](crate::Stack)) that `start_detached` started in `dir` and removes
    /// `dir`. Returns false when none was running there.
    pub fn stop_detached(dir: &Path) -> Result<bool, ClusterError> {
        let Some(teardown) = Teardown::recorded(dir)? else {
            return Ok(false);
        };
        let running = kill_group(teardown.group, "0");
        teardown.run();
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| ClusterError::io("cannot remove", dir, e))?;
        }
        Ok(running)
    }

    /// Starts etcd and kube-apiserver in `dir`. Without `group`, etcd leads a new process
    /// group and a watchdog tears it down if this process dies (when `temp` is given);
    /// with one (a [`Stack`](crate::Stack)'s), the owner of the group does.
    pub(crate) fn start_in(
        dir: PathBuf,
        temp: Option<tempfile::TempDir>,
        plane: &ControlPlane,
        group: Option<u32>,
    ) -> Result<Cluster, ClusterError> {
        let etcd_bin = Tool::Etcd.ensure_built()?;
        let apiserver_bin = Tool::KubeApiserver.ensure_built()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| ClusterError::io("cannot start", Path::new("tokio runtime"), e))?;

        let write = |name: &str, text: &str| -> Result<PathBuf, ClusterError> {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| ClusterError::io("cannot write", &path, e))?;
            Ok(path)
        };
        let ca = tls::Ca::generate("testbed-kube-apiserver")?;
        let mut names = vec![
            plane.address.to_string(),
            "127.0.0.1".into(),
            "localhost".into(),
        ];
        if plane.node_name.is_some() {
            names.push(KUBERNETES_SERVICE_IP.into());
            for name in ["kubernetes", "kubernetes.default", "kubernetes.default.svc"] {
                names.push(name.into());
            }
            names.push("kubernetes.default.svc.cluster.local".into());
        }
        names.dedup();
        let cert = ca.serving_cert("testbed-kube-apiserver", &names)?;
        let cert_file = write("apiserver.crt", &cert.chain_pem)?;
        let key_file = write("apiserver.key", &cert.key_pem)?;
        let ca_file = write("ca.crt", ca.pem())?;
        let (sa_private, sa_public) = tls::key_pair_pem()?;
        let sa_key = write("service-account.key", &sa_private)?;
        let sa_pub = write("service-account.pub", &sa_public)?;
        let admin_token = random_token()?;
        // The static token file: token,user,uid,"groups".
        let mut token_lines =
            format!("{admin_token},testbed-admin,testbed-admin,\"system:masters\"\n");
        let mut identity_tokens = BTreeMap::new();
        if let Some(node_name) = &plane.node_name {
            for identity in Identity::ALL {
                let token = random_token()?;
                let (user, groups) = identity.user(node_name);
                token_lines.push_str(&format!("{token},{user},{user},\"{groups}\"\n"));
                identity_tokens.insert(identity, token);
            }
        }
        let tokens = write("tokens.csv", &token_lines)?;

        let (etcd_port, peer_port) = (free_port()?, free_port()?);
        let port = match plane.node_name {
            Some(_) => NODE_APISERVER_PORT,
            None => free_port()?,
        };
        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let etcd_args: Vec<String> = vec![
            "--name=testbed".into(),
            format!("--data-dir={}", dir.join("etcd").display()),
            format!("--listen-client-urls={etcd_url}"),
            format!("--advertise-client-urls={etcd_url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster=testbed={peer_url}"),
            // As envtest: test data need not survive a power cut, and fsync is slow.
            "--unsafe-no-fsync=true".into(),
            "--log-level=warn".into(),
        ];
        let mut etcd = Server::spawn("etcd", &etcd_bin, &etcd_args, dir.join("etcd.log"), group)?;
        let (group, watchdog) = match group {
            Some(group) => (group, None),
            None => {
                let group = etcd.child.id();
                let watchdog = match temp {
                    Some(_) => Some(Watchdog::start(&Teardown {
                        group,
                        dir: Some(dir.clone()),
                        ..Teardown::default()
                    })?),
                    None => None,
                };
                (group, watchdog)
            }
        };
        wait_for_port(&mut etcd, etcd_port, Duration::from_secs(30))?;

        let url = match plane.address {
            IpAddr::V6(a) => format!("https://[{a}]:{port}"),
            IpAddr::V4(a) => format!("https://{a}:{port}"),
        };
        let mut apiserver_args: Vec<String> = vec![
            format!("--etcd-servers={etcd_url}"),
            format!("--bind-address={}", plane.address),
            format!("--advertise-address={}", plane.address),
            format!("--secure-port={port}"),
            format!("--cert-dir={}", dir.join("apiserver-certs").display()),
            format!("--tls-cert-file={}", cert_file.display()),
            format!("--tls-private-key-file={}", key_file.display()),
            format!("--token-auth-file={}", tokens.display()),
            format!("--service-account-issuer={url}/"),
            format!("--service-account-key-file={}", sa_pub.display()),
            format!("--service-account-signing-key-file={}", sa_key.display()),
            format!("--service-cluster-ip-range={SERVICE_CIDR}"),
            "--allow-privileged=true".into(),
        ];
        if plane.node_name.is_some() {
            let client = ca.client_cert("kube-apiserver-kubelet-client", Some("system:masters"))?;
            let client_cert = write("kubelet-client.crt", &client.chain_pem)?;
            let client_key = write("kubelet-client.key", &client.key_pem)?;
            apiserver_args.extend([
                "--authorization-mode=Node,RBAC".into(),
                format!("--kubelet-client-certificate={}", client_cert.display()),
                format!("--kubelet-client-key={}", client_key.display()),
                format!("--kubelet-certificate-authority={}", ca_file.display()),
                "--kubelet-preferred-address-types=InternalIP".into(),
            ]);
        } else {
            apiserver_args.extend([
                "--authorization-mode=RBAC".into(),
                "--disable-admission-plugins=ServiceAccount".into(),
            ]);
        }
        let kubeconfig = kubeconfig::render(&url, "default", Some(&cert.ca_pem), &admin_token);
        let client = runtime.block_on(client_from(&kubeconfig))?;
        let cluster = Cluster {
            runtime,
            temp,
            dir,
            etcd: Mutex::new(etcd),
            apiserver: Mutex::new(None),
            apiserver_bin,
            apiserver_args,
            group,
            watchdog,
            detached: false,
            url,
            ca,
            ca_pem: cert.ca_pem,
            ca_der: cert.ca_der.to_vec(),
            admin_token,
            identity_tokens,
            node_name: plane.node_name.clone(),
            client,
        };
        // An early return drops `cluster`, which kills what started.
        cluster.start_apiserver()?;
        Ok(cluster)
    }

    /// Leaves etcd and kube-apiserver running when this handle is dropped.
    pub(crate) fn keep_running(&mut self) {
        self.detached = true;
        lock(&self.etcd).detach();
        if let Some(s) = lock(&self.apiserver).as_mut() {
            s.detach();
        }
        // Nor does the watchdog tear anything down.
        if let Some(w) = self.watchdog.take() {
            std::mem::forget(w);
        }
    }

    /// A kubeconfig for one of the node's or the control plane's parts (a cluster
    /// started with a node only).
    pub fn identity_kubeconfig(&self, identity: Identity) -> Result<String, ClusterError> {
        let token = self.identity_tokens.get(&identity).ok_or_else(|| {
            ClusterError::Invalid(format!("{identity:?}: this cluster has no node"))
        })?;
        Ok(kubeconfig::render(
            &self.url,
            "default",
            Some(&self.ca_pem),
            token,
        ))
    }

    /// The node's name (a cluster started with a node only).
    pub fn node_name(&self) -> Option<&str> {
        self.node_name.as_deref()
    }

    /// The cluster's CA, which signs the API server's, the kubelet's and client
    /// certificates.
    pub fn ca(&self) -> &tls::Ca {
        &self.ca
    }

    /// The CA's PEM file in the cluster's directory.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// The service-account signing key's file in the cluster's directory.
    pub fn service_account_key_file(&self) -> PathBuf {
        self.dir.join("service-account.key")
    }

    /// Starts kube-apiserver (after [`Cluster::stop_apiserver`]) on the same port, etcd and
    /// keys, and waits for `/readyz`.
    pub fn start_apiserver(&self) -> Result<(), ClusterError> {
        let mut slot = lock(&self.apiserver);
        if slot.is_some() {
            return Ok(());
        }
        let mut server = Server::spawn(
            "kube-apiserver",
            &self.apiserver_bin,
            &self.apiserver_args,
            self.dir.join("kube-apiserver.log"),
            Some(self.group),
        )?;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            server.check_running()?;
            if self.block_on(self.ready()) {
                break;
            }
            if Instant::now() > deadline {
                let log_tail = log_tail(&server.log);
                server.kill();
                return Err(ClusterError::NotReady {
                    name: "kube-apiserver",
                    log_tail,
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        *slot = Some(server);
        Ok(())
    }

    /// Kills kube-apiserver; etcd keeps running with all the data.
    pub fn stop_apiserver(&self) {
        if let Some(mut s) = lock(&self.apiserver).take() {
            s.kill();
        }
    }

    /// [`Cluster::stop_apiserver`] then [`Cluster::start_apiserver`].
    pub fn restart_apiserver(&self) -> Result<(), ClusterError> {
        self.stop_apiserver();
        self.start_apiserver()
    }

    async fn ready(&self) -> bool {
        let Ok(request) = http::Request::get("/readyz").body(Vec::new()) else {
            return false;
        };
        tokio::time::timeout(Duration::from_secs(2), self.client.request_text(request))
            .await
            .is_ok_and(|r| r.is_ok_and(|body| body.trim() == "ok"))
    }

    /// The API server's URL (`https://127.0.0.1:<port>`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The PEM of the CA that signed the API server's certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The same CA, DER-encoded (for a client of the API server such as a proxy).
    pub fn ca_der(&self) -> &[u8] {
        &self.ca_der
    }

    /// The directory with the keys, etcd's data and both servers' logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The process group of etcd, kube-apiserver and whatever else joins it (the ACK
    /// controller): killed with the cluster.
    pub fn process_group(&self) -> u32 {
        self.group
    }

    /// A client authenticated as the harness's administrator (`system:masters`). Use it
    /// inside [`Cluster::block_on`].
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// Runs a future on the cluster's runtime (where its clients' connections live).
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// The runtime's handle, for tasks that live as long as the cluster.
    pub fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime.handle()
    }

    /// An administrator's kubeconfig with `namespace` as the context's namespace.
    pub fn kubeconfig_yaml(&self, namespace: &str) -> String {
        kubeconfig::render(&self.url, namespace, Some(&self.ca_pem), &self.admin_token)
    }

    /// Writes [`Cluster::kubeconfig_yaml`] to `path`.
    pub fn write_kubeconfig(
        &self,
        path: impl AsRef<Path>,
        namespace: &str,
    ) -> Result<(), ClusterError> {
        let path = path.as_ref();
        std::fs::write(path, self.kubeconfig_yaml(namespace))
            .map_err(|e| ClusterError::io("cannot write", path, e))
    }

    /// Creates a namespace (no error if it exists).
    pub fn create_namespace(&self, name: &str) -> Result<(), ClusterError> {
        let api: Api<Namespace> = Api::all(self.client());
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        match self.block_on(api.create(&PostParams::default(), &ns)) {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates the ServiceAccount `namespace/name` (if missing) and returns a kubeconfig
    /// authenticating as it with a bound token from the TokenRequest API, as a pod's
    /// projected token would (one hour).
    pub fn service_account_kubeconfig(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<String, ClusterError> {
        let api: Api<ServiceAccount> = Api::namespaced(self.client(), namespace);
        let sa = ServiceAccount {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            ..ServiceAccount::default()
        };
        match self.block_on(api.create(&PostParams::default(), &sa)) {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(e.into()),
        }
        let request = TokenRequest {
            spec: TokenRequestSpec {
                audiences: vec![],
                expiration_seconds: Some(3600),
                ..TokenRequestSpec::default()
            },
            ..TokenRequest::default()
        };
        let answer =
            self.block_on(api.create_token_request(name, &PostParams::default(), &request))?;
        let token = answer
            .status
            .map(|s| s.token)
            .ok_or_else(|| ClusterError::Invalid("TokenRequest without a token".into()))?;
        Ok(kubeconfig::render(
            &self.url,
            namespace,
            Some(&self.ca_pem),
            &token,
        ))
    }

    /// Applies `component-template/rbac.yaml`-style YAML (a Role and a RoleBinding) into
    /// `namespace`, binding the Role to the ServiceAccount `namespace/service_account`.
    /// `edit_role` may change the Role first (e.g. drop a verb).
    pub fn apply_role_yaml(
        &self,
        yaml: &str,
        namespace: &str,
        service_account: &str,
        edit_role: impl FnOnce(&mut Role),
    ) -> Result<(), ClusterError> {
        let mut role: Option<Role> = None;
        let mut binding: Option<RoleBinding> = None;
        for doc in serde_saphyr::from_multiple::<serde_json::Value>(yaml)
            .map_err(|e| ClusterError::Invalid(format!("RBAC YAML: {e}")))?
        {
            let invalid = |e: serde_json::Error| ClusterError::Invalid(format!("RBAC YAML: {e}"));
            match doc.get("kind").and_then(serde_json::Value::as_str) {
                Some("Role") => role = Some(serde_json::from_value(doc).map_err(invalid)?),
                Some("RoleBinding") => {
                    binding = Some(serde_json::from_value(doc).map_err(invalid)?)
                }
                other => return Err(ClusterError::Invalid(format!("RBAC YAML: kind {other:?}"))),
            }
        }
        let (Some(mut role), Some(mut binding)) = (role, binding) else {
            return Err(ClusterError::Invalid(
                "RBAC YAML: needs a Role and a RoleBinding".into(),
            ));
        };
        role.metadata.namespace = Some(namespace.into());
        edit_role(&mut role);
        binding.metadata.namespace = Some(namespace.into());
        for s in binding.subjects.iter_mut().flatten() {
            s.name = service_account.into();
            s.namespace = Some(namespace.into());
        }
        let pp = PostParams::default();
        let roles: Api<Role> = Api::namespaced(self.client(), namespace);
        let bindings: Api<RoleBinding> = Api::namespaced(self.client(), namespace);
        self.block_on(async {
            roles.create(&pp, &role).await?;
            bindings.create(&pp, &binding).await?;
            Ok::<_, kube::Error>(())
        })?;
        Ok(())
    }

    /// Creates a CRD (or replaces the one of that name, as `kubectl apply` of a newer
    /// release does) and waits until it is `Established`.
    pub fn apply_crd(&self, crd: &CustomResourceDefinition) -> Result<(), ClusterError> {
        let api: Api<CustomResourceDefinition> = Api::all(self.client());
        let name = crd.metadata.name.clone().unwrap_or_default();
        self.block_on(async {
            match api.get_opt(&name).await? {
                None => {
                    api.create(&PostParams::default(), crd).await?;
                }
                Some(old) => {
                    let mut new = crd.clone();
                    new.metadata.resource_version = old.metadata.resource_version;
                    api.replace(&name, &PostParams::default(), &new).await?;
                }
            }
            Ok::<_, kube::Error>(())
        })?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let current = self.block_on(api.get(&name))?;
            if established(&current) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(ClusterError::Invalid(format!(
                    "CRD {name} not Established: {:?}",
                    current.status
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the token.
        f.debug_struct("Cluster")
            .field("url", &self.url)
            .field("dir", &self.dir)
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

/// True once the CRD's `Established` condition is True.
pub fn established(crd: &CustomResourceDefinition) -> bool {
    crd.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| {
            c.iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        })
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.detached {
            return;
        }
        self.stop_apiserver();
        lock(&self.etcd).kill();
        // Whatever else joined the group (the ACK controller) goes with it.
        kill_group(self.group, "KILL");
        drop(self.watchdog.take());
        drop(self.temp.take());
    }
}

/// `kill -<signal> -- -<group>`; true if the group existed.
fn kill_group(group: u32, signal: &str) -> bool {
    std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{group}"))
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

async fn client_from(kubeconfig_yaml: &str) -> Result<kube::Client, ClusterError> {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(kubeconfig_yaml)
        .map_err(|e| ClusterError::Invalid(format!("kubeconfig: {e}")))?;
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .map_err(|e| ClusterError::Invalid(format!("kubeconfig: {e}")))?;
    Ok(kube::Client::try_from(config)?)
}

/// 32 hex digits from the kernel's random source: the admin token of one run.
fn random_token() -> Result<String, ClusterError> {
    random_hex(16)
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
