//! Compiled KFP v1 pipelines on the real stack ([`cluster::Stack`]): the launcher image
//! pushed to the stack's registry and named by a copy of the components
//! ([`components_for`], what `cargo xtask image --push` does to the checkout), a pipeline
//! compiled by kfp 1.8.22 from `kfp-tests`' venv ([`compile`]), submitted as an Argo
//! Workflow ([`submit`]) and followed to its end ([`wait`]). Used by
//! `xtask/tests/pipelines.rs` and `cargo xtask demo --pipeline`.
//!
//! As KFP v1 runs it, except that nothing stands between the compiled workflow and Argo:
//! KFP's API server would replace `{{workflow.uid}}` with its run id before submitting,
//! here Argo fills it with the workflow's uid (README: "One step, one resource").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use serde_json::Value;

use crate::image::{self, ImageConfig};

/// The launcher image's name in the stack's registry.
pub const LAUNCHER_NAME: &str = "ack-sagemaker-kfp-launcher";

/// Builds the launcher image (as `cargo xtask image` does) and pushes it to `registry`
/// (`host:port`, plain HTTP); returns the reference.
pub fn push_launcher(root: &Path, registry: &str) -> anyhow::Result<String> {
    let config = ImageConfig {
        repository: format!("{registry}/{LAUNCHER_NAME}"),
        ..ImageConfig::read(root)?
    };
    let built = image::build_with(root, &config)?;
    let reference = config.reference();
    image::push(&built, &reference, true)?;
    Ok(reference)
}

/// A copy of what `regenerate` reads and writes under `scratch`, with `reference` as the
/// image every component names (image.toml rewritten, regenerated: what `cargo xtask
/// image --push` leaves in a checkout); returns the copy's `generated/components`.
pub fn components_for(root: &Path, scratch: &Path, reference: &str) -> anyhow::Result<PathBuf> {
    for dir in ["crds", "component-template", "generated"] {
        copy_dir(&root.join(dir), &scratch.join(dir))?;
    }
    let config = image::with_reference(scratch, reference)?;
    image::write_config(scratch, &config)?;
    crate::regenerate::apply(scratch, &crate::regenerate::plan(scratch)?)?;
    Ok(scratch.join("generated/components"))
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| to.display().to_string())?;
    for entry in std::fs::read_dir(from).with_context(|| from.display().to_string())? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).with_context(|| target.display().to_string())?;
        }
    }
    Ok(())
}

/// The kfp 1.8.22 venv of `kfp-tests` (created by `kfp-tests/venv.sh` if needed).
pub fn kfp1_python(root: &Path) -> anyhow::Result<PathBuf> {
    let out = Command::new(root.join("kfp-tests/venv.sh"))
        .arg("kfp1")
        .current_dir(root)
        .output()
        .context("kfp-tests/venv.sh kfp1")?;
    ensure!(
        out.status.success(),
        "kfp-tests/venv.sh kfp1 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let venv = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    Ok(PathBuf::from(venv).join("bin/python"))
}

/// Options of `kfp-tests/argo_compile.py`.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// `set_retry(n)` on the training step.
    pub retry: Option<u32>,
    /// `set_retry`'s policy (Argo's `retryPolicy`).
    pub policy: Option<String>,
    /// A fixed `training_job_name`.
    pub job_name: Option<String>,
}

/// Compiles the pipeline `name` of `kfp-tests/argo_compile.py` with kfp 1.8 against the
/// components in `components`; returns the Argo Workflow.
pub fn compile(
    root: &Path,
    python: &Path,
    name: &str,
    components: &Path,
    out: &Path,
    options: &CompileOptions,
) -> anyhow::Result<Value> {
    let mut command = Command::new(python);
    command
        .arg(root.join("kfp-tests/argo_compile.py"))
        .arg(name)
        .arg(components)
        .arg(out)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    if let Some(retry) = options.retry {
        command.arg("--retry").arg(retry.to_string());
    }
    if let Some(policy) = &options.policy {
        command.arg("--policy").arg(policy);
    }
    if let Some(job_name) = &options.job_name {
        command.arg("--job-name").arg(job_name);
    }
    let output = command.output().context("kfp-tests/argo_compile.py")?;
    ensure!(
        output.status.success(),
        "compiling {name} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(out).with_context(|| out.display().to_string())?;
    serde_saphyr::from_str(&text).with_context(|| format!("{}: not YAML", out.display()))
}

/// Argo's Workflow resource.
pub fn workflows(client: kube::Client, namespace: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Workflow");
    Api::namespaced_with(client, namespace, &ApiResource::from_gvk(&gvk))
}

/// A submitted workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub namespace: String,
    pub name: String,
    /// `metadata.uid`: what Argo fills `{{workflow.uid}}` with.
    pub uid: String,
}

