//! The simulated ACK SageMaker controller (sagemaker-controller v1.9.1 on ACK runtime
//! v0.62.0) for TrainingJob custom resources.
//!
//! It runs **in-process on the store** (not through HTTP): its writes follow exactly the
//! same rules as API writes (finalizers, generation, status subresource, no-op detection)
//! and produce the same watch events, but they are neither logged in the request log nor
//! subject to injected faults, so a test's request log shows only its client's traffic.
//!
//! Like controller-runtime, it keeps one worker per object, triggered by ADDED events and by
//! MODIFIED events that change `metadata.generation` (the `GenerationChanged` predicate:
//! status and annotation edits do not trigger), and by its own requeue timers. Simulated
//! seconds (30 s requeue, 300 s resync, backoff) are scaled by
//! [`ControllerOptions::time_scale`]. Status timestamps come from a per-object simulated
//! clock starting at 2025-01-01T00:00:00Z, so they are deterministic.

pub(crate) mod hosting;
pub(crate) mod jobs;
mod reconcile;
mod remote;
mod sagemaker;
mod scenario;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Notify;
use tokio::task::AbortHandle;

pub use hosting::{
    HostingClass, HostingController, HostingControllerOptions, HostingKind, HostingOutcome,
    LAST_ENDPOINT_CONFIG_ANNOTATION, SageMakerCall, UpdateOutcome,
};
pub use jobs::{JobController, JobControllerOptions, JobKind, JobOutcome};
pub use reconcile::{DELETION_POLICY_ANNOTATION, FINALIZER, REGION_ANNOTATION, UNMANAGED_REASON};
pub use remote::ClusterController;
pub use sagemaker::AwsCall;
pub use scenario::{
    AwsError, JobState, JobStatus, RuleState, Scenario, SdkVersion, TERMINAL_CODES, request_id,
};

use crate::ResourceRef;
use crate::selector::Selector;
use crate::store::{Change, EventType, Store, Subresource};
use reconcile::{Next, Reconciler};
use sagemaker::FakeSageMaker;

/// The served resource of a SageMaker kind (`sagemaker.services.k8s.aws/v1alpha1`), for
/// the simulated controllers of every kind.
pub(crate) fn sagemaker_resource(plural: &str) -> ResourceRef {
    ResourceRef {
        group: "sagemaker.services.k8s.aws".into(),
        version: "v1alpha1".into(),
        plural: plural.into(),
    }
}

/// The finalizer the controller puts on a resource of `kind`.
pub(crate) fn sagemaker_finalizer(kind: &str) -> String {
    format!("finalizers.sagemaker.services.k8s.aws/{kind}")
}

/// The vendored CRD of the kind with this plural, as YAML.
pub(crate) fn vendored_crd(plural: &str) -> std::io::Result<String> {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
            "../crds/sagemaker-controller/sagemaker.services.k8s.aws_{plural}.yaml"
        )),
    )
}

/// 2025-01-01T00:00:00Z: where every object's simulated clock starts.
pub const SIMULATED_EPOCH: i64 = 1_735_689_600;

/// How the simulated controller behaves.
#[derive(Debug, Clone)]
pub struct ControllerOptions {
    /// Real time per simulated second (default 1 ms: a 30 s requeue takes 30 ms).
    pub time_scale: Duration,
    /// Default AWS region (overridden per object by the `services.k8s.aws/region` annotation).
    pub region: String,
    /// AWS account id (`ownerAccountID`, ARNs).
    pub account_id: String,
    /// Resync period after a successful, synced reconcile (`requeue_on_success_seconds`).
    pub resync_seconds: u64,
    /// The scenario of jobs without a per-name scenario.
    pub scenario: Scenario,
    /// The resource to reconcile (default: TrainingJob v1alpha1).
    pub resource: ResourceRef,
}

impl Default for ControllerOptions {
    fn default() -> Self {
        ControllerOptions {
            time_scale: Duration::from_millis(1),
            region: "us-west-2".into(),
            account_id: "123456789012".into(),
            resync_seconds: 300,
            scenario: Scenario::completes(),
            resource: ResourceRef::training_job(),
        }
    }
}

