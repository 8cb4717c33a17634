//! A simulated ACK controller for the SageMaker kinds that are not jobs: the definitions
//! (Model, EndpointConfig and the four monitoring job definitions), Endpoint,
//! MonitoringSchedule and ModelPackageGroup (sagemaker-controller v1.9.1;
//! `ack-other-kinds-semantics.md` sections 1, 2.6, 2.8, 2.10, 2.13-2.18 and 4).
//!
//! Like [`super::jobs`] it runs in-process on the store and the SageMaker resource is a
//! timer, but it works in *rounds* as the controller does: one round (a Describe, then a
//! create, an update or a delete if needed, then one status write) when an object appears,
//! when its `metadata.generation` changes (a spec edit, or the deletion timestamp), and
//! when its requeue comes due: [`HostingControllerOptions::requeue_seconds`] while
//! `ACK.ResourceSynced` is not True, [`HostingControllerOptions::resync_seconds`] once it
//! is (30 s for Endpoint and MonitoringSchedule, the controller's 10 h default for the
//! rest), never after an `ACK.Terminal` error. A change of the SageMaker state shows at the
//! next round only. Every round stamps `lastTransitionTime` on `ACK.ResourceSynced`, `Ready`
//! and a state-derived `ACK.Terminal` with the simulated time, so an Endpoint's or a
//! MonitoringSchedule's `status` changes every resync without anything having happened
//! (the trap of "the status changed, so the update was consumed"). Conditions from errors
//! (`ACK.Recoverable`, a Terminal error) carry no timestamp. Times run from
//! [`super::SIMULATED_EPOCH`], scaled by [`HostingControllerOptions::time_scale`].
//!
//! Per class:
//! - **definitions**: the finalizer, `Create<Kind>`, the ARN in `status.ackResourceMetadata`,
//!   conditions (`ACK.LateInitialized` True for Model and EndpointConfig, whose
//!   `spec.enableNetworkIsolation` is late-initialised to `false` by a spec write),
//!   `ACK.ResourceSynced` True `Resource synced successfully` (reason `""`), `Ready` True. A
//!   spec edit after creation (tags aside): `ACK.Terminal` True `not implemented`, Synced
//!   False `Resource not synced` (reason `resource is in terminal condition`), `Ready` False,
//!   no requeue; setting the spec back clears it. Delete: `Delete<Kind>`, finalizer removed
//!   at once.
//! - **Endpoint**: `Creating` (Synced False `Endpoint is in Creating status.`) for
//!   [`HostingControllerOptions::create_seconds`], then `InService` (Synced True, `creationTime`,
//!   `lastModifiedTime`, `productionVariants` from the EndpointConfig custom resource of that
//!   name when the bed serves one) or, by the [`HostingOutcome`], `Failed` with
//!   `failureReason` and the state's Terminal (Synced stays True), or `OutOfService`
//!   ([`HostingOutcome::Stops`]; Synced True, no Terminal). When `spec.endpointConfigName`
//!   or `spec.deploymentConfig` differs from what SageMaker runs: while the endpoint is
//!   Creating/Updating, Recoverable `Endpoint in <state> state cannot be modified or
//!   deleted.`; on a Failed endpoint, or after a rolled-back update to the config the
//!   annotation names, the Terminal `EndpointUpdateError` (below); otherwise
//!   `UpdateEndpoint`, a metadata write setting the annotation
//!   [`LAST_ENDPOINT_CONFIG_ANNOTATION`] to `spec.endpointConfigName`, then a status write
//!   with `endpointStatus` `Updating` and Synced False `Endpoint is in Updating status.`,
//!   the other fields as persisted (the old `lastModifiedTime`). The next rounds Describe:
//!   Updating with a new `lastModifiedTime` and `pendingDeploymentSummary` (and the
//!   Recoverable above, since Describe still shows the old config); after
//!   [`HostingControllerOptions::update_seconds`], by the [`UpdateOutcome`], `InService` on
//!   the new config with Synced True, or `InService` on the old config with
//!   `failureReason`, Terminal and Synced False `api error EndpointUpdateError: unable to
//!   update endpoint. check FailureReason. latest EndpointConfigName is <old>`. Tags are
//!   ignored. Delete (delete-and-wait): Recoverable `Endpoint in <state> state cannot be
//!   modified or deleted.` while Creating/Updating, then `DeleteEndpoint`, `Deleting` with
//!   Recoverable `Endpoint is Deleting.` (later rounds `Endpoint in Deleting state cannot be
//!   modified or deleted.`) for [`HostingControllerOptions::delete_seconds`], then the
//!   finalizer goes.
//! - **MonitoringSchedule**: `Pending` (Synced False `MonitoringSchedule is in Pending
//!   status.`), then `Scheduled` (Synced True), `Failed` with the state's Terminal, or
//!   `Stopped` (Synced True, no Terminal). A new `spec.monitoringScheduleConfig` while not
//!   Pending: `UpdateMonitoringSchedule`, and that round's write has Synced False
//!   `MonitoringSchedule is in Pending status.` while `monitoringScheduleStatus` and
//!   `lastModifiedTime` still show the persisted values (Scheduled); the next round shows
//!   Pending with a new `lastModifiedTime`, then, after `update_seconds`, Scheduled (or
//!   Failed for [`UpdateOutcome::RollsBack`]). While Pending, an edit waits (Recoverable
//!   `MonitoringSchedule in Pending state cannot be modified or deleted.`). Delete: waits
//!   while Pending, then `DeleteMonitoringSchedule` every round with Recoverable
//!   `MonitoringSchedule is Deleting.` until SageMaker no longer knows it.
//! - **ModelPackageGroup**: `Pending`, then `InProgress` (halfway through `create_seconds`;
//!   both Synced False), then `Completed` (Synced True) or `Failed` (Synced True, **no**
//!   Terminal). A spec edit: Terminal `not implemented` with the hook's Synced. Delete:
//!   waits while Pending/InProgress, then `DeleteModelPackageGroup`, `Deleting` with
//!   Recoverable `ModelPackageGroup is deleting.`, then the finalizer goes.
//! - [`HostingOutcome::Rejected`] (any kind): SageMaker refuses the create: `ACK.Recoverable`
//!   True with the message, Synced Unknown (reason: the message), no ARN, retried every
//!   requeue forever; a delete releases it at once.
//!
//! Create, update and delete calls are recorded per SageMaker name, and so is every
//! SageMaker resource that went away ([`HostingController::created`],
//! [`HostingController::deleted`], ...), so a test can tell "no second endpoint" and "the
//! finished endpoint was never deleted".
//!
//! Where it differs from the real controller: requeues are fixed (no exponential backoff
//! for Recoverable errors); a round is atomic, and [`HostingControllerOptions::reaction_seconds`]
//! can delay the round that acts on a spec change (resync rounds in between still see the
//! previous spec, as a reconcile in flight would); SageMaker state is per custom resource
//! (no adoption of a name SageMaker already knows, no "Resource already exists"); the
//! delete path writes only Synced and Recoverable (no `Ready`); MonitoringSchedule has no
//! `lastMonitoringExecutionSummary` and never waits for a running monitoring job; a
//! Model's or EndpointConfig's dependencies are not checked (use `Rejected`); the
//! definitions' spec comparison is plain JSON equality (no `customSetDefaults`); no
//! `SystemUpdating`, `RollingBack`, `UpdateRollbackFailed`, `DeleteFailed` states;
//! variants are not retained across an update (`RetainAllVariantProperties`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::REGION_ANNOTATION;
use super::SIMULATED_EPOCH;
use crate::ResourceRef;
use crate::clock::rfc3339;
use crate::selector::Selector;
use crate::store::{Change, Store, Subresource};

