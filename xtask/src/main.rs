//! `cargo xtask <task>`: see `cargo xtask --help`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::regenerate::{self, Change};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "Development tasks of the ACK KFP component generator"
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Generate `generated/` from the CRDs pinned in `crds/lock.toml`.
    Regenerate {
        /// Write nothing; fail with a diff if `generated/` is not what the CRDs give.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let root = project_root();
    match cli.task {
        Task::Regenerate { check } => {
            let plan = regenerate::plan(&root)?;
            for line in &plan.resources {
                println!("{line}");
            }
            if check {
                let changes = regenerate::changes(&root, &plan)?;
                if changes.is_empty() {
                    println!("generated/ is up to date");
                    return Ok(ExitCode::SUCCESS);
                }
                print!("{}", regenerate::stale_diff(&root, &plan, &changes));
                eprintln!(
                    "error: {} generated file(s) are stale; run `cargo xtask regenerate`",
                    changes.len()
                );
                return Ok(ExitCode::FAILURE);
            }
            let changes = regenerate::apply(&root, &plan)?;
            if changes.is_empty() {
                println!("generated/ is up to date");
            }
            for (path, change) in changes {
                let what = match change {
                    Change::Added => "added",
                    Change::Modified => "changed",
                    Change::Removed => "removed",
                };
                println!("{what:>8} {path}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The repository root: xtask lives one level below it.
fn project_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}
