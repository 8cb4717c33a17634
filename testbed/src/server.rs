//! [`TestBed`]: the API double, a hand-written Kubernetes API server for **namespaced custom
//! resources** on `127.0.0.1:<ephemeral port>` (plain HTTP) with an in-memory store. No test
//! of the launcher uses it any more (its outcomes run on the real ACK controller, its use of
//! the API against the real kube-apiserver, [`crate::FaultProxy`]); it is removed next. It owns a thread with a
//! current-thread tokio runtime, so plain `#[test]` functions, async tests and separately
//! spawned processes can all use it, and dropping it stops everything it started.
//!
//! ## What it emulates
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
//! TLS, authentication and authorization (any or no token is accepted), HTTP/2, protobuf,
//! core resources (pods, namespaces: namespaces need not exist), cluster-scoped resources,
//! server-side apply and managedFields, strategic merge patch, deletecollection, propagation
//! policies and garbage collection, label-selector transitions in watches (events are
//! filtered on the new object only), `resourceVersionMatch` on lists (lists always serve the
//! latest state), CRD version conversion, defaulting, CEL and other validation keywords
//! (pattern, min/max, maxLength), aggregated discovery, and admission webhooks. When the last
//! finalizer is removed, the DELETED event carries the object as patched (the real server
//! sends its previous state).
//!
//! ## Faults
//! The [`crate::Fault`]s that need no real server behind them: delays, status answers and
//! 429s ([`Faults`]). The others are the [`crate::FaultProxy`]'s.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::ResourceRef;
use crate::api_error::ApiError;
use crate::crd::{Crd, CrdError};
use crate::http::{self, Ctx};
use crate::proxy::fault::{Action, Rules};
use crate::proxy::{Fault, RequestLog, Verb};
use crate::store::{Store, StoredEvent};

/// How to start a [`TestBed`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Send a BOOKMARK this often on watches with `allowWatchBookmarks=true`
    /// (`None`: only the initial-events-end bookmark of `sendInitialEvents`).
    pub bookmark_interval: Option<Duration>,
    /// Events kept for watches resuming from a resourceVersion; older ones get 410 Gone.
    pub history_limit: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bookmark_interval: Some(Duration::from_secs(1)),
            history_limit: 10_000,
        }
    }
}

/// The server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Binding 127.0.0.1:0 or building the runtime failed.
    #[error("cannot start the test bed: {0}")]
    Io(#[from] std::io::Error),
}

/// The faults the double applies: the [`Fault`]s that need no real server behind them (a
/// delay, a status answer, a 429). The others (lost answers, watch errors, ended or reset
/// watches, refused connections) are the [`crate::FaultProxy`]'s alone: the double answers
/// them with 501.
#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<Rules>);

impl Faults {
    /// Adds a fault rule after the existing ones.
    pub fn inject(&self, fault: Fault) {
        self.0.add(fault);
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.0.clear();
    }

    /// The delay and the error answer for one request.
    pub(crate) fn decide(&self, verb: Verb, path: &str) -> (Option<Duration>, Option<ApiError>) {
        let decision = self.0.decide(verb, path);
        let error = decision.answer.map(|answer| match answer {
            Action::Status(code) => ApiError::injected(code),
            Action::TooManyRequests(secs) => ApiError::too_many_requests(u64::from(secs)),
            _ => ApiError::not_in_the_double(),
        });
        (decision.delay, error)
    }
}

/// The object did not reach the awaited state in time; carries its last state.
#[derive(Debug, Clone, thiserror::Error)]
#[error("timed out waiting for the object; last state: {last:?}")]
pub struct WaitTimeout {
    /// The object when the wait gave up (`None`: absent).
    pub last: Option<Value>,
}

