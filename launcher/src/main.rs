//! `ack-kfp-launcher`: the command that generated component.yaml files run.
//!
//! Today it reads and checks a component's inputs and, with `--dry-run`, prints the custom
//! resource they describe. Creating the resource and following it to the end is the
//! launcher issue's work.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use generated::training_job::{TrainingJob, TrainingJobInputs, TrainingJobOutputPaths};

mod names;

/// The annotation the ACK runtime reads a resource's AWS region from.
const REGION_ANNOTATION: &str = "services.k8s.aws/region";

/// Exit code for inputs that do not describe a valid resource.
const EXIT_INVALID_INPUT: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "ack-kfp-launcher",
    version,
    about = "Runs an ACK resource as a KFP component step"
)]
struct Cli {
    #[command(subcommand)]
    component: Component,
}

#[derive(Debug, Subcommand)]
enum Component {
    /// A SageMaker TrainingJob.
    TrainingJob {
        #[command(flatten)]
        inputs: TrainingJobInputs,
        #[command(flatten)]
        outputs: TrainingJobOutputPaths,
        /// Print the custom resource as YAML and exit without contacting a cluster.
        #[arg(long)]
        dry_run: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.component {
        Component::TrainingJob {
            inputs,
            outputs: _,
            dry_run,
        } => {
            let read = match inputs.read(names::generate("training-job")) {
                Ok(read) => read,
                Err(errors) => {
                    eprintln!("{errors}");
                    return ExitCode::from(EXIT_INVALID_INPUT);
                }
            };
            let name = read.spec.training_job_name.to_lowercase();
            let mut resource = TrainingJob::new(&name, read.spec);
            resource.metadata.annotations = Some(
                [(REGION_ANNOTATION.to_owned(), read.region)]
                    .into_iter()
                    .collect(),
            );
            if !dry_run {
                eprintln!(
                    "creating the resource on a cluster is not built yet; run with --dry-run"
                );
                return ExitCode::FAILURE;
            }
            match serde_saphyr::to_string(&resource) {
                Ok(yaml) => {
                    print!("{yaml}");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("cannot print the resource: {error}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
