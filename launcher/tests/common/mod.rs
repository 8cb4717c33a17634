//! Runs the real launcher binary, as a separate process, against a real kube-apiserver
//! (the `cluster` module, with TrainingJob inputs made here), or as KFP runs a component
//! against the real ACK controller (the `kfp` module, any kind).

#![allow(dead_code)] // Each test binary uses a different part.

pub mod cluster;
pub mod kfp;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
#[allow(unused_imports)] // Each test binary uses a different part.
pub use testbed::{Fault, Verb};

pub const NS: &str = "pipelines";

/// Two KFP runs' identities, as KFP passes them: the same step in each.
pub const RUN_A: [&str; 4] = [
    "--kfp-run-id",
    "uid-run-a",
    "--kfp-step-id",
    "churn-x7k2p.train",
];
pub const RUN_B: [&str; 4] = [
    "--kfp-run-id",
    "uid-run-b",
    "--kfp-step-id",
    "churn-q9w3z.train",
];

/// The TrainingJob CRD vendored in the workspace, as the tests install it.
pub fn training_job_crd() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crds/sagemaker-controller/sagemaker.services.k8s.aws_trainingjobs.yaml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The outputs component.yaml declares.
pub const OUTPUTS: [&str; 12] = generated::training_job::TrainingJobOutputPaths::NAMES;

/// Inputs as a KFP v1 backend passes them for the xgboost sample.
pub fn valid_inputs(job_name: &str) -> Vec<(String, String)> {
    [
        ("region", "us-west-2"),
        ("training_job_name", job_name),
        ("role_arn", "arn:aws:iam::123456789012:role/ack-sagemaker-execution-role"),
        ("algorithm_specification", r#"{"trainingImage": "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1", "trainingInputMode": "File"}"#),
        ("hyper_parameters", r#"{"max_depth": "5", "num_round": "10", "objective": "multi:softmax", "num_class": "10"}"#),
        ("input_data_config", r#"[{"channelName": "train", "dataSource": {"s3DataSource": {"s3DataType": "S3Prefix", "s3URI": "s3://ack-sagemaker-data/train", "s3DataDistributionType": "FullyReplicated"}}, "contentType": "text/csv", "compressionType": "None"}]"#),
        ("output_data_config", r#"{"s3OutputPath": "s3://ack-sagemaker-data/output"}"#),
        ("resource_config", r#"{"instanceCount": 1, "instanceType": "ml.m5.xlarge", "volumeSizeInGB": 5}"#),
        ("stopping_condition", r#"{"maxRuntimeInSeconds": 3600.0}"#),
        ("environment", r#"{"API_TOKEN": "s3cr3t-value"}"#),
        ("tags", "[]"),
        ("vpc_config", "{}"),
        ("enable_network_isolation", "False"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// One launcher run's folder: kubeconfig and output files.
pub struct Step {
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

impl Step {
    /// A step whose kubeconfig is `yaml` (e.g. a ServiceAccount's on a real cluster).
    pub fn with_kubeconfig(yaml: &str) -> Step {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, yaml).expect("kubeconfig");
        Step { dir, kubeconfig }
    }

    pub fn output_path(&self, name: &str) -> PathBuf {
        self.dir.path().join("outputs").join(name).join("data")
    }

    pub fn command(&self, inputs: &[(String, String)], extra: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ack-kfp-launcher"));
        command
            .arg("training-job")
            .env("KUBECONFIG", &self.kubeconfig)
            .env("RUST_BACKTRACE", "0")
            .env_remove("KUBERNETES_SERVICE_HOST");
        for (name, value) in inputs {
            command.arg(format!("--{name}")).arg(value);
        }
        for name in OUTPUTS {
            command
                .arg(format!("--{name}_output_path"))
                .arg(self.output_path(name));
        }
        for (flag, default) in [
            ("--status-timeout", "5"),
            ("--recoverable-timeout", "5"),
            ("--api-timeout", "10"),
        ] {
            if !extra.contains(&flag) {
                command.args([flag, default]);
            }
        }
        command.args(extra);
        command
    }

    pub fn run(&self, inputs: &[(String, String)], extra: &[&str]) -> Run {
        let output = self.command(inputs, extra).output().expect("launcher runs");
        self.finish(output)
    }

    pub fn spawn(&self, inputs: &[(String, String)], extra: &[&str]) -> Child {
        self.command(inputs, extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("launcher starts")
    }

    pub fn finish(&self, output: Output) -> Run {
        let outputs = OUTPUTS
            .iter()
            .filter_map(|name| {
                let text = std::fs::read_to_string(self.output_path(name)).ok()?;
                Some(((*name).to_owned(), text))
            })
            .collect();
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            outputs,
        }
    }
}

#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub outputs: BTreeMap<String, String>,
}

impl Run {
    pub fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("output {name} missing: {self:?}"))
    }

    pub fn json(&self, name: &str) -> Value {
        serde_json::from_str(self.output(name))
            .unwrap_or_else(|e| panic!("{name} is not JSON ({e}): {self:?}"))
    }

    /// Every declared output file exists, and the JSON ones parse.
    pub fn assert_all_outputs_written(&self) {
        for name in OUTPUTS {
            let text = self.output(name);
            if !matches!(
                name,
                "creation_time"
                    | "failure_reason"
                    | "last_modified_time"
                    | "profiling_status"
                    | "secondary_status"
                    | "training_job_status"
            ) {
                serde_json::from_str::<Value>(text)
                    .unwrap_or_else(|e| panic!("{name}: {e}: {text}"));
            }
        }
    }
}

/// Waits until `check` holds, up to 10 s.
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn send_signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(status.success());
}
