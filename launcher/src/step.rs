//! One step, the same for every kind: read the inputs, plan the resource, create it or
//! re-attach (or update), follow it to its end, and write every output file whatever the
//! outcome; a signal at any point cleans up instead ([`crate::clean_up`]).

use std::process::ExitCode;

use kube::Api;

use crate::clean_up::clean_up;
use crate::cli::{RunOptions, Step};
use crate::exit::{Failure, InvalidInput};
use crate::follow::{Limits, Target};
use crate::kinds::Kind;
use crate::log::log;
use crate::plan::{RunIds, plan};
use crate::progress::{Own, Progress};
use crate::signals::Signals;
use crate::{api, attach, follow, inputs, naming};

/// Runs the step and writes its outputs; the exit code says how it ended ([`crate::exit`]).
pub fn run<K: Kind>(
    runtime: &tokio::runtime::Runtime,
    signals: Signals,
    step: Step<K>,
) -> ExitCode {
    let Step {
        inputs,
        outputs,
        run,
    } = step;
    let progress = Progress::<K>::default();
    let result = runtime.block_on(async {
        let mut signals = signals;
        tokio::select! {
            result = work::<K>(&inputs, &run, &progress) => result,
            signal = signals.next() => {
                log!("{signal}: cleaning up (a second signal ends the launcher at once)");
                let refused = tokio::select! {
                    refused = clean_up(&progress) => refused,
                    second = signals.next() => {
                        log!("{second} during clean-up: ending now");
                        None
                    }
                };
                // RBAC refusing the clean-up leaves the SageMaker job running: that is
                // exit 4, not a clean cancellation.
                Err(refused.unwrap_or(Failure::Cancelled(signal)))
            }
        }
    });
    if run.dry_run && result.is_ok() {
        return ExitCode::SUCCESS;
    }
    let last_seen = progress.last_seen();
    let written =
        component_runtime::write_outputs(&crate::kinds::outputs::<K>(&outputs, last_seen.as_ref()));
    let failure = match (result, written) {
        (Ok(()), Ok(())) => {
            log!("succeeded");
            return ExitCode::SUCCESS;
        }
        // Not "the job failed": the job is fine, the step could not hand its results on.
        (Ok(()), Err(error)) => Failure::OutputsNotWritten(error),
        (Err(failure), written) => {
            if let Err(error) = written {
                log!("{error}");
            }
            failure
        }
    };
    match &failure {
        // One line per problem, as the reader produced them.
        Failure::InvalidInput(problems) => eprintln!("{problems}"),
        other => log!("failed: {other}"),
    }
    failure.exit_code()
}

async fn work<K: Kind>(
    inputs: &K::Inputs,
    run: &RunOptions,
    progress: &Progress<K>,
) -> Result<(), Failure> {
    let read = inputs::read::<K>(inputs)?;
    let ids = RunIds {
        run: run.kfp_run_id.as_deref(),
        step: run.kfp_step_id.as_deref(),
    };
    let planned = plan::<K>(read, ids, run.max_object_bytes, |prefix| {
        if !run.dry_run {
            log!(
                "no KFP run identity was given (--kfp-run-id): a unique name is drawn, so a \
                 retried attempt of this step cannot find this attempt's job"
            );
        }
        naming::generate(prefix)
    })?;
    if run.dry_run {
        let yaml = serde_saphyr::to_string(&planned.resource)
            .map_err(|e| Failure::InvalidInput(InvalidInput::Unprintable(e.to_string())))?;
        print!("{yaml}");
        return Ok(());
    }

    let client = api::client().await?;
    let namespace = run
        .namespace
        .clone()
        .unwrap_or_else(|| client.default_namespace().to_owned());
    let api: Api<K> = Api::namespaced(client, &namespace);
    let limits = Limits {
        status_timeout: run.status_timeout,
        recoverable_timeout: run.recoverable_timeout,
        api_timeout: run.api_timeout,
        time_limit: run.time_limit.or(K::TIME_LIMIT),
    };
    let (name, job_name, region) = (&planned.name, &planned.job_name, &planned.region);
    match &planned.fingerprint.identity {
        Some(identity) => log!(
            "creating {} {name} in namespace {namespace} (SageMaker job {job_name}, region {region}, KFP run/step {identity})",
            K::KIND
        ),
        None => log!(
            "creating {} {name} in namespace {namespace} (SageMaker job {job_name}, region {region})",
            K::KIND
        ),
    }
    progress.creating(Own {
        api: api.clone(),
        name: name.clone(),
        fingerprint: planned.fingerprint.clone(),
        uid: None,
    });
    let (created, goal) = attach::create_or_attach(&api, &planned, limits, progress).await?;
    let uid = created.meta().uid.clone();
    progress.attached(uid.clone());
    let target = Target {
        api: &api,
        name,
        job_name,
        uid,
    };
    follow::follow(target, created, goal, limits, progress).await
}
