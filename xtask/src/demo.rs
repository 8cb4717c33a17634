//! `cargo xtask demo`: the TrainingJob component's step, run as Kubeflow Pipelines 1.8
//! runs it, against the real stack: etcd, kube-apiserver, the ACK SageMaker controller
//! and our SageMaker API (a job that starts, trains and completes). It shows the step's
//! log as a pipeline user sees it, the resource as `kubectl get` shows it and the step's
//! outputs, then stops everything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context as _;
use cluster::{AckController, Cluster, ControllerOptions};
use serde_json::Value;

/// The namespace and ServiceAccount of a standalone KFP installation's steps.
const NAMESPACE: &str = "kubeflow";
const SERVICE_ACCOUNT: &str = "pipeline-runner";

/// The README's pipeline example ("A pipeline", for kfp 1.8 and 2), as kfp 1.8 hands the
/// values to the step: dicts and lists as `json.dumps` writes them. The training job's
/// name is left to the launcher (one per run and step).
pub const SAMPLE_INPUTS: [(&str, &str); 8] = [
    ("region", "us-west-2"),
    (
        "role_arn",
        "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-20240101",
    ),
    (
        "algorithm_specification",
        r#"{"trainingImage": "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1", "trainingInputMode": "File"}"#,
    ),
    (
        "input_data_config",
        r#"[{"channelName": "train", "contentType": "text/csv", "dataSource": {"s3DataSource": {"s3DataType": "S3Prefix", "s3URI": "s3://my-bucket/churn/train/"}}}]"#,
    ),
    (
        "hyper_parameters",
        r#"{"objective": "binary:logistic", "num_round": "100"}"#,
    ),
    (
        "output_data_config",
        r#"{"s3OutputPath": "s3://my-bucket/churn/models/"}"#,
    ),
    (
        "resource_config",
        r#"{"instanceCount": 1, "instanceType": "ml.m5.xlarge", "volumeSizeInGB": 30}"#,
    ),
    ("stopping_condition", r#"{"maxRuntimeInSeconds": 3600}"#),
];

/// What Argo substitutes for `{{workflow.uid}}` and `{{node.name}}` in a KFP 1.8 run.
const RUN_ID: &str = "5f0c2b8e-3c51-4c6f-9a3e-7b1d2c4e5f60";
const NODE_NAME: &str = "churn-training-7x9kq.sagemaker-trainingjob";

/// Runs the demo from the repository at `root`, with the launcher binary `launcher` (else
/// one built in `target/demo/`).
pub fn run(root: &Path, launcher: Option<&Path>) -> anyhow::Result<()> {
    let started = Instant::now();
    let launcher = match launcher {
        Some(path) if path.is_file() => path.to_path_buf(),
        Some(path) => anyhow::bail!("--launcher {}: no such file", path.display()),
        None => build_launcher(root)?,
    };
    println!(
        "launcher ready ({:.1} s); starting etcd, kube-apiserver, our SageMaker API and the \
         ACK SageMaker controller {} (runtime {})",
        started.elapsed().as_secs_f64(),
        cluster::CONTROLLER_VERSION,
        cluster::RUNTIME_VERSION
    );
    let stack_started = Instant::now();
    let cluster = Cluster::start()?;
    let sagemaker = sagemaker_emulator::SageMaker::start_with(sagemaker_emulator::Options {
        default_script: sagemaker_emulator::Script::demo(),
        ..sagemaker_emulator::Options::default()
    })?;
    let controller = AckController::start(&cluster, &ControllerOptions::new(&sagemaker.url()))?;
    println!(
        "stack up in {:.1} s (logs in {})",
        stack_started.elapsed().as_secs_f64(),
        cluster.dir().display()
    );

    // The step runs as KFP's steps do: its namespace's ServiceAccount, bound only to the
    // component's Role.
    cluster.create_namespace(NAMESPACE)?;
    let rbac = std::fs::read_to_string(root.join("component-template/rbac.yaml"))
        .context("component-template/rbac.yaml")?;
    cluster.apply_role_yaml(&rbac, NAMESPACE, SERVICE_ACCOUNT, |_| {})?;
    let work = cluster.dir().join("demo");
    std::fs::create_dir_all(&work)?;
    let step_kubeconfig = work.join("step.kubeconfig");
    std::fs::write(
        &step_kubeconfig,
        cluster.service_account_kubeconfig(NAMESPACE, SERVICE_ACCOUNT)?,
    )?;
    let admin_kubeconfig = work.join("admin.kubeconfig");
    cluster.write_kubeconfig(&admin_kubeconfig, NAMESPACE)?;

    let component =
        std::fs::read_to_string(root.join("generated/components/training_job/component.yaml"))
            .context("the TrainingJob component")?;
    let outputs = work.join("outputs");
    let argv = kfp1_argv(&component, &SAMPLE_INPUTS, &outputs)?;
    println!("\n$ {}", shell_words(&argv));
    println!("--- the step's log (what the KFP UI shows) ---");
    let step_started = Instant::now();
    let status = Command::new(&launcher)
        .args(&argv[1..])
        .env("KUBECONFIG", &step_kubeconfig)
        .env_remove("KUBERNETES_SERVICE_HOST")
        .status()
        .context("running the launcher")?;
    println!(
        "--- the step exited with {status} after {:.1} s ---",
        step_started.elapsed().as_secs_f64()
    );

    println!("\n$ kubectl get trainingjobs -n {NAMESPACE} -o wide");
    let kubectl = Command::new("kubectl")
        .args(["get", "trainingjobs", "-n", NAMESPACE, "-o", "wide"])
        .env("KUBECONFIG", &admin_kubeconfig)
        .status();
    if !kubectl.is_ok_and(|s| s.success()) {
        println!("(kubectl is not on PATH; the same columns:)");
        print_columns(&cluster)?;
    }

    println!("\nthe step's outputs:");
    for name in ["training_job_status", "secondary_status", "model_artifacts"] {
        let text = std::fs::read_to_string(outputs.join(name).join("data")).unwrap_or_default();
        println!("  {name}: {text}");
    }
    let calls: Vec<String> = sagemaker
        .calls()
        .iter()
        .map(sagemaker_emulator::Call::summary)
        .collect();
    println!("\nwhat SageMaker was asked:\n  {}", calls.join("\n  "));
    println!(
        "\ndemo done in {:.1} s; stopping everything",
        started.elapsed().as_secs_f64()
    );
    drop(controller);
    drop(sagemaker);
    drop(cluster);
    if status.success() {
        Ok(())
    } else {
        anyhow::bail!("the step failed ({status})")
    }
}

/// `cargo build -p launcher` into a target directory of its own (`<target>/demo`): cargo
/// keeps one build of each crate per target directory, and the launcher alone unifies
/// other features of tokio and hyper than xtask or the tests do, so in the shared one each
/// build would undo the other's. The binary's path.
fn build_launcher(root: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("demo");
    let status = Command::new(cargo)
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &target)
        .args([
            "build",
            "--quiet",
            "-p",
            "launcher",
            "--bin",
            "ack-kfp-launcher",
        ])
        .status()
        .context("cargo build -p launcher")?;
    if !status.success() {
        anyhow::bail!("building the launcher failed");
    }
    Ok(target.join("debug/ack-kfp-launcher"))
}