/// State shared by the handle, the event loop and the workers.
#[derive(Debug)]
pub(crate) struct Shared {
    options: ControllerOptions,
    sagemaker: Mutex<FakeSageMaker>,
    scenarios: Mutex<(Scenario, BTreeMap<String, Scenario>)>,
    stopped: AtomicBool,
    /// While set, reconciles are skipped (requeued), as if the controller were down.
    paused: AtomicBool,
    /// Held during every reconcile, so `stop` can wait for the one in flight.
    in_flight: Mutex<()>,
    tasks: Mutex<Vec<AbortHandle>>,
    reconciles: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where the reconciler reads and writes objects: the double's in-process store, or a real
/// API server through kube-rs ([`remote`]). A write answers `None` when the object is gone
/// or the write was refused; the reconciler then retries on its next run, as ACK does.
pub(crate) trait Objects: Send + Sync {
    /// The object as JSON, `Ok(None)` if there is none, `Err` if the server did not answer
    /// (the reconcile is retried later, as controller-runtime requeues on errors).
    fn fetch(&self, r: &ResourceRef, ns: &str, name: &str) -> Result<Option<Value>, Unavailable>;
    /// A JSON merge patch of the object or its `/status`; the object after it.
    fn merge_patch(
        &self,
        r: &ResourceRef,
        ns: &str,
        name: &str,
        sub: Subresource,
        patch: Value,
    ) -> Option<Value>;
}

/// The API server did not answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unavailable;

impl Objects for Store {
    fn fetch(&self, r: &ResourceRef, ns: &str, name: &str) -> Result<Option<Value>, Unavailable> {
        Ok(self.get(r, ns, name).ok())
    }

    fn merge_patch(
        &self,
        r: &ResourceRef,
        ns: &str,
        name: &str,
        sub: Subresource,
        patch: Value,
    ) -> Option<Value> {
        self.update(r, ns, name, sub, Change::Merge(patch)).ok()
    }
}

impl Shared {
    pub(crate) fn sagemaker(&self) -> MutexGuard<'_, FakeSageMaker> {
        lock(&self.sagemaker)
    }

    pub(crate) fn scenario_for(&self, job: &str) -> Scenario {
        let s = lock(&self.scenarios);
        s.1.get(job).cloned().unwrap_or_else(|| s.0.clone())
    }

    fn track(&self, h: AbortHandle) {
        lock(&self.tasks).push(h);
    }
}

/// Handle of a running simulated controller. Dropping the handle does not stop it (the
/// controller lives until [`Controller::stop`] or until the [`crate::TestBed`] is dropped).
#[derive(Debug)]
pub struct Controller {
    shared: Arc<Shared>,
}

impl Controller {
    pub(crate) fn start(
        store: Arc<Store>,
        handle: &tokio::runtime::Handle,
        options: ControllerOptions,
    ) -> Controller {
        let shared = Self::new_shared(options);
        let task = handle.spawn(event_loop(shared.clone(), store));
        shared.track(task.abort_handle());
        Controller { shared }
    }

    fn new_shared(options: ControllerOptions) -> Arc<Shared> {
        Arc::new(Shared {
            sagemaker: Mutex::new(FakeSageMaker::new(&options.region, &options.account_id)),
            scenarios: Mutex::new((options.scenario.clone(), BTreeMap::new())),
            options,
            stopped: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            in_flight: Mutex::new(()),
            tasks: Mutex::new(Vec::new()),
            reconciles: AtomicU64::new(0),
        })
    }

    /// The scenario for jobs created from now on that have no per-name scenario.
    pub fn set_scenario(&self, scenario: Scenario) {
        lock(&self.shared.scenarios).0 = scenario;
    }

    /// The scenario for the job with this `spec.trainingJobName`.
    pub fn set_scenario_for(&self, training_job_name: &str, scenario: Scenario) {
        lock(&self.shared.scenarios)
            .1
            .insert(training_job_name.into(), scenario);
    }

    /// Makes SageMaker already know a job of this name, created outside this controller and
    /// staying in `state`: a custom resource with that name gets the terminal
    /// `Resource already exists` condition, with the status of this old job.
    pub fn add_existing_job(&self, training_job_name: &str, state: JobState) {
        self.shared
            .sagemaker()
            .add_existing(training_job_name, state, SIMULATED_EPOCH);
    }

    /// Stops the controller: waits for the reconcile in flight, then no more writes happen.
    pub fn stop(&self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        let _guard = lock(&self.shared.in_flight);
        for t in lock(&self.shared.tasks).drain(..) {
            t.abort();
        }
    }

    /// Pauses (true) or resumes (false) reconciling; pausing waits for the reconcile in
    /// flight, so no write of the controller follows it. A paused controller keeps its
    /// SageMaker state, unlike a stopped one.
    pub fn set_paused(&self, paused: bool) {
        self.shared.paused.store(paused, Ordering::SeqCst);
        let _guard = lock(&self.shared.in_flight);
    }

    /// Every SageMaker API call so far.
    pub fn aws_calls(&self) -> Vec<AwsCall> {
        self.shared.sagemaker().calls.clone()
    }

    /// How many reconciles ran.
    pub fn reconcile_count(&self) -> u64 {
        self.shared.reconciles.load(Ordering::SeqCst)
    }
}

type Key = (String, String);