/// The annotation the controller sets to `spec.endpointConfigName` when it calls
/// `UpdateEndpoint`.
pub const LAST_ENDPOINT_CONFIG_ANNOTATION: &str =
    "sagemaker.services.k8s.aws/last-endpoint-config-for-update";

/// How the controller treats a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostingClass {
    /// Done once it exists: Model, EndpointConfig, the job definitions.
    Definition,
    Endpoint,
    MonitoringSchedule,
    ModelPackageGroup,
}

/// One kind: its names in the CRD and in SageMaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostingKind {
    pub kind: &'static str,
    pub plural: &'static str,
    /// The spec field with the SageMaker name.
    pub name_field: &'static str,
    /// The resource type in the ARN: `endpoint-config`.
    pub arn_type: &'static str,
    pub class: HostingClass,
    /// Whether the controller reports `ACK.LateInitialized` (and late-initialises
    /// `spec.enableNetworkIsolation`).
    pub late_initialized: bool,
}

impl HostingKind {
    const fn definition(
        kind: &'static str,
        plural: &'static str,
        name_field: &'static str,
        arn_type: &'static str,
        late_initialized: bool,
    ) -> HostingKind {
        HostingKind {
            kind,
            plural,
            name_field,
            arn_type,
            class: HostingClass::Definition,
            late_initialized,
        }
    }

    pub fn model() -> HostingKind {
        Self::definition("Model", "models", "modelName", "model", true)
    }

    pub fn endpoint_config() -> HostingKind {
        Self::definition(
            "EndpointConfig",
            "endpointconfigs",
            "endpointConfigName",
            "endpoint-config",
            true,
        )
    }

    pub fn data_quality_job_definition() -> HostingKind {
        Self::definition(
            "DataQualityJobDefinition",
            "dataqualityjobdefinitions",
            "jobDefinitionName",
            "data-quality-job-definition",
            false,
        )
    }

    pub fn model_bias_job_definition() -> HostingKind {
        Self::definition(
            "ModelBiasJobDefinition",
            "modelbiasjobdefinitions",
            "jobDefinitionName",
            "model-bias-job-definition",
            false,
        )
    }

    pub fn model_explainability_job_definition() -> HostingKind {
        Self::definition(
            "ModelExplainabilityJobDefinition",
            "modelexplainabilityjobdefinitions",
            "jobDefinitionName",
            "model-explainability-job-definition",
            false,
        )
    }

    pub fn model_quality_job_definition() -> HostingKind {
        Self::definition(
            "ModelQualityJobDefinition",
            "modelqualityjobdefinitions",
            "jobDefinitionName",
            "model-quality-job-definition",
            false,
        )
    }

    pub fn endpoint() -> HostingKind {
        HostingKind {
            kind: "Endpoint",
            plural: "endpoints",
            name_field: "endpointName",
            arn_type: "endpoint",
            class: HostingClass::Endpoint,
            late_initialized: false,
        }
    }

    pub fn monitoring_schedule() -> HostingKind {
        HostingKind {
            kind: "MonitoringSchedule",
            plural: "monitoringschedules",
            name_field: "monitoringScheduleName",
            arn_type: "monitoring-schedule",
            class: HostingClass::MonitoringSchedule,
            late_initialized: false,
        }
    }

    pub fn model_package_group() -> HostingKind {
        HostingKind {
            kind: "ModelPackageGroup",
            plural: "modelpackagegroups",
            name_field: "modelPackageGroupName",
            arn_type: "model-package-group",
            class: HostingClass::ModelPackageGroup,
            late_initialized: false,
        }
    }

    /// The six definition kinds.
    pub fn definitions() -> [HostingKind; 6] {
        [
            Self::model(),
            Self::endpoint_config(),
            Self::data_quality_job_definition(),
            Self::model_bias_job_definition(),
            Self::model_explainability_job_definition(),
            Self::model_quality_job_definition(),
        ]
    }

