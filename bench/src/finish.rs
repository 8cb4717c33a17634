//! Section 2: finish detection (the final status write to the client's exit) and API
//! requests while a time-scaled one-hour job runs, for the launcher (a watch) against the
//! Python baseline's 30-second polling loop, on a real kube-apiserver over HTTPS.

use std::fs::File;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use testbed::Verb;

use crate::ctx::Ctx;
use crate::report::{Report, Row, Section, Target, Unit, value};
use crate::rss;
use crate::stats::Stat;
use crate::workload::{Bed, Client};

/// 120 requeues of 30 simulated seconds: a one-hour training job.
const TRAINING_STEPS: u32 = 120;

/// One job followed to the end.
#[derive(Debug)]
struct FinishRun {
    /// Final status write -> process exit, ms (negative if the bench woke late).
    latency_ms: f64,
    /// Every request of the run, the create included.
    requests: usize,
    creates: usize,
    watches: usize,
    /// Created -> final status write, simulated seconds (1 ms real each).
    job_simulated_s: f64,
}

pub fn run(ctx: &Ctx, bed: &Bed, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("2/5 finish detection and API requests over a simulated one-hour job");
    bed.set_steps(TRAINING_STEPS);
    let follow = |client: Client, tag: &str| -> anyhow::Result<Vec<FinishRun>> {
        (0..ctx.runs)
            .map(|i| finish_run(ctx, bed, client, &format!("finish-{tag}-{i}")))
            .collect()
    };
    let launcher = follow(Client::Launcher, "rust")?;
    let poller = follow(Client::PythonPoll, "py")?;

    #[allow(clippy::cast_precision_loss)] // request counts are small.
    let waiting = |r: &FinishRun| (r.requests - r.creates) as f64;
    let per_minute = |r: &FinishRun| waiting(r) / (r.job_simulated_s / 60.0);
    let watch_seconds = watch_seconds(ctx)?;
    // Unscaled, the launcher renews its watch every WATCH_SECONDS of real time; every other
    // request it made while waiting happens once per job.
    #[allow(clippy::cast_precision_loss)]
    let launcher_real_per_hour = |r: &FinishRun| {
        let others = waiting(r) - r.watches as f64;
        others + 3600.0 / watch_seconds
    };
    let latency = stat(&launcher, |r| r.latency_ms);
    let real_per_minute = stat(&launcher, launcher_real_per_hour).median / 60.0;
    let job = stat(&launcher, |r| r.job_simulated_s);
    let rows = vec![
        Row::new(
            "final status write -> process exit (real time)",
            Unit::Ms,
            latency,
            Some(stat(&poller, |r| r.latency_ms)),
        ),
        Row::new(
            "API requests, whole run (create included)",
            Unit::Count,
            stat(&launcher, |r| r.requests as f64),
            Some(stat(&poller, |r| r.requests as f64)),
        ),
        Row::new(
            "API requests while waiting, per simulated minute",
            Unit::PerMinute,
            stat(&launcher, per_minute),
            Some(stat(&poller, per_minute)),
        ),
        Row::new(
            "API requests while waiting, per real hour, unscaled (computed)",
            Unit::PerHour,
            stat(&launcher, launcher_real_per_hour),
            Some(Stat::single(2.0 * 3600.0 / 30.0)),
        ),
    ];
    report.targets.push(Target {
        what: "launcher: finish detected after the final status write".into(),
        target: "<= 1 s".into(),
        measured: format!(
            "{} (max {})",
            value(Unit::Ms, latency.median),
            value(Unit::Ms, latency.max)
        ),
        met: latency.max <= 1000.0,
    });
    report.targets.push(Target {
        what: "launcher: API requests per minute of waiting".into(),
        target: "<= 1".into(),
        measured: format!(
            "{:.2} unscaled (one watch per {watch_seconds:.0} s); {:.2} in the time-scaled run",
            real_per_minute,
            stat(&launcher, per_minute).median
        ),
        met: real_per_minute <= 1.0 && stat(&launcher, per_minute).median <= 1.0,
    });
    report.sections.push(Section {
        title: "2. Finish detection and API requests over a one-hour job".into(),
        ours: "launcher (watch)".into(),
        baseline: "Python 30 s poller".into(),
        rows,
        notes: vec![
            format!(
                "The job: {TRAINING_STEPS} requeues of 30 s at 1 ms per simulated second, so \
                 the hour runs in about {:.1} s of real time ({:.0} simulated s from the \
                 create to the final status, median; the per-minute rates divide by this). \
                 The bench writes its status as the controller would, through the \
                 administrator's client: `InProgress` when it sees the create, `Completed` with \
                 ACK.ResourceSynced True at the end (the real ACK controller's 30 s requeue \
                 cannot be scaled down). The clients reach the real kube-apiserver as the \
                 step's ServiceAccount over HTTPS, through a proxy that counts their requests \
                 and injects nothing.",
                job.median / 1e3,
                job.median
            ),
            "Final write: the instant the server answered the bench's final status patch \
             (it has the write; its watchers get the event from then on), to the instant \
             `waitpid` on the client returned; so it includes the event's way through the \
             watch cache and the proxy, writing the outputs and process exit."
                .into(),
            "The poller is the Python baseline (`bench/python/baseline.py run`, kubernetes \
             12.0.1): it creates the job, then every 30 simulated seconds (30 ms real, on a \
             fixed schedule so request time does not stretch the interval) GETs the resource \
             for its conditions and then its `/status` subresource, like the earlier \
             component. Its latency is mostly the wait for the next poll, which scales with \
             the interval: unscaled, about 15 s on average and up to 30 s, plus the same \
             few ms. The launcher's watch delivers the write as an event whatever the time \
             scale, so its measured latency is its real-world latency."
                .into(),
            format!(
                "The launcher's watch request stays open for {watch_seconds:.0} real seconds \
                 (`WATCH_SECONDS` in launcher/src/follow.rs) and is then renewed; the \
                 time-scaled hour is too short to see a renewal, so the unscaled row is \
                 computed: the requests measured while waiting, with the watches replaced by \
                 3600 / {watch_seconds:.0} renewals. The poller's unscaled rate is 2 GETs per \
                 30 s."
            ),
        ],
    });
    Ok(())
}

