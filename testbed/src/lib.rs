//! # testbed: a real control plane, a loopback Kubernetes API server double and a simulated ACK SageMaker controller
//!
//! Test support for the launcher (not shipped). [`cluster`] runs a real kube-apiserver and
//! etcd, built from Go modules, the way envtest does. The rest of this crate is a double
//! for what a real server will not do on demand (5xx and 429 bursts, cut, slow or refused
//! connections, forced 410) and for tests that assert on the request log: it serves the
//! Kubernetes REST API of **namespaced custom resources** on `127.0.0.1:<ephemeral port>`, over plain HTTP or (with
//! [`Options::tls`]) HTTPS with a CA generated per test bed, from an in-memory store, and runs
//! a simulated ACK SageMaker TrainingJob controller against that store.
//!
//! The server runs on its own thread and tokio runtime, so plain `#[test]` functions, async
//! tests and separately spawned processes (through [`TestBed::write_kubeconfig`]) can use
//! it; dropping the [`TestBed`] stops everything.
//!
//! ```no_run
//! use testbed::{ControllerOptions, Scenario, TestBed};
//!
//! let bed = TestBed::start_for_training_jobs().unwrap();
//! let controller = bed.start_controller(ControllerOptions {
//!     scenario: Scenario::fails("AlgorithmError: out of memory"),
//!     ..Default::default()
//! });
//! bed.write_kubeconfig("/tmp/kubeconfig", "default").unwrap();
//! // ... run the launcher with KUBECONFIG=/tmp/kubeconfig, then assert:
//! let creates = bed.requests().count(testbed::Verb::Create);
//! # let _ = (creates, controller);
//! ```
//!
//! ## What the API server double emulates
//! - Discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/{group}`,
//!   `/apis/{group}/{version}` (unaggregated documents built from the registered CRDs), and
//!   `/healthz`, `/livez`, `/readyz`.
//! - `POST` create: 201 with uid, resourceVersion, generation 1, creationTimestamp;
//!   `generateName`; `dryRun=All`; 409 `AlreadyExists`; 400 `BadRequest` for a body that is
//!   not JSON or has a wrong apiVersion/kind/namespace; 422 `Invalid` with `details.causes`
//!   for names that are not DNS-1123 subdomains and for bodies violating the CRD's
//!   `openAPIV3Schema` (types, `required`, `enum`, `format: date-time`); unknown fields are
//!   pruned silently; `status` is dropped on create when the status subresource is on.
//!   Whole-valued floats for integers are stored as integers. Bodies over 3 MiB get 413.
//! - `GET` one object (also `/status`): 200 or 404 `NotFound`.
//! - `LIST` (per namespace or across namespaces) with `fieldSelector` (`metadata.name`,
//!   `metadata.namespace`; others 400 like for real CRs), `labelSelector` (`=`, `==`, `!=`,
//!   `key`, `!key`), `limit`/`continue`; the list carries the current resourceVersion.
//! - `PATCH` with `application/merge-patch+json` or `application/json-patch+json`, and
//!   `PUT`, on the object and on `/status`: writes to the main resource ignore `status`,
//!   writes to `/status` ignore everything else; `metadata.generation` bumps only when
//!   something outside metadata and status changes; a write that changes nothing is a no-op
//!   (no new resourceVersion, no event); a stale `metadata.resourceVersion` gives 409
//!   `Conflict`; `PUT` without one gives 422. Strategic merge and apply patches get 415.
//! - `DELETE`: without finalizers the object is removed (DELETED event); with finalizers
//!   `deletionTimestamp` is set (generation bumps, MODIFIED event) and the object stays until
//!   a write removes the last finalizer, which deletes it (DELETED event). New finalizers
//!   cannot be added while deleting (422). `DeleteOptions.preconditions` are checked (409).
//! - `watch=true` with `resourceVersion` (unset or `0`: synthetic ADDED events for the
//!   current objects first), `fieldSelector`, `labelSelector`, `allowWatchBookmarks`
//!   (periodic BOOKMARKs, see [`Options::bookmark_interval`]), `sendInitialEvents` (initial
//!   ADDED events then a BOOKMARK annotated `k8s.io/initial-events-end`), `timeoutSeconds`.
//!   A resourceVersion older than the retained history gets an `ERROR` event with a 410
//!   `Expired` Status, as from the watch cache.
//! - Errors are `Status` bodies with the real reasons and messages, so kube-rs returns
//!   `kube::Error::Api` with the right code and reason.
//!
//! ## What it does not emulate
//! Authentication and authorization (any or no token is accepted; no client certificates),
//! HTTP/2, protobuf,
//! core resources (pods, namespaces: namespaces need not exist), cluster-scoped resources,
//! server-side apply and managedFields, strategic merge patch, deletecollection, propagation
//! policies and garbage collection, label-selector transitions in watches (events are
//! filtered on the new object only), `resourceVersionMatch` on lists (lists always serve the
//! latest state), CRD version conversion, defaulting, CEL and other validation keywords
//! (pattern, min/max, maxLength), aggregated discovery, and admission webhooks. When the last
//! finalizer is removed, the DELETED event carries the object as patched (the real server
//! sends its previous state). Refused connections close and re-bind the same port, so
//! another process could in theory take it meanwhile.
//!
//! ## Faults
//! See [`Faults`]: 500/503/any code for the next N requests (optionally of one [`Verb`]),
//! 429 with `Retry-After`, slow answers, watch streams closed after N events or a duration,
//! watch connections reset (aborted mid-stream, an error for the client) after a duration,
//! watch streams that send one `ERROR` event with any code,
//! history expiry forcing 410, and refused connections (also at start, via
//! [`Options::refuse_connections_for`]). Faults apply to HTTP requests only, never to the
//! simulated controller. Bursts of 5xx and 429 and cut watch streams can also be put in
//! front of the real server with [`FaultProxy`].
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
