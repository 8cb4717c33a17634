//! One reconcile of a TrainingJob custom resource, following ACK runtime v0.62 /
//! sagemaker-controller v1.9.1 (see the crate docs for the condition rules). Runs
//! synchronously: against the in-process store a reconcile is atomic with respect to API
//! requests served on the same runtime and to [`super::Controller::stop`]; against a real
//! API server (through [`super::Objects`]) it runs on a blocking thread and its writes are
//! ordinary requests, like the real controller's.

use serde_json::{Map, Value, json};

use super::Objects;
use super::Shared;
use super::sagemaker::Description;
use super::scenario::JobStatus;
use crate::ResourceRef;
use crate::patch::merge_diff;
use crate::store::Subresource;

/// The ACK finalizer of the SageMaker controller.
pub const FINALIZER: &str = "finalizers.sagemaker.services.k8s.aws/TrainingJob";
/// Annotation naming the AWS region of a resource.
pub const REGION_ANNOTATION: &str = "services.k8s.aws/region";
/// Annotation choosing `retain` deletion (finalizer removed without calling AWS).
pub const DELETION_POLICY_ANNOTATION: &str = "services.k8s.aws/deletion-policy";
/// `Condition.reason` of the unmanaged-name terminal condition.
pub const UNMANAGED_REASON: &str = "This resource already exists but is not managed by ACK. To bring the resource under ACK management, you should explicitly adopt the resource by enabling the ResourceAdoption feature gate and populating the `services.k8s.aws/adoption-policy` and `services.k8s.aws/adoption-fields` annotations.";
/// Requeue after a Synced False/Unknown reconcile and after `TrainingJob is Stopping.`.
const REQUEUE_SECS: f64 = 30.0;

/// What the worker does next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Next {
    /// Reconcile again after this many simulated seconds.
    After(f64),
    /// Wait for a generation change only (Terminal).
    Idle,
    /// The object is gone (or no longer ours): end the worker.
    Done,
}

#[derive(Debug)]
enum SyncError {
    Terminal {
        message: String,
        reason: Option<&'static str>,
    },
    Recoverable(String),
}

fn condition(
    kind: &str,
    status: &str,
    message: Option<&str>,
    reason: Option<&str>,
    time: Option<&str>,
) -> Value {
    let mut c = Map::new();
    c.insert("type".into(), kind.into());
    c.insert("status".into(), status.into());
    if let Some(t) = time {
        c.insert("lastTransitionTime".into(), t.into());
    }
    if let Some(m) = message {
        c.insert("message".into(), m.into());
    }
    if let Some(r) = reason {
        c.insert("reason".into(), r.into());
    }
    Value::Object(c)
}

/// Replaces the condition of the same type in place, or appends it (`SetSynced` & co.).
fn upsert_condition(conditions: &mut Vec<Value>, c: Value) {
    match conditions
        .iter_mut()
        .find(|x| x.get("type") == c.get("type"))
    {
        Some(slot) => *slot = c,
        None => conditions.push(c),
    }
}

fn has_finalizer(obj: &Value) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| f.iter().any(|x| x.as_str() == Some(FINALIZER)))
}

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

/// The reconcile context: store, resource, object key and the worker's simulated clock.
pub(crate) struct Reconciler<'a> {
    /// The in-process store or a client of a real API server.
    pub store: &'a dyn Objects,
    pub r: &'a ResourceRef,
    pub ns: &'a str,
    pub name: &'a str,
    pub shared: &'a Shared,
    /// Simulated wall clock (seconds since the epoch) for status timestamps.
    pub now: i64,
}