    /// The status field with the SageMaker state (none for definitions).
    pub fn state_field(&self) -> Option<&'static str> {
        match self.class {
            HostingClass::Definition => None,
            HostingClass::Endpoint => Some("endpointStatus"),
            HostingClass::MonitoringSchedule => Some("monitoringScheduleStatus"),
            HostingClass::ModelPackageGroup => Some("modelPackageGroupStatus"),
        }
    }

    /// The spec fields an update sends (none for the kinds without update).
    pub fn updatable_fields(&self) -> &'static [&'static str] {
        match self.class {
            HostingClass::Endpoint => &["endpointConfigName", "deploymentConfig"],
            HostingClass::MonitoringSchedule => &["monitoringScheduleConfig"],
            HostingClass::Definition | HostingClass::ModelPackageGroup => &[],
        }
    }

    /// The served resource (`sagemaker.services.k8s.aws/v1alpha1`).
    pub fn resource(&self) -> ResourceRef {
        super::sagemaker_resource(self.plural)
    }

    /// The controller's finalizer for this kind.
    pub fn finalizer(&self) -> String {
        super::sagemaker_finalizer(self.kind)
    }

    /// The vendored CRD of this kind, as YAML.
    pub fn crd_yaml(&self) -> std::io::Result<String> {
        super::vendored_crd(self.plural)
    }

    /// The statuses during which the controller requeues and refuses updates and deletes.
    fn modifying(&self, status: &str) -> bool {
        match self.class {
            HostingClass::Endpoint => matches!(status, "Creating" | "Updating" | "Deleting"),
            HostingClass::MonitoringSchedule => status == "Pending",
            HostingClass::ModelPackageGroup => {
                matches!(status, "Pending" | "InProgress" | "Deleting")
            }
            HostingClass::Definition => false,
        }
    }
}

/// How the SageMaker resource's creation ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostingOutcome {
    /// InService, Scheduled, Completed; a definition simply exists.
    Succeeds,
    /// Failed, with this `failureReason` (ModelPackageGroup: no failure reason field).
    Fails(String),
    /// MonitoringSchedule: Stopped; Endpoint: OutOfService; other kinds: as `Succeeds`.
    Stops,
    /// The create is refused with this message (a Recoverable error that never clears).
    Rejected(String),
}

/// How an update (Endpoint, MonitoringSchedule) ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    Succeeds,
    /// Endpoint: SageMaker rolls back to the old config, InService with this
    /// `failureReason`; MonitoringSchedule: Failed with it.
    RollsBack(String),
}

#[derive(Debug, Clone)]
pub struct HostingControllerOptions {
    pub kind: HostingKind,
    pub outcome: HostingOutcome,
    pub update_outcome: UpdateOutcome,
    /// Simulated seconds from the create to the end of Creating / Pending (/ InProgress).
    pub create_seconds: f64,
    /// Simulated seconds an update takes (Updating / Pending meanwhile).
    pub update_seconds: f64,
    /// Simulated seconds from the delete call until SageMaker no longer knows the resource.
    pub delete_seconds: f64,
    /// The requeue while `ACK.ResourceSynced` is not True, and of Recoverable errors (30 s).
    pub requeue_seconds: f64,
    /// The resync once Synced is True: 30 s for Endpoint and MonitoringSchedule
    /// (`requeue_on_success_seconds`), 36000 s (the controller's default) for the others.
    pub resync_seconds: f64,
    /// Simulated seconds between a generation change and the round that acts on it.
    pub reaction_seconds: f64,
    /// Real time per simulated second.
    pub time_scale: Duration,
    pub region: String,
    pub account_id: String,
}

impl HostingControllerOptions {
    pub fn new(kind: HostingKind, outcome: HostingOutcome) -> HostingControllerOptions {
        let resync_seconds = match kind.class {
            HostingClass::Endpoint | HostingClass::MonitoringSchedule => 30.0,
            HostingClass::Definition | HostingClass::ModelPackageGroup => 36_000.0,
        };
        HostingControllerOptions {
            kind,
            outcome,
            update_outcome: UpdateOutcome::Succeeds,
            create_seconds: 60.0,
            update_seconds: 60.0,
            delete_seconds: 30.0,
            requeue_seconds: 30.0,
            resync_seconds,
            reaction_seconds: 0.0,
            time_scale: Duration::from_millis(1),
            region: "us-west-2".into(),
            account_id: "123456789012".into(),
        }
    }
}

/// One SageMaker call that changed something (`CreateEndpoint`, `UpdateEndpoint`,
/// `DeleteEndpoint`, ...): refused calls and Describes are not recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SageMakerCall {
    pub operation: String,
    /// The SageMaker name.
    pub name: String,
    /// Simulated time of the call (RFC 3339).
    pub at: String,
}

