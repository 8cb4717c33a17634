//! `ack-kfp-launcher`: the command that generated component.yaml files run.
//!
//! `ack-kfp-launcher <kind> <inputs> <output paths>` (`training-job`,
//! `hyper-parameter-tuning-job`, `processing-job`, `transform-job`) reads and checks the
//! inputs (exit 2, nothing sent, if any is wrong), creates the resource through the
//! Kubernetes API, follows it with a watch until SageMaker and the ACK controller say it is
//! done, and writes every output file, whatever the outcome. Everything here is the same
//! for every kind; what a kind's status means is its [`kinds::Kind`] implementation. Exit
//! codes: see [`exit`].

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use generated::hyper_parameter_tuning_job::HyperParameterTuningJob;
use generated::processing_job::ProcessingJob;
use generated::training_job::TrainingJob;
use generated::transform_job::TransformJob;
use kube::Api;
use kube::api::{DeleteParams, PostParams, Preconditions};

mod ack;
mod api;
mod exit;
mod follow;
mod kinds;
mod log;
mod names;
mod resource;
mod training_job;

use api::CallError;
use exit::{Failure, Signal};
use follow::{LastSeen, Limits};
use kinds::Kind;
use log::log;

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

/// One subcommand per kind, named after it (`processing-job`).
#[derive(Debug, Subcommand)]
#[allow(
    clippy::enum_variant_names,
    reason = "the variants are the kinds' names, which all end in Job"
)]
enum Component {
    /// A SageMaker TrainingJob.
    TrainingJob(Box<Step<TrainingJob>>),
    /// A SageMaker HyperParameterTuningJob.
    HyperParameterTuningJob(Box<Step<HyperParameterTuningJob>>),
    /// A SageMaker ProcessingJob.
    ProcessingJob(Box<Step<ProcessingJob>>),
    /// A SageMaker TransformJob.
    TransformJob(Box<Step<TransformJob>>),
}

/// One subcommand: the kind's generated input and output flags and the launcher's own.
#[derive(Debug, Args)]
struct Step<K: Kind>
where
    K::Inputs: Args,
    K::OutputPaths: Args,
{
    #[command(flatten)]
    inputs: K::Inputs,
    #[command(flatten)]
    outputs: K::OutputPaths,
    #[command(flatten)]
    run: RunOptions,
}

#[derive(Debug, Args)]
struct RunOptions {
    /// Print the custom resource as YAML and exit without contacting a cluster.
    #[arg(long)]
    dry_run: bool,
    /// The namespace to create the resource in [default: the pod's service account
    /// namespace, else the kubeconfig context's, else `default`].
    #[arg(long, value_name = "NAME")]
    namespace: Option<String>,
    /// Fail when the ACK controller has written no status this long after the create.
    #[arg(long, value_name = "SECONDS", default_value = "600", value_parser = seconds)]
    status_timeout: Duration,
    /// Fail when an ACK.Recoverable error has lasted this long.
    #[arg(long, value_name = "SECONDS", default_value = "1800", value_parser = seconds)]
    recoverable_timeout: Duration,
    /// Refuse a resource larger than this, as JSON (etcd's default limit per object).
    #[arg(long, value_name = "BYTES", default_value_t = resource::MAX_OBJECT_BYTES)]
    max_object_bytes: usize,
    /// Fail when the Kubernetes API has been unreachable or failing this long.
    #[arg(long, value_name = "SECONDS", default_value = "300", value_parser = seconds)]
    api_timeout: Duration,
}

fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("expected a number of seconds, got `{text}`"))
}

fn main() -> ExitCode {
    log::init();
    match Cli::parse().component {
        Component::TrainingJob(step) => launch(*step),
        Component::HyperParameterTuningJob(step) => launch(*step),
        Component::ProcessingJob(step) => launch(*step),
        Component::TransformJob(step) => launch(*step),
    }
}

fn launch<K: Kind>(step: Step<K>) -> ExitCode
where
    K::Inputs: Args,
    K::OutputPaths: Args,
{
    let Step {
        inputs,
        outputs,
        run,
    } = step;
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
    let last_seen: LastSeen<K> = Arc::new(Mutex::new(None));
    let result = runtime.block_on(run_step::<K>(&inputs, &run, &last_seen));
    if run.dry_run && result.is_ok() {
        return ExitCode::SUCCESS;
    }
    let status = last_seen
        .lock()
        .ok()
        .and_then(|job| job.as_ref()?.status().cloned());
    let written = component_runtime::write_outputs(&K::outputs(&outputs, status.as_ref()));
    match (result, written) {
        (Ok(()), Ok(())) => {
            log!("succeeded");
            ExitCode::SUCCESS
        }
        (Ok(()), Err(error)) => {
            log!("the job succeeded, but {error}");
            ExitCode::FAILURE
        }
        (Err(failure), written) => {
            if let Err(error) = written {
                log!("{error}");
            }
            match &failure {
                // One line per problem, as the reader produced them.
                Failure::InvalidInput(problems) => eprintln!("{problems}"),
                other => log!("failed: {other}"),
            }
            failure.exit_code()
        }
    }
}