impl Reconciler<'_> {
    fn time(&self) -> String {
        crate::clock::rfc3339(self.now)
    }

    fn set_finalizer(&self, obj: &Value, present: bool) -> Option<Value> {
        let mut list: Vec<Value> = obj
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        list.retain(|f| f.as_str() != Some(FINALIZER));
        if present {
            list.push(FINALIZER.into());
        }
        let patch = json!({"metadata": {"finalizers": list}});
        self.store
            .merge_patch(self.r, self.ns, self.name, Subresource::Main, patch)
    }

    fn write_status(&self, obj: &Value, status: &Value) {
        let old = obj.get("status").cloned().unwrap_or_else(|| json!({}));
        let patch = json!({"status": merge_diff(&old, status)});
        // A failed write (object deleted meanwhile) is retried by the next reconcile, like ACK.
        let _ = self
            .store
            .merge_patch(self.r, self.ns, self.name, Subresource::Status, patch);
    }

    /// Copies a Describe answer into the status (`sdkFind` + `setStatusDefaults`) and returns
    /// the `ACK.ResourceSynced` condition `customSetOutput` derives from it.
    fn apply_description(
        &self,
        obj: &Value,
        status: &mut Map<String, Value>,
        d: &Description,
    ) -> Value {
        let region = annotation(obj, REGION_ANNOTATION)
            .map_or_else(|| self.shared.options.region.clone(), str::to_string);
        status.insert(
            "ackResourceMetadata".into(),
            json!({"arn": d.arn, "ownerAccountID": self.shared.options.account_id, "region": region, "partition": "aws"}),
        );
        let s = &d.state;
        status.insert("trainingJobStatus".into(), s.status.as_str().into());
        status.insert("secondaryStatus".into(), s.secondary.clone().into());
        status.insert(
            "creationTime".into(),
            crate::clock::rfc3339(d.creation_time).into(),
        );
        status.insert(
            "lastModifiedTime".into(),
            crate::clock::rfc3339(d.last_modified).into(),
        );
        status.insert("profilingStatus".into(), d.profiling_status.clone().into());
        let mut opt = |k: &str, v: Option<Value>| match v {
            Some(v) => status.insert(k.into(), v),
            None => status.remove(k),
        };
        opt("failureReason", s.failure_reason.clone().map(Value::from));
        opt(
            "modelArtifacts",
            d.model_artifacts
                .as_ref()
                .map(|a| json!({"s3ModelArtifacts": a})),
        );
        let rules = |list: &[super::RuleState], kind: &str| {
            (!list.is_empty()).then(|| {
                Value::Array(
                    list.iter()
                        .map(|r| {
                            let mut v = json!({
                                "ruleConfigurationName": r.name,
                                "ruleEvaluationJobARN": format!("arn:aws:sagemaker:{}:{}:processing-job/{}-{kind}-{}", self.shared.options.region, self.shared.options.account_id, self.name, r.name.to_lowercase()),
                                "ruleEvaluationStatus": r.status,
                                "lastModifiedTime": crate::clock::rfc3339(d.last_modified),
                            });
                            if let (Some(det), Some(o)) = (&r.details, v.as_object_mut()) {
                                o.insert("statusDetails".into(), det.clone().into());
                            }
                            v
                        })
                        .collect(),
                )
            })
        };
        opt(
            "debugRuleEvaluationStatuses",
            rules(&s.debug_rules, "debug"),
        );
        opt(
            "profilerRuleEvaluationStatuses",
            rules(&s.profiler_rules, "profiler"),
        );
        opt("warmPoolStatus", None);

        let busy = |list: &[super::RuleState]| {
            list.iter()
                .find(|r| r.status == "InProgress" || r.status == "Stopping")
                .map(|r| r.status.clone())
        };
        let (ok, message) = if s.status == JobStatus::InProgress {
            (false, "TrainingJob is in InProgress status.".to_string())
        } else if let Some(st) = busy(&s.debug_rules) {
            (false, format!("DebugRule is in {st} status."))
        } else if let Some(st) =
            busy(&s.profiler_rules).filter(|_| d.profiling_status != "Disabled")
        {
            (false, format!("ProfilerRule is in {st} status."))
        } else {
            (
                s.status != JobStatus::Stopping,
                format!("TrainingJob is in {} status.", s.status.as_str()),
            )
        };
        condition(
            "ACK.ResourceSynced",
            if ok { "True" } else { "False" },
            Some(&message),
            None,
            Some(&self.time()),
        )
    }

    /// Fields SageMaker fills in that ACK copies into an unset spec (`LateInitialize`).
    fn late_init_patch(spec: &Value, d: &Description) -> Map<String, Value> {
        let mut patch = Map::new();
        for f in [
            "enableInterContainerTrafficEncryption",
            "enableManagedSpotTraining",
            "enableNetworkIsolation",
        ] {
            if spec.get(f).is_none() {
                patch.insert(f.into(), false.into());
            }
        }
        let mut nested = |parent: &str, field: &str, v: Value| {
            if spec.get(parent).and_then(|p| p.get(field)).is_none()
                && let Value::Object(m) =
                    patch.entry(parent.to_string()).or_insert_with(|| json!({}))
            {
                m.insert(field.into(), v);
            }
        };
        nested(
            "algorithmSpecification",
            "enableSageMakerMetricsTimeSeries",
            false.into(),
        );
        nested("outputDataConfig", "kmsKeyID", "".into());
        nested("outputDataConfig", "compressionType", "GZIP".into());
        nested("resourceConfig", "instanceCount", d.instance_count.into());
        patch
    }

    /// One reconcile. `uid` pins the worker to one incarnation of the name: an object
    /// deleted and created again under the same name gets a new worker.
    pub(crate) fn run(&self, failures: &mut u32, uid: &mut Option<String>) -> Next {
        let obj = match self.store.fetch(self.r, self.ns, self.name) {
            Ok(Some(obj)) => obj,
            Ok(None) => return Next::Done,
            Err(_) => return Next::After(REQUEUE_SECS),
        };
        let this_uid = obj
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .map(str::to_string);
        match uid {
            Some(u) if Some(u.as_str()) != this_uid.as_deref() => return Next::Done,
            Some(_) => {}
            None => *uid = this_uid,
        }
        if obj.pointer("/metadata/deletionTimestamp").is_some() {
            return self.run_delete(&obj);
        }
        let spec = obj.get("spec").cloned().unwrap_or_else(|| json!({}));
        let Some(job) = spec
            .get("trainingJobName")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return Next::Idle;
        };
        let mut sm = self.shared.sagemaker();
        sm.tick(&job, self.now);
        let mut status = obj
            .get("status")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut synced = None;
        let mut error = None;
        let mut described = None;
        let mut obj = obj;
        match sm.describe(&job) {
            None => {
                if !has_finalizer(&obj)
                    && let Some(o) = self.set_finalizer(&obj, true)
                {
                    obj = o;
                }
                let scenario = self.shared.scenario_for(&job);
                match sm.create(&job, &spec, &scenario, self.now) {
                    Err(e) => {
                        if let Some(o) = self.set_finalizer(&obj, false) {
                            obj = o;
                        }
                        error = Some(if e.is_terminal() {
                            SyncError::Terminal {
                                message: e.text(),
                                reason: None,
                            }
                        } else {
                            SyncError::Recoverable(e.text())
                        });
                    }
                    Ok(_arn) => {
                        if let Some(d) = sm.describe(&job) {
                            synced = Some(self.apply_description(&obj, &mut status, &d));
                            described = Some(d);
                        }
                    }
                }
            }
            Some(d) => {
                synced = Some(self.apply_description(&obj, &mut status, &d));
                if !has_finalizer(&obj) {
                    error = Some(SyncError::Terminal {
                        message: "Resource already exists".into(),
                        reason: Some(UNMANAGED_REASON),
                    });
                }
                described = Some(d);
            }
        }
        drop(sm);
        let mut late_initialized = None;
        if error.is_none()
            && let Some(d) = &described
        {
            let patch = Self::late_init_patch(&spec, d);
            if !patch.is_empty()
                && let Some(o) = self.store.merge_patch(
                    self.r,
                    self.ns,
                    self.name,
                    Subresource::Main,
                    json!({"spec": patch}),
                )
            {
                obj = o;
            }
            let msg = "Late initialization successful";
            late_initialized = Some(condition(
                "ACK.LateInitialized",
                "True",
                Some(msg),
                Some(msg),
                Some(&self.time()),
            ));
        }
        let time = self.time();
        let synced = synced.unwrap_or_else(|| match &error {
            None => condition(
                "ACK.ResourceSynced",
                "True",
                Some("Resource synced successfully"),
                None,
                Some(&time),
            ),
            Some(SyncError::Terminal { message, .. }) => condition(
                "ACK.ResourceSynced",
                "False",
                Some("Resource not synced"),
                Some(message),
                Some(&time),
            ),
            Some(SyncError::Recoverable(m)) => condition(
                "ACK.ResourceSynced",
                "Unknown",
                Some("Unable to determine if desired resource state matches latest observed state"),
                Some(m),
                Some(&time),
            ),
        });
        let mut conditions = vec![synced.clone()];
        let ready = match &error {
            Some(SyncError::Terminal { message, reason }) => {
                conditions.push(condition(
                    "ACK.Terminal",
                    "True",
                    Some(message),
                    *reason,
                    None,
                ));
                condition(
                    "Ready",
                    "False",
                    Some(message),
                    Some("ACK.Terminal"),
                    Some(&time),
                )
            }
            Some(SyncError::Recoverable(m)) => {
                conditions.push(condition("ACK.Recoverable", "True", Some(m), None, None));
                condition(
                    "Ready",
                    "False",
                    Some(m),
                    Some("ACK.Recoverable"),
                    Some(&time),
                )
            }
            None => {
                let mut r = synced.clone();
                if let Some(o) = r.as_object_mut() {
                    o.insert("type".into(), "Ready".into());
                }
                r
            }
        };
        conditions.extend(late_initialized);
        conditions.push(ready);
        status.insert("conditions".into(), Value::Array(conditions));
        self.write_status(&obj, &Value::Object(status));
        match error {
            None => {
                *failures = 0;
                let in_sync = synced.get("status").and_then(Value::as_str) == Some("True");
                #[allow(clippy::cast_precision_loss)]
                let resync = self.shared.options.resync_seconds as f64;
                Next::After(if in_sync { resync } else { REQUEUE_SECS })
            }
            Some(SyncError::Terminal { .. }) => Next::Idle,
            Some(SyncError::Recoverable(_)) => {
                // controller-runtime's per-item limiter: 5 ms doubling, capped at 1000 s.
                let delay = (0.005
                    * 2f64.powi(i32::try_from(*failures).unwrap_or(i32::MAX).min(30)))
                .min(1000.0);
                *failures = failures.saturating_add(1);
                Next::After(delay)
            }
        }
    }

    /// The delete path: conditions are not reset and `Ready` is not recomputed.
    fn run_delete(&self, obj: &Value) -> Next {
        if !has_finalizer(obj) {
            return Next::Done;
        }
        if annotation(obj, DELETION_POLICY_ANNOTATION) == Some("retain") {
            self.set_finalizer(obj, false);
            return Next::Done;
        }
        let Some(job) = obj
            .pointer("/spec/trainingJobName")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            self.set_finalizer(obj, false);
            return Next::Done;
        };
        let mut sm = self.shared.sagemaker();
        sm.tick(&job, self.now);
        let Some(d) = sm.describe(&job) else {
            drop(sm);
            self.set_finalizer(obj, false);
            return Next::Done;
        };
        let mut status = obj
            .get("status")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut conditions: Vec<Value> = status
            .get("conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let recoverable = match d.state.status {
            JobStatus::Stopping => {
                upsert_condition(
                    &mut conditions,
                    self.apply_description(obj, &mut status, &d),
                );
                "TrainingJob is Stopping.".to_string()
            }
            JobStatus::InProgress => match sm.stop(&job, self.now) {
                Ok(()) => {
                    let after = sm.describe(&job).unwrap_or(d);
                    upsert_condition(
                        &mut conditions,
                        self.apply_description(obj, &mut status, &after),
                    );
                    "TrainingJob is Stopping.".to_string()
                }
                Err(e) => e.text(),
            },
            JobStatus::Completed | JobStatus::Failed | JobStatus::Stopped => {
                drop(sm);
                self.set_finalizer(obj, false);
                return Next::Done;
            }
        };
        drop(sm);
        upsert_condition(
            &mut conditions,
            condition("ACK.Recoverable", "True", Some(&recoverable), None, None),
        );
        status.insert("conditions".into(), Value::Array(conditions));
        self.write_status(obj, &Value::Object(status));
        Next::After(REQUEUE_SECS)
    }
}
