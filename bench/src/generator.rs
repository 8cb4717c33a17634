//! Section 3: the generator as whole processes (`xtask regenerate --check` for the pinned
//! TrainingJob CRD, `xtask generate-all` for the 26 CRDs of v1.9.1) and `cargo check` of
//! the generated crate after a change to its TrainingJob module.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime};

use anyhow::{Context, bail};

use crate::Ctx;
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
    eprintln!("3/4 generator");
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
    let mut all_inside = Vec::new();
    let mut summary = String::new();
    for i in 0..=ctx.runs {
        let t = timed(Command::new(&xtask).arg("generate-all").arg(&dir))?;
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
            None,
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
    report.sections.push(Section {
        title: "3. Generator".into(),
        ours: "wall time".into(),
        baseline: String::new(),
        rows,
        notes,
    });
    Ok(())
}

/// Times `cargo check -p generated` after bumping the modification time of the TrainingJob
/// module (content untouched), after one unmeasured check so dependencies are checked.
/// A run that waited for another cargo's lock is discarded and repeated.
fn cargo_check(ctx: &Ctx, notes: &mut Vec<String>) -> anyhow::Result<Vec<f64>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let module = ctx.root.join("generated/src/training_job.rs");
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
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(SystemTime::now()))
        .with_context(|| format!("touching {}", path.display()))
}
