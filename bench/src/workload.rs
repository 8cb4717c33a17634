//! The processes being measured: the launcher and the Python baseline, run against a test
//! bed, with the same TrainingJob inputs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;
use testbed::{ControllerOptions, Options, ResourceRef, Scenario, TestBed};

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

/// A test bed serving TrainingJobs with a simulated controller running `scenario` at the
/// default time scale (1 ms per simulated second), and a kubeconfig for it.
#[derive(Debug)]
pub struct Bed {
    pub bed: TestBed,
    pub kubeconfig: PathBuf,
    _controller: testbed::Controller,
}

impl Bed {
    pub fn start(scratch: &Path, scenario: Scenario) -> anyhow::Result<Bed> {
        // HTTPS with the cluster's CA in the kubeconfig, as in a real cluster (without a CA,
        // kube-rs would load the system trust store on every start).
        let bed = TestBed::start_with(Options {
            tls: true,
            ..Options::default()
        })
        .map_err(|e| anyhow::anyhow!("starting the test bed: {e}"))?;
        let crd = std::fs::read_to_string(testbed::training_job_crd_path())
            .context("reading the vendored TrainingJob CRD")?;
        bed.register_crd_yaml(&crd)
            .map_err(|e| anyhow::anyhow!("registering the TrainingJob CRD: {e}"))?;
        let controller = bed.start_controller(ControllerOptions {
            scenario,
            ..ControllerOptions::default()
        });
        let kubeconfig = scratch.join(format!("kubeconfig-{}", bed.addr().port()));
        bed.write_kubeconfig(&kubeconfig, NS)
            .context("writing the kubeconfig")?;
        Ok(Bed {
            bed,
            kubeconfig,
            _controller: controller,
        })
    }

    /// Blocks until `name` exists (woken by every write).
    pub fn wait_created(&self, name: &str, timeout: Duration) -> anyhow::Result<()> {
        self.bed
            .wait_for(&ResourceRef::training_job(), NS, name, timeout, |o| {
                o.is_some()
            })
            .map(|_| ())
            .map_err(|_| anyhow::anyhow!("job {name} was not created in {timeout:?}"))
    }

    /// Blocks until the simulated controller has written the final status of `name`
    /// (trainingJobStatus Completed with ACK.ResourceSynced True); woken by every write.
    pub fn wait_completed(&self, name: &str, timeout: Duration) -> anyhow::Result<()> {
        self.bed
            .wait_for(&ResourceRef::training_job(), NS, name, timeout, |o| {
                o.is_some_and(is_completed)
            })
            .map(|_| ())
            .map_err(|e| anyhow::anyhow!("job {name} did not complete in {timeout:?}: {e}"))
    }
}

/// The final status of a successful job, as the launcher's completion rule reads it.
fn is_completed(object: &Value) -> bool {
    let status = &object["status"];
    let synced = status["conditions"].as_array().is_some_and(|conditions| {
        conditions
            .iter()
            .any(|c| c["type"] == "ACK.ResourceSynced" && c["status"] == "True")
    });
    status["trainingJobStatus"] == "Completed" && synced
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
                    // 30 simulated seconds at the test bed's 1 ms per simulated second.
                    c.args(["run", name, "0.030"]);
                }
                c
            }
        };
        command
            .env("KUBECONFIG", &bed.kubeconfig)
            .env("RUST_BACKTRACE", "0")
            .env_remove("KUBERNETES_SERVICE_HOST");
        command
    }
}
