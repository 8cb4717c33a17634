//! Section 1: launcher start-up (process start to the first request the API server's proxy
//! receives) and peak RSS of a whole successful run, against the Python baseline.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::ctx::Ctx;
use crate::report::{Report, Row, Section, Target, Unit, value};
use crate::rss;
use crate::stats::Stat;
use crate::workload::{Bed, Client};
use anyhow::{Context, bail};

/// The job every start-up and memory run follows: four steps (120 simulated seconds).
const JOB_STEPS: u32 = 4;

pub fn run(ctx: &Ctx, bed: &Bed, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("1/5 start-up and peak RSS");
    bed.set_steps(JOB_STEPS);
    let outputs = ctx.scratch.path().join("startup");
    let first = |client: Client, tag: &str| -> anyhow::Result<Vec<f64>> {
        let mut millis = Vec::new();
        for i in 0..=ctx.runs {
            let name = format!("start-{tag}-{i}");
            let command = ctx.programs.command(client, bed, &name, &outputs);
            let elapsed = first_request(bed, command, &ctx.scratch.path().join(&name))?;
            // Run 0 is the warm-up (page cache, Python's bytecode cache).
            if i > 0 {
                millis.push(elapsed.as_secs_f64() * 1e3);
            }
        }
        Ok(millis)
    };
    let launcher_ms = first(Client::Launcher, "rust")?;
    let python_ms = first(Client::PythonCreate, "py")?;

    let peak = |client: Client, tag: &str| -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
        let mut child = Vec::new();
        let mut wrapper = Vec::new();
        for i in 0..=ctx.runs {
            let name = format!("rss-{tag}-{i}");
            let command = ctx.programs.command(client, bed, &name, &outputs);
            let measured = rss::measure(&ctx.rss_wrapper, &command)?;
            if i > 0 {
                #[allow(clippy::cast_precision_loss)] // KiB counts are far below 2^52.
                {
                    child.push(measured.child_kib as f64 / 1024.0);
                    wrapper.push(measured.wrapper_kib as f64 / 1024.0);
                }
            }
        }
        Ok((child, wrapper))
    };
    let (launcher_rss, launcher_wrapper) = peak(Client::Launcher, "rust")?;
    let (python_rss, python_wrapper) = peak(Client::PythonPoll, "py")?;
    let wrapper = Stat::of(&[launcher_wrapper, python_wrapper].concat());
    let above_floor =
        Stat::of(&[launcher_rss.clone(), python_rss.clone()].concat()).min > wrapper.max;

    let rows = vec![
        Row::new(
            "process start -> first request received",
            Unit::Ms,
            Stat::of(&launcher_ms),
            Some(Stat::of(&python_ms)),
        ),
        Row::new(
            "peak RSS, whole successful run",
            Unit::MiB,
            Stat::of(&launcher_rss),
            Some(Stat::of(&python_rss)),
        ),
    ];
    let start = Stat::of(&launcher_ms);
    let ratio = Stat::of(&python_ms).median / start.median;
    let rss = Stat::of(&launcher_rss);
    report.targets.push(Target {
        what: "launcher: first request".into(),
        target: "<= 10 ms".into(),
        measured: value(Unit::Ms, start.median),
        met: start.median <= 10.0,
    });
    report.targets.push(Target {
        what: "launcher: first request vs Python".into(),
        target: ">= 100x sooner".into(),
        measured: format!("{ratio:.0}x sooner"),
        met: ratio >= 100.0,
    });
    report.targets.push(Target {
        what: "launcher: peak RSS".into(),
        target: "<= 10 MiB".into(),
        measured: format!(
            "{} (max {})",
            value(Unit::MiB, rss.median),
            value(Unit::MiB, rss.max)
        ),
        met: rss.max <= 10.0,
    });
    report.sections.push(Section {
        title: "1. Launcher start-up and memory".into(),
        ours: "launcher".into(),
        baseline: "Python baseline".into(),
        rows,
        notes: vec![
            "Start-up: from just before `spawn` to the first request the fault proxy in \
             front of the real kube-apiserver logged (stamped when it has read the request \
             head, after the client's TLS handshake with it; it injects nothing). Both clients \
             run as the step's ServiceAccount with the cluster's CA in the kubeconfig, as in a \
             pod. The launcher run is a whole `training-job` step (its first request is the \
             create); the Python baseline (`bench/python/baseline.py create`, kubernetes \
             12.0.1 + PyYAML in `target/bench-venv`) loads the kubeconfig, builds the resource \
             from a YAML template and the inputs and creates it with `CustomObjectsApi`. One \
             unmeasured warm-up run each."
                .into(),
            format!(
                "Peak RSS: `getrusage(RUSAGE_CHILDREN).ru_maxrss` in a fresh wrapper process \
                 per run (`target/*/measure-rss`, a small binary of the bench crate), over a \
                 whole successful run of a job of {JOB_STEPS} steps (see section 2): the \
                 launcher's create, watch and outputs; for Python, create then the 30 s polling \
                 loop (`baseline.py run`) until Completed. Linux counts the wrapper's own peak \
                 ({} median) as a floor under every figure, since the child is spawned with \
                 vfork semantics; {}.",
                value(Unit::MiB, wrapper.median),
                if above_floor {
                    "every figure here is above it"
                } else {
                    "**some figures here are at that floor, so the process's own peak is lower**"
                }
            ),
        ],
    });
    Ok(())
}

/// Spawns `command`, waits for it to succeed and returns the time from the spawn to its
/// first request in the proxy's log.
fn first_request(bed: &Bed, mut command: Command, logs: &Path) -> anyhow::Result<Duration> {
    let stdout = File::create(logs.with_extension("stdout"))?;
    let stderr = File::create(logs.with_extension("stderr"))?;
    command
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr));
    let log = bed.proxy.requests();
    log.clear();
    let start = Instant::now();
    let status = command
        .status()
        .with_context(|| command.get_program().to_string_lossy().into_owned())?;
    let tail =
        || rss::tail(&std::fs::read_to_string(logs.with_extension("stderr")).unwrap_or_default());
    if !status.success() {
        bail!(
            "{} failed with {status}; stderr:\n{}",
            command.get_program().to_string_lossy(),
            tail()
        );
    }
    match log.records().first() {
        Some(first) => Ok(first.at.saturating_duration_since(start)),
        None => bail!(
            "{} made no request; stderr:\n{}",
            command.get_program().to_string_lossy(),
            tail()
        ),
    }
}
