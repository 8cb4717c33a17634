//! # sagemaker-emulator: our SageMaker API on loopback, for the real ACK controller
//!
//! The one simulated part of the real-controller tests: SageMaker itself cannot run here.
//! It serves, on `127.0.0.1`, every SageMaker operation the ACK SageMaker controller
//! v1.9.1 calls for the thirteen kinds with components (TrainingJob,
//! HyperParameterTuningJob, ProcessingJob, TransformJob, Model, EndpointConfig, Endpoint,
//! MonitoringSchedule, the four monitoring job definitions, ModelPackageGroup), in AWS
//! JSON 1.1, and the STS `GetCallerIdentity` query call the controller makes at start-up,
//! on the same port (give the controller this URL as `--aws-endpoint-url` and
//! `--aws-identity-endpoint-url`). What each kind needs was read from the controller's
//! source (`../shared/reference/ack-controller-sagemaker-calls.md`).
//!
//! ```no_run
//! use sagemaker_emulator::{Kind, Lasts, SageMaker, Script};
//!
//! let sagemaker = SageMaker::start().unwrap();
//! sagemaker.script("train-1", Script::works_until_advanced());
//! sagemaker.script("train-2", Script::fails("AlgorithmError: out of memory"));
//! // ... start the controller with sagemaker.url(), create the resources ...
//! sagemaker.advance("train-1"); // train-1 completes at the controller's next Describe
//! assert_eq!(sagemaker.count("train-1", "CreateTrainingJob"), 1);
//! # let _ = (Kind::TrainingJob, Lasts::Forever);
//! ```
//!
//! ## Faithful where the controller looks
//! - `Describe<Kind>` answers the `Create<Kind>` request as it was received (less `Tags`,
//!   which Describe does not return), plus what SageMaker fills in: the ARN
//!   (`arn:aws:sagemaker:<region>:<account>:<type>/<name in lower case>`, the region of
//!   the request's signature), the status member, `FailureReason`, `CreationTime` and
//!   `LastModifiedTime` as epoch seconds (JSON numbers), and per kind the defaults the
//!   controller is seen to receive (module `describe`): TrainingJob's seven
//!   late-initialized fields (`EnableSageMakerMetricsTimeSeries`, the three `Enable*`
//!   flags false, `OutputDataConfig.CompressionType` GZIP and `KmsKeyId` "",
//!   `ResourceConfig.InstanceCount` 1), each channel's `RecordWrapperType` None,
//!   `SecondaryStatus`, `ProfilingStatus`, `ModelArtifacts` once Completed, rule
//!   evaluation statuses, the warm pool; a tuning job's definition defaults, its
//!   `_tuning_objective_metric` and `ObjectiveMetric`, its best training job once
//!   Completed; ProcessingJob's `AppManaged`, `S3DataDistributionType` and 86400 s
//!   `MaxRuntimeInSeconds`; TransformJob's `DataProcessing`, `CompressionType`, `SplitType`,
//!   `AssembleWith`, `KmsKeyId`; Model's `EnableNetworkIsolation` and containers' `Mode`;
//!   EndpointConfig's `EnableNetworkIsolation`; an Endpoint's variants as deployed from
//!   its configuration and model (images resolved to digests; none while Creating),
//!   `LastDeploymentConfig`, and while an update is pending the new configuration's name
//!   and `PendingDeploymentSummary` (as the controller's testdata
//!   `endpoint/testdata/sdkapi/describe/update_deployment_config.json` shows: so the
//!   controller sees no difference while an update runs); a schedule's `MonitoringType`
//!   and `EndpointName`.
//! - Not found: each kind's own error, exactly as the controller recognises it
//!   (TrainingJob: `ValidationException` "Requested resource not found."; Processing and
//!   Transform jobs: `ValidationException` "Could not find requested job with name ...";
//!   Model, EndpointConfig, Endpoint: `ValidationException` "Could not find model /
//!   endpoint configuration / endpoint "`<arn>`"."; tuning jobs, schedules and job
//!   definitions: `ResourceNotFound`; ModelPackageGroup: a `ValidationException` ending
//!   "does not exist.").
//! - A name SageMaker holds is refused on Create (`ResourceInUse` for jobs, schedules and
//!   job definitions; a `ValidationException` "Cannot create already existing ..." for
//!   the hosting kinds and groups). Jobs are never deleted: a job's name stays taken.
//! - Create refuses what names a missing resource: an Endpoint's configuration, an
//!   EndpointConfig's or TransformJob's model, a schedule's job definition
//!   (`ValidationException` "Could not find ...").
//! - `Stop<Kind>` of a running job: Stopping, then Stopped; refused unless InProgress.
//!   `Delete<Kind>`: gone at once, or after a Deleting phase; an Endpoint that is
//!   creating or updating cannot be deleted. `UpdateEndpoint`: Updating, then InService
//!   on the new configuration or rolled back to the old one with a `FailureReason`;
//!   refused unless InService. `UpdateMonitoringSchedule`: Pending, then Scheduled (or,
//!   scripted, Failed with a `FailureReason`).
//!
//! What no script can shorten: a job deleted while it runs is released one 30 s requeue
//! after `Stop<Kind>` (the controller requeues whenever the Describe after Stop still finds
//! the job, and SageMaker keeps jobs), an Endpoint or MonitoringSchedule update is seen done
//! one requeue after the Update call, and anything Working is seen again only at the
//! next requeue.
//!
//! ## Scripts and the call log
//! Per resource name a [`Script`] decides what SageMaker does: the timeline of statuses
//! its Describes show (per Describe, after a time, or until [`SageMaker::advance`]), a
//! failure reason, an error for every Create, transient errors first (throttling, 5xx),
//! how long Stopping, Deleting and Updating last, an Endpoint update rolled back, a
//! schedule update that fails, an operation answered only after a while ([`Script::slow`];
//! a call is logged when it is answered). An
//! unscripted name gets [`Options::default_script`]. Every request is logged
//! ([`SageMaker::calls`], [`SageMaker::count`]). Tests of several namespaces share one
//! server: names are what tell their resources apart.
//!
//! ## Where it differs from SageMaker's API reference
//! - Only the operations above: no List, Search, tag, Start/Stop schedule, Invoke or
//!   other operations (`UnknownOperationException`). No validation of requests beyond the
//!   name member and references: values, lengths, patterns, required members, ARNs,
//!   instance types, S3 URIs and IAM roles are not checked, and nothing runs.
//! - Signatures and credentials are not checked; any region is served (the region of
//!   the signature goes into ARNs) and names are unique per kind across regions.
//! - Defaults SageMaker documents but the controller's sources give no evidence of it
//!   returning are not filled in: e.g. a channel's `CompressionType` and
//!   `S3DataDistributionType` and a TrainingJob's `StoppingCondition.MaxRuntimeInSeconds`,
//!   an HPO's `TrainingJobEarlyStoppingType`, built-in algorithms' metric definitions,
//!   `ImageConfig.RepositoryAuthConfig`. A CR leaving such a field out may meet a delta
//!   (and a Terminal "not implemented") on real SageMaker that it does not meet here.
//! - Guessed values the controller needs: TrainingJob's `OutputDataConfig.CompressionType`
//!   `GZIP` and `ResourceConfig.InstanceCount` 1 when the request has none (late
//!   initialization waits for them), a tuning job's `ObjectiveMetric` regex.
//! - An Endpoint update rolled back goes from Updating straight to InService (no
//!   `RollingBack` phase unless scripted with [`Stage::Status`]); a SystemUpdating endpoint,
//!   an OutOfService one, a Deleting ModelPackageGroup appear only when scripted.
//! - Made-up values where SageMaker reports real ones: a tuning job's best training job
//!   (the first value of each parameter range, objective 0.125), rule evaluation jobs'
//!   ARNs, image digests, billable seconds (wall time between creation and end).
//!   SecondaryStatusTransitions, FinalMetricDataList, monitoring executions
//!   (`LastMonitoringExecutionSummary`) and warm pool reuse are not reported.
//! - Time passes only for the resources' scripts: a job does not run out of
//!   `MaxRuntimeInSeconds`, a spot job is never interrupted, an Endpoint does not scale.
//! - Guesses where no source shows SageMaker's answer: the duplicate-name errors of
//!   schedules, job definitions and groups, the not-found messages of schedules and job
//!   definitions (the controller reads only their code), the error for Stop of a job that
//!   is not running, a ModelPackageGroup delete never refused (SageMaker refuses a group
//!   holding packages), deleting a job definition a schedule uses.
//! - UpdateEndpoint: variants' counts and weights come from the new configuration (SageMaker
//!   keeps the running ones with `RetainAllVariantProperties`, which the controller always
//!   sends). Errors are always 400 or the fault's status; no request limits or quotas.

