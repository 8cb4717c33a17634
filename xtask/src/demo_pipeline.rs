//! `cargo xtask demo --pipeline`: the README's pipeline from training to a monitored
//! endpoint (`kfp-tests/hosting.py`'s chain, compiled by kfp 1.8.22) run as KFP v1 runs
//! it, as an Argo Workflow on the real stack with a node ([`cluster::Stack`]): the
//! launcher image pushed to the stack's registry, every step in a pod as the
//! `pipeline-runner` ServiceAccount, the ACK SageMaker controller and our SageMaker API
//! behind it. It prints the workflow's steps as they change and SageMaker's calls as they
//! happen, each step's outputs at the end, then stops everything.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use cluster::{AckController, ControllerOptions, Stack};

use crate::pipeline::{self, CompileOptions};

/// The namespace of a standalone KFP installation's runs.
const NAMESPACE: &str = "kubeflow";

/// Runs the demo from the repository at `root`.
pub fn run(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    println!("building what the stack runs (the first time: minutes; cached in target/go)");
    for tool in cluster::Tool::ALL {
        tool.ensure_built()?;
    }
    let python = cluster::images::python()?;
    let kfp = pipeline::kfp1_python(root)?;
    println!(
        "built in {:.1} s; starting the stack: etcd, kube-apiserver, a node (kubelet, \
         kube-proxy, containerd), a registry, an S3 server, Argo Workflows {}, our SageMaker \
         API and the ACK SageMaker controller {}",
        started.elapsed().as_secs_f64(),
        cluster::Tool::WorkflowController.version()?,
        cluster::CONTROLLER_VERSION,
    );
    let stack_started = Instant::now();
    let stack = Stack::start()?;
    let sagemaker = sagemaker_emulator::SageMaker::start_with(sagemaker_emulator::Options {
        default_script: sagemaker_emulator::Script::demo(),
        print_calls: true,
        ..sagemaker_emulator::Options::default()
    })?;
    let controller =
        AckController::start(stack.cluster(), &ControllerOptions::new(&sagemaker.url()))?;
    println!(
        "stack up in {:.1} s (logs in {})",
        stack_started.elapsed().as_secs_f64(),
        stack.dir().display()
    );

    let registry = stack.registry();
    let reference = pipeline::push_launcher(root, &registry.host())?;
    registry.push(
        &python.dir,
        &python.tag,
        &format!("{}:{}", python.name, python.tag),
    )?;
    let scratch = stack.dir().join("demo");
    let components = pipeline::components_for(root, &scratch, &reference)?;
    println!(
        "\nthe components name {reference} (a copy of the checkout, as `cargo xtask image --push` leaves one)"
    );
    let workflow = pipeline::compile(
        root,
        &kfp,
        "chain",
        &components,
        &scratch.join("chain.yaml"),
        &CompileOptions::default(),
    )?;
    let rbac = std::fs::read_to_string(root.join("component-template/rbac.yaml"))
        .context("component-template/rbac.yaml")?;
    stack.prepare_namespace(NAMESPACE, &rbac)?;

    let cluster = stack.cluster();
    let run = cluster.block_on(pipeline::submit(cluster.client(), NAMESPACE, &workflow))?;
    println!(
        "\nsubmitted the Argo Workflow {} (uid {}); its steps and SageMaker's calls as they happen:",
        run.name, run.uid
    );
    let run_started = Instant::now();
    let mut shown: BTreeMap<String, String> = BTreeMap::new();
    let status = cluster.block_on(pipeline::wait(
        cluster.client(),
        &run,
        Duration::from_secs(900),
        |status| {
            for node in pipeline::nodes(status)
                .into_values()
                .filter(|n| n.kind == "Pod")
            {
                let line = format!("{} {}", node.phase, node.message);
                if shown.get(&node.name) != Some(&line) {
                    println!(
                        "{:>6.1} s  step {:<40} {}",
                        run_started.elapsed().as_secs_f64(),
                        node.display_name,
                        line.trim()
                    );
                    shown.insert(node.name.clone(), line);
                }
            }
        },
    ))?;
    println!("\nthe steps' outputs, as Argo handed them on:");
    for node in pipeline::nodes(&status)
        .into_values()
        .filter(|n| n.kind == "Pod")
    {
        for (name, value) in &node.parameters {
            let value: String = value.chars().take(100).collect();
            println!("  {name}: {value}");
        }
    }
    println!(
        "\nthe run {} after {:.1} s; SageMaker was asked {} times; demo done in {:.1} s, \
         stopping everything",
        status["phase"].as_str().unwrap_or("?"),
        run_started.elapsed().as_secs_f64(),
        sagemaker.calls().len(),
        started.elapsed().as_secs_f64()
    );
    drop(controller);
    drop(sagemaker);
    drop(stack);
    ensure!(
        status["phase"] == "Succeeded",
        "the run ended {}: {}",
        status["phase"],
        status["message"]
    );
    Ok(())
}