#[derive(Debug)]
struct Shared {
    stopped: AtomicBool,
    outcomes: Mutex<(HostingOutcome, UpdateOutcome)>,
    calls: Mutex<Vec<SageMakerCall>>,
    /// SageMaker names whose resource went away (one entry per deletion).
    gone: Mutex<Vec<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running simulated controller of one [`HostingKind`]; stops when dropped.
#[derive(Debug)]
pub struct HostingController {
    kind: HostingKind,
    shared: Arc<Shared>,
}

impl HostingController {
    pub(crate) fn start(
        store: Arc<Store>,
        handle: &tokio::runtime::Handle,
        options: HostingControllerOptions,
    ) -> HostingController {
        let shared = Arc::new(Shared {
            stopped: AtomicBool::new(false),
            outcomes: Mutex::new((options.outcome.clone(), options.update_outcome.clone())),
            calls: Mutex::new(Vec::new()),
            gone: Mutex::new(Vec::new()),
        });
        let kind = options.kind.clone();
        let worker = shared.clone();
        handle.spawn(async move {
            let mut changes = store.subscribe();
            let started = Instant::now();
            let scale = options.time_scale.as_secs_f64();
            let simulated = move || started.elapsed().as_secs_f64() / scale;
            let mut tracked: HashMap<String, Tracked> = HashMap::new();
            while !worker.stopped.load(Ordering::SeqCst) {
                let next = reconcile_all(&store, &options, &worker, &mut tracked, simulated());
                // Woken by any write to the store, by the next due round, and now and then
                // to notice `stop`.
                let wait = next.map_or(Duration::from_millis(100), |at| {
                    options
                        .time_scale
                        .mul_f64((at - simulated()).max(0.0))
                        .min(Duration::from_millis(100))
                });
                tokio::select! {
                    changed = changes.changed() => if changed.is_err() { return },
                    () = tokio::time::sleep(wait) => {}
                }
            }
        });
        HostingController { kind, shared }
    }

    /// Stops reconciling.
    pub fn stop(&self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
    }

    /// How the creations from now on end.
    pub fn set_outcome(&self, outcome: HostingOutcome) {
        lock(&self.shared.outcomes).0 = outcome;
    }

    /// How the updates started from now on end.
    pub fn set_update_outcome(&self, outcome: UpdateOutcome) {
        lock(&self.shared.outcomes).1 = outcome;
    }

    /// Every SageMaker call that changed something, in order.
    pub fn calls(&self) -> Vec<SageMakerCall> {
        lock(&self.shared.calls).clone()
    }

    fn count(&self, verb: &str, name: &str) -> usize {
        let operation = format!("{verb}{}", self.kind.kind);
        lock(&self.shared.calls)
            .iter()
            .filter(|c| c.operation == operation && c.name == name)
            .count()
    }

    /// How many SageMaker resources of this name were created.
    pub fn created(&self, name: &str) -> usize {
        self.count("Create", name)
    }

    /// How many updates of the SageMaker resource of this name were started.
    pub fn updated(&self, name: &str) -> usize {
        self.count("Update", name)
    }

    /// How many delete calls the SageMaker resource of this name got.
    pub fn delete_calls(&self, name: &str) -> usize {
        self.count("Delete", name)
    }

    /// How many SageMaker resources of this name went away (deletions that finished).
    pub fn deleted(&self, name: &str) -> usize {
        lock(&self.shared.gone)
            .iter()
            .filter(|n| *n == name)
            .count()
    }

    /// Whether SageMaker knows a resource of this name now.
    pub fn exists(&self, name: &str) -> bool {
        self.created(name) > self.deleted(name)
    }
}

impl Drop for HostingController {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The SageMaker resource behind one custom resource.
#[derive(Debug, Clone)]
struct Remote {
    name: String,
    /// The SageMaker state (`""` for definitions).
    status: &'static str,
    outcome: HostingOutcome,
    created_at: f64,
    last_modified: f64,
    /// When the current Creating / Pending / InProgress / Updating phase began.
    phase_since: f64,
    /// Endpoint, MonitoringSchedule: the updatable fields SageMaker runs; the others: the
    /// spec (tags aside) at creation.
    applied: Value,
    /// The update in flight: its fields and how it ends.
    update: Option<(Value, UpdateOutcome)>,
    failure: Option<String>,
    deleting_since: Option<f64>,
}

/// The controller's memory of one object (by uid).
#[derive(Debug, Default)]
struct Tracked {
    /// The generation the last generation-triggered round saw, and its spec.
    generation: i64,
    spec: Value,
    /// A generation change seen at this time and not yet acted on.
    pending_since: Option<f64>,
    next_round: f64,
    remote: Option<Remote>,
    /// The SageMaker resource was deleted.
    gone: bool,
}

fn reconcile_all(
    store: &Store,
    o: &HostingControllerOptions,
    shared: &Shared,
    tracked: &mut HashMap<String, Tracked>,
    now: f64,
) -> Option<f64> {
    let r = o.kind.resource();
    let Ok((objects, _)) = store.list(&r, None, &Selector::default()) else {
        return None;
    };
    let mut next: Option<f64> = None;
    let mut seen = Vec::new();
    for obj in objects {
        let uid = text(&obj, "/metadata/uid").to_owned();
        let generation = obj
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let t = tracked.entry(uid.clone()).or_insert_with(|| Tracked {
            generation,
            spec: obj["spec"].clone(),
            next_round: now,
            ..Tracked::default()
        });
        seen.push(uid);
        if generation != t.generation && t.pending_since.is_none() {
            t.pending_since = Some(now);
        }
        let generation_due = t
            .pending_since
            .is_some_and(|since| now >= since + o.reaction_seconds);
        if generation_due {
            t.generation = generation;
            t.spec = obj["spec"].clone();
            t.pending_since = None;
        }
        if generation_due || now >= t.next_round {
            // A round before the change is acted on still sees the previous spec (and no
            // deletion).
            let stale = t.pending_since.is_some();
            let round = Round {
                store,
                o,
                shared,
                r: &r,
                obj: &obj,
                spec: t.spec.clone(),
                deleting: !stale && obj.pointer("/metadata/deletionTimestamp").is_some(),
                now,
            };
            t.next_round = round.run(t).map_or(f64::INFINITY, |after| now + after);
        }
        for at in [
            Some(t.next_round),
            t.pending_since.map(|s| s + o.reaction_seconds),
        ]
        .into_iter()
        .flatten()
        .filter(|at| at.is_finite())
        {
            next = Some(next.map_or(at, |n: f64| n.min(at)));
        }
    }
    tracked.retain(|uid, _| seen.contains(uid));
    next
}

fn text<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A condition without reason or timestamp (as the runtime writes them for errors).
fn condition(kind: &str, status: &str, message: &str) -> Value {
    json!({"type": kind, "status": status, "message": message})
}

/// What one round found, turned into conditions.
enum Verdict {
    /// `ACK.ResourceSynced` from the state hook: False while modifying.
    Hook,
    /// Sync returned nil (definitions): Synced True `Resource synced successfully`.
    Ok,
    /// A Recoverable error (requeue, refused create).
    Recoverable(String),
    /// A Terminal error (`not implemented`, `EndpointUpdateError`).
    Terminal(String),
}

struct Round<'a> {
    store: &'a Store,
    o: &'a HostingControllerOptions,
    shared: &'a Shared,
    r: &'a ResourceRef,
    obj: &'a Value,
    /// The spec this round acts on.
    spec: Value,
    deleting: bool,
    now: f64,
}

impl Round<'_> {
    fn kind(&self) -> &HostingKind {
        &self.o.kind
    }

