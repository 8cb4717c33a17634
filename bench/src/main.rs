//! `cargo xtask bench [--quick]`: measures the launcher against a Python baseline of the
//! earlier component, and the generator, on this machine in one run; prints a table and
//! writes `BENCHMARKS.md` (quick mode: `target/BENCHMARKS.quick.md`).
//!
//! Sections, one module each: [`startup`] (first request, peak RSS), [`finish`] (finish
//! detection, API requests while waiting), both against a real kube-apiserver over HTTPS
//! ([`workload::Bed`]), [`waiting`] (what a user waits for on the real ACK controller with
//! our SageMaker API, the controller's requeue included), [`generator`] (regenerate, all
//! 26 CRDs, `cargo check`), [`sizes`]. The binaries measured are the siblings of this one in the
//! target directory, so release builds are measured when this runs as a release build
//! (the xtask builds them first). A missed target is reported, never an error: the exit
//! code is non-zero only when something could not be measured.
//!
//! The `measure-rss` binary of this crate is the fresh wrapper process [`rss`] measures
//! each child's peak RSS in.

mod ctx;
mod finish;
mod generator;
mod python;
mod report;
mod rss;
mod sizes;
mod startup;
mod stats;
mod waiting;
mod workload;

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, ExitCode};

use anyhow::Context;

use ctx::Ctx;
use report::Report;
use workload::Programs;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let result = match args.first().and_then(|a| a.to_str()) {
        Some("--quick") if args.len() == 1 => run(true),
        None => run(false),
        _ => Err(anyhow::anyhow!("usage: bench [--quick]")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(quick: bool) -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the bench crate is one level below the repository root")?
        .to_path_buf();
    let bench_exe = std::env::current_exe().context("locating the bench binary")?;
    let bin_dir = bench_exe
        .parent()
        .context("the bench binary's directory")?
        .to_path_buf();
    let target_dir = bin_dir.parent().unwrap_or(&bin_dir).to_path_buf();
    let launcher = bin_dir.join("ack-kfp-launcher");
    let rss_wrapper = bin_dir.join("measure-rss");
    for binary in [&launcher, &bin_dir.join("xtask"), &rss_wrapper] {
        anyhow::ensure!(
            binary.exists(),
            "{} is not built; run `cargo xtask bench{}`, which builds it",
            binary.display(),
            if quick { " --quick" } else { "" }
        );
    }
    let venv = python::ensure(&target_dir, &root.join("bench/python/requirements.txt"))?;
    let ctx = Ctx {
        programs: Programs {
            launcher,
            python: venv.python.clone(),
            baseline_script: root.join("bench/python/baseline.py"),
        },
        root,
        bin_dir,
        rss_wrapper,
        quick,
        runs: if quick { 2 } else { 10 },
        scratch: tempfile::tempdir().context("creating a scratch directory")?,
    };
    let command = format!("cargo xtask bench{}", if quick { " --quick" } else { "" });
    let mut report = Report {
        quick,
        // The wall clock in whole seconds, as `2026-12-05T00:50:00Z`.
        date: format!("{:.0}", k8s_openapi::jiff::Timestamp::now()),
        machine: machine(&ctx, &venv.version),
        command,
        ..Report::default()
    };
    eprintln!(
        "{} runs of each measurement after one warm-up, {} binaries in {}",
        ctx.runs,
        if quick { "debug" } else { "release" },
        ctx.bin_dir.display()
    );
    // One real control plane for the client sections.
    let bed = workload::Bed::start(ctx.scratch.path())?;
    startup::run(&ctx, &bed, &mut report)?;
    finish::run(&ctx, &bed, &mut report)?;
    drop(bed);
    waiting::run(&ctx, &mut report)?;
    generator::run(&ctx, &mut report)?;
    sizes::run(&ctx, &mut report)?;
    print!("{}", report.text());
    let path = if quick {
        target_dir.join("BENCHMARKS.quick.md")
    } else {
        ctx.root.join("BENCHMARKS.md")
    };
    std::fs::write(&path, report.markdown()).with_context(|| path.display().to_string())?;
    println!("\nwrote {}", path.display());
    Ok(())
}

/// The machine and toolchain lines of the report.
fn machine(ctx: &Ctx, python: &str) -> Vec<(String, String)> {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let field = |text: &str, key: &str| {
        text.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_else(|| "unknown".into())
    };
    let memory = field(&read("/proc/meminfo"), "MemTotal")
        .trim_end_matches(" kB")
        .parse::<f64>()
        .map_or_else(
            |_| "unknown".into(),
            |kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0),
        );
    let stdout = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .current_dir(&ctx.root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_else(|| "unknown".into())
    };
    let dirty = !stdout("git", &["status", "--porcelain"]).is_empty();
    vec![
        (
            "CPUs (nproc)".into(),
            std::thread::available_parallelism()
                .map_or_else(|_| "unknown".into(), |n| n.to_string()),
        ),
        ("CPU model".into(), field(&cpuinfo, "model name")),
        ("memory".into(), memory),
        (
            "kernel".into(),
            read("/proc/sys/kernel/osrelease").trim().to_owned(),
        ),
        ("rustc".into(), stdout("rustc", &["--version"])),
        ("Python baseline".into(), python.to_owned()),
        (
            "commit".into(),
            format!(
                "{}{}",
                stdout("git", &["rev-parse", "--short", "HEAD"]),
                if dirty {
                    " with uncommitted changes"
                } else {
                    ""
                }
            ),
        ),
        (
            "builds".into(),
            if ctx.quick {
                "debug (quick mode)".into()
            } else {
                "release profile (opt-level z, LTO, 1 codegen unit, panic abort, strip)".into()
            },
        ),
    ]
}