async fn run_step<K: Kind>(
    inputs: &K::Inputs,
    run: &RunOptions,
    last_seen: &LastSeen<K>,
) -> Result<(), Failure> {
    // Checks the generated reader cannot know about, reported with its problems.
    let mut problems = Vec::new();
    let (region, given_name) = K::given(inputs);
    if region.is_some_and(|r| !r.is_empty() && r.trim().is_empty()) {
        problems.push("input `region`: expected an AWS region, got only white space".to_owned());
    }
    if let Some(name) = given_name.filter(|n| !n.is_empty())
        && let Err(problem) = resource::job_name(name, K::NAME_MAX)
    {
        problems.push(format!("input `{}`: {problem}", K::NAME_INPUT));
    }
    let read = K::read(inputs, names::generate(K::NAME_PREFIX));
    if let Err(errors) = &read {
        problems.splice(0..0, errors.0.iter().map(ToString::to_string));
    }
    let read = match read {
        Ok(read) if problems.is_empty() => read,
        _ => return Err(Failure::InvalidInput(problems.join("\n"))),
    };
    let job_name = K::job_name(&read.spec).to_owned();
    let name = resource::job_name(&job_name, K::NAME_MAX).map_err(|problem| {
        Failure::InvalidInput(format!("input `{}`: {problem}", K::NAME_INPUT))
    })?;
    let hash = resource::spec_hash(&read.region, &read.spec);
    let region = read.region;
    let mut job = K::new(&name, read.spec);
    job.meta_mut().annotations = Some(resource::annotations(&region, &hash));
    let size = serde_json::to_vec(&job).map_or(0, |json| json.len());
    if size > run.max_object_bytes {
        return Err(Failure::InvalidInput(format!(
            "the resource is too large: {size} bytes of JSON, more than the {} bytes a \
             Kubernetes object may hold",
            run.max_object_bytes
        )));
    }

    if run.dry_run {
        let yaml = serde_saphyr::to_string(&job)
            .map_err(|e| Failure::InvalidInput(format!("cannot print the resource: {e}")))?;
        print!("{yaml}");
        return Ok(());
    }

    let client = client().await?;
    let namespace = run
        .namespace
        .clone()
        .unwrap_or_else(|| client.default_namespace().to_owned());
    let api: Api<K> = Api::namespaced(client, &namespace);
    let limits = Limits {
        status_timeout: run.status_timeout,
        recoverable_timeout: run.recoverable_timeout,
        api_timeout: run.api_timeout,
    };
    log!(
        "creating {} {name} in namespace {namespace} (SageMaker job {job_name}, region {region})",
        K::KIND
    );
    let work = async {
        let created = create_or_attach(&api, &job, &hash, limits).await?;
        follow::follow(&api, created, &job_name, limits, last_seen).await
    };
    tokio::select! {
        result = work => result,
        signal = signal() => {
            let signal = signal?;
            log!("{signal}: deleting {name} so that the controller stops the SageMaker job");
            let (latest, refused) = delete_own(&api, &name, &hash).await;
            if let Some(latest) = latest
                && let Ok(mut slot) = last_seen.lock()
            {
                *slot = Some(latest);
            }
            // RBAC refusing the delete leaves the SageMaker job running: that is exit 4,
            // not a clean cancellation.
            Err(refused.unwrap_or(Failure::Cancelled(signal)))
        }
    }
}

async fn client() -> Result<kube::Client, Failure> {
    let mut config = kube::Config::infer()
        .await
        .map_err(|e| Failure::Unreachable(format!("no Kubernetes configuration: {e}")))?;
    // Retries are decided (and logged) in `api`, not below it.
    config.default_retry = false;
    kube::Client::try_from(config)
        .map_err(|e| Failure::Unreachable(format!("cannot build a Kubernetes client: {e}")))
}