mod calls;
mod describe;
mod error;
mod kind;
mod record;
mod script;
mod store;
mod wire;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;

pub use calls::Call;
pub use error::AwsError;
pub use kind::{Class, Kind, Verb};
pub use script::{Lasts, Phase, Script, Stage, UpdateOutcome};
pub use store::DEFAULT_ACCOUNT;

use store::Store;
use wire::lock;

/// How to start the server.
#[derive(Debug, Clone)]
pub struct Options {
    /// The AWS account of every ARN and of the STS answer.
    pub account: String,
    /// What SageMaker does with a name no [`SageMaker::script`] was given for.
    pub default_script: Script,
    /// The port on 127.0.0.1 (0: a free one).
    pub port: u16,
    /// Print a line per call (operation, name, outcome; never a body) to stderr.
    pub print_calls: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            account: DEFAULT_ACCOUNT.into(),
            default_script: Script::completes(),
            port: 0,
            print_calls: false,
        }
    }
}

/// The running API: its own thread and runtime; dropping it stops it.
#[derive(Debug)]
pub struct SageMaker {
    store: Arc<Mutex<Store>>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SageMaker {
    /// Starts with [`Options::default`]: a free port, [`Script::completes`] for unscripted
    /// names.
    pub fn start() -> std::io::Result<SageMaker> {
        SageMaker::start_with(Options::default())
    }

    /// Starts with `options`.
    pub fn start_with(options: Options) -> std::io::Result<SageMaker> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", options.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let store = Arc::new(Mutex::new(Store::new(
            options.account,
            options.default_script,
        )));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown, mut stop) = tokio::sync::oneshot::channel::<()>();
        let served = store.clone();
        let print_calls = options.print_calls;
        let thread = std::thread::Builder::new()
            .name("sagemaker-emulator".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    loop {
                        tokio::select! {
                            accepted = listener.accept() => {
                                let Ok((stream, _)) = accepted else { continue };
                                let store = served.clone();
                                tokio::spawn(async move {
                                    let service = service_fn(move |request| {
                                        wire::handle(store.clone(), print_calls, request)
                                    });
                                    let _ = hyper::server::conn::http1::Builder::new()
                                        .serve_connection(TokioIo::new(stream), service)
                                        .await;
                                });
                            }
                            _ = &mut stop => return,
                        }
                    }
                });
            })?;
        Ok(SageMaker {
            store,
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>`: the controller's `--aws-endpoint-url` and
    /// `--aws-identity-endpoint-url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The account of its ARNs.
    pub fn account(&self) -> String {
        lock(&self.store).account.clone()
    }

    /// What SageMaker does with the resource `name` (of any kind) created from now on.
    pub fn script(&self, name: &str, script: Script) {
        lock(&self.store).set_script(name, script);
    }

    /// Ends the current phase of the resources named `name` (the next Describe shows the
    /// next one); false if SageMaker holds none of that name.
    pub fn advance(&self, name: &str) -> bool {
        lock(&self.store).advance(name)
    }

    /// Creates a resource as `Create<Kind>` with `request` would (the name's script
    /// applies), without logging a call: one SageMaker knows before the test begins.
    /// Returns its ARN.
    pub fn seed(&self, kind: Kind, region: &str, request: &Value) -> Result<String, AwsError> {
        lock(&self.store).seed(kind, region, request)
    }

    /// What `Describe<Kind>` would answer now (without advancing anything), or `None`.
    pub fn describe(&self, kind: Kind, name: &str) -> Option<Value> {
        lock(&self.store).peek(kind, name)
    }

    /// Every resource SageMaker holds.
    pub fn resources(&self) -> Vec<(Kind, String)> {
        lock(&self.store).resources()
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.store).calls.clone()
    }

    /// The calls about resources named `name`, in order.
    pub fn calls_for(&self, name: &str) -> Vec<Call> {
        lock(&self.store)
            .calls
            .iter()
            .filter(|c| c.name.as_deref() == Some(name))
            .cloned()
            .collect()
    }

    /// The operations called about `name`, in order (`["DescribeTrainingJob",
    /// "CreateTrainingJob", ...]`).
    pub fn ops(&self, name: &str) -> Vec<String> {
        self.calls_for(name).into_iter().map(|c| c.op).collect()
    }

    /// How many times `op` was called about `name` (answered or not).
    pub fn count(&self, name: &str, op: &str) -> usize {
        lock(&self.store)
            .calls
            .iter()
            .filter(|c| c.name.as_deref() == Some(name) && c.op == op)
            .count()
    }

    /// Waits until `op` has been called about `name` at least `times` times; false after
    /// `timeout`.
    pub fn wait_for(&self, name: &str, op: &str, times: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.count(name, op) >= times {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Blocks the calling thread while the server runs (for a process that is only the
    /// API, e.g. `cargo xtask cluster up`'s).
    pub fn serve_forever(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for SageMaker {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
