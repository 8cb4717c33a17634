//! The real ACK SageMaker controller on a real kube-apiserver, with our SageMaker API
//! ([`sagemaker_emulator`]): one [`AckStack`] per test binary, a [`Namespace`] per test,
//! a SageMaker [`Script`] per resource name, SageMaker's call log to assert on.
//!
//! ```no_run
//! use sagemaker_emulator::Script;
//! use testbed::ack::{AckStack, Kind};
//!
//! let stack = AckStack::shared();
//! let ns = stack.namespace("training-success");
//! let name = ns.sagemaker_name("train");
//! stack.sagemaker.script(&name, Script::fails("AlgorithmError: out of memory"));
//! // ... create the resource (ns.create(...)) or run the launcher with ns.admin_kubeconfig() ...
//! let done = ns.wait(Kind::TrainingJob, &name, "Failed", |r| {
//!     r["status"]["trainingJobStatus"] == "Failed"
//! });
//! assert_eq!(stack.sagemaker.count(&name, "CreateTrainingJob"), 1);
//! # let _ = done;
//! ```
//!
//! A [`Namespace::wait`] that times out panics with what a reader needs: the resource as
//! the API server holds it, the controller's log lines about that namespace, and
//! SageMaker's calls about that name.

pub mod samples;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use serde_json::Value;

pub use cluster::{AckController, Cluster, ClusterError, ControllerOptions};
pub use sagemaker_emulator::{
    AwsError, Call, Kind, Lasts, Options, Phase, SageMaker, Script, Stage, Verb,
};

/// The API group of the controller's resources.
pub const GROUP: &str = "sagemaker.services.k8s.aws";
/// Their version.
pub const VERSION: &str = "v1alpha1";

/// How long a wait lasts by default: the controller's 30 s requeue, twice, and slack for
/// two busy cores.
pub const WAIT: Duration = Duration::from_secs(90);

/// A cluster, our SageMaker API and the real controller between them. Fields drop in
/// order: the controller first, then SageMaker, then the cluster (which kills its
/// process group, the controller included).
#[derive(Debug)]
pub struct AckStack {
    /// The controller (kill and start it again for outage tests).
    pub controller: AckController,
    /// Our SageMaker API: scripts and the call log.
    pub sagemaker: SageMaker,
    /// etcd and kube-apiserver.
    pub cluster: Cluster,
}

impl AckStack {
    /// Starts a cluster, SageMaker ([`Script::completes`] for unscripted names) and the
    /// controller (built first if needed: minutes, once).
    pub fn start() -> Result<AckStack, ClusterError> {
        AckStack::start_with(sagemaker_emulator::Options::default())
    }

    /// [`AckStack::start`] with SageMaker's options.
    pub fn start_with(options: sagemaker_emulator::Options) -> Result<AckStack, ClusterError> {
        let cluster = Cluster::start()?;
        let sagemaker = SageMaker::start_with(options).map_err(|e| {
            ClusterError::io(
                "cannot start",
                std::path::Path::new("sagemaker-emulator"),
                e,
            )
        })?;
        // Debug: the runtime then logs each reconcile's steps with the resource's
        // generation, which tests and failure reports read.
        let options = ControllerOptions {
            log_level: "debug".into(),
            ..ControllerOptions::new(&sagemaker.url())
        };
        let controller = AckController::start(&cluster, &options)?;
        Ok(AckStack {
            controller,
            sagemaker,
            cluster,
        })
    }

    /// The test binary's stack, started by the first test that asks. Never dropped: the
    /// cluster's watchdog kills its processes when the test binary exits.
    pub fn shared() -> &'static AckStack {
        static STACK: OnceLock<AckStack> = OnceLock::new();
        STACK.get_or_init(|| AckStack::start().expect("the ACK stack starts"))
    }

    /// Creates the namespace `name` (one per test) and returns a handle on it.
    pub fn namespace(&self, name: &str) -> Namespace<'_> {
        self.cluster.create_namespace(name).expect("namespace");
        Namespace {
            stack: self,
            name: name.into(),
        }
    }
}

