//! The real ACK SageMaker controller (v1.9.1, on ACK runtime commit 95428e7), built from
//! `testbed/go/sagemaker-controller` ([`Tool::SagemakerController`]) and started against
//! a [`Cluster`], with a SageMaker endpoint the caller gives (ours: the
//! `sagemaker-emulator` crate).
//!
//! - CRDs: every CRD of the release (`config/crd/bases`) and the runtime's common ones
//!   (`config/crd/common/bases`: FieldExport, IAMRoleSelector), read from the
//!   controller's source where it keeps them and installed before it starts.
//! - Identity: the ServiceAccount `ack-system/ack-sagemaker-controller`, bound to the
//!   ClusterRole the controller ships (`config/rbac/cluster-role-controller.yaml`,
//!   `cluster-role-binding.yaml`), not the harness's admin: least privilege, and the
//!   real authorizer shows when the controller needs more than its own manifests grant
//!   (a 403 in its log). Leader election is off, so its Role for leases is not needed.
//! - Offline: `--aws-endpoint-url` and `--aws-identity-endpoint-url` (its start-up STS
//!   call) both at the caller's URL, `--allow-unsafe-aws-endpoint-urls` (plain HTTP),
//!   `--enable-carm=false` (no ConfigMaps in `ack-system`), health and metrics on
//!   127.0.0.1 ports (the defaults bind `0.0.0.0:8080/8081`).
//! - Environment: cleared, then dummy credentials (`AWS_ACCESS_KEY_ID`, ...), IMDS off,
//!   no AWS config files, `KUBECONFIG`. Clearing drops the machine's `AWS_CA_BUNDLE`, with
//!   which every reconcile fails (`unable to add custom RootCAs HTTPClient`), and any
//!   proxy or region variables.
//! - Process: in the cluster's process group (killed with it, also by its watchdog), its
//!   output appended to `ack-controller.log` in the cluster's directory across restarts
//!   ([`AckController::kill`], [`AckController::start_again`]).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ObjectMeta, PostParams};

use crate::control_plane::{Cluster, established, lock};
use crate::error::ClusterError;
use crate::go_build::Tool;
use crate::kubeconfig;
use crate::process::{Server, free_port, log_tail};

/// The controller's release.
pub const CONTROLLER_VERSION: &str = "v1.9.1";

/// The ACK runtime it runs on, as it is: a commit, not the release its go.mod names.
pub const RUNTIME_VERSION: &str = "commit 95428e7 (its go.mod names v0.62.0, which does not exist)";

/// The kinds with a component, which the controller reconciles unless told otherwise
/// (`--reconcile-resources`).
pub const KINDS: [&str; 13] = [
    "TrainingJob",
    "HyperParameterTuningJob",
    "ProcessingJob",
    "TransformJob",
    "Model",
    "EndpointConfig",
    "Endpoint",
    "MonitoringSchedule",
    "DataQualityJobDefinition",
    "ModelBiasJobDefinition",
    "ModelExplainabilityJobDefinition",
    "ModelQualityJobDefinition",
    "ModelPackageGroup",
];

/// The namespace and name of the controller's ServiceAccount (its manifests').
const NAMESPACE: &str = "ack-system";
const SERVICE_ACCOUNT: &str = "ack-sagemaker-controller";

/// How long its token lasts: longer than any test, and a week of `cargo xtask cluster up`.
const TOKEN_SECONDS: i64 = 7 * 24 * 3600;

/// How long it may take to answer `/readyz` and start every kind's workers.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// How to run the controller.
#[derive(Debug, Clone)]
pub struct ControllerOptions {
    /// SageMaker's (and STS's) endpoint: `http://127.0.0.1:<port>`.
    pub endpoint_url: String,
    /// `--aws-region`: the region of resources without a region annotation.
    pub region: String,
    /// `--reconcile-resources` (default: the 13 [`KINDS`]).
    pub kinds: Vec<String>,
    /// `--reconcile-default-max-concurrent-syncs`: workers per kind. The default, 1,
    /// makes the resources of one kind wait for each other (a SageMaker call the SDK
    /// retries takes seconds); tests in parallel namespaces share one controller.
    pub max_concurrent_syncs: u32,
    /// `--log-level` (`info` or `debug`).
    pub log_level: String,
}

