//! `ack-kfp-launcher`: the command that generated component.yaml files run.
//!
//! `ack-kfp-launcher <kind> <inputs> <output paths>` (`training-job`, `endpoint`, ...: one
//! subcommand per kind with a component, [`cli`]) reads and checks the inputs (exit 2,
//! nothing sent, if any is wrong), creates the resource through the Kubernetes API (or,
//! for a kind the controller updates, updates the one of that name), follows it with a
//! watch until SageMaker and the ACK controller say it is done, and writes every output
//! file, whatever the outcome ([`step`]). Everything is the same for every kind; what a
//! kind's status means is its [`kinds::Kind`] implementation. Exit codes: see [`exit`].

mod ack;
mod api;
mod attach;
mod clean_up;
mod cli;
mod decode;
mod exit;
mod follow;
mod identity;
mod inputs;
mod kinds;
mod log;
mod naming;
mod plan;
mod progress;
mod region;
mod signals;
mod step;
mod update;

use std::process::ExitCode;

use clap::{ArgMatches, FromArgMatches};

use kinds::{Kind, Visit};
use signals::Signals;

fn main() -> ExitCode {
    log::init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    // The handlers first: from here on a signal at any instant writes the outputs and ends
    // with 143/130, instead of killing the process before anything is written.
    let signals = match runtime.block_on(async { Signals::install() }) {
        Ok(signals) => signals,
        Err(error) => {
            eprintln!("cannot listen for signals: {error}");
            return ExitCode::FAILURE;
        }
    };
    let matches = cli::command().get_matches();
    let Some((subcommand, matches)) = matches.subcommand() else {
        // clap requires a subcommand.
        return ExitCode::FAILURE;
    };
    let mut launch = Launch {
        subcommand,
        matches,
        runtime: &runtime,
        signals: Some(signals),
        exit: None,
    };
    kinds::for_each(&mut launch);
    launch.exit.unwrap_or(ExitCode::FAILURE)
}

/// Runs the step of the kind whose subcommand was given.
struct Launch<'a> {
    subcommand: &'a str,
    matches: &'a ArgMatches,
    runtime: &'a tokio::runtime::Runtime,
    signals: Option<Signals>,
    exit: Option<ExitCode>,
}

impl Visit for Launch<'_> {
    fn kind<K: Kind>(&mut self) {
        if self.subcommand != K::SUBCOMMAND {
            return;
        }
        let Some(signals) = self.signals.take() else {
            return;
        };
        let step = cli::Step::<K>::from_arg_matches(self.matches).unwrap_or_else(|e| e.exit());
        self.exit = Some(step::run(self.runtime, signals, step));
    }
}
