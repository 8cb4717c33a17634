//! `ack-kfp-launcher`: the command that generated component.yaml files run.
//!
//! `ack-kfp-launcher <kind> <inputs> <output paths>` (`training-job`, `endpoint`, ...: one
//! subcommand per kind with a component) reads and checks the inputs (exit 2, nothing
//! sent, if any is wrong), creates the resource through the Kubernetes API (or, for a kind
//! the controller updates, updates the one of that name: [`update`]), follows it with a
//! watch until SageMaker and the ACK controller say it is done, and writes every output
//! file, whatever the outcome. Everything here is the same for every kind; what a kind's
//! status means is its [`kinds::Kind`] implementation. Exit codes: see [`exit`].

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use generated::data_quality_job_definition::DataQualityJobDefinition;
use generated::endpoint::Endpoint;
use generated::endpoint_config::EndpointConfig;
use generated::hyper_parameter_tuning_job::HyperParameterTuningJob;
use generated::model::Model;
use generated::model_bias_job_definition::ModelBiasJobDefinition;
use generated::model_explainability_job_definition::ModelExplainabilityJobDefinition;
use generated::model_package_group::ModelPackageGroup;
use generated::model_quality_job_definition::ModelQualityJobDefinition;
use generated::monitoring_schedule::MonitoringSchedule;
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
mod region;
mod resource;
mod training_job;
mod update;

use api::CallError;
use exit::{Failure, Signal};
use follow::{Goal, Limits};
use kinds::{Class, Kind};
use log::log;
use resource::Identity;

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
enum Component {
    /// A SageMaker TrainingJob.
    TrainingJob(Box<Step<TrainingJob>>),
    /// A SageMaker HyperParameterTuningJob.
    HyperParameterTuningJob(Box<Step<HyperParameterTuningJob>>),
    /// A SageMaker ProcessingJob.
    ProcessingJob(Box<Step<ProcessingJob>>),
    /// A SageMaker TransformJob.
    TransformJob(Box<Step<TransformJob>>),
    /// A SageMaker Model.
    Model(Box<Step<Model>>),
    /// A SageMaker EndpointConfig.
    EndpointConfig(Box<Step<EndpointConfig>>),
    /// A SageMaker Endpoint (created, or updated when one of its name exists).
    Endpoint(Box<Step<Endpoint>>),
    /// A SageMaker MonitoringSchedule (created, or updated when one of its name exists).
    MonitoringSchedule(Box<Step<MonitoringSchedule>>),
    /// A SageMaker DataQualityJobDefinition.
    DataQualityJobDefinition(Box<Step<DataQualityJobDefinition>>),
    /// A SageMaker ModelBiasJobDefinition.
    ModelBiasJobDefinition(Box<Step<ModelBiasJobDefinition>>),
    /// A SageMaker ModelExplainabilityJobDefinition.
    ModelExplainabilityJobDefinition(Box<Step<ModelExplainabilityJobDefinition>>),
    /// A SageMaker ModelQualityJobDefinition.
    ModelQualityJobDefinition(Box<Step<ModelQualityJobDefinition>>),
    /// A SageMaker ModelPackageGroup (a model registry group).
    ModelPackageGroup(Box<Step<ModelPackageGroup>>),
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
    /// Fail when the resource is not done (or an update not finished) this long after
    /// the launcher began following it [default: the kind's: Endpoint 5400,
    /// MonitoringSchedule 1800, definitions and ModelPackageGroup 900, jobs none].
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    time_limit: Option<Duration>,
    /// The KFP run, as the backend substitutes it into component.yaml (`{{workflow.uid}}`).
    /// With `--kfp-step-id` it names the job when training_job_name is empty, and is recorded
    /// on the resource: every retry attempt of a step re-attaches, other runs never do.
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    kfp_run_id: Option<String>,
    /// The step within the run, the same for each retry attempt (`{{node.name}}`).
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    kfp_step_id: Option<String>,
}

fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("expected a number of seconds, got `{text}`"))
}

/// What a signal handler needs to clean up, whenever the signal comes.
struct Progress<K: Kind> {
    /// The last state of the resource seen, for the outputs.
    last_seen: Option<K>,
    /// Set just before the create is sent: what this attempt may have to delete.
    own: Option<Own<K>>,
}

