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
    /// Generate `generated/` from the CRDs pinned in `crds/lock.toml`; with
    /// `--controller-version`, first pin that release's CRDs and report the drift.
    Regenerate {
        /// Write nothing; fail with a diff if `generated/` is not what the CRDs give.
        #[arg(long, conflicts_with = "controller_version")]
        check: bool,
        /// Fetch and pin the CRDs of this controller release (a tag such as v1.9.1).
        #[arg(long, value_name = "TAG")]
        controller_version: Option<String>,
        /// Base URL of the release files, instead of $ACK_RELEASES_URL or
        /// https://raw.githubusercontent.com (files are at
        /// <URL>/aws-controllers-k8s/<controller>/<tag>/helm/crds/<file>).
        #[arg(long, value_name = "URL", requires = "controller_version")]
        mirror: Option<String>,
        /// Also write the drift report as Markdown, for a pull request description.
        #[arg(long, value_name = "FILE", requires = "controller_version")]
        report: Option<PathBuf>,
        /// Exit with code 3 when the upgrade breaks pipelines that use the components
        /// (the files are still written, for review).
        #[arg(long, requires = "controller_version")]
        fail_on_breaking: bool,
    },
}

/// Exit code of an upgrade that breaks pipelines, under `--fail-on-breaking`.
const EXIT_BREAKING: u8 = 3;

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
        Task::Regenerate {
            controller_version: Some(release),
            mirror,
            report,
            fail_on_breaking,
            ..
        } => {
            let base = mirror
                .or_else(|| std::env::var(xtask::fetch::BASE_URL_ENV).ok())
                .unwrap_or_else(|| xtask::fetch::DEFAULT_BASE_URL.to_owned());
            let upgrade = xtask::upgrade::upgrade(&root, &release, &base)?;
            let mut markdown = String::new();
            for drift in &upgrade.drifts {
                println!("{}", codegen::drift::render_text(drift));
                markdown.push_str(&codegen::drift::render_markdown(drift));
            }
            for path in &upgrade.crds_changed {
                println!("{:>8} {path}", "pinned");
            }
            print_changes(&upgrade.generated_changed);
            if let Some(report) = report {
                std::fs::write(&report, markdown)?;
                println!("wrote the drift report to {}", report.display());
            }
            if fail_on_breaking && upgrade.drifts.iter().any(|d| d.is_breaking()) {
                eprintln!("error: the upgrade to {release} breaks pipelines (see BREAKING above)");
                return Ok(ExitCode::from(EXIT_BREAKING));
            }
            Ok(ExitCode::SUCCESS)
        }
        Task::Regenerate { check, .. } => {
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
            print_changes(&regenerate::apply(&root, &plan)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_changes(changes: &[(String, Change)]) {
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
}

/// The repository root: xtask lives one level below it. Tests point it at a scratch copy
/// with `XTASK_PROJECT_ROOT`.
fn project_root() -> PathBuf {
    if let Some(root) = std::env::var_os("XTASK_PROJECT_ROOT") {
        return PathBuf::from(root);
    }
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}