/// The step's argv as KFP 1.8 makes it from `component.yaml`: the container's `command`
/// then `args`, each `{inputValue: x}` replaced by the argument given (else the input's
/// default), each `{outputPath: x}` by `<outputs>/x/data`, and Argo's `{{workflow.uid}}`
/// and `{{node.name}}`.
pub fn kfp1_argv(
    component: &str,
    given: &[(&str, &str)],
    outputs: &Path,
) -> anyhow::Result<Vec<String>> {
    let component: Value = serde_saphyr::from_str(component).context("component.yaml")?;
    let given: BTreeMap<&str, &str> = given.iter().copied().collect();
    let defaults: BTreeMap<String, String> = component["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|input| {
            let name = input["name"].as_str()?;
            Some((name.to_string(), input["default"].as_str()?.to_string()))
        })
        .collect();
    let container = &component["implementation"]["container"];
    let mut argv = Vec::new();
    for item in container["command"]
        .as_array()
        .into_iter()
        .chain(container["args"].as_array())
        .flatten()
    {
        let arg = match item {
            Value::String(text) => text
                .replace("{{workflow.uid}}", RUN_ID)
                .replace("{{node.name}}", NODE_NAME),
            Value::Object(placeholder) => {
                if let Some(name) = placeholder.get("inputValue").and_then(Value::as_str) {
                    match given.get(name) {
                        Some(value) => (*value).to_string(),
                        None => defaults.get(name).cloned().with_context(|| {
                            format!("component.yaml: input {name} has no argument and no default")
                        })?,
                    }
                } else if let Some(name) = placeholder.get("outputPath").and_then(Value::as_str) {
                    outputs.join(name).join("data").display().to_string()
                } else {
                    anyhow::bail!("component.yaml: an unknown placeholder {item}");
                }
            }
            other => anyhow::bail!("component.yaml: an unexpected argument {other}"),
        };
        argv.push(arg);
    }
    Ok(argv)
}

