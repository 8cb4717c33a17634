//! A simulated ACK controller for the SageMaker job kinds that finish on their own state
//! field: HyperParameterTuningJob, ProcessingJob and TransformJob (sagemaker-controller
//! v1.9.1; `ack-other-kinds-semantics.md` sections 1.1, 1.8, 2.1-2.3 and 4).
//!
//! Simpler than the TrainingJob controller: it polls the store (every 5 simulated
//! seconds) instead of following events, and the SageMaker job is a timer. Per object:
//! - create: the finalizer `finalizers.sagemaker.services.k8s.aws/<Kind>`, then the status
//!   of the first Describe: the ARN, state `InProgress`, `ACK.ResourceSynced` False
//!   `<Kind> is in InProgress status.` (+ `ACK.LateInitialized` True for the kinds with
//!   late-initialised fields, HPO and TransformJob), `Ready` False with the same message;
//! - after [`JobControllerOptions::run_seconds`]: the [`JobOutcome`]'s state (Completed,
//!   Failed with `failureReason`, Stopped), Synced and Ready True `<Kind> is in <state>
//!   status.` (the controller sets no Terminal for a job's failure); a Completed HPO gets a
//!   `bestTrainingJob`;
//! - [`JobOutcome::Rejected`]: SageMaker refuses the create: `ACK.Recoverable` True with the
//!   message, Synced False, no ARN, forever (the controller retries it with backoff);
//! - delete (the stop pattern): an `InProgress` job becomes `Stopping` with Synced False
//!   `<Kind> is in Stopping status.` and `ACK.Recoverable` True `<Kind> is Stopping.`, then
//!   after [`JobControllerOptions::stop_seconds`] the finalizer is removed (the SageMaker
//!   record stays, Stopped); a job in any other state is released at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::ResourceRef;
use crate::selector::Selector;
use crate::store::{Change, Store, Subresource};

/// One job kind: its names in the CRD and in SageMaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobKind {
    pub kind: &'static str,
    pub plural: &'static str,
    /// The spec field with the SageMaker job's name.
    pub name_field: &'static str,
    /// The status field with the SageMaker state.
    pub state_field: &'static str,
    /// The resource type in the ARN: `processing-job`.
    pub arn_type: &'static str,
    /// Whether the controller reports `ACK.LateInitialized` for it.
    pub late_initialized: bool,
}

impl JobKind {
    pub fn hyper_parameter_tuning_job() -> JobKind {
        JobKind {
            kind: "HyperParameterTuningJob",
            plural: "hyperparametertuningjobs",
            name_field: "hyperParameterTuningJobName",
            state_field: "hyperParameterTuningJobStatus",
            arn_type: "hyper-parameter-tuning-job",
            late_initialized: true,
        }
    }

    pub fn processing_job() -> JobKind {
        JobKind {
            kind: "ProcessingJob",
            plural: "processingjobs",
            name_field: "processingJobName",
            state_field: "processingJobStatus",
            arn_type: "processing-job",
            late_initialized: false,
        }
    }

    pub fn transform_job() -> JobKind {
        JobKind {
            kind: "TransformJob",
            plural: "transformjobs",
            name_field: "transformJobName",
            state_field: "transformJobStatus",
            arn_type: "transform-job",
            late_initialized: true,
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
}

/// How the SageMaker job ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Completes,
    /// Failed, with this `failureReason`.
    Fails(String),
    /// Stopped by SageMaker (e.g. its own stopping condition), not by a delete.
    Stops,
    /// The create is refused with this message (a Recoverable error that never clears).
    Rejected(String),
}

#[derive(Debug, Clone)]
pub struct JobControllerOptions {
    pub kind: JobKind,
    pub outcome: JobOutcome,
    /// Simulated seconds from create to the end (InProgress meanwhile).
    pub run_seconds: f64,
    /// Simulated seconds a stop takes (Stopping meanwhile).
    pub stop_seconds: f64,
    /// Real time per simulated second.
    pub time_scale: Duration,
    pub region: String,
    pub account_id: String,
}

impl JobControllerOptions {
    pub fn new(kind: JobKind, outcome: JobOutcome) -> JobControllerOptions {
        JobControllerOptions {
            kind,
            outcome,
            run_seconds: 60.0,
            stop_seconds: 30.0,
            time_scale: Duration::from_millis(5),
            region: "us-west-2".into(),
            account_id: "123456789012".into(),
        }
    }
}

/// A running simulated job controller; stops when dropped.
#[derive(Debug)]
pub struct JobController {
    stopped: Arc<AtomicBool>,
}

impl JobController {
    pub(crate) fn start(
        store: Arc<Store>,
        handle: &tokio::runtime::Handle,
        options: JobControllerOptions,
    ) -> JobController {
        let stopped = Arc::new(AtomicBool::new(false));
        let flag = stopped.clone();
        handle.spawn(async move {
            let mut jobs: HashMap<String, Timers> = HashMap::new();
            while !flag.load(Ordering::SeqCst) {
                reconcile_all(&store, &options, &mut jobs);
                tokio::time::sleep(options.time_scale.mul_f64(5.0)).await;
            }
        });
        JobController { stopped }
    }