/// A short tag per kind for test resource names (a tuning job's name has at most 32
/// characters).
pub fn abbr(kind: Kind) -> &'static str {
    match kind {
        Kind::TrainingJob => "tj",
        Kind::HyperParameterTuningJob => "hpo",
        Kind::ProcessingJob => "pj",
        Kind::TransformJob => "tfj",
        Kind::Model => "model",
        Kind::EndpointConfig => "epc",
        Kind::Endpoint => "ep",
        Kind::MonitoringSchedule => "ms",
        Kind::DataQualityJobDefinition => "dq",
        Kind::ModelBiasJobDefinition => "mb",
        Kind::ModelExplainabilityJobDefinition => "me",
        Kind::ModelQualityJobDefinition => "mq",
        Kind::ModelPackageGroup => "mpg",
    }
}

/// The plural of a kind's resources (`trainingjobs`).
pub fn plural(kind: Kind) -> String {
    format!("{}s", kind.api_name().to_ascii_lowercase())
}

/// The status member that holds a kind's state (`trainingJobStatus`), if it has one.
pub fn state_field(kind: Kind) -> Option<String> {
    kind.status_member().map(|member| {
        let mut chars = member.chars();
        chars
            .next()
            .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
            .unwrap_or_default()
    })
}

/// A condition of a resource: `(status, message)`.
pub fn condition(resource: &Value, type_: &str) -> Option<(String, Option<String>)> {
    resource["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .map(|c| {
            (
                c["status"].as_str().unwrap_or_default().to_string(),
                c["message"].as_str().map(str::to_string),
            )
        })
}

/// Whether the condition `type_` is there with status `True`.
pub fn is_true(resource: &Value, type_: &str) -> bool {
    condition(resource, type_).is_some_and(|(s, _)| s == "True")
}

/// One test's namespace on the shared stack.
#[derive(Debug)]
pub struct Namespace<'s> {
    /// The stack.
    pub stack: &'s AckStack,
    /// The namespace's name.
    pub name: String,
}