impl<K: Kind> Default for Progress<K> {
    fn default() -> Self {
        Progress {
            last_seen: None,
            own: None,
        }
    }
}

#[derive(Clone)]
struct Own<K: Kind> {
    api: Api<K>,
    name: String,
    hash: String,
    identity: Option<String>,
    /// The uid created or attached to; `None` while the create's answer is not known.
    uid: Option<String>,
}

type Shared<K> = Arc<Mutex<Progress<K>>>;

fn lock<K: Kind>(shared: &Shared<K>) -> std::sync::MutexGuard<'_, Progress<K>> {
    shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Clean-up after a signal must end within Kubernetes' default 30 s grace period, with
/// room for writing the outputs.
const CLEAN_UP_BUDGET: Duration = Duration::from_secs(20);

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
    match Cli::parse().component {
        Component::TrainingJob(step) => launch(&runtime, signals, *step),
        Component::HyperParameterTuningJob(step) => launch(&runtime, signals, *step),
        Component::ProcessingJob(step) => launch(&runtime, signals, *step),
        Component::TransformJob(step) => launch(&runtime, signals, *step),
        Component::Model(step) => launch(&runtime, signals, *step),
        Component::EndpointConfig(step) => launch(&runtime, signals, *step),
        Component::Endpoint(step) => launch(&runtime, signals, *step),
        Component::MonitoringSchedule(step) => launch(&runtime, signals, *step),
        Component::DataQualityJobDefinition(step) => launch(&runtime, signals, *step),
        Component::ModelBiasJobDefinition(step) => launch(&runtime, signals, *step),
        Component::ModelExplainabilityJobDefinition(step) => launch(&runtime, signals, *step),
        Component::ModelQualityJobDefinition(step) => launch(&runtime, signals, *step),
        Component::ModelPackageGroup(step) => launch(&runtime, signals, *step),
    }
}