    fn stamp(&self) -> String {
        time(self.now)
    }

    fn name(&self) -> &str {
        text(self.obj, "/metadata/name")
    }

    fn namespace(&self) -> &str {
        text(self.obj, "/metadata/namespace")
    }

    fn sagemaker_name(&self) -> String {
        self.spec
            .get(self.kind().name_field)
            .and_then(Value::as_str)
            .unwrap_or(self.name())
            .to_owned()
    }

    fn annotation(&self, key: &str) -> Option<&str> {
        self.obj
            .pointer("/metadata/annotations")?
            .get(key)?
            .as_str()
    }

    fn region(&self) -> &str {
        self.annotation(REGION_ANNOTATION)
            .filter(|r| !r.is_empty())
            .unwrap_or(&self.o.region)
    }

    fn arn(&self) -> Value {
        json!({
            "arn": format!(
                "arn:aws:sagemaker:{}:{}:{}/{}",
                self.region(),
                self.o.account_id,
                self.kind().arn_type,
                self.sagemaker_name().to_ascii_lowercase()
            ),
            "ownerAccountID": self.o.account_id,
            "region": self.region(),
            "partition": "aws",
        })
    }

    /// The updatable fields of the spec (Endpoint, MonitoringSchedule), or the whole spec
    /// without tags (the kinds without update).
    fn desired(&self) -> Value {
        let fields = self.kind().updatable_fields();
        if fields.is_empty() {
            let mut spec = self.spec.clone();
            if let Some(spec) = spec.as_object_mut() {
                spec.remove("tags");
            }
            return spec;
        }
        Value::Object(
            fields
                .iter()
                .map(|f| {
                    (
                        (*f).to_owned(),
                        self.spec.get(*f).cloned().unwrap_or(Value::Null),
                    )
                })
                .collect(),
        )
    }

    fn record(&self, verb: &str, name: &str) {
        lock(&self.shared.calls).push(SageMakerCall {
            operation: format!("{verb}{}", self.kind().kind),
            name: name.to_owned(),
            at: self.stamp(),
        });
    }

    fn write_status(&self, status: Value) {
        let _ = self.store.update(
            self.r,
            self.namespace(),
            self.name(),
            Subresource::Status,
            Change::Merge(json!({ "status": status })),
        );
    }

    fn write_main(&self, patch: Value) -> Option<Value> {
        self.store
            .update(
                self.r,
                self.namespace(),
                self.name(),
                Subresource::Main,
                Change::Merge(patch),
            )
            .ok()
    }