impl ControllerOptions {
    /// The 13 kinds, region `us-east-1`, 8 workers per kind, log level `info`.
    pub fn new(endpoint_url: &str) -> ControllerOptions {
        ControllerOptions {
            endpoint_url: endpoint_url.into(),
            region: "us-east-1".into(),
            kinds: KINDS.iter().map(|k| (*k).to_string()).collect(),
            max_concurrent_syncs: 8,
            log_level: "info".into(),
        }
    }
}

/// The running controller. Dropping it kills it (unless [`AckController::detach`]ed).
#[derive(Debug)]
pub struct AckController {
    command: Vec<String>,
    env: Vec<(String, String)>,
    bin: PathBuf,
    healthz: u16,
    group: u32,
    log: PathBuf,
    starts: Mutex<u32>,
    server: Mutex<Option<Server>>,
    /// The `Starting workers` lines that show each kind's reconciler runs.
    ready_lines: Vec<String>,
}

impl AckController {
    /// Builds the controller if needed, installs the CRDs and its RBAC, starts it in the
    /// cluster's process group and waits until every kind's workers run.
    pub fn start(
        cluster: &Cluster,
        options: &ControllerOptions,
    ) -> Result<AckController, ClusterError> {
        let bin = Tool::SagemakerController.ensure_built()?;
        install_crds(cluster)?;
        let kubeconfig = service_account_kubeconfig(cluster)?;
        let kubeconfig_path = cluster.dir().join("ack-controller.kubeconfig");
        std::fs::write(&kubeconfig_path, kubeconfig)
            .map_err(|e| ClusterError::io("cannot write", &kubeconfig_path, e))?;
        let healthz = free_port()?;
        let metrics = free_port()?;
        let webhook = free_port()?;
        let command: Vec<String> = vec![
            format!("--aws-region={}", options.region),
            format!("--aws-endpoint-url={}", options.endpoint_url),
            format!("--aws-identity-endpoint-url={}", options.endpoint_url),
            "--allow-unsafe-aws-endpoint-urls=true".into(),
            "--enable-carm=false".into(),
            "--enable-leader-election=false".into(),
            format!("--healthz-addr=127.0.0.1:{healthz}"),
            format!("--metrics-addr=127.0.0.1:{metrics}"),
            format!("--webhook-server-addr=127.0.0.1:{webhook}"),
            format!("--reconcile-resources={}", options.kinds.join(",")),
            format!(
                "--reconcile-default-max-concurrent-syncs={}",
                options.max_concurrent_syncs
            ),
            format!("--log-level={}", options.log_level),
        ];
        let home = cluster.dir().join("ack-controller-home");
        std::fs::create_dir_all(&home).map_err(|e| ClusterError::io("cannot create", &home, e))?;
        let env: Vec<(String, String)> = [
            ("KUBECONFIG", kubeconfig_path.display().to_string()),
            ("HOME", home.display().to_string()),
            // Dummy credentials: our SageMaker checks no signature.
            ("AWS_ACCESS_KEY_ID", "AKIDTESTBEDCONTROLLER".into()),
            ("AWS_SECRET_ACCESS_KEY", "testbed-not-a-secret".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let controller = AckController {
            command,
            env,
            bin,
            healthz,
            group: cluster.process_group(),
            log: cluster.dir().join("ack-controller.log"),
            starts: Mutex::new(0),
            server: Mutex::new(None),
            ready_lines: options
                .kinds
                .iter()
                .map(|k| {
                    format!(
                        "\"msg\":\"Starting workers\",\"controller\":\"{}\"",
                        k.to_ascii_lowercase()
                    )
                })
                .collect(),
        };
        controller.start_again()?;
        Ok(controller)
    }

    /// Starts the controller again after [`AckController::kill`] (no-op while it runs)
    /// and waits until every kind's workers run.
    pub fn start_again(&self) -> Result<(), ClusterError> {
        let mut slot = lock(&self.server);
        if slot.is_some() {
            return Ok(());
        }
        let start = {
            let mut starts = lock(&self.starts);
            *starts += 1;
            *starts
        };
        let marker = format!("=== testbed: controller start {start} ===\n");
        let offset = std::fs::metadata(&self.log).map_or(0, |m| m.len());
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .and_then(|mut f| f.write_all(marker.as_bytes()))
            .map_err(|e| ClusterError::io("cannot write", &self.log, e))?;
        let mut command = Command::new(&self.bin);
        command
            .args(&self.command)
            .env_clear()
            .envs(self.env.iter().cloned());
        let mut server = Server::spawn_command(
            "ack-sagemaker-controller",
            command,
            self.log.clone(),
            Some(self.group),
        )?;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            server.check_running()?;
            let since_start = read_from(&self.log, offset);
            let workers = self
                .ready_lines
                .iter()
                .all(|l| since_start.contains(l.as_str()));
            if workers && http_ok(self.healthz, "/readyz") {
                break;
            }
            if Instant::now() > deadline {
                let log_tail = log_tail(&self.log);
                server.kill();
                return Err(ClusterError::NotReady {
                    name: "ack-sagemaker-controller",
                    log_tail,
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        *slot = Some(server);
        Ok(())
    }

    /// Kills the controller (SIGKILL, as a node loss or an OOM kill would); its
    /// resources and SageMaker's keep going.
    pub fn kill(&self) {
        if let Some(mut server) = lock(&self.server).take() {
            server.kill();
        }
    }

    /// [`AckController::kill`], then [`AckController::start_again`].
    pub fn restart(&self) -> Result<(), ClusterError> {
        self.kill();
        self.start_again()
    }

    /// Whether it is running.
    pub fn is_running(&self) -> bool {
        lock(&self.server)
            .as_mut()
            .is_some_and(|s| s.check_running().is_ok())
    }

    /// Its log file (all starts, each after a `=== testbed: controller start N ===` line).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The whole log.
    pub fn log(&self) -> String {
        read_from(&self.log, 0)
    }

    /// The log lines about resources in `namespace` (the controller logs JSON lines with
    /// a `namespace` key), and every line that is not about a resource but reports an
    /// error: what a failed test in that namespace shows.
    pub fn log_for(&self, namespace: &str) -> String {
        let key = format!("\"namespace\":\"{namespace}\"");
        self.log()
            .lines()
            .filter(|line| {
                line.contains(&key)
                    || (!line.contains("\"namespace\":")
                        && (line.contains("\"level\":\"error\"") || line.starts_with("===")))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits until a line of the log written from byte `from` on satisfies `found`;
    /// returns it, or `None` after `timeout`.
    pub fn wait_for_line(
        &self,
        from: u64,
        timeout: Duration,
        found: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = read_from(&self.log, from).lines().find(|l| found(l)) {
                return Some(line.to_string());
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The log's length now (for [`AckController::wait_for_line`]).
    pub fn log_len(&self) -> u64 {
        std::fs::metadata(&self.log).map_or(0, |m| m.len())
    }

    /// Leaves it running after this handle is gone (`cargo xtask cluster up`); its
    /// process group's owner stops it. Returns its pid.
    pub fn detach(self) -> Option<u32> {
        lock(&self.server).take().map(|server| {
            let pid = server.child.id();
            std::mem::forget(server);
            pid
        })
    }
}

impl Drop for AckController {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The controller's source (`../shared/ack-src/sagemaker-controller-v1.9.1`), where the
/// wrapper module finds it.
pub(crate) fn source_dir() -> Result<PathBuf, ClusterError> {
    Tool::SagemakerController
        .replaced_dirs()?
        .into_iter()
        .find(|d| d.ends_with(format!("sagemaker-controller-{CONTROLLER_VERSION}")))
        .ok_or_else(|| {
            ClusterError::Invalid(
                "testbed/go/sagemaker-controller/go.mod: no replace of the controller".into(),
            )
        })
}

/// Every CRD of the release and the runtime's common ones, as the controller's source
/// keeps them (`config/crd/common/bases`, then `config/crd/bases`, each by file name),
/// with their files.
pub fn release_crds() -> Result<Vec<(PathBuf, CustomResourceDefinition)>, ClusterError> {
    let source = source_dir()?;
    let mut crds = Vec::new();
    for dir in ["config/crd/common/bases", "config/crd/bases"] {
        let dir = source.join(dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| ClusterError::io("cannot read", &dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| ClusterError::io("cannot read", &file, e))?;
            let crd = serde_saphyr::from_str(&text)
                .map_err(|e| ClusterError::Invalid(format!("{}: {e}", file.display())))?;
            crds.push((file, crd));
        }
    }
    Ok(crds)
}

/// Creates (or replaces) every CRD of [`release_crds`], then waits until all are
/// Established.
fn install_crds(cluster: &Cluster) -> Result<(), ClusterError> {
    let crds = release_crds()?;
    let api: Api<CustomResourceDefinition> = Api::all(cluster.client());
    cluster.block_on(async {
        for (_, crd) in &crds {
            let name = crd.metadata.name.clone().unwrap_or_default();
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
        }
        Ok::<_, kube::Error>(())
    })?;
    let deadline = Instant::now() + Duration::from_secs(60);
    for (_, crd) in &crds {
        let name = crd.metadata.name.clone().unwrap_or_default();
        loop {
            let current = cluster.block_on(api.get(&name))?;
            if established(&current) {
                break;
            }
            if Instant::now() > deadline {
                return Err(ClusterError::Invalid(format!("CRD {name} not Established")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(())
}

/// The controller's ServiceAccount, ClusterRole and ClusterRoleBinding from its own
/// manifests, and a kubeconfig with a token of that ServiceAccount.
fn service_account_kubeconfig(cluster: &Cluster) -> Result<String, ClusterError> {
    let rbac = source_dir()?.join("config/rbac");
    let read = |file: &str| -> Result<serde_json::Value, ClusterError> {
        let path = rbac.join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ClusterError::io("cannot read", &path, e))?;
        serde_saphyr::from_str(&text)
            .map_err(|e| ClusterError::Invalid(format!("{}: {e}", path.display())))
    };
    let invalid = |e: serde_json::Error| ClusterError::Invalid(format!("controller RBAC: {e}"));
    let role: ClusterRole =
        serde_json::from_value(read("cluster-role-controller.yaml")?).map_err(invalid)?;
    let binding: ClusterRoleBinding =
        serde_json::from_value(read("cluster-role-binding.yaml")?).map_err(invalid)?;
    let account: ServiceAccount =
        serde_json::from_value(read("service-account.yaml")?).map_err(invalid)?;
    let (Some(NAMESPACE), Some(SERVICE_ACCOUNT)) = (
        account.metadata.namespace.as_deref(),
        account.metadata.name.as_deref(),
    ) else {
        return Err(ClusterError::Invalid(format!(
            "{}: expected the ServiceAccount {NAMESPACE}/{SERVICE_ACCOUNT}",
            rbac.join("service-account.yaml").display()
        )));
    };
    cluster.create_namespace(NAMESPACE)?;
    let pp = PostParams::default();
    cluster.block_on(async {
        let client = cluster.client();
        create_or_keep(
            &Api::<ServiceAccount>::namespaced(client.clone(), NAMESPACE),
            &account,
            &pp,
        )
        .await?;
        create_or_keep(&Api::<ClusterRole>::all(client.clone()), &role, &pp).await?;
        create_or_keep(&Api::<ClusterRoleBinding>::all(client), &binding, &pp).await
    })?;
    let request = TokenRequest {
        metadata: ObjectMeta::default(),
        spec: TokenRequestSpec {
            audiences: vec![],
            expiration_seconds: Some(TOKEN_SECONDS),
            ..TokenRequestSpec::default()
        },
        status: None,
    };
    let accounts: Api<ServiceAccount> = Api::namespaced(cluster.client(), NAMESPACE);
    let answer = cluster.block_on(accounts.create_token_request(SERVICE_ACCOUNT, &pp, &request))?;
    let token = answer
        .status
        .map(|s| s.token)
        .ok_or_else(|| ClusterError::Invalid("TokenRequest without a token".into()))?;
    Ok(kubeconfig::render(
        cluster.url(),
        "default",
        Some(cluster.ca_pem()),
        &token,
    ))
}

async fn create_or_keep<K>(api: &Api<K>, object: &K, pp: &PostParams) -> Result<(), kube::Error>
where
    K: kube::Resource
        + Clone
        + k8s_openapi::serde::de::DeserializeOwned
        + k8s_openapi::serde::Serialize
        + std::fmt::Debug,
{
    match api.create(pp, object).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// The file's text from byte `offset` on (empty if unreadable).
fn read_from(path: &Path, offset: u64) -> String {
    use std::io::Seek as _;
    let mut text = String::new();
    if let Ok(mut file) = std::fs::File::open(path)
        && file.seek(std::io::SeekFrom::Start(offset)).is_ok()
    {
        let mut bytes = Vec::new();
        let _ = file.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    text
}

/// Whether `GET http://127.0.0.1:<port><path>` answers 200.
fn http_ok(port: u16, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).is_ok() && answer.ends_with(b" 200")
}