/// Creates the resource, or re-attaches to the one an earlier attempt of this step
/// created with the same inputs. Never modifies an existing resource.
async fn create_or_attach<K: Kind>(
    api: &Api<K>,
    job: &K,
    hash: &str,
    limits: Limits,
) -> Result<K, Failure> {
    let name = job.meta().name.clone().unwrap_or_default();
    let params = PostParams::default();
    let created = api::call("create the resource", limits.api_timeout, || {
        api.create(&params, job)
    })
    .await;
    let status = match created {
        Ok(created) => {
            log!("created {name}");
            return Ok(created);
        }
        Err(CallError::Failed(failure)) => return Err(failure),
        Err(CallError::Api(status)) => status,
    };
    match status.code {
        409 => {
            let existing = match api::call("read the existing resource", limits.api_timeout, || {
                api.get(&name)
            })
            .await
            {
                Ok(existing) => existing,
                Err(CallError::Failed(failure)) => return Err(failure),
                Err(CallError::Api(status)) => {
                    return Err(Failure::Conflict(format!(
                        "{name} exists but cannot be read: {}",
                        status.message
                    )));
                }
            };
            if own_hash(&existing) == Some(hash) {
                log!(
                    "{name} already exists with the same inputs: re-attaching to it (an earlier attempt of this step created it)"
                );
                Ok(existing)
            } else {
                Err(Failure::Conflict(format!(
                    "a {} named {name} already exists in this namespace and was not created by this step with these inputs; \
                     choose another {} (or leave it empty for a unique one), or delete the old resource",
                    K::KIND,
                    K::NAME_INPUT
                )))
            }
        }
        404 => Err(Failure::Unreachable(format!(
            "the cluster does not serve {}s ({}): is the ACK SageMaker controller's CRD installed?",
            K::KIND,
            status.message
        ))),
        _ => Err(Failure::InvalidInput(format!(
            "the Kubernetes API refused the resource ({} {}): {}",
            status.code, status.reason, status.message
        ))),
    }
}

fn own_hash<K: Kind>(job: &K) -> Option<&str> {
    job.meta()
        .annotations
        .as_ref()?
        .get(resource::SPEC_HASH_ANNOTATION)
        .map(String::as_str)
}

/// Deletes the resource if it is the one this step created (same inputs, and the uid
/// read just before, so a resource of another step is never touched). Best effort: a
/// cancelled step has a few seconds before it is killed. Returns the resource as last read
/// and, if the API refused the credentials (401/403), that failure.
async fn delete_own<K: Kind>(api: &Api<K>, name: &str, hash: &str) -> (Option<K>, Option<Failure>) {
    let grace = Duration::from_secs(10);
    // A create cut short by the signal may still land on the server a moment later: look
    // a few times before concluding there is nothing to delete.
    let mut looks = 0;
    let existing = loop {
        looks += 1;
        match api::call("read the resource", grace, || api.get_opt(name)).await {
            Ok(Some(existing)) if own_hash(&existing) == Some(hash) => break existing,
            Ok(Some(_)) => {
                log!("{name} is not this step's; leaving it");
                return (None, None);
            }
            Ok(None) if looks < 4 => tokio::time::sleep(Duration::from_millis(500)).await,
            Ok(None) => {
                log!("nothing of this step's to delete");
                return (None, None);
            }
            Err(CallError::Failed(refused @ Failure::Forbidden(_))) => {
                log!("could not read {name} to delete it; the SageMaker job keeps running");
                return (None, Some(refused));
            }
            Err(error) => {
                log!("could not read {name} to delete it: {error:?}");
                return (None, None);
            }
        }
    };
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: existing.meta().uid.clone(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match api::call("delete the resource", grace, || api.delete(name, &params)).await {
        Ok(_) => log!("deleted {name}; the controller stops the SageMaker job"),
        Err(CallError::Api(status)) if status.code == 404 => log!("{name} is already gone"),
        Err(CallError::Failed(refused @ Failure::Forbidden(_))) => {
            log!("could not delete {name}; the SageMaker job keeps running");
            return (Some(existing), Some(refused));
        }
        Err(error) => log!("could not delete {name}: {error:?}"),
    }
    (Some(existing), None)
}

/// Resolves on SIGTERM (a cancelled pipeline run) or SIGINT.
async fn signal() -> Result<Signal, Failure> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())
        .map_err(|e| Failure::Unreachable(format!("cannot listen for SIGTERM: {e}")))?;
    let mut interrupt = signal(SignalKind::interrupt())
        .map_err(|e| Failure::Unreachable(format!("cannot listen for SIGINT: {e}")))?;
    tokio::select! {
        _ = terminate.recv() => Ok(Signal::Terminate),
        _ = interrupt.recv() => Ok(Signal::Interrupt),
    }
}