    /// Stops reconciling.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }
}

impl Drop for JobController {
    fn drop(&mut self) {
        self.stop();
    }
}

/// When the object's job started and, once deleted, when its stop began.
#[derive(Debug, Clone, Copy)]
struct Timers {
    started: Instant,
    stopping: Option<Instant>,
}

fn condition(kind: &str, status: &str, message: &str) -> Value {
    json!({"type": kind, "status": status, "message": message})
}

fn reconcile_all(store: &Store, o: &JobControllerOptions, jobs: &mut HashMap<String, Timers>) {
    let r = o.kind.resource();
    let Ok((objects, _)) = store.list(&r, None, &Selector::default()) else {
        return;
    };
    for obj in objects {
        reconcile(store, o, &r, &obj, jobs);
    }
}

fn reconcile(
    store: &Store,
    o: &JobControllerOptions,
    r: &ResourceRef,
    obj: &Value,
    jobs: &mut HashMap<String, Timers>,
) {
    let text = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default();
    let (ns, name, uid) = (
        text("/metadata/namespace").to_owned(),
        text("/metadata/name").to_owned(),
        text("/metadata/uid").to_owned(),
    );
    let kind = &o.kind;
    let finalizer = kind.finalizer();
    let finalizers: Vec<String> = obj
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|f| {
            f.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let state = obj
        .pointer(&format!("/status/{}", kind.state_field))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let write_status = |status: Value| {
        let _ = store.update(
            r,
            &ns,
            &name,
            Subresource::Status,
            Change::Merge(json!({ "status": status })),
        );
    };
    let set_finalizers = |list: Vec<String>| {
        let _ = store.update(
            r,
            &ns,
            &name,
            Subresource::Main,
            Change::Merge(json!({"metadata": {"finalizers": list}})),
        );
    };
    let simulated = |since: Instant| since.elapsed().as_secs_f64() / o.time_scale.as_secs_f64();
    let timers = *jobs.entry(uid.clone()).or_insert(Timers {
        started: Instant::now(),
        stopping: None,
    });

    if obj.pointer("/metadata/deletionTimestamp").is_some() {
        if !finalizers.contains(&finalizer) {
            return;
        }
        let release = || {
            set_finalizers(
                finalizers
                    .iter()
                    .filter(|f| **f != finalizer)
                    .cloned()
                    .collect(),
            );
        };
        match (state.as_deref(), timers.stopping) {
            (Some("InProgress"), _) => {
                jobs.insert(
                    uid,
                    Timers {
                        stopping: Some(Instant::now()),
                        ..timers
                    },
                );
                let stopping = format!("{} is in Stopping status.", kind.kind);
                write_status(json!({
                    kind.state_field: "Stopping",
                    "conditions": [
                        condition("ACK.ResourceSynced", "False", &stopping),
                        condition("ACK.Recoverable", "True", &format!("{} is Stopping.", kind.kind)),
                    ],
                }));
            }
            (Some("Stopping"), Some(since)) if simulated(since) < o.stop_seconds => {}
            _ => release(),
        }
        return;
    }

    if !finalizers.contains(&finalizer) {
        let mut list = finalizers.clone();
        list.push(finalizer);
        set_finalizers(list);
    }
    if let JobOutcome::Rejected(message) = &o.outcome {
        write_status(json!({"conditions": [
            condition("ACK.Recoverable", "True", message),
            condition("ACK.ResourceSynced", "False", "Unable to determine if desired resource state matches latest observed state"),
        ]}));
        return;
    }
    let job_name = obj
        .pointer(&format!("/spec/{}", kind.name_field))
        .and_then(Value::as_str)
        .unwrap_or(&name);
    let arn = format!(
        "arn:aws:sagemaker:{}:{}:{}/{}",
        o.region,
        o.account_id,
        kind.arn_type,
        job_name.to_ascii_lowercase()
    );
    let (new_state, failure) = if simulated(timers.started) < o.run_seconds {
        ("InProgress", None)
    } else {
        match &o.outcome {
            JobOutcome::Completes => ("Completed", None),
            JobOutcome::Fails(reason) => ("Failed", Some(reason.clone())),
            JobOutcome::Stops | JobOutcome::Rejected(_) => ("Stopped", None),
        }
    };
    if state.as_deref() == Some(new_state) {
        return;
    }
    let synced = if new_state == "InProgress" {
        "False"
    } else {
        "True"
    };
    let message = format!("{} is in {new_state} status.", kind.kind);
    let mut conditions = vec![condition("ACK.ResourceSynced", synced, &message)];
    if kind.late_initialized {
        conditions.push(condition(
            "ACK.LateInitialized",
            "True",
            "Late initialization successful",
        ));
    }
    conditions.push(condition("Ready", synced, &message));
    let mut status = json!({
        "ackResourceMetadata": {"arn": arn, "ownerAccountID": o.account_id, "region": o.region, "partition": "aws"},
        kind.state_field: new_state,
        "conditions": conditions,
        "failureReason": failure,
    });
    if kind.kind == "HyperParameterTuningJob" && new_state == "Completed" {
        status["bestTrainingJob"] = json!({
            "trainingJobName": format!("{job_name}-003-1a2b3c4d"),
            "trainingJobARN": format!("arn:aws:sagemaker:{}:{}:training-job/{job_name}-003-1a2b3c4d", o.region, o.account_id),
            "trainingJobStatus": "Completed",
            "objectiveStatus": "Succeeded",
            "finalHyperParameterTuningJobObjectiveMetric": {"metricName": "validation:auc", "type_": "Maximize", "value": 0.912},
            "tunedHyperParameters": {"eta": "0.2", "max_depth": "6"},
        });
    }
    write_status(status);
}
