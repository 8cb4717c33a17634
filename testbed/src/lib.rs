//! # testbed: the launcher's test kit
//!
//! Test support (not shipped), around one model of Kubernetes: the real one.
//! - [`cluster`] (re-exported, a crate of its own so that xtask can use it alone): a real
//!   kube-apiserver and etcd, built from Go modules and started the way envtest does.
//! - [`FaultProxy`]: an HTTPS proxy in front of that server for what it will not do on
//!   demand. Each [`Fault`] applies to the next matching requests (a count, one [`Verb`],
//!   a path): an answer with any code and a Kubernetes `Status` (403, 410, 500, 503...),
//!   429 with `Retry-After`, a delay (a slow answer; a create that lands late), a lost
//!   answer (forwarded, the server acts, the client gets a 5xx), a watch answered with one
//!   `ERROR` event (410 `Expired`, 500, 403), a watch stream ended cleanly after N events or
//!   a time, a watch connection reset; and refused connections for a while. It logs every
//!   request with what the client got ([`RequestLog`]: verb, path, query, body, status,
//!   when). Everything else is the real server's answer, with the client's own token.
//! - [`ack`]: the real ACK SageMaker controller's stack ([`cluster::AckController`] with our
//!   SageMaker API, `sagemaker-emulator`), a namespace per test.
//! - Simulated ACK SageMaker controllers (below), in-process on the double's store or,
//!   for TrainingJob, as a kube-rs client of the real server ([`ClusterController`]).
//! - The API double ([`TestBed`], the `server` module): a hand-written Kubernetes API
//!   that the launcher's outcome tests still use until they run on the real ACK controller
//!   (issue 19); it goes with them. It applies the [`Fault`]s that need no server behind
//!   them (delays, status answers).
//!
//! ```no_run
//! use testbed::{Fault, FaultProxy, Verb, cluster::Cluster};
//!
//! let cluster = Cluster::start().unwrap();
//! cluster.create_namespace("team-a").unwrap();
//! let proxy = FaultProxy::start(&cluster).unwrap();
//! proxy.inject(Fault::status(503).times(2).only(Verb::Create));
//! let kubeconfig = proxy.kubeconfig_yaml(&cluster.kubeconfig_yaml("team-a"), &cluster);
//! std::fs::write("/tmp/kubeconfig", kubeconfig).unwrap();
//! // ... run the launcher with KUBECONFIG=/tmp/kubeconfig, then assert:
//! assert_eq!(proxy.requests().count(Verb::Create), 3);
//! ```
//!
//! ## The simulated controller
//! See [`Controller`] and [`Scenario`] and the `controller` module docs for the time model.
//! It follows `ack-trainingjob-controller-semantics.md`: finalizer
//! [`FINALIZER`] added before `CreateTrainingJob` and removed again when it fails; ARN and
//! `ackResourceMetadata` (region, ownerAccountID, partition); late initialisation of
//! `enableInterContainerTrafficEncryption`, `enableManagedSpotTraining`,
//! `enableNetworkIsolation`, `algorithmSpecification.enableSageMakerMetricsTimeSeries`,
//! `outputDataConfig.kmsKeyID` (`""`), `outputDataConfig.compressionType` (`GZIP`) and
//! `resourceConfig.instanceCount` (a spec write, so generation bumps once); conditions reset
//! every reconcile and written in the order ResourceSynced, Terminal/Recoverable,
//! LateInitialized, Ready; `ACK.ResourceSynced` from the job state (`TrainingJob is in X
//! status.`, debug rules then profiler rules in progress keep it False); Failed and Stopped
//! are Synced True without Terminal; terminal AWS codes give `ACK.Terminal`, everything else
//! (ValidationException in the aws-sdk-go v1 or v2 format, throttling, limits) gives
//! `ACK.Recoverable` with Synced Unknown and exponential backoff; a name SageMaker already
//! knows gives Terminal `Resource already exists` with the old job's status; deleting a
//! running job calls `StopTrainingJob`, writes Stopping with Recoverable `TrainingJob is
//! Stopping.` and removes the finalizer once the job is Stopped; `retain` deletion policy.
//! Not emulated: spec updates after creation (warm pool/profiler updates and their
//! Terminal errors), the delayed late-initialisation path, adoption, IAM role selectors,
//! region/account drift, warm pools.
//!
//! Two simpler controllers for the other kinds, in-process only: [`JobController`] for the
//! job kinds that end on their state field, and [`HostingController`] for the definitions
//! (Model, EndpointConfig, the monitoring job definitions), Endpoint (with updates and
//! their rollback), MonitoringSchedule and ModelPackageGroup; their module docs list what
//! they emulate and where they differ from the real controller.

pub mod ack;
mod api_error;
mod clock;
mod controller;
mod crd;
mod http;
mod kubeconfig;
mod patch;
mod proxy;
mod schema;
mod selector;
mod server;
mod store;

/// The real control plane ([`cluster::Cluster`]), re-exported for the tests.
pub use cluster;
pub use cluster::TlsError;

pub use api_error::{ApiError, Cause};
pub use clock::rfc3339;
pub use controller::{
    AwsCall, AwsError, ClusterController, Controller, ControllerOptions,
    DELETION_POLICY_ANNOTATION, FINALIZER, HostingClass, HostingController,
    HostingControllerOptions, HostingKind, HostingOutcome, JobController, JobControllerOptions,
    JobKind, JobOutcome, JobState, JobStatus, LAST_ENDPOINT_CONFIG_ANNOTATION, REGION_ANNOTATION,
    RuleState, SIMULATED_EPOCH, SageMakerCall, Scenario, SdkVersion, TERMINAL_CODES,
    UNMANAGED_REASON, UpdateOutcome, request_id,
};
pub use crd::{Crd, CrdError, CrdVersion};
pub use kubeconfig::TOKEN;
pub use proxy::{Fault, FaultProxy, RequestLog, RequestRecord, Verb};
pub use server::{
    Faults, Options, StartError, TestBed, WaitTimeout, fixture, fixture_path, training_job_crd_path,
};
pub use store::{EventType, StoredEvent};

/// Names one served resource: API group, version and plural (the URL segments).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceRef {
    /// API group, e.g. `sagemaker.services.k8s.aws`.
    pub group: String,
    /// Version, e.g. `v1alpha1`.
    pub version: String,
    /// Plural, e.g. `trainingjobs`.
    pub plural: String,
}

impl ResourceRef {
    /// `sagemaker.services.k8s.aws/v1alpha1` `trainingjobs`.
    pub fn training_job() -> ResourceRef {
        ResourceRef {
            group: "sagemaker.services.k8s.aws".into(),
            version: "v1alpha1".into(),
            plural: "trainingjobs".into(),
        }
    }
}
