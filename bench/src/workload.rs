//! The processes being measured: the launcher and the Python baseline, run against a real
//! kube-apiserver over HTTPS as the step's ServiceAccount, through a [`FaultProxy`] (which
//! injects nothing here) whose request log times and counts their requests; and the job
//! they follow, whose status the bench writes as the controller would.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt as _;
use k8s_openapi::api::rbac::v1::PolicyRule;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, WatchEvent, WatchParams};
use serde_json::json;
use testbed::FaultProxy;
use testbed::cluster::Cluster;

/// The namespace of every benchmark job (the kubeconfig context's).
pub const NS: &str = "bench";

/// The outputs component.yaml declares (the launcher writes each).
const OUTPUTS: [&str; 12] = generated::training_job::TrainingJobOutputPaths::NAMES;

/// Inputs as a KFP v1 backend passes them for the xgboost sample (the Python baseline
/// builds its resource from the same values).
const INPUTS: [(&str, &str); 12] = [
    ("region", "us-west-2"),
    (
        "role_arn",
        "arn:aws:iam::123456789012:role/ack-sagemaker-execution-role",
    ),
    (
        "algorithm_specification",
        r#"{"trainingImage": "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1", "trainingInputMode": "File"}"#,
    ),
    (
        "hyper_parameters",
        r#"{"max_depth": "5", "num_round": "10", "objective": "multi:softmax", "num_class": "10"}"#,
    ),
    (
        "input_data_config",
        r#"[{"channelName": "train", "dataSource": {"s3DataSource": {"s3DataType": "S3Prefix", "s3URI": "s3://ack-sagemaker-data/train", "s3DataDistributionType": "FullyReplicated"}}, "contentType": "text/csv", "compressionType": "None"}]"#,
    ),
    (
        "output_data_config",
        r#"{"s3OutputPath": "s3://ack-sagemaker-data/output"}"#,
    ),
    (
        "resource_config",
        r#"{"instanceCount": 1, "instanceType": "ml.m5.xlarge", "volumeSizeInGB": 5}"#,
    ),
    ("stopping_condition", r#"{"maxRuntimeInSeconds": 3600.0}"#),
    ("environment", r#"{"API_TOKEN": "s3cr3t-value"}"#),
    ("tags", "[]"),
    ("vpc_config", "{}"),
    ("enable_network_isolation", "False"),
];

/// How long one step of a job lasts: 30 simulated seconds (the controller's requeue) at 1 ms
/// of real time per simulated second.
pub const STEP: Duration = Duration::from_millis(30);

/// A real control plane serving TrainingJobs, a proxy in front of it, a kubeconfig of the
/// step's ServiceAccount through the proxy, and the job script: every TrainingJob created
/// in [`NS`] is `InProgress` at once and `Completed` (with `ACK.ResourceSynced` True)
/// [`Bed::set_steps`] × [`STEP`] later, written by the bench through the administrator's
/// client.
///
/// The bench plays the controller's writes rather than running the real ACK controller:
/// it measures the clients, and the real controller's 30 s requeues cannot be scaled down.
#[derive(Debug)]
pub struct Bed {
    /// Kept for the bed's lifetime: dropping it stops the control plane.
    _cluster: Cluster,
    pub proxy: FaultProxy,
    /// The step's ServiceAccount, bound to `component-template/rbac.yaml`.
    pub kubeconfig: PathBuf,
    /// The Python baseline's: the same Role and `get` on `trainingjobs/status`, which the
    /// earlier component reads (the real authorizer refuses it the launcher's Role).
    pub baseline_kubeconfig: PathBuf,
    writes: Arc<Writes>,
    steps: Arc<AtomicU32>,
    script: tokio::task::AbortHandle,
}

impl Drop for Bed {
    fn drop(&mut self) {
        self.script.abort();
    }
}

/// When the script saw each job created and wrote its final status.
#[derive(Debug, Default)]
struct Writes {
    times: Mutex<HashMap<String, (Instant, Option<Instant>)>>,
    changed: Condvar,
}

impl Bed {
    pub fn start(scratch: &Path) -> anyhow::Result<Bed> {
        let cluster = Cluster::start().context("starting the real control plane")?;
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let crd = std::fs::read_to_string(
            root.join("crds/sagemaker-controller/sagemaker.services.k8s.aws_trainingjobs.yaml"),
        )
        .context("reading the vendored TrainingJob CRD")?;
        cluster
            .apply_crd(&serde_saphyr::from_str(&crd).context("the TrainingJob CRD")?)
            .context("installing the TrainingJob CRD")?;
        cluster.create_namespace(NS)?;
        grant_roles(&cluster, &root, NS)?;
        let proxy = FaultProxy::start(&cluster)?;
        let kubeconfig_of = |account: &str| -> anyhow::Result<PathBuf> {
            let yaml = cluster.service_account_kubeconfig(NS, account)?;
            let path = scratch.join(format!("kubeconfig-{account}"));
            std::fs::write(&path, proxy.kubeconfig_yaml(&yaml, &cluster))
                .context("writing a kubeconfig")?;
            Ok(path)
        };
        let kubeconfig = kubeconfig_of(SERVICE_ACCOUNT)?;
        let baseline_kubeconfig = kubeconfig_of(BASELINE_ACCOUNT)?;
        let writes = Arc::new(Writes::default());
        let steps = Arc::new(AtomicU32::new(1));
        let script = cluster
            .handle()
            .spawn(play(
                training_jobs(cluster.client()),
                steps.clone(),
                writes.clone(),
            ))
            .abort_handle();
        Ok(Bed {
            _cluster: cluster,
            proxy,
            kubeconfig,
            baseline_kubeconfig,
            writes,
            steps,
            script,
        })
    }

    /// How many steps the jobs created from now on last.
    pub fn set_steps(&self, steps: u32) {
        self.steps.store(steps, Ordering::SeqCst);
    }

    /// When the script saw `name` created and when its final status write returned (the
    /// server had it), waiting for that write up to `timeout`.
    pub fn final_write(&self, name: &str, timeout: Duration) -> anyhow::Result<(Instant, Instant)> {
        let times = self
            .writes
            .times
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (times, _) = self
            .writes
            .changed
            .wait_timeout_while(times, timeout, |t| {
                !matches!(t.get(name), Some((_, Some(_))))
            })
            .unwrap_or_else(PoisonError::into_inner);
        match times.get(name) {
            Some((created, Some(done))) => Ok((*created, *done)),
            _ => anyhow::bail!("job {name} did not complete in {timeout:?}"),
        }
    }
}

/// The step's ServiceAccount (standalone KFP's), bound to `component-template/rbac.yaml`.
pub const SERVICE_ACCOUNT: &str = "pipeline-runner";

/// The Python baseline's ServiceAccount.
pub const BASELINE_ACCOUNT: &str = "earlier-component";

/// Binds, in `namespace`, [`SERVICE_ACCOUNT`] to `component-template/rbac.yaml` and
/// [`BASELINE_ACCOUNT`] to the same Role plus `get` on `trainingjobs/status`, which the
/// earlier component reads (the real authorizer refuses it the launcher's Role).
pub fn grant_roles(cluster: &Cluster, root: &Path, namespace: &str) -> anyhow::Result<()> {
    let rbac = std::fs::read_to_string(root.join("component-template/rbac.yaml"))
        .context("reading component-template/rbac.yaml")?;
    cluster.apply_role_yaml(&rbac, namespace, SERVICE_ACCOUNT, |_| {})?;
    cluster.apply_role_yaml(
        &rbac.replace("ack-kfp-launcher", "earlier-component"),
        namespace,
        BASELINE_ACCOUNT,
        |role| {
            role.rules.get_or_insert_default().push(PolicyRule {
                api_groups: Some(vec!["sagemaker.services.k8s.aws".into()]),
                resources: Some(vec!["trainingjobs/status".into()]),
                verbs: vec!["get".into()],
                ..PolicyRule::default()
            });
        },
    )?;
    Ok(())
}

fn training_jobs(client: kube::Client) -> Api<DynamicObject> {
    // The generated type names the group, version and plural.
    let resource = ApiResource::erase::<generated::training_job::TrainingJob>(&());
    Api::namespaced_with(client, NS, &resource)
}

/// The status the controller writes for `name` in `state`.
fn status(name: &str, state: &str, synced: bool) -> serde_json::Value {
    json!({"status": {
        "ackResourceMetadata": {
            "arn": format!("arn:aws:sagemaker:us-west-2:123456789012:training-job/{name}"),
            "ownerAccountID": "123456789012", "region": "us-west-2"},
        "trainingJobStatus": state,
        "secondaryStatus": if synced { "Completed" } else { "Training" },
        "conditions": [{"type": "ACK.ResourceSynced",
            "status": if synced { "True" } else { "False" },
            "message": format!("TrainingJob is in {state} status.")}],
    }})
}

/// Watches [`NS`] and plays the script for each TrainingJob created.
async fn play(api: Api<DynamicObject>, steps: Arc<AtomicU32>, writes: Arc<Writes>) {
    let mut version = String::from("0");
    loop {
        let params = WatchParams::default().timeout(290);
        let Ok(stream) = api.watch(&params, &version).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let mut stream = std::pin::pin!(stream);
        while let Some(Ok(event)) = stream.next().await {
            let WatchEvent::Added(object) = event else {
                if let WatchEvent::Modified(o) | WatchEvent::Deleted(o) = &event {
                    version = o.metadata.resource_version.clone().unwrap_or_default();
                }
                continue;
            };
            version = object.metadata.resource_version.clone().unwrap_or_default();
            let name = object.metadata.name.clone().unwrap_or_default();
            writes
                .times
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(name.clone(), (Instant::now(), None));
            let (api, writes) = (api.clone(), writes.clone());
            let steps = steps.load(Ordering::SeqCst);
            tokio::spawn(async move {
                let write = |state, synced| {
                    let patch = status(&name, state, synced);
                    let (api, name) = (api.clone(), name.clone());
                    async move {
                        let params = PatchParams::default();
                        api.patch_status(&name, &params, &Patch::Merge(&patch))
                            .await
                    }
                };
                if write("InProgress", false).await.is_err() {
                    return;
                }
                tokio::time::sleep(STEP * steps).await;
                if write("Completed", true).await.is_ok() {
                    let done = Instant::now();
                    if let Some(t) = writes
                        .times
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get_mut(&name)
                    {
                        t.1 = Some(done);
                    }
                    writes.changed.notify_all();
                }
            });
        }
    }
}

/// Which client a run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    Launcher,
    /// The Python baseline: create only.
    PythonCreate,
    /// The Python baseline: create, then poll every 30 simulated seconds.
    PythonPoll,
}

/// Where the binaries and the Python interpreter are.
#[derive(Debug)]
pub struct Programs {
    pub launcher: PathBuf,
    pub python: PathBuf,
    pub baseline_script: PathBuf,
}

impl Programs {
    /// The command for one run of `client` creating a job named `name` (already a valid
    /// resource name) on `bed`, writing the launcher's outputs under `outputs`.
    pub fn command(&self, client: Client, bed: &Bed, name: &str, outputs: &Path) -> Command {
        let kubeconfig = match client {
            Client::Launcher => &bed.kubeconfig,
            Client::PythonCreate | Client::PythonPoll => &bed.baseline_kubeconfig,
        };
        // 30 simulated seconds at 1 ms per simulated second (`STEP`).
        self.command_with(client, kubeconfig, name, outputs, "0.030")
    }

    /// [`Programs::command`] with this kubeconfig, the poller polling every `interval`
    /// seconds.
    pub fn command_with(
        &self,
        client: Client,
        kubeconfig: &Path,
        name: &str,
        outputs: &Path,
        interval: &str,
    ) -> Command {
        let mut command = match client {
            Client::Launcher => {
                let mut c = Command::new(&self.launcher);
                c.arg("training-job");
                c.args(["--training_job_name", name]);
                for (input, value) in INPUTS {
                    c.arg(format!("--{input}")).arg(value);
                }
                for output in OUTPUTS {
                    c.arg(format!("--{output}_output_path"))
                        .arg(outputs.join(name).join(output));
                }
                c.args(["--status-timeout", "60", "--recoverable-timeout", "60"]);
                c.args(["--api-timeout", "30"]);
                c
            }
            Client::PythonCreate | Client::PythonPoll => {
                let mut c = Command::new(&self.python);
                c.arg(&self.baseline_script);
                if client == Client::PythonCreate {
                    c.args(["create", name]);
                } else {
                    c.args(["run", name, interval]);
                }
                c
            }
        };
        command
            .env("KUBECONFIG", kubeconfig)
            .env("RUST_BACKTRACE", "0")
            .env_remove("KUBERNETES_SERVICE_HOST");
        command
    }
}
