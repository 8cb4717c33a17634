//! Section 3: what a user waits for on the real ACK SageMaker controller with our SageMaker
//! API: from SageMaker reporting a training job's final state to the step's exit, the
//! controller's 30 s requeue included, for the launcher (a watch) and the earlier
//! component's way (the Python baseline polling the resource every 30 s), side by side on
//! the same controller. Unscaled: the requeue is a constant of the controller, so every run
//! lasts as long as it would in a cluster; all runs go at once.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use testbed::ack::{AckStack, Script};

use crate::ctx::Ctx;
use crate::report::{Report, Row, Section, Unit};
use crate::stats::Stat;
use crate::workload::{BASELINE_ACCOUNT, Client, SERVICE_ACCOUNT, grant_roles};

/// The namespace of the jobs.
const NS: &str = "bench-waiting";

/// The controller's requeue of a job in progress (`DefaultRequeueAfterDuration`, a
/// constant), and the earlier component's poll interval.
const REQUEUE: Duration = Duration::from_secs(30);

/// One run: the instants that split what the user waits for.
#[derive(Debug)]
struct Waited {
    /// SageMaker's final state -> the step's exit, s.
    total_s: f64,
    /// SageMaker's final state -> the controller's next Describe, s.
    requeue_s: f64,
    /// That Describe -> the step's exit, s.
    rest_s: f64,
}

pub fn run(ctx: &Ctx, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("3/5 what a user waits for on the real ACK controller (about 2 minutes)");
    let stack = AckStack::start().context("starting the real ACK controller's stack")?;
    let (launcher_kubeconfig, baseline_kubeconfig) = kubeconfigs(ctx, &stack)?;
    // The job ends at a point of the controller's requeue interval spread evenly over it
    // (the run's offset after the controller first reports the job in progress), the same
    // points for both clients.
    #[allow(clippy::cast_precision_loss)] // a handful of runs.
    let offsets: Vec<Duration> = (0..ctx.runs)
        .map(|i| REQUEUE.mul_f64((i as f64 + 0.5) / ctx.runs as f64))
        .collect();
    let started = Instant::now();
    let (launcher, poller) = std::thread::scope(|scope| {
        let spawn = |client: Client, tag: &'static str, kubeconfig: &Path| {
            let runs: Vec<_> = offsets
                .iter()
                .enumerate()
                .map(|(i, offset)| {
                    let stack = &stack;
                    let kubeconfig = kubeconfig.to_path_buf();
                    let name = format!("wait-{tag}-{i}");
                    scope.spawn(move || one_run(ctx, stack, client, &name, *offset, &kubeconfig))
                })
                .collect();
            runs
        };
        let launcher = spawn(Client::Launcher, "rust", &launcher_kubeconfig);
        let poller = spawn(Client::PythonPoll, "py", &baseline_kubeconfig);
        let join = |runs: Vec<std::thread::ScopedJoinHandle<'_, anyhow::Result<Waited>>>| {
            runs.into_iter()
                .map(|run| {
                    run.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("a run panicked")))
                })
                .collect::<anyhow::Result<Vec<_>>>()
        };
        (join(launcher), join(poller))
    });
    let (launcher, poller) = (launcher?, poller?);
    let took = started.elapsed();

    let stat =
        |runs: &[Waited], f: fn(&Waited) -> f64| Stat::of(&runs.iter().map(f).collect::<Vec<_>>());
    let rows = vec![
        Row::new(
            "SageMaker's final state -> step exit (what a user waits for)",
            Unit::S,
            stat(&launcher, |w| w.total_s),
            Some(stat(&poller, |w| w.total_s)),
        ),
        Row::new(
            "of which the controller's requeue: final state -> its next Describe",
            Unit::S,
            stat(&launcher, |w| w.requeue_s),
            Some(stat(&poller, |w| w.requeue_s)),
        ),
        Row::new(
            "of which the rest: that Describe -> step exit",
            Unit::S,
            stat(&launcher, |w| w.rest_s),
            Some(stat(&poller, |w| w.rest_s)),
        ),
    ];
    report.sections.push(Section {
        title: "3. What a user waits for on the real ACK controller".into(),
        ours: "launcher (watch)".into(),
        baseline: "Python 30 s poller".into(),
        rows,
        notes: vec![
            format!(
                "The stack: kube-apiserver, the real ACK SageMaker controller (v1.9.1, as the \
                 tests run it) and our SageMaker API (`sagemaker-emulator`), started for this \
                 section; {} TrainingJob steps of each client at once ({:.0} s for the \
                 section), each as the step's ServiceAccount (the baseline's Role also reads \
                 `trainingjobs/status`, as the earlier component does). Nothing is scaled: \
                 the controller requeues a job in progress every 30 s (a constant of the ACK \
                 runtime) and the baseline polls every 30 s.",
                ctx.runs,
                took.as_secs_f64()
            ),
            "SageMaker's final state: the job is `InProgress` until the bench ends it \
             (`SageMaker::advance`), at offsets spread evenly over the controller's 30 s \
             requeue interval after the controller first reported it in progress (the same \
             offsets for both clients); SageMaker answers `Completed` from then on. The \
             controller's next Describe is taken from SageMaker's call log; the exit is when \
             `waitpid` on the client returned."
                .into(),
            "The requeue is the controller's and the same for both: on average half the \
             interval. After it, the launcher's watch has the controller's status write at \
             once; the poller sees it at its next poll, which runs on its own 30 s \
             schedule from its create, much as the controller's requeues run from its first \
             reconcile: the two clocks start together, so the poll tends to come just before \
             the controller's Describe and wait most of a further interval."
                .into(),
        ],
    });
    Ok(())
}