    fn finalizers(&self) -> Vec<String> {
        self.obj
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .map(|f| {
                f.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn release(&self) {
        let finalizer = self.kind().finalizer();
        let left: Vec<String> = self
            .finalizers()
            .into_iter()
            .filter(|f| *f != finalizer)
            .collect();
        self.write_main(json!({"metadata": {"finalizers": left}}));
    }

    /// The conditions of a round, in the runtime's order: Synced first when the state hook
    /// set it, conditions from errors, `ACK.LateInitialized`, Synced when `ensureConditions`
    /// set it, then `Ready`. `state` is the SageMaker state the hook read.
    fn conditions(
        &self,
        verdict: &Verdict,
        state: Option<&str>,
        late_initialized: bool,
    ) -> Vec<Value> {
        let kind = self.kind();
        let stamp = self.stamp();
        let stamped = |mut c: Value| {
            c["lastTransitionTime"] = json!(stamp);
            c
        };
        let hook = state.map(|state| {
            let synced = if kind.modifying(state) {
                "False"
            } else {
                "True"
            };
            stamped(condition(
                "ACK.ResourceSynced",
                synced,
                &format!("{} is in {state} status.", kind.kind),
            ))
        });
        let mut list = Vec::new();
        let mut synced = hook.clone();
        let mut problem = None;
        let mut ready_reason = None;
        match verdict {
            Verdict::Hook => {
                // The state's own Terminal (`SetTerminalState`), with a timestamp.
                if state == Some("Failed")
                    && matches!(
                        kind.class,
                        HostingClass::Endpoint | HostingClass::MonitoringSchedule
                    )
                {
                    problem = Some(stamped(condition(
                        "ACK.Terminal",
                        "True",
                        &format!(
                            "{} status reached terminal state: Failed. Check the FailureReason.",
                            kind.kind
                        ),
                    )));
                    ready_reason = Some("ACK.Terminal");
                }
            }
            Verdict::Ok => {
                let mut ok = stamped(condition(
                    "ACK.ResourceSynced",
                    "True",
                    "Resource synced successfully",
                ));
                ok["reason"] = json!("");
                synced = Some(ok);
            }
            Verdict::Recoverable(message) => {
                problem = Some(condition("ACK.Recoverable", "True", message));
                ready_reason = Some("ACK.Recoverable");
                if synced.is_none() {
                    let mut unknown = stamped(condition(
                        "ACK.ResourceSynced",
                        "Unknown",
                        "Unable to determine if desired resource state matches latest observed state",
                    ));
                    unknown["reason"] = json!(message);
                    synced = Some(unknown);
                }
            }
            Verdict::Terminal(message) => {
                problem = Some(condition("ACK.Terminal", "True", message));
                ready_reason = Some("ACK.Terminal");
                if kind.class == HostingClass::Endpoint {
                    // `CustomUpdateConditions`: Synced False with the error's message.
                    synced = Some(stamped(condition("ACK.ResourceSynced", "False", message)));
                } else if synced.is_none() {
                    let mut not = stamped(condition(
                        "ACK.ResourceSynced",
                        "False",
                        "Resource not synced",
                    ));
                    not["reason"] = json!("resource is in terminal condition");
                    synced = Some(not);
                }
            }
        }
        let synced = synced.unwrap_or_else(|| condition("ACK.ResourceSynced", "Unknown", ""));
        let hook_first = hook.is_some() && !matches!(verdict, Verdict::Ok);
        if hook_first {
            list.push(synced.clone());
        }
        list.extend(problem.clone());
        if late_initialized {
            list.push(stamped(condition(
                "ACK.LateInitialized",
                "True",
                "Late initialization successful",
            )));
        }
        if !hook_first {
            list.push(synced.clone());
        }
        let ready = match (ready_reason, &problem) {
            (Some(reason), Some(problem)) => {
                let mut ready = stamped(condition(
                    "Ready",
                    "False",
                    problem["message"].as_str().unwrap_or_default(),
                ));
                ready["reason"] = json!(reason);
                ready
            }
            _ => {
                let mut ready = synced.clone();
                ready["type"] = json!("Ready");
                ready
            }
        };
        list.push(ready);
        list
    }

    /// One round; the delay until the next one (`None`: no requeue).
    fn run(&self, t: &mut Tracked) -> Option<f64> {
        let finalizer = self.kind().finalizer();
        if self.deleting {
            if !self.finalizers().contains(&finalizer) {
                return None;
            }
            return self.delete(t);
        }
        if !self.finalizers().contains(&finalizer) {
            let mut list = self.finalizers();
            list.push(finalizer);
            self.write_main(json!({"metadata": {"finalizers": list}}));
        }
        if t.gone {
            return None;
        }
        let Some(remote) = &mut t.remote else {
            return self.create(t);
        };
        advance(remote, self.o, self.now);
        match self.kind().class {
            HostingClass::Definition | HostingClass::ModelPackageGroup => self.settle(remote),
            HostingClass::Endpoint => self.endpoint(remote),
            HostingClass::MonitoringSchedule => self.schedule(remote),
        }
    }

    /// Terminal errors are not requeued; Synced True waits for the resync.
    fn requeue_after(&self, verdict: &Verdict, conditions: &[Value]) -> Option<f64> {
        let synced = conditions
            .iter()
            .any(|c| c["type"] == "ACK.ResourceSynced" && c["status"] == "True");
        if matches!(verdict, Verdict::Terminal(_)) {
            None
        } else if synced {
            Some(self.o.resync_seconds)
        } else {
            Some(self.o.requeue_seconds)
        }
    }

    fn create(&self, t: &mut Tracked) -> Option<f64> {
        let (outcome, _) = lock(&self.shared.outcomes).clone();
        if let HostingOutcome::Rejected(message) = &outcome {
            let conditions = self.conditions(&Verdict::Recoverable(message.clone()), None, false);
            self.write_status(json!({ "conditions": conditions }));
            return Some(self.o.requeue_seconds);
        }
        let kind = self.kind();
        let name = self.sagemaker_name();
        self.record("Create", &name);
        let mut applied = self.desired();
        if kind.late_initialized && self.spec.get("enableNetworkIsolation").is_none() {
            // The controller's own spec write is not a change it has to act on.
            if let Some(after) = self.write_main(json!({"spec": {"enableNetworkIsolation": false}}))
            {
                t.generation = after
                    .pointer("/metadata/generation")
                    .and_then(Value::as_i64)
                    .unwrap_or(t.generation);
                t.spec = after["spec"].clone();
            }
            applied["enableNetworkIsolation"] = json!(false);
        }
        let status = match kind.class {
            HostingClass::Definition => "",
            HostingClass::Endpoint => "Creating",
            HostingClass::MonitoringSchedule | HostingClass::ModelPackageGroup => "Pending",
        };
        let remote = Remote {
            name,
            status,
            outcome,
            created_at: self.now,
            last_modified: self.now,
            phase_since: self.now,
            applied,
            update: None,
            failure: None,
            deleting_since: None,
        };
        let mut written = json!({ "ackResourceMetadata": self.arn() });
        let (verdict, conditions) = match kind.state_field() {
            None => (
                Verdict::Ok,
                self.conditions(&Verdict::Ok, None, kind.late_initialized),
            ),
            Some(field) => {
                written[field] = json!(status);
                (
                    Verdict::Hook,
                    self.conditions(&Verdict::Hook, Some(status), false),
                )
            }
        };
        written["conditions"] = json!(conditions);
        self.write_status(written);
        t.remote = Some(remote);
        self.requeue_after(&verdict, &conditions)
    }

    /// Definitions and ModelPackageGroup: the state, or `not implemented` for an edit.
    fn settle(&self, remote: &Remote) -> Option<f64> {
        let kind = self.kind();
        let state = kind.state_field().map(|_| remote.status);
        let verdict = if self.desired() != remote.applied {
            Verdict::Terminal("not implemented".into())
        } else if state.is_some() {
            Verdict::Hook
        } else {
            Verdict::Ok
        };
        let late = kind.late_initialized && !matches!(verdict, Verdict::Terminal(_));
        let conditions = self.conditions(&verdict, state, late);
        let mut status = json!({ "ackResourceMetadata": self.arn(), "conditions": conditions });
        if let Some(field) = kind.state_field() {
            status[field] = json!(remote.status);
        }
        self.write_status(status);
        self.requeue_after(&verdict, &conditions)
    }

    fn endpoint(&self, remote: &mut Remote) -> Option<f64> {
        let desired = self.desired();
        let mut status = self.describe(remote);
        let state = remote.status;
        let verdict = if desired == remote.applied {
            Verdict::Hook
        } else if self.kind().modifying(state) {
            Verdict::Recoverable(format!(
                "Endpoint in {state} state cannot be modified or deleted."
            ))
        } else if state == "Failed"
            || (remote
                .failure
                .as_deref()
                .is_some_and(|f| !f.starts_with("Request to service failed"))
                && self
                    .annotation(LAST_ENDPOINT_CONFIG_ANNOTATION)
                    .is_some_and(|a| desired["endpointConfigName"] == a))
        {
            Verdict::Terminal(format!(
                "api error EndpointUpdateError: unable to update endpoint. check FailureReason. latest EndpointConfigName is {}",
                remote.applied["endpointConfigName"]
                    .as_str()
                    .unwrap_or_default()
            ))
        } else {
            let (_, outcome) = lock(&self.shared.outcomes).clone();
            self.record("Update", &remote.name);
            remote.status = "Updating";
            remote.phase_since = self.now;
            remote.last_modified = self.now.max(remote.last_modified.floor() + 1.0);
            remote.update = Some((desired.clone(), outcome));
            // The annotation is written with the spec, before the status.
            self.write_main(json!({"metadata": {"annotations": {
                LAST_ENDPOINT_CONFIG_ANNOTATION: desired["endpointConfigName"],
            }}}));
            // The status of the update call's answer: the persisted fields, Updating.
            let conditions = self.conditions(&Verdict::Hook, Some("Updating"), false);
            self.write_status(json!({"endpointStatus": "Updating", "conditions": conditions}));
            return self.requeue_after(&Verdict::Hook, &conditions);
        };
        let conditions = self.conditions(&verdict, Some(state), false);
        status["conditions"] = json!(conditions);
        self.write_status(status);
        self.requeue_after(&verdict, &conditions)
    }

    fn schedule(&self, remote: &mut Remote) -> Option<f64> {
        let desired = self.desired();
        let mut status = self.describe(remote);
        let state = remote.status;
        let verdict = if desired == remote.applied {
            Verdict::Hook
        } else if self.kind().modifying(state) {
            Verdict::Recoverable(format!(
                "MonitoringSchedule in {state} state cannot be modified or deleted."
            ))
        } else {
            let (_, outcome) = lock(&self.shared.outcomes).clone();
            self.record("Update", &remote.name);
            remote.status = "Pending";
            remote.phase_since = self.now;
            remote.last_modified = self.now.max(remote.last_modified.floor() + 1.0);
            remote.applied = desired.clone();
            remote.failure = None;
            remote.update = Some((desired, outcome));
            // Synced from a hard-coded Pending; the status field keeps the persisted value.
            let conditions = self.conditions(&Verdict::Hook, Some("Pending"), false);
            self.write_status(json!({ "conditions": conditions }));
            return self.requeue_after(&Verdict::Hook, &conditions);
        };
        let conditions = self.conditions(&verdict, Some(state), false);
        status["conditions"] = json!(conditions);
        self.write_status(status);
        self.requeue_after(&verdict, &conditions)
    }

    /// The status fields a Describe gives.
    fn describe(&self, remote: &Remote) -> Value {
        let kind = self.kind();
        let mut status = json!({ "ackResourceMetadata": self.arn() });
        if let Some(field) = kind.state_field() {
            status[field] = json!(remote.status);
        }
        if kind.class == HostingClass::ModelPackageGroup || kind.class == HostingClass::Definition {
            return status;
        }
        status["failureReason"] = json!(remote.failure);
        status["creationTime"] = json!(time(remote.created_at));
        status["lastModifiedTime"] = json!(time(remote.last_modified));
        if kind.class == HostingClass::Endpoint {
            let config = remote.applied["endpointConfigName"]
                .as_str()
                .unwrap_or_default();
            status["productionVariants"] = match remote.status {
                "Creating" | "Failed" => Value::Null,
                _ => json!(self.variants(config)),
            };
            status["pendingDeploymentSummary"] = match (&remote.update, remote.status) {
                (Some((target, _)), "Updating") => json!({
                    "endpointConfigName": target["endpointConfigName"],
                    "startTime": time(remote.phase_since),
                }),
                _ => Value::Null,
            };
        }
        status
    }

    /// The production variants of the EndpointConfig custom resource that names `config`
    /// in this namespace, if the bed serves one; one `AllTraffic` variant otherwise.
    fn variants(&self, config: &str) -> Vec<Value> {
        let configs = HostingKind::endpoint_config().resource();
        let from_config: Vec<Value> = self
            .store
            .list(&configs, Some(self.namespace()), &Selector::default())
            .map(|(items, _)| items)
            .unwrap_or_default()
            .into_iter()
            .find(|c| {
                c.pointer("/spec/endpointConfigName")
                    .and_then(Value::as_str)
                    == Some(config)
            })
            .and_then(|c| c.pointer("/spec/productionVariants").cloned())
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        let variant = |v: &Value| {
            let count = v["initialInstanceCount"].as_i64().unwrap_or(1);
            let weight = v["initialVariantWeight"].as_f64().unwrap_or(1.0);
            json!({
                "variantName": v["variantName"].as_str().unwrap_or("AllTraffic"),
                "currentInstanceCount": count,
                "desiredInstanceCount": count,
                "currentWeight": weight,
                "desiredWeight": weight,
            })
        };
        if from_config.is_empty() {
            vec![variant(&json!({}))]
        } else {
            from_config.iter().map(variant).collect()
        }
    }

    /// The delete patterns: plain for definitions, delete-and-wait for the rest.
    fn delete(&self, t: &mut Tracked) -> Option<f64> {
        let Some(remote) = &mut t.remote else {
            self.release();
            return None;
        };
        if advance(remote, self.o, self.now) {
            lock(&self.shared.gone).push(remote.name.clone());
            t.remote = None;
            t.gone = true;
            self.release();
            return None;
        }
        let kind = self.kind();
        let state = remote.status;
        let deleting_conditions = |message: String, state: &str| {
            let conditions = self.conditions(&Verdict::Hook, Some(state), false);
            vec![
                conditions[0].clone(),
                condition("ACK.Recoverable", "True", &message),
            ]
        };
        let (field, conditions) = match kind.class {
            HostingClass::Definition => {
                self.record("Delete", &remote.name);
                lock(&self.shared.gone).push(remote.name.clone());
                t.remote = None;
                t.gone = true;
                self.release();
                return None;
            }
            HostingClass::Endpoint | HostingClass::ModelPackageGroup => {
                let field = kind.state_field().unwrap_or_default();
                if kind.modifying(state) {
                    (
                        None,
                        deleting_conditions(
                            format!(
                                "{} in {state} state cannot be modified or deleted.",
                                kind.kind
                            ),
                            state,
                        ),
                    )
                } else {
                    self.record("Delete", &remote.name);
                    remote.status = "Deleting";
                    remote.deleting_since = Some(self.now);
                    let message = if kind.class == HostingClass::Endpoint {
                        "Endpoint is Deleting."
                    } else {
                        "ModelPackageGroup is deleting."
                    };
                    (
                        Some((field, "Deleting")),
                        deleting_conditions(message.into(), "Deleting"),
                    )
                }
            }
            HostingClass::MonitoringSchedule => {
                if kind.modifying(state) {
                    (
                        None,
                        deleting_conditions(
                            format!(
                                "MonitoringSchedule in {state} state cannot be modified or deleted."
                            ),
                            state,
                        ),
                    )
                } else {
                    // No Deleting state: the delete is called again every round.
                    self.record("Delete", &remote.name);
                    remote.deleting_since.get_or_insert(self.now);
                    (
                        None,
                        deleting_conditions("MonitoringSchedule is Deleting.".into(), state),
                    )
                }
            }
        };
        let mut status = json!({ "conditions": conditions });
        if let Some((field, value)) = field {
            status[field] = json!(value);
        }
        self.write_status(status);
        Some(self.o.requeue_seconds)
    }
}

/// The simulated time as RFC 3339.
fn time(simulated: f64) -> String {
    #[allow(clippy::cast_possible_truncation)]
    rfc3339(SIMULATED_EPOCH + simulated.floor() as i64)
}

/// Moves the SageMaker resource along its timers; true once it is gone (deleted).
fn advance(remote: &mut Remote, o: &HostingControllerOptions, now: f64) -> bool {
    if let Some(since) = remote.deleting_since {
        return now >= since + o.delete_seconds;
    }
    let class = o.kind.class;
    let created = remote.phase_since + o.create_seconds;
    let updated = remote.phase_since + o.update_seconds;
    match (class, remote.status) {
        (HostingClass::Endpoint, "Creating") | (HostingClass::MonitoringSchedule, "Pending")
            if remote.update.is_none() && now >= created =>
        {
            remote.last_modified = created;
            match &remote.outcome {
                HostingOutcome::Fails(reason) => {
                    remote.status = "Failed";
                    remote.failure = Some(reason.clone());
                }
                HostingOutcome::Stops if class == HostingClass::Endpoint => {
                    remote.status = "OutOfService";
                }
                HostingOutcome::Stops => remote.status = "Stopped",
                HostingOutcome::Succeeds | HostingOutcome::Rejected(_) => {
                    remote.status = if class == HostingClass::Endpoint {
                        "InService"
                    } else {
                        "Scheduled"
                    };
                }
            }
        }
        (HostingClass::Endpoint, "Updating") | (HostingClass::MonitoringSchedule, "Pending")
            if remote.update.is_some() && now >= updated =>
        {
            remote.last_modified = updated.max(remote.last_modified);
            if let Some((target, outcome)) = remote.update.take() {
                match (class, outcome) {
                    (HostingClass::Endpoint, UpdateOutcome::Succeeds) => {
                        remote.status = "InService";
                        remote.applied = target;
                        remote.failure = None;
                    }
                    (HostingClass::Endpoint, UpdateOutcome::RollsBack(reason)) => {
                        remote.status = "InService";
                        remote.failure = Some(reason);
                    }
                    (_, UpdateOutcome::Succeeds) => remote.status = "Scheduled",
                    (_, UpdateOutcome::RollsBack(reason)) => {
                        remote.status = "Failed";
                        remote.failure = Some(reason);
                    }
                }
            }
        }
        (HostingClass::ModelPackageGroup, "Pending" | "InProgress") => {
            if now >= created {
                remote.last_modified = created;
                remote.status = match remote.outcome {
                    HostingOutcome::Fails(_) => "Failed",
                    _ => "Completed",
                };
            } else if now >= remote.phase_since + o.create_seconds / 2.0 {
                remote.status = "InProgress";
            }
        }
        _ => {}
    }
    false
}