fn stat(runs: &[FinishRun], f: impl Fn(&FinishRun) -> f64) -> Stat {
    Stat::of(&runs.iter().map(f).collect::<Vec<_>>())
}

/// Runs one client until the job completes; see [`FinishRun`].
fn finish_run(ctx: &Ctx, bed: &Bed, client: Client, name: &str) -> anyhow::Result<FinishRun> {
    let logs = ctx.scratch.path().join(name);
    let outputs = ctx.scratch.path().join("finish");
    let mut command = ctx.programs.command(client, bed, name, &outputs);
    command
        .stdout(Stdio::from(File::create(logs.with_extension("stdout"))?))
        .stderr(Stdio::from(File::create(logs.with_extension("stderr"))?));
    let log = bed.proxy.requests();
    log.clear();
    let status = command
        .status()
        .with_context(|| command.get_program().to_string_lossy().into_owned())?;
    let exited = Instant::now();
    let stderr =
        || rss::tail(&std::fs::read_to_string(logs.with_extension("stderr")).unwrap_or_default());
    if !status.success() {
        bail!(
            "{name}: the client failed with {status}; stderr:\n{}",
            stderr()
        );
    }
    let (created, final_write) = bed.final_write(name, Duration::from_secs(60))?;
    let latency_ms = match exited.checked_duration_since(final_write) {
        Some(d) => d.as_secs_f64() * 1e3,
        None => -(final_write.duration_since(exited).as_secs_f64() * 1e3),
    };
    let records = log.records();
    let count = |verb: Verb| records.iter().filter(|r| r.verb == verb).count();
    Ok(FinishRun {
        latency_ms,
        requests: records.len(),
        creates: count(Verb::Create),
        watches: count(Verb::Watch),
        job_simulated_s: final_write.duration_since(created).as_secs_f64() * 1e3,
    })
}

/// `WATCH_SECONDS` of launcher/src/follow.rs, read from the source so the report follows it.
fn watch_seconds(ctx: &Ctx) -> anyhow::Result<f64> {
    let path = ctx.root.join("launcher/src/follow.rs");
    let source = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    source
        .lines()
        .find_map(|l| l.trim().strip_prefix("const WATCH_SECONDS: u32 = "))
        .and_then(|rest| rest.trim_end_matches(';').trim().parse().ok())
        .with_context(|| format!("no `const WATCH_SECONDS: u32 = N;` in {}", path.display()))
}