/// Creates [`NS`] with the step's Role for the launcher and the earlier component's for the
/// baseline; writes both ServiceAccounts' kubeconfigs into the scratch folder.
fn kubeconfigs(ctx: &Ctx, stack: &AckStack) -> anyhow::Result<(PathBuf, PathBuf)> {
    let cluster = &stack.cluster;
    cluster.create_namespace(NS)?;
    grant_roles(cluster, &ctx.root, NS)?;
    let write = |account: &str| -> anyhow::Result<PathBuf> {
        let path = ctx
            .scratch
            .path()
            .join(format!("kubeconfig-waiting-{account}"));
        std::fs::write(&path, cluster.service_account_kubeconfig(NS, account)?)
            .context("writing a kubeconfig")?;
        Ok(path)
    };
    Ok((write(SERVICE_ACCOUNT)?, write(BASELINE_ACCOUNT)?))
}

/// One step: created, followed by its client, ended by SageMaker `offset` after the
/// controller first reported it in progress.
fn one_run(
    ctx: &Ctx,
    stack: &AckStack,
    client: Client,
    name: &str,
    offset: Duration,
    kubeconfig: &Path,
) -> anyhow::Result<Waited> {
    stack.sagemaker.script(name, Script::works_until_advanced());
    let logs = ctx.scratch.path().join(name);
    // The earlier component's poll interval, unscaled.
    let interval = REQUEUE.as_secs().to_string();
    let outputs = ctx.scratch.path().join("waiting");
    let mut command = ctx
        .programs
        .command_with(client, kubeconfig, name, &outputs, &interval);
    let mut child = command
        .stdout(Stdio::from(std::fs::File::create(
            logs.with_extension("stdout"),
        )?))
        .stderr(Stdio::from(std::fs::File::create(
            logs.with_extension("stderr"),
        )?))
        .spawn()
        .with_context(|| command.get_program().to_string_lossy().into_owned())?;
    let in_progress = Instant::now() + Duration::from_secs(120);
    while !controller_reported_in_progress(stack, name) {
        if Instant::now() > in_progress {
            let _ = child.kill();
            bail!("{name}: the controller did not report the job in progress within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(offset);
    let ended = SystemTime::now();
    if !stack.sagemaker.advance(name) {
        bail!("{name}: SageMaker does not have the job");
    }
    let status = child.wait().context("waiting for the client")?;
    let exited = SystemTime::now();
    if !status.success() {
        let stderr = std::fs::read_to_string(logs.with_extension("stderr")).unwrap_or_default();
        bail!("{name}: the client failed with {status}; stderr:\n{stderr}");
    }
    let noticed = stack
        .sagemaker
        .calls_for(name)
        .into_iter()
        .filter(|c| c.op == "DescribeTrainingJob" && c.at >= ended)
        .map(|c| c.at)
        .min()
        .with_context(|| format!("{name}: no Describe after the job ended"))?;
    let seconds =
        |from: SystemTime, to: SystemTime| to.duration_since(from).map_or(0.0, |d| d.as_secs_f64());
    Ok(Waited {
        total_s: seconds(ended, exited),
        requeue_s: seconds(ended, noticed),
        rest_s: seconds(noticed, exited),
    })
}

/// Whether the resource `name` shows `InProgress`: the controller has described the job
/// and written its status, and requeued it.
fn controller_reported_in_progress(stack: &AckStack, name: &str) -> bool {
    use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
    let gvk = GroupVersionKind::gvk("sagemaker.services.k8s.aws", "v1alpha1", "TrainingJob");
    let api: Api<DynamicObject> = Api::namespaced_with(
        stack.cluster.client(),
        NS,
        &ApiResource::from_gvk_with_plural(&gvk, "trainingjobs"),
    );
    stack
        .cluster
        .block_on(api.get_opt(name))
        .ok()
        .flatten()
        .is_some_and(|o| o.data["status"]["trainingJobStatus"] == "InProgress")
}
