//! Section 3: the generator as whole processes (`xtask regenerate --check` for the pinned
//! TrainingJob CRD, `xtask generate-all` for the 26 CRDs of v1.9.1) and `cargo check` of
//! the generated crate after a change to its TrainingJob module.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime};

use anyhow::{Context, bail};

use crate::ctx::Ctx;
use crate::report::{Report, Row, Section, Target, Unit, value};
use crate::rss;
use crate::stats::Stat;

/// Every SageMaker CRD of controller release v1.9.1.
const ALL_CRDS: &str =
    "fixtures/ack-mirror/aws-controllers-k8s/sagemaker-controller/v1.9.1/helm/crds";

/// A finished process: wall time, exit status and output.
struct Timed {
    ms: f64,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn timed(command: &mut Command) -> anyhow::Result<Timed> {
    command
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let output = command.output().with_context(|| format!("{command:?}"))?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    Ok(Timed {
        ms,
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

pub fn run(ctx: &Ctx, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("4/5 generator");
    let xtask = ctx.bin_dir.join("xtask");
    let mut notes = Vec::new();

    let mut regenerate = Vec::new();
    let mut stale = false;
    for i in 0..=ctx.runs {
        let t = timed(Command::new(&xtask).args(["regenerate", "--check"]))?;
        match t.code {
            Some(0) => {}
            // Stale files are the working tree's business, not a failure to measure: the
            // run still generated everything and diffed it.
            Some(1) if t.stderr.contains("are stale") => stale = true,
            _ => bail!("xtask regenerate --check failed:\n{}", rss::tail(&t.stderr)),
        }
        if i > 0 {
            regenerate.push(t.ms);
        }
    }
    if stale {
        notes.push(
            "`regenerate --check` reported stale generated files in this working tree; the \
             timing still covers generating and diffing everything."
                .to_owned(),
        );
    }

    let dir = ctx.root.join(ALL_CRDS);
    let crd_count = std::fs::read_dir(&dir)
        .with_context(|| dir.display().to_string())?
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        .count();
    let mut all_wall = Vec::new();
    let mut all_cpu = Vec::new();
    let mut all_inside = Vec::new();
    let mut summary = String::new();
    for i in 0..=ctx.runs {
        let cpu_before = children_cpu_ms()?;
        let t = timed(Command::new(&xtask).arg("generate-all").arg(&dir))?;
        let cpu = children_cpu_ms()? - cpu_before;
        if t.code != Some(0) {
            bail!("xtask generate-all failed:\n{}", rss::tail(&t.stderr));
        }
        let expected = format!("generated {crd_count} CRDs in ");
        let inside: f64 = t
            .stdout
            .trim()
            .strip_prefix(&expected)
            .and_then(|rest| rest.split_once(" ms"))
            .and_then(|(ms, _)| ms.parse().ok())
            .with_context(|| format!("unexpected generate-all output: {}", t.stdout))?;
        if i > 0 {
            all_wall.push(t.ms);
            all_cpu.push(cpu);
            all_inside.push(inside);
        }
        summary = t.stdout.trim().to_owned();
    }
    notes.push(format!(
        "All CRDs: `xtask generate-all {ALL_CRDS}` (hidden subcommand): for each of the \
         {crd_count} files, `codegen::model` then `codegen::generate` with \
         `ComponentTemplate::generic`, as `regenerate` does, writing nothing. Last run: \
         \"{summary}\"."
    ));

    let kopium = kopium(ctx, &dir, &mut notes)?;
    let check = cargo_check(ctx, &mut notes)?;

    let xtask_kind = if ctx.quick { "debug" } else { "release" };
    let rows = vec![
        Row::new(
            &format!("`xtask regenerate --check` ({xtask_kind} xtask, TrainingJob), whole process"),
            Unit::Ms,
            Stat::of(&regenerate),
            None,
        ),
        Row::new(
            &format!("all {crd_count} v1.9.1 CRDs in one process, whole process"),
            Unit::Ms,
            Stat::of(&all_wall),
            kopium.as_ref().map(|k| Stat::of(&k.wall)),
        ),
        Row::new(
            &format!("all {crd_count} v1.9.1 CRDs, CPU time (user + system)"),
            Unit::Ms,
            Stat::of(&all_cpu),
            kopium.as_ref().map(|k| Stat::of(&k.cpu)),
        ),
        Row::new(
            &format!("all {crd_count} v1.9.1 CRDs, inside the process (reading and generating)"),
            Unit::Ms,
            Stat::of(&all_inside),
            None,
        ),
        Row::new(
            "`cargo check -p generated` after touching generated/src/training_job.rs",
            Unit::Ms,
            Stat::of(&check),
            None,
        ),
    ];
    let all = Stat::of(&all_wall);
    report.targets.push(Target {
        what: format!("generator: all {crd_count} CRDs in one process"),
        target: "<= 60 ms".into(),
        measured: format!("{} whole process", value(Unit::Ms, all.median)),
        met: all.median <= 60.0,
    });
    if let Some(kopium) = &kopium {
        let (theirs, cpu, their_cpu) = (
            Stat::of(&kopium.wall),
            Stat::of(&all_cpu),
            Stat::of(&kopium.cpu),
        );
        report.targets.push(Target {
            what: format!("generator vs kopium 0.24.1: all {crd_count} CRDs, wall time"),
            target: "<= half of kopium's".into(),
            measured: format!(
                "{} vs {} ({:.1}x)",
                value(Unit::Ms, all.median),
                value(Unit::Ms, theirs.median),
                theirs.median / all.median
            ),
            met: all.median * 2.0 <= theirs.median,
        });
        report.targets.push(Target {
            what: format!("generator vs kopium 0.24.1: all {crd_count} CRDs, CPU time"),
            target: "<= kopium's".into(),
            measured: format!(
                "{} vs {}",
                value(Unit::Ms, cpu.median),
                value(Unit::Ms, their_cpu.median)
            ),
            met: cpu.median <= their_cpu.median,
        });
    }
    report.sections.push(Section {
        title: "4. Generator".into(),
        ours: "ours".into(),
        baseline: if kopium.is_some() {
            "kopium 0.24.1".into()
        } else {
            String::new()
        },
        rows,
        notes,
    });
    Ok(())
}

/// kopium's wall and CPU times for the same CRDs.
struct Kopium {
    wall: Vec<f64>,
    cpu: Vec<f64>,
}

/// The tool people use for the same step, run as a shell loop runs it: one `kopium -f
/// <file>` process per CRD, one after the other, output discarded. `None` (and a note
/// saying how to get it) when kopium 0.24.1 is not on `PATH`.
fn kopium(ctx: &Ctx, dir: &Path, notes: &mut Vec<String>) -> anyhow::Result<Option<Kopium>> {
    let version = Command::new("kopium").arg("--version").output();
    let version = version
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let Some(version) = version.filter(|v| v.ends_with("0.24.1")) else {
        notes.push(
            "kopium 0.24.1 is not installed (`cargo install kopium --version 0.24.1`), so \
             the generator is not compared with it in this run."
                .to_owned(),
        );
        return Ok(None);
    };
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for i in 0..=ctx.runs {
        let cpu_before = children_cpu_ms()?;
        let start = Instant::now();
        for file in &files {
            let status = Command::new("kopium")
                .arg("-f")
                .arg(file)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .context("kopium")?;
            if !status.success() {
                bail!("kopium -f {} failed", file.display());
            }
        }
        let ms = start.elapsed().as_secs_f64() * 1e3;
        let used = children_cpu_ms()? - cpu_before;
        if i > 0 {
            wall.push(ms);
            cpu.push(used);
        }
    }
    notes.push(format!(
        "Baseline: {version}, one `kopium -f <file>` process per CRD in sequence (a shell \
         loop), output discarded; it writes the Rust types only (no component.yaml, no \
         command-line structs). CPU time: user + system of the finished children \
         (`getrusage(RUSAGE_CHILDREN)` before and after)."
    ));
    Ok(Some(Kopium { wall, cpu }))
}

/// User + system CPU time of all waited-for children so far, ms.
fn children_cpu_ms() -> anyhow::Result<f64> {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .context("getrusage")?;
    let ms = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 * 1e3 + t.tv_usec() as f64 / 1e3;
    Ok(ms(usage.user_time()) + ms(usage.system_time()))
}

/// Times `cargo check -p generated` after bumping the modification time of the TrainingJob
/// module (content untouched), after one unmeasured check so dependencies are checked.
/// A run that waited for another cargo's lock is discarded and repeated.
fn cargo_check(ctx: &Ctx, notes: &mut Vec<String>) -> anyhow::Result<Vec<f64>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let module = ctx.root.join("generated/src/training_job.rs");
    // Put back afterwards: a newer modification time would make every other build of
    // `generated` stale (CI's static launcher, built before the bench, would be built
    // again by `demo --pipeline`).
    let _restore = RestoreModified::of(&module)?;
    let mut millis = Vec::new();
    let mut discarded = 0;
    let mut warmed_up = false;
    while millis.len() < ctx.runs {
        if warmed_up {
            touch(&module)?;
        }
        let t =
            timed(
                Command::new(&cargo)
                    .current_dir(&ctx.root)
                    .args(["check", "-p", "generated"]),
            )?;
        if t.code != Some(0) {
            bail!("cargo check -p generated failed:\n{}", rss::tail(&t.stderr));
        }
        if !warmed_up {
            warmed_up = true;
            continue;
        }
        if t.stderr.contains("Blocking waiting for file lock") {
            discarded += 1;
            if discarded > 3 * ctx.runs {
                bail!("cargo check kept waiting for another cargo's lock");
            }
            continue;
        }
        if !t.stderr.contains("Checking generated") {
            bail!(
                "cargo check did not re-check `generated` after the touch:\n{}",
                t.stderr
            );
        }
        millis.push(t.ms);
    }
    notes.push(format!(
        "`cargo check -p generated`: {} runs after one unmeasured check (dependencies already \
         checked), each after setting training_job.rs's modification time to now{}.",
        ctx.runs,
        if discarded > 0 {
            format!(
                "; {discarded} run(s) that waited for another cargo's lock were discarded and \
                 repeated"
            )
        } else {
            String::new()
        }
    ));
    Ok(millis)
}

fn touch(path: &Path) -> anyhow::Result<()> {
    set_modified(path, SystemTime::now()).with_context(|| format!("touching {}", path.display()))
}

fn set_modified(path: &Path, time: SystemTime) -> std::io::Result<()> {
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(time))
}

/// A file's modification time, set back when this is dropped.
struct RestoreModified {
    path: std::path::PathBuf,
    modified: SystemTime,
}

impl RestoreModified {
    fn of(path: &Path) -> anyhow::Result<RestoreModified> {
        let modified = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .with_context(|| path.display().to_string())?;
        Ok(RestoreModified {
            path: path.to_path_buf(),
            modified,
        })
    }
}

impl Drop for RestoreModified {
    fn drop(&mut self) {
        if let Err(e) = set_modified(&self.path, self.modified) {
            eprintln!(
                "could not restore the modification time of {}: {e}",
                self.path.display()
            );
        }
    }
}