/// The step, the same for every kind.
fn launch<K: Kind>(runtime: &tokio::runtime::Runtime, signals: Signals, step: Step<K>) -> ExitCode
where
    K::Inputs: Args,
    K::OutputPaths: Args,
{
    let Step {
        inputs,
        outputs,
        run,
    } = step;
    let shared: Shared<K> = Arc::default();
    let result = runtime.block_on(async {
        let mut signals = signals;
        tokio::select! {
            result = run_step::<K>(&inputs, &run, &shared) => result,
            signal = signals.next() => {
                log!("{signal}: cleaning up (a second signal ends the launcher at once)");
                let refused = tokio::select! {
                    refused = clean_up(&shared) => refused,
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
    let last_seen = lock(&shared).last_seen.clone();
    let written =
        component_runtime::write_outputs(&kinds::outputs::<K>(&outputs, last_seen.as_ref()));
    let failure = match (result, written) {
        (Ok(()), Ok(())) => {
            log!("succeeded");
            return ExitCode::SUCCESS;
        }
        // Not "the job failed": the job is fine, the step could not hand its results on.
        (Ok(()), Err(error)) => Failure::OutputsNotWritten(format!(
            "the job succeeded, but the outputs could not be written: {error}"
        )),
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

async fn run_step<K: Kind>(
    inputs: &K::Inputs,
    run: &RunOptions,
    shared: &Shared<K>,
) -> Result<(), Failure> {
    // Checks the generated reader cannot know about, reported with its problems.
    let mut problems = Vec::new();
    let (region, given_name) = K::given(inputs);
    if let Some(region) = region.filter(|r| !r.is_empty())
        && let Err(problem) = region::check(region)
    {
        problems.push(format!("input `region`: {problem}"));
    }
    if let Some(name) = given_name.filter(|n| !n.is_empty())
        && let Err(problem) = resource::job_name(name, K::NAME_MAX)
    {
        problems.push(format!("input `{}`: {problem}", K::NAME_INPUT));
    }
    // The name is decided below, once the inputs' digest is known.
    let read = K::read(inputs, String::new());
    if let Err(errors) = &read {
        problems.splice(0..0, errors.0.iter().map(ToString::to_string));
    }
    let mut read = match read {
        Ok(read) if problems.is_empty() => read,
        _ => return Err(Failure::InvalidInput(problems.join("\n"))),
    };
    if let Some(warning) = region::warning(&read.region) {
        log!("warning: input `region`: {warning}");
    }
    let named = !K::job_name(&read.spec).is_empty();
    // The digest of what was asked for; a derived name is not part of it.
    let hash = resource::spec_hash(&read.region, &read.spec);
    let identity =
        Identity::from_backend(run.kfp_run_id.as_deref(), run.kfp_step_id.as_deref(), &hash);
    if !named {
        let derived = match &identity {
            Some(identity) => identity.job_name(K::NAME_PREFIX, &hash),
            None => {
                if !run.dry_run {
                    log!(
                        "no KFP run identity was given (--kfp-run-id): a unique name is drawn, \
                         so a retried attempt of this step cannot find this attempt's job"
                    );
                }
                names::generate(K::NAME_PREFIX)
            }
        };
        K::set_job_name(&mut read.spec, derived);
    }
    let job_name = K::job_name(&read.spec).to_owned();
    let name = resource::job_name(&job_name, K::NAME_MAX).map_err(|problem| {
        Failure::InvalidInput(format!("input `{}`: {problem}", K::NAME_INPUT))
    })?;
    let region = read.region;
    let mut job = K::new(&name, read.spec);
    job.meta_mut().annotations = Some(resource::annotations(&region, &hash, identity.as_ref()));
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
        time_limit: run.time_limit.or(K::TIME_LIMIT),
    };
    match &identity {
        Some(identity) => log!(
            "creating {} {name} in namespace {namespace} (SageMaker job {job_name}, region {region}, KFP run/step {identity})",
            K::KIND
        ),
        None => log!(
            "creating {} {name} in namespace {namespace} (SageMaker job {job_name}, region {region})",
            K::KIND
        ),
    }
    lock(shared).own = Some(Own {
        api: api.clone(),
        name: name.clone(),
        hash: hash.clone(),
        identity: identity.as_ref().map(ToString::to_string),
        uid: None,
    });
    let disown = || lock(shared).own = None;
    let (created, goal) =
        create_or_attach(&api, &job, &hash, identity.as_ref(), limits, &disown).await?;
    let uid = created.meta().uid.clone();
    if let Some(own) = &mut lock(shared).own {
        own.uid.clone_from(&uid);
    }
    let target = follow::Target {
        api: &api,
        name: &name,
        uid,
    };
    let record = |job: &K| lock(shared).last_seen = Some(job.clone());
    follow::follow(&target, created, goal, &job_name, limits, &record).await
}

async fn client() -> Result<kube::Client, Failure> {
    // Neither a missing or broken kubeconfig nor an unusable CA gets better by waiting.
    let mut config = kube::Config::infer().await.map_err(|e| {
        Failure::Config(format!(
            "no usable Kubernetes configuration (in-cluster service account or kubeconfig): {}",
            api::chain(&e)
        ))
    })?;
    // Retries are decided (and logged) in `api`, not below it.
    config.default_retry = false;
    kube::Client::try_from(config).map_err(|e| match api::classify(e) {
        (api::Class::Forbidden, text) => Failure::Forbidden(format!(
            "cannot get credentials for the Kubernetes API: {text}"
        )),
        (_, text) => Failure::Config(format!("cannot build a Kubernetes client: {text}")),
    })
}

/// Creates the resource, or finds the one of its name: re-attaches to what an earlier
/// attempt of this step created (same inputs, same KFP run and step), follows the update an
/// earlier attempt began, or, for a kind the controller updates, updates it ([`update`]).
/// Never changes a resource of a kind that cannot be updated. `disown` is called before
/// the launcher writes to a resource it did not create: a cancel never deletes one.
async fn create_or_attach<K: Kind>(
    api: &Api<K>,
    job: &K,
    hash: &str,
    identity: Option<&Identity>,
    limits: Limits,
    disown: &(dyn Fn() + Sync),
) -> Result<(K, Goal), Failure> {
    let name = job.meta().name.clone().unwrap_or_default();
    let target = follow::Target {
        api,
        name: &name,
        uid: None,
    };
    let params = PostParams::default();
    let created = api::call("create the resource", limits.api_timeout, || {
        api.create(&params, job)
    })
    .await;
    let status = match created {
        Ok(created) => {
            log!("created {name}");
            return Ok((created, Goal::Done));
        }
        Err(CallError::Failed(failure)) => return Err(follow::explain(&target, failure).await),
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
                Err(CallError::Failed(failure)) => {
                    return Err(follow::explain(&target, failure).await);
                }
                Err(CallError::Api(status)) => {
                    return Err(Failure::Conflict(format!(
                        "{name} exists but cannot be read: {}",
                        status.message
                    )));
                }
            };
            let identity = identity.map(ToString::to_string);
            let same_inputs = annotation(&existing, resource::SPEC_HASH_ANNOTATION) == Some(hash);
            let same_step =
                annotation(&existing, resource::IDENTITY_ANNOTATION) == identity.as_deref();
            if same_inputs && same_step {
                if let Some(update) = update::Update::recorded(&existing) {
                    disown();
                    log!(
                        "{name} is being updated by an earlier attempt of this step with the same inputs: following that update"
                    );
                    return Ok((existing, Goal::Update(update)));
                }
                log!(
                    "{name} already exists with the same inputs and KFP run and step: re-attaching to it (an earlier attempt of this step created it)"
                );
                return Ok((existing, Goal::Done));
            }
            if !K::UPDATABLE.is_empty() {
                let region = annotation(job, resource::REGION_ANNOTATION);
                let existing_region = annotation(&existing, resource::REGION_ANNOTATION);
                if existing_region != region {
                    return Err(Failure::Conflict(format!(
                        "a {} named {name} exists in region {}, not {}: a resource cannot move to another region",
                        K::KIND,
                        existing_region.unwrap_or("(none)"),
                        region.unwrap_or("(none)")
                    )));
                }
                disown();
                let annotations = job.meta().annotations.clone().unwrap_or_default();
                return match update::begin(api, existing, job, &annotations, limits.api_timeout)
                    .await
                {
                    Ok(update::Began::Unchanged(existing)) => Ok((existing, Goal::Done)),
                    Ok(update::Began::Patched(patched, update)) => {
                        Ok((patched, Goal::Update(update)))
                    }
                    Err(failure) => Err(follow::explain(&target, failure).await),
                };
            }
            if same_inputs {
                Err(Failure::Conflict(format!(
                    "a {} named {name} already exists in this namespace with the same inputs, but another KFP run or step created it \
                     (it records `{}`, this step is `{}`); its results are not this run's. Leave {} empty \
                     (the launcher then names the job after the run and step), choose a new name for each run, or delete the old resource",
                    K::KIND,
                    annotation(&existing, resource::IDENTITY_ANNOTATION).unwrap_or("none"),
                    identity.as_deref().unwrap_or("none"),
                    K::NAME_INPUT
                )))
            } else {
                Err(Failure::Conflict(format!(
                    "a {} named {name} already exists in this namespace and was not created by this step with these inputs, \
                     and the ACK controller cannot update a {}; choose another {} (or leave it empty for a name per run and step), \
                     or delete the old resource",
                    K::KIND,
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
        400 | 413 | 422 => Err(Failure::Refused(refusal(&status))),
        _ => Err(Failure::Refused(format!(
            "the Kubernetes API refused the resource ({} {}): {}",
            status.code, status.reason, status.message
        ))),
    }
}

/// The API server's reasons for refusing a create, one per cause it listed.
fn refusal(status: &kube::core::Status) -> String {
    let causes: Vec<String> = status
        .details
        .as_ref()
        .map(|details| {
            details
                .causes
                .iter()
                .map(|cause| format!("`{}`: {}", cause.field, cause.message))
                .collect()
        })
        .unwrap_or_default();
    let mut text = format!(
        "the Kubernetes API refused the resource ({} {}): {}",
        status.code, status.reason, status.message
    );
    if !causes.is_empty() {
        text.push_str("; causes: ");
        text.push_str(&causes.join("; "));
    }
    text.push_str(
        ". The inputs broke the CRD's schema or a size limit of the cluster; check them against the installed CRD",
    );
    text
}

fn annotation<'a, K: Kind>(job: &'a K, key: &str) -> Option<&'a str> {
    job.meta()
        .annotations
        .as_ref()?
        .get(key)
        .map(String::as_str)
}

/// After a signal: deletes the resource if it is this step's (the uid created or attached
/// to, or, while the create's answer is unknown, a resource of the name with this step's
/// inputs and identity), so the controller stops the SageMaker job. Everything within
/// [`CLEAN_UP_BUDGET`]; what could not be done is logged. Returns the refusal if the API
/// did not allow the clean-up (the step's Role lacks a verb).
async fn clean_up<K: Kind>(shared: &Shared<K>) -> Option<Failure> {
    let deadline = tokio::time::Instant::now() + CLEAN_UP_BUDGET;
    let left = || deadline.saturating_duration_since(tokio::time::Instant::now());
    let Some(own) = lock(shared).own.clone() else {
        log!(
            "nothing of this step's to delete (nothing was created, or the step updates a resource that outlives it)"
        );
        return None;
    };
    let name = own.name.as_str();
    let api = &own.api;
    // Read first: the outputs get the latest status, and the uid is checked. A create cut
    // short by the signal may still land on the server a moment later: while its answer
    // is unknown, look a few times before concluding there is nothing to delete.
    let mut looks = 0;
    let uid = loop {
        looks += 1;
        // With the uid known the read is only for a fresh status: it may not eat the
        // delete's time.
        let read_for = if own.uid.is_some() {
            left().min(Duration::from_secs(5))
        } else {
            left()
        };
        match api::call("read the resource", read_for, || api.get_opt(name)).await {
            Ok(Some(existing)) => {
                let ours = match &own.uid {
                    Some(uid) => existing.meta().uid.as_ref() == Some(uid),
                    None => {
                        annotation(&existing, resource::SPEC_HASH_ANNOTATION)
                            == Some(own.hash.as_str())
                            && annotation(&existing, resource::IDENTITY_ANNOTATION)
                                == own.identity.as_deref()
                    }
                };
                if !ours {
                    log!("{name} is not this step's; leaving it");
                    return None;
                }
                if done_and_kept(&existing) {
                    lock(shared).last_seen = Some(existing);
                    return None;
                }
                let uid = existing.meta().uid.clone();
                lock(shared).last_seen = Some(existing);
                match uid {
                    Some(uid) => break uid,
                    None => return None,
                }
            }
            Ok(None) if own.uid.is_none() && looks < 4 => {
                tokio::time::sleep(Duration::from_millis(500).min(left())).await;
            }
            Ok(None) => {
                log!("nothing of this step's to delete");
                return None;
            }
            Err(error) => match own.uid.clone() {
                // The uid is known: delete without the fresh status.
                Some(uid) => {
                    log!("could not read {name} before deleting it: {error:?}");
                    let last_seen = lock(shared).last_seen.clone();
                    if last_seen.as_ref().is_some_and(done_and_kept) {
                        return None;
                    }
                    break uid;
                }
                None => {
                    log!(
                        "could not read {name} to delete it ({error:?}); if it exists, delete it by hand to stop the SageMaker job"
                    );
                    return forbidden_clean_up(error);
                }
            },
        }
    };
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some(uid),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match api::call("delete the resource", left(), || api.delete(name, &params)).await {
        Ok(_) => log!("deleted {name}; the controller stops the SageMaker job"),
        Err(CallError::Api(status)) if status.code == 404 => log!("{name} is already gone"),
        Err(CallError::Api(status)) if status.code == 409 => {
            log!("{name} is now another resource (its uid changed); leaving it");
        }
        Err(error) => {
            log!(
                "could not delete {name} ({error:?}): the SageMaker job keeps running; delete the resource by hand to stop it"
            );
            return forbidden_clean_up(error);
        }
    }
    None
}

/// Whether a resource this step created is done and outlives the step: a Model, an
/// endpoint in service. Only a job is deleted whatever its state (which stops it).
fn done_and_kept<K: Kind>(resource: &K) -> bool {
    let done = K::CLASS != Class::Job
        && matches!(kinds::verdict(resource), ack::Verdict::Succeeded { .. });
    if done {
        log!(
            "{} is done: a {} outlives the step that made it, so the cancel leaves it",
            resource.meta().name.as_deref().unwrap_or_default(),
            K::NOUN
        );
    }
    done
}

/// The failure to end with when the API refused the credentials during clean-up.
fn forbidden_clean_up(error: CallError) -> Option<Failure> {
    match error {
        CallError::Failed(refused @ Failure::Forbidden(_)) => Some(refused),
        _ => None,
    }
}

/// SIGTERM (a cancelled pipeline run) and SIGINT, listened for from the start.
struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.terminate.recv() => Signal::Terminate,
            _ = self.interrupt.recv() => Signal::Interrupt,
        }
    }
}