impl Namespace<'_> {
    /// A SageMaker resource name unique to this namespace (`<namespace>-<base>`): tests in
    /// parallel namespaces share one SageMaker, where names are per account.
    pub fn sagemaker_name(&self, base: &str) -> String {
        format!("{}-{base}", self.name)
    }

    /// The client of `kind`'s resources in this namespace (as the harness's admin).
    pub fn api(&self, kind: Kind) -> Api<DynamicObject> {
        let gvk = GroupVersionKind::gvk(GROUP, VERSION, kind.api_name());
        let resource = ApiResource::from_gvk_with_plural(&gvk, &plural(kind));
        Api::namespaced_with(self.stack.cluster.client(), &self.name, &resource)
    }

    /// An admin kubeconfig with this namespace as its default (for the launcher, kubectl).
    pub fn admin_kubeconfig(&self) -> String {
        self.stack.cluster.kubeconfig_yaml(&self.name)
    }

    /// Creates a `kind` resource named `name` (also its SageMaker name) with `spec`.
    pub fn create(&self, kind: Kind, name: &str, spec: Value) -> Value {
        let object: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": format!("{GROUP}/{VERSION}"),
            "kind": kind.api_name(),
            "metadata": {"name": name, "namespace": self.name},
            "spec": spec,
        }))
        .expect("a resource");
        let created = self
            .stack
            .cluster
            .block_on(self.api(kind).create(&PostParams::default(), &object))
            .unwrap_or_else(|e| panic!("creating {kind} {name}: {e}"));
        serde_json::to_value(created).expect("JSON")
    }

    /// Gives SageMaker `script` for `name`, seeds into SageMaker what
    /// [`samples::spec`] makes the resource refer to (`<name>-uses`, and an Endpoint's
    /// model `<name>-model`), and creates the `kind` resource `name` with that spec.
    pub fn create_sample(&self, kind: Kind, name: &str, script: Script) -> Value {
        self.prepare_sample(kind, name, script);
        self.create(
            kind,
            name,
            samples::spec(kind, name, &format!("{name}-uses")),
        )
    }

    /// What [`Namespace::create_sample`] does before it creates the resource: gives
    /// SageMaker `script` for `name` and seeds what [`samples::spec`] makes it refer to
    /// (for a test whose resource someone else creates, such as the launcher).
    pub fn prepare_sample(&self, kind: Kind, name: &str, script: Script) {
        let sagemaker = &self.stack.sagemaker;
        let uses = format!("{name}-uses");
        let model = format!("{name}-model");
        sagemaker.script(name, script);
        if kind == Kind::Endpoint
            && let Some((k, request)) = samples::dependency(Kind::EndpointConfig, &model, "")
        {
            sagemaker
                .seed(k, "us-east-1", &request)
                .expect("seeding a model");
        }
        if let Some((k, request)) = samples::dependency(kind, &uses, &model) {
            sagemaker
                .seed(k, "us-east-1", &request)
                .expect("seeding a dependency");
        }
    }

    /// The resource as the API server holds it, if it exists.
    pub fn get(&self, kind: Kind, name: &str) -> Option<Value> {
        self.stack
            .cluster
            .block_on(self.api(kind).get_opt(name))
            .unwrap_or_else(|e| panic!("reading {kind} {name}: {e}"))
            .map(|o| serde_json::to_value(o).expect("JSON"))
    }

    /// A JSON merge patch of the resource.
    pub fn patch(&self, kind: Kind, name: &str, patch: Value) -> Value {
        let patched = self
            .stack
            .cluster
            .block_on(
                self.api(kind)
                    .patch(name, &PatchParams::default(), &Patch::Merge(&patch)),
            )
            .unwrap_or_else(|e| panic!("patching {kind} {name}: {e}"));
        serde_json::to_value(patched).expect("JSON")
    }

    /// Deletes the resource (the controller then removes its finalizer).
    pub fn delete(&self, kind: Kind, name: &str) {
        self.stack
            .cluster
            .block_on(self.api(kind).delete(name, &DeleteParams::default()))
            .unwrap_or_else(|e| panic!("deleting {kind} {name}: {e}"));
    }

    /// Waits up to [`WAIT`] until the resource satisfies `done`; returns it. On timeout,
    /// panics with the resource, the controller's log about this namespace and
    /// SageMaker's calls about `name`.
    pub fn wait(&self, kind: Kind, name: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        self.wait_for(kind, name, what, WAIT, done)
    }

    /// [`Namespace::wait`] with another timeout.
    pub fn wait_for(
        &self,
        kind: Kind,
        name: &str,
        what: &str,
        timeout: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let current = self.get(kind, name);
            if let Some(resource) = &current
                && done(resource)
            {
                return resource.clone();
            }
            if Instant::now() > deadline {
                panic!(
                    "{kind} {}/{name}: not {what} after {timeout:?}\n{}",
                    self.name,
                    self.report(kind, name, current.as_ref())
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits up to [`WAIT`] until the resource is gone (its finalizer removed).
    pub fn wait_gone(&self, kind: Kind, name: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let current = self.get(kind, name);
            if current.is_none() {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "{kind} {}/{name}: still there after {WAIT:?}\n{}",
                    self.name,
                    self.report(kind, name, current.as_ref())
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the controller has finished a reconcile of the resource at
    /// `generation` or later (its debug log's `< r.Sync` line, with an `error` member
    /// when the reconcile failed or requeued) and returns that line. Use
    /// [`AckController::log_len`] before the change as `from`.
    pub fn wait_for_sync(&self, kind: Kind, name: &str, generation: i64, from: u64) -> Value {
        let found = self.stack.controller.wait_for_line(from, WAIT, |line| {
            serde_json::from_str::<Value>(line).is_ok_and(|l| {
                l["msg"] == "< r.Sync"
                    && l["kind"] == kind.api_name()
                    && l["namespace"] == self.name.as_str()
                    && l["name"] == name
                    && l["generation"].as_i64().is_some_and(|g| g >= generation)
            })
        });
        match found {
            Some(line) => serde_json::from_str(&line).expect("a JSON line"),
            None => panic!(
                "{kind} {}/{name}: no reconcile of generation {generation} within {WAIT:?}\n{}",
                self.name,
                self.report(kind, name, self.get(kind, name).as_ref())
            ),
        }
    }

    /// What a failed test shows: the resource, the controller's log about this namespace,
    /// SageMaker's calls about `name`.
    pub fn report(&self, kind: Kind, name: &str, resource: Option<&Value>) -> String {
        let resource = resource.map_or_else(
            || "(no such resource)".to_string(),
            |r| serde_json::to_string_pretty(r).unwrap_or_default(),
        );
        let calls: Vec<String> = self
            .stack
            .sagemaker
            .calls_for(name)
            .iter()
            .map(sagemaker_emulator::Call::summary)
            .collect();
        format!(
            "--- {kind} {name} ---\n{resource}\n--- controller log ({}) for namespace {} ---\n{}\n\
             --- SageMaker calls about {name} ---\n{}",
            self.stack.controller.log_path().display(),
            self.name,
            self.stack.controller.log_for(&self.name),
            calls.join("\n")
        )
    }
}