/// A running API server double (see the crate docs). Dropping it stops the server and every
/// open connection.
#[derive(Debug)]
pub struct TestBed {
    addr: SocketAddr,
    base_url: String,
    store: Arc<Store>,
    faults: Faults,
    log: RequestLog,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestBed {
    /// Starts a server with default [`Options`] and no CRDs.
    pub fn start() -> Result<TestBed, StartError> {
        Self::start_with(Options::default())
    }

    /// Starts a server with the TrainingJob CRD vendored in the workspace registered.
    pub fn start_for_training_jobs() -> Result<TestBed, Box<dyn std::error::Error + Send + Sync>> {
        let bed = Self::start()?;
        bed.register_crd(Crd::from_file(training_job_crd_path())?);
        Ok(bed)
    }

    /// Starts a server.
    pub fn start_with(options: Options) -> Result<TestBed, StartError> {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = std_listener.local_addr()?;
        let store = Arc::new(Store::new(options.history_limit));
        let faults = Faults::default();
        std_listener.set_nonblocking(true)?;
        let log = RequestLog::default();
        let ctx = Ctx {
            store: store.clone(),
            faults: faults.clone(),
            log: log.clone(),
            addr,
            bookmark_interval: options.bookmark_interval,
        };
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        // The runtime is built, used and dropped on its own thread: never inside a caller's
        // async context, where blocking or dropping a runtime would panic.
        let thread = std::thread::Builder::new()
            .name("testbed-apiserver".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let listener = match runtime
                    .block_on(async { tokio::net::TcpListener::from_std(std_listener) })
                {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                runtime.block_on(http::serve(ctx, listener, shutdown_rx));
                runtime.shutdown_background();
            })?;
        ready_rx
            .recv()
            .map_err(|_| std::io::Error::other("test bed thread ended early"))??;
        Ok(TestBed {
            addr,
            base_url: format!("http://{addr}"),
            store,
            faults,
            log,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves a CRD (replacing one with the same group and plural) and names its first version.
    pub fn register_crd(&self, crd: Crd) -> ResourceRef {
        let r = crd.resource();
        self.store.register(crd);
        r
    }

    /// Parses CRD YAML text and serves it.
    pub fn register_crd_yaml(&self, yaml: &str) -> Result<ResourceRef, CrdError> {
        Ok(self.register_crd(Crd::from_yaml(yaml)?))
    }

    /// Every request received so far.
    pub fn requests(&self) -> &RequestLog {
        &self.log
    }

    /// Fault controls.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Kubeconfig YAML pointing at this server with a dummy token and `namespace` as the
    /// context's namespace.
    pub fn kubeconfig_yaml(&self, namespace: &str) -> String {
        crate::kubeconfig::render(&self.base_url, namespace, None, crate::kubeconfig::TOKEN)
    }

    /// Writes [`Self::kubeconfig_yaml`] to `path` (for `KUBECONFIG=path` in a child process).
    pub fn write_kubeconfig(&self, path: impl AsRef<Path>, namespace: &str) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig_yaml(namespace))
    }

    /// Creates an object in-process (same rules as `POST`, not logged, no faults).
    pub fn create(
        &self,
        r: &ResourceRef,
        namespace: &str,
        object: Value,
    ) -> Result<Value, ApiError> {
        self.store.create(r, namespace, object, false)
    }

    /// Reads an object in-process.
    pub fn get(&self, r: &ResourceRef, namespace: &str, name: &str) -> Option<Value> {
        self.store.get(r, namespace, name).ok()
    }

    /// Deletes an object in-process (same rules as `DELETE`: finalizers keep it).
    pub fn delete(&self, r: &ResourceRef, namespace: &str, name: &str) -> Result<Value, ApiError> {
        self.store.delete(r, namespace, name, None)
    }

    /// Every retained change of one object, oldest first: the exact sequence a watcher from
    /// before its creation would have seen.
    pub fn history(&self, r: &ResourceRef, namespace: &str, name: &str) -> Vec<StoredEvent> {
        self.store.object_history(r, namespace, name)
    }

    /// Blocks until `pred` holds for the object (`None` = absent), woken by every write.
    /// Do not call it from inside the test bed's own runtime.
    pub fn wait_for(
        &self,
        r: &ResourceRef,
        namespace: &str,
        name: &str,
        timeout: Duration,
        pred: impl FnMut(Option<&Value>) -> bool,
    ) -> Result<Option<Value>, WaitTimeout> {
        self.store
            .wait_for(r, namespace, name, timeout, pred)
            .map_err(|last| WaitTimeout { last })
    }
}

impl Drop for TestBed {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The TrainingJob CRD vendored in the workspace (`crds/sagemaker-controller/...`).
pub fn training_job_crd_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crds/sagemaker-controller/sagemaker.services.k8s.aws_trainingjobs.yaml")
}

/// A file of `testbed/fixtures/` (sample TrainingJob custom resources).
pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// A fixture parsed from YAML into JSON.
pub fn fixture(name: &str) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
    let text = std::fs::read_to_string(fixture_path(name))?;
    Ok(serde_saphyr::from_str(&text)?)
}