/// Submits the compiled workflow (its `generateName` kept: Argo's name for the run).
pub async fn submit(
    client: kube::Client,
    namespace: &str,
    workflow: &Value,
) -> anyhow::Result<Run> {
    let object: DynamicObject =
        serde_json::from_value(workflow.clone()).context("the compiled workflow")?;
    let created = workflows(client, namespace)
        .create(&PostParams::default(), &object)
        .await
        .context("submitting the workflow")?;
    Ok(Run {
        namespace: namespace.to_owned(),
        name: created.metadata.name.unwrap_or_default(),
        uid: created.metadata.uid.unwrap_or_default(),
    })
}

/// Argo's stop or terminate (`spec.shutdown`), as `argo terminate` and KFP's "terminate
/// run" set it.
pub async fn shutdown(client: kube::Client, run: &Run, strategy: &str) -> anyhow::Result<()> {
    workflows(client, &run.namespace)
        .patch(
            &run.name,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"shutdown": strategy}})),
        )
        .await
        .context("setting spec.shutdown")?;
    Ok(())
}

/// The workflow's status once it has finished (`status.phase` Succeeded, Failed or
/// Error), polling every half second; `on_change` sees every new status.
pub async fn wait(
    client: kube::Client,
    run: &Run,
    timeout: Duration,
    mut on_change: impl FnMut(&Value),
) -> anyhow::Result<Value> {
    let api = workflows(client, &run.namespace);
    let deadline = Instant::now() + timeout;
    let mut last = Value::Null;
    loop {
        let workflow = api.get(&run.name).await.context("reading the workflow")?;
        let status = workflow.data.get("status").cloned().unwrap_or(Value::Null);
        if status != last {
            on_change(&status);
            last = status.clone();
        }
        if matches!(
            status["phase"].as_str(),
            Some("Succeeded" | "Failed" | "Error")
        ) && status["finishedAt"].is_string()
        {
            return Ok(status);
        }
        if Instant::now() > deadline {
            bail!(
                "workflow {} did not finish within {timeout:?}; its status:\n{status:#}",
                run.name
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// One node of a workflow's status.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// `<workflow>.<task>`, `<workflow>.<task>(<attempt>)` for a retry's children.
    pub name: String,
    pub display_name: String,
    /// Pod, Retry, DAG, ...
    pub kind: String,
    pub phase: String,
    pub message: String,
    /// Its input parameters (`name` -> value, as Argo substituted them).
    pub inputs: BTreeMap<String, String>,
    /// Its output parameters (`name` -> value) and artifacts (`name` -> S3 key).
    pub parameters: BTreeMap<String, String>,
    pub artifacts: BTreeMap<String, String>,
}

/// The nodes of a status, by name.
pub fn nodes(status: &Value) -> BTreeMap<String, Node> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    status["nodes"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, node)| {
            let outputs = &node["outputs"];
            let pairs =
                |list: &Value, value: &dyn Fn(&Value) -> String| -> BTreeMap<String, String> {
                    list.as_array()
                        .into_iter()
                        .flatten()
                        .map(|item| (text(&item["name"]), value(item)))
                        .collect()
                };
            let node = Node {
                name: text(&node["name"]),
                display_name: text(&node["displayName"]),
                kind: text(&node["type"]),
                phase: text(&node["phase"]),
                message: text(&node["message"]),
                inputs: pairs(&node["inputs"]["parameters"], &|p| text(&p["value"])),
                parameters: pairs(&outputs["parameters"], &|p| text(&p["value"])),
                artifacts: pairs(&outputs["artifacts"], &|a| text(&a["s3"]["key"])),
            };
            (node.name.clone(), node)
        })
        .collect()
}