/// The argv as a shell would need it quoted.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./:=@".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `kubectl get -o wide`'s columns of the TrainingJobs, without kubectl: NAME and the
/// CRD's printer columns.
fn print_columns(cluster: &Cluster) -> anyhow::Result<()> {
    use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
    let gvk = GroupVersionKind::gvk("sagemaker.services.k8s.aws", "v1alpha1", "TrainingJob");
    let api: Api<DynamicObject> = Api::namespaced_with(
        cluster.client(),
        NAMESPACE,
        &ApiResource::from_gvk_with_plural(&gvk, "trainingjobs"),
    );
    let list = cluster.block_on(api.list(&ListParams::default()))?;
    println!(
        "{:<40} {:<18} {:<12} FAILURE-REASON",
        "NAME", "SECONDARY-STATUS", "STATUS"
    );
    for item in list.items {
        let status = &item.data["status"];
        let text = |key: &str| status[key].as_str().unwrap_or("").to_string();
        println!(
            "{:<40} {:<18} {:<12} {}",
            item.metadata.name.unwrap_or_default(),
            text("secondaryStatus"),
            text("trainingJobStatus"),
            text("failureReason")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_argv_is_the_components_with_the_arguments_defaults_and_output_paths() {
        let component = "
inputs:
- {name: region}
- {name: tags, default: '[]'}
outputs:
- {name: conditions}
implementation:
  container:
    command: [ack-kfp-launcher, training-job, --kfp-run-id, '{{workflow.uid}}', --kfp-step-id, '{{node.name}}']
    args: [--region, {inputValue: region}, --tags, {inputValue: tags}, --conditions_output_path, {outputPath: conditions}]
";
        let argv = kfp1_argv(component, &[("region", "eu-west-1")], Path::new("/out")).unwrap();
        assert_eq!(
            argv,
            [
                "ack-kfp-launcher",
                "training-job",
                "--kfp-run-id",
                RUN_ID,
                "--kfp-step-id",
                NODE_NAME,
                "--region",
                "eu-west-1",
                "--tags",
                "[]",
                "--conditions_output_path",
                "/out/conditions/data"
            ]
        );
        let missing = kfp1_argv(component, &[], Path::new("/out")).unwrap_err();
        assert!(missing.to_string().contains("input region"), "{missing}");
    }

    #[test]
    fn the_sample_inputs_are_the_readmes_pipeline_example() {
        let readme =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
                .unwrap();
        let example = readme
            .split("```python kfp file=churn_training.py\n")
            .nth(1)
            .expect("the README's pipeline example");
        for (name, value) in SAMPLE_INPUTS {
            assert!(example.contains(&format!("{name}=")), "{name}");
            match serde_json::from_str::<Value>(value) {
                // A JSON input: its keys and string values are in the example.
                Ok(json @ (Value::Object(_) | Value::Array(_))) => {
                    for text in strings(&json) {
                        assert!(example.contains(&format!("\"{text}\"")), "{name}: {text}");
                    }
                }
                _ => assert!(example.contains(&format!("\"{value}\"")), "{name}: {value}"),
            }
        }
    }

    fn strings(value: &Value) -> Vec<String> {
        match value {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items.iter().flat_map(strings).collect(),
            Value::Object(map) => map
                .iter()
                .flat_map(|(k, v)| std::iter::once(k.clone()).chain(strings(v)))
                .collect(),
            _ => Vec::new(),
        }
    }
}