/// Follows the store's events like an informer and triggers the per-object workers.
async fn event_loop(shared: Arc<Shared>, store: Arc<Store>) {
    let r = shared.options.resource.clone();
    let mut changes = store.subscribe();
    let mut workers: HashMap<Key, Arc<Notify>> = HashMap::new();
    let mut generations: HashMap<Key, i64> = HashMap::new();
    let generation = |o: &Value| {
        o.pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0)
    };
    let key = |o: &Value| {
        let s = |p: &str| {
            o.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        (s("/metadata/namespace"), s("/metadata/name"))
    };
    let enqueue = |k: Key, workers: &mut HashMap<Key, Arc<Notify>>| {
        let notify = workers.entry(k.clone()).or_insert_with(|| {
            let n = Arc::new(Notify::new());
            let objects: Arc<dyn Objects> = store.clone();
            let task = tokio::spawn(worker(shared.clone(), objects, false, k, n.clone()));
            shared.track(task.abort_handle());
            n
        });
        notify.notify_one();
    };
    let mut cursor = 0;
    let mut relist = true;
    loop {
        if relist {
            relist = false;
            let Ok((items, rv)) = store.list(&r, None, &Selector::default()) else {
                return;
            };
            // Like an informer's relist through the GenerationChanged predicate: only objects
            // that are new or whose generation moved are reconciled.
            for o in items {
                if generations.insert(key(&o), generation(&o)) != Some(generation(&o)) {
                    enqueue(key(&o), &mut workers);
                }
            }
            cursor = rv;
        }
        match store.events_since(cursor) {
            Err(_) => relist = true,
            Ok((events, now)) => {
                for e in events
                    .iter()
                    .filter(|e| e.group == r.group && e.plural == r.plural)
                {
                    let k = key(&e.object);
                    match e.event_type {
                        EventType::Added => {
                            generations.insert(k.clone(), generation(&e.object));
                            enqueue(k, &mut workers);
                        }
                        EventType::Modified => {
                            let g = generation(&e.object);
                            if generations.insert(k.clone(), g) != Some(g) {
                                enqueue(k, &mut workers);
                            }
                        }
                        EventType::Deleted => {
                            generations.remove(&k);
                            if let Some(n) = workers.remove(&k) {
                                n.notify_one();
                            }
                        }
                    }
                }
                cursor = now;
            }
        }
        if !relist && changes.changed().await.is_err() {
            return;
        }
    }
}

/// Reconciles one object whenever triggered or when its requeue timer fires. With
/// `blocking` (a real API server), each reconcile runs on a blocking thread, since its
/// requests wait for answers.
async fn worker(
    shared: Arc<Shared>,
    objects: Arc<dyn Objects>,
    blocking: bool,
    key: Key,
    notify: Arc<Notify>,
) {
    let mut clock = 0.0f64;
    let mut state = (0u32, None::<String>);
    let mut next: Option<tokio::time::Instant> = None;
    loop {
        match next {
            Some(at) => tokio::select! {
                () = notify.notified() => {}
                () = tokio::time::sleep_until(at) => {}
            },
            None => notify.notified().await,
        }
        let outcome = if blocking {
            let (shared, objects, key) = (shared.clone(), objects.clone(), key.clone());
            let mut moved = std::mem::take(&mut state);
            let Ok((outcome, back)) = tokio::task::spawn_blocking(move || {
                let outcome = reconcile_once(&shared, &*objects, &key, clock, &mut moved);
                (outcome, moved)
            })
            .await
            else {
                return;
            };
            state = back;
            outcome
        } else {
            reconcile_once(&shared, &*objects, &key, clock, &mut state)
        };
        next = match outcome {
            None | Some(Next::Done) => return,
            Some(Next::Idle) => None,
            Some(Next::After(secs)) => {
                clock += secs;
                Some(tokio::time::Instant::now() + shared.options.time_scale.mul_f64(secs))
            }
        };
    }
}

/// One reconcile under the in-flight lock; `None` once the controller is stopped.
/// `state` is the worker's failure count and the uid it is pinned to.
fn reconcile_once(
    shared: &Shared,
    objects: &dyn Objects,
    key: &Key,
    clock: f64,
    state: &mut (u32, Option<String>),
) -> Option<Next> {
    let _guard = lock(&shared.in_flight);
    if shared.stopped.load(Ordering::SeqCst) {
        return None;
    }
    if shared.paused.load(Ordering::SeqCst) {
        return Some(Next::After(1.0));
    }
    shared.reconciles.fetch_add(1, Ordering::SeqCst);
    #[allow(clippy::cast_possible_truncation)]
    let now = SIMULATED_EPOCH + clock as i64;
    Some(
        Reconciler {
            store: objects,
            r: &shared.options.resource,
            ns: &key.0,
            name: &key.1,
            shared,
            now,
        }
        .run(&mut state.0, &mut state.1),
    )
}
