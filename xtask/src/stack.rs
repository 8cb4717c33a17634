//! `cargo xtask cluster up|down`: the real stack, detached: etcd and kube-apiserver
//! (`cluster::Cluster`; with `--nodes`, `cluster::Stack`: a node, a registry, an S3
//! server and Argo Workflows too), our SageMaker API in a process of its own (this xtask
//! binary run as `sagemaker-api`), and the ACK SageMaker controller against both, with
//! the release's CRDs installed. All of it is one process group, which `down` kills (and,
//! with a node, everything the node left: its cgroups, its link, its directory).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use cluster::{AckController, Cluster, ControllerOptions, Stack, StackOptions};

/// What `up` started.
#[derive(Debug)]
pub struct Up {
    /// The admin kubeconfig.
    pub kubeconfig: PathBuf,
    /// Our SageMaker API's URL.
    pub sagemaker_url: String,
    /// The process group of everything.
    pub group: u32,
    /// The directory with every log.
    pub dir: PathBuf,
    /// With `--nodes`: where the node pulls images from and Argo stores artifacts.
    pub node: Option<NodeUp>,
}

/// The node's services, with `--nodes`.
#[derive(Debug)]
pub struct NodeUp {
    /// The registry (`host:port`, plain HTTP).
    pub registry: String,
    /// The S3 server (`host:port`).
    pub s3: String,
}

/// Starts the stack in `dir` (building the Go tools first if needed) and leaves it
/// running.
pub fn up(dir: &Path, nodes: bool) -> anyhow::Result<Up> {
    if dir.exists() {
        anyhow::bail!(
            "a cluster is already up in {} (`cargo xtask cluster down` first)",
            dir.display()
        );
    }
    if nodes {
        // Killed and torn down on drop (an error below) until detached.
        let stack = Stack::start_kept(dir, &StackOptions::default())?;
        let sagemaker_url = spawn_sagemaker(dir, stack.cluster().process_group())?;
        let controller =
            AckController::start(stack.cluster(), &ControllerOptions::new(&sagemaker_url))?;
        controller.detach();
        let detached = stack.detach()?;
        return Ok(Up {
            kubeconfig: detached.kubeconfig,
            sagemaker_url,
            group: detached.group,
            dir: dir.to_path_buf(),
            node: Some(NodeUp {
                registry: detached.registry,
                s3: detached.s3,
            }),
        });
    }
    // Killed on drop (an error below) until detached.
    let cluster = Cluster::start_kept(dir)?;
    let sagemaker_url = spawn_sagemaker(dir, cluster.process_group())?;
    let controller = AckController::start(&cluster, &ControllerOptions::new(&sagemaker_url))?;
    controller.detach();
    let detached = cluster.detach()?;
    Ok(Up {
        kubeconfig: detached.kubeconfig,
        sagemaker_url,
        group: detached.group,
        dir: dir.to_path_buf(),
        node: None,
    })
}

/// Stops what `up` started in `dir` and removes `dir`; false when nothing was up.
pub fn down(dir: &Path) -> anyhow::Result<bool> {
    Ok(Cluster::stop_detached(dir)?)
}

/// Runs this xtask binary as our SageMaker API (`sagemaker-api --addr-file`) in process
/// group `group`, its log in `dir/sagemaker.log`; returns its URL once it listens.
fn spawn_sagemaker(dir: &Path, group: u32) -> anyhow::Result<String> {
    let addr_file = dir.join("sagemaker.addr");
    let log_path = dir.join("sagemaker.log");
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    let exe = std::env::current_exe().context("the xtask binary's path")?;
    let mut child = {
        use std::os::unix::process::CommandExt as _;
        Command::new(exe)
            .arg("sagemaker-api")
            .arg("--addr-file")
            .arg(&addr_file)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(i32::try_from(group).unwrap_or(0))
            .spawn()
            .context("starting our SageMaker API")?
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(url) = std::fs::read_to_string(&addr_file)
            && !url.is_empty()
        {
            return Ok(url.trim().to_string());
        }
        if let Some(status) = child.try_wait()? {
            anyhow::bail!(
                "our SageMaker API exited ({status}); see {}",
                log_path.display()
            );
        }
        if Instant::now() > deadline {
            anyhow::bail!(
                "our SageMaker API did not start; see {}",
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The body of `cargo xtask sagemaker-api`: serves our SageMaker API on a free port of
/// 127.0.0.1 with the demo script for every name, writes its URL to `addr_file`, prints
/// a line per call, and runs until killed.
pub fn serve_sagemaker(addr_file: &Path) -> anyhow::Result<()> {
    let sagemaker = sagemaker_emulator::SageMaker::start_with(sagemaker_emulator::Options {
        default_script: sagemaker_emulator::Script::demo(),
        print_calls: true,
        ..sagemaker_emulator::Options::default()
    })?;
    let partial = addr_file.with_extension("partial");
    std::fs::write(&partial, sagemaker.url())?;
    std::fs::rename(&partial, addr_file)?;
    eprintln!("sagemaker: listening on {}", sagemaker.url());
    sagemaker.serve_forever();
    Ok(())
}
