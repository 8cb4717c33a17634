//! Updating a resource that exists, for the kinds the controller can update (Endpoint,
//! MonitoringSchedule): a step given the name of an existing resource moves it to what its
//! inputs say, as the earlier components did, but
//!
//! - it patches only the updatable fields
//!   ([`component_runtime::Component::UPDATABLE_FIELDS`]) the inputs set and that the
//!   resource does not already hold, with a JSON merge patch of the inputs' values (as the earlier
//!   components' patch: keys an input leaves out are kept) and the resource's
//!   `resourceVersion`, so a concurrent change is read again rather than overwritten. A
//!   field holds an input when it has everything the input sets: keys the controller or
//!   SageMaker filled in besides are no difference, so a re-run with the same inputs
//!   changes nothing. Set fields the controller does not update (tags) are left as they
//!   are, with a warning;
//! - nothing differs: not an update. The resource is followed as it is (a re-run with the
//!   same inputs succeeds once the resource is ready);
//! - it is done only once the controller has taken the update ([`Kind::update_taken`]:
//!   the kind's own markers). Until then the resource's verdict is not trusted, since it
//!   is still the old state; only a failure that was not there before the patch ends the
//!   step;
//! - the markers from before the patch are recorded on the resource
//!   ([`UPDATE_ANNOTATION`]), with the step's identity and input digest: a retried attempt
//!   of the same step finds them and waits for the same update instead of patching
//!   nothing and succeeding on the old state.
//!
//! An updated resource is never this step's to delete: a cancel leaves it (and the
//! update) as it is.

use std::collections::BTreeMap;

use kube::Api;
use kube::api::{Patch, PatchParams};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::ack::Verdict;
use crate::api::{self, CallError};
use crate::exit::{ApiStatus, Conflict, Failure, Refusal};
use crate::kinds::{self, Kind, Marks};
use crate::log::log;

/// Where an update records what the resource showed before it (JSON of [`Recorded`]).
pub const UPDATE_ANNOTATION: &str = "ack-kfp.launcher/update-from";

#[derive(Debug, Serialize, Deserialize)]
struct Recorded {
    marks: Marks,
    /// The failure the resource showed before the patch (an earlier update's), which is
    /// not this update's.
    failure: Option<String>,
}

/// An update being followed.
#[derive(Debug)]
pub struct Update {
    recorded: Recorded,
    taken: bool,
}

impl Update {
    /// What the resource's status means for the update.
    pub fn verdict<K: Kind>(&mut self, resource: &K) -> Verdict {
        if !self.taken && K::update_taken(&self.recorded.marks, resource) {
            self.taken = true;
            log!("the ACK controller has taken the update");
        }
        let verdict = kinds::verdict(resource);
        if self.taken {
            return verdict;
        }
        match verdict {
            Verdict::Failed(failure) if Some(&failure) != self.recorded.failure.as_ref() => {
                Verdict::Failed(failure)
            }
            Verdict::Waiting { recoverable } => Verdict::Waiting { recoverable },
            // The old state, or the old failure: the controller has not acted yet.
            _ => Verdict::Waiting { recoverable: None },
        }
    }

    /// The update an earlier attempt of this step patched onto `resource`, if any.
    pub fn recorded<K: Kind>(resource: &K) -> Option<Update> {
        let text = resource
            .meta()
            .annotations
            .as_ref()?
            .get(UPDATE_ANNOTATION)?;
        let recorded = serde_json::from_str(text).ok()?;
        Some(Update {
            recorded,
            taken: false,
        })
    }
}

/// What an update changes.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// The spec part of the merge patch, by field.
    pub spec: Map<String, Value>,
    /// Fields the inputs set to other values that the controller does not update.
    pub ignored: Vec<String>,
}

/// The updatable fields `desired` sets that `existing` does not hold, each with the
/// input's value as its merge patch.
pub fn plan<K: Kind>(existing: &K, desired: &K) -> Plan {
    let as_map = |spec: &K::Spec| match serde_json::to_value(spec) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let (existing, desired) = (as_map(existing.spec()), as_map(desired.spec()));
    let mut plan = Plan::default();
    for (field, value) in desired {
        if holds(existing.get(&field).unwrap_or(&Value::Null), &value) {
            continue;
        }
        if K::UPDATABLE_FIELDS.contains(&field.as_str()) {
            plan.spec.insert(field, value);
        } else {
            plan.ignored.push(field);
        }
    }
    plan
}

/// Whether `existing` has everything `wanted` sets: objects key by key (keys only
/// `existing` has are no difference), arrays element by element, anything else equal.
pub fn holds(existing: &Value, wanted: &Value) -> bool {
    match (existing, wanted) {
        (Value::Object(existing), Value::Object(wanted)) => wanted
            .iter()
            .all(|(key, value)| holds(existing.get(key).unwrap_or(&Value::Null), value)),
        (Value::Array(existing), Value::Array(wanted)) => {
            existing.len() == wanted.len() && existing.iter().zip(wanted).all(|(e, w)| holds(e, w))
        }
        _ => existing == wanted,
    }
}

/// How an update began.
pub enum Began<K> {
    /// Nothing to change: follow the resource as it is.
    Unchanged(K),
    /// Patched: follow the update.
    Patched(K, Update),
}

/// How many times a patch is tried again after the resource changed under it.
const CONFLICT_RETRIES: usize = 5;

/// Patches `existing` towards `desired`; `annotations` (the step's identity and inputs'
/// digest) go on the resource with the update's record.
pub async fn begin<K: Kind>(
    api: &Api<K>,
    mut existing: K,
    desired: &K,
    annotations: &BTreeMap<String, String>,
    api_timeout: std::time::Duration,
) -> Result<Began<K>, Failure> {
    let name = desired.meta().name.clone().unwrap_or_default();
    for attempt in 0.. {
        let plan = plan(&existing, desired);
        for field in &plan.ignored {
            log!(
                "warning: input for `{field}` differs from {name}'s, but the ACK controller does not update `{field}` of a {}: left as it is",
                K::KIND
            );
        }
        if plan.spec.is_empty() {
            log!(
                "{name} exists and already has what the inputs say: nothing to update; following it"
            );
            return Ok(Began::Unchanged(existing));
        }
        let fields: Vec<&str> = plan.spec.keys().map(String::as_str).collect();
        let recorded = Recorded {
            marks: existing.update_marks(),
            failure: match kinds::verdict(&existing) {
                Verdict::Failed(failure) => Some(failure),
                _ => None,
            },
        };
        let mut metadata_annotations: Map<String, Value> = annotations
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        metadata_annotations.insert(
            UPDATE_ANNOTATION.to_owned(),
            Value::String(serde_json::to_string(&recorded).unwrap_or_default()),
        );
        let patch = json!({
            "metadata": {
                "resourceVersion": existing.meta().resource_version,
                "annotations": metadata_annotations,
            },
            "spec": plan.spec,
        });
        log!("updating {} {name}: {}", K::KIND, fields.join(", "));
        let params = PatchParams::default();
        let patch = Patch::Merge(&patch);
        match api::call("update the resource", api_timeout, || {
            api.patch(&name, &params, &patch)
        })
        .await
        {
            Ok(patched) => {
                return Ok(Began::Patched(
                    patched,
                    Update {
                        recorded,
                        taken: false,
                    },
                ));
            }
            Err(CallError::Api(status)) if status.code == 409 && attempt < CONFLICT_RETRIES => {
                log!("{name} changed while it was being updated; reading it again");
                existing =
                    match api::call("read the existing resource", api_timeout, || api.get(&name))
                        .await
                    {
                        Ok(existing) => existing,
                        Err(CallError::Api(status)) => {
                            return Err(Failure::Conflict(Conflict::UnreadableAgain {
                                name,
                                message: status.message,
                            }));
                        }
                        Err(CallError::Failed(failure)) => return Err(failure),
                    };
            }
            Err(CallError::Api(status)) if matches!(status.code, 400 | 422) => {
                return Err(Failure::Refused(Refusal::Update {
                    name,
                    status: ApiStatus::from(&*status),
                }));
            }
            Err(CallError::Api(status)) => {
                return Err(Failure::Conflict(Conflict::NotUpdated {
                    name,
                    code: status.code,
                    reason: status.reason,
                    message: status.message,
                }));
            }
            Err(CallError::Failed(failure)) => return Err(failure),
        }
    }
    unreachable!("the loop returns")
}

#[cfg(test)]
mod tests {
    use generated::endpoint::Endpoint;
    use serde_json::json;

    use super::*;

    fn endpoint(spec: Value) -> Endpoint {
        serde_json::from_value(json!({"apiVersion": "sagemaker.services.k8s.aws/v1alpha1",
            "kind": "Endpoint", "metadata": {"name": "e"}, "spec": spec}))
        .expect("an Endpoint")
    }

    #[test]
    fn only_updatable_fields_that_differ_are_patched() {
        let existing = endpoint(json!({"endpointName": "e", "endpointConfigName": "a",
            "tags": [{"key": "team", "value": "ml"}],
            "deploymentConfig": {"autoRollbackConfiguration": {"alarms": [{"alarmName": "x"}]},
                "blueGreenUpdatePolicy": {"terminationWaitInSeconds": 0,
                    "trafficRoutingConfiguration": {"type_": "ALL_AT_ONCE", "waitIntervalInSeconds": 0}}}}));
        let same = endpoint(json!({"endpointName": "e", "endpointConfigName": "a"}));
        assert_eq!(
            plan(&existing, &same),
            Plan::default(),
            "inputs that leave fields unset change nothing"
        );
        // What SageMaker filled in besides the inputs' keys is no difference.
        let held = endpoint(json!({"endpointName": "e", "endpointConfigName": "a",
            "deploymentConfig": {"blueGreenUpdatePolicy": {"trafficRoutingConfiguration": {"type_": "ALL_AT_ONCE"}}}}));
        assert_eq!(plan(&existing, &held), Plan::default());
        let desired = endpoint(json!({"endpointName": "e", "endpointConfigName": "b",
            "tags": [{"key": "team", "value": "data"}],
            "deploymentConfig": {"blueGreenUpdatePolicy": {"terminationWaitInSeconds": 60}}}));
        let plan = plan(&existing, &desired);
        assert_eq!(plan.ignored, ["tags"]);
        assert_eq!(
            Value::Object(plan.spec),
            json!({
            "endpointConfigName": "b",
            "deploymentConfig": {"blueGreenUpdatePolicy": {"terminationWaitInSeconds": 60}}})
        );
    }

    #[test]
    fn holding_is_key_by_key_and_element_by_element() {
        let existing = json!({"a": {"b": 1, "c": [{"d": 1, "e": 2}]}, "f": "x"});
        assert!(holds(&existing, &json!({"a": {"c": [{"d": 1}]}})));
        assert!(holds(&existing, &json!({})));
        assert!(!holds(&existing, &json!({"a": {"b": 2}})));
        assert!(
            !holds(&existing, &json!({"a": {"c": [{"d": 1}, {"d": 2}]}})),
            "another length"
        );
        assert!(!holds(&existing, &json!({"g": false})), "a key it lacks");
        assert!(!holds(&json!(null), &json!("x")));
    }

    #[test]
    fn before_the_update_is_taken_only_a_new_failure_counts() {
        let status = |state: &str, synced: &str, modified: &str, terminal: Option<&str>| {
            let mut conditions = vec![json!({"type": "ACK.ResourceSynced", "status": synced})];
            if let Some(message) = terminal {
                conditions
                    .push(json!({"type": "ACK.Terminal", "status": "True", "message": message}));
            }
            let mut e = endpoint(json!({"endpointName": "e", "endpointConfigName": "b"}));
            e.status = serde_json::from_value(
                json!({"endpointStatus": state, "lastModifiedTime": modified,
                "conditions": conditions}),
            )
            .expect("status");
            e
        };
        let old_failure = "api error EndpointUpdateError: unable to update endpoint. check FailureReason. latest EndpointConfigName is a";
        let before = status(
            "InService",
            "False",
            "2026-12-01T10:00:00Z",
            Some(old_failure),
        );
        let mut update = Update {
            recorded: Recorded {
                marks: before.update_marks(),
                failure: match kinds::verdict(&before) {
                    Verdict::Failed(f) => Some(f),
                    _ => None,
                },
            },
            taken: false,
        };
        // The old failure and the old done-looking state are waited past.
        assert_eq!(
            update.verdict(&before),
            Verdict::Waiting { recoverable: None }
        );
        assert_eq!(
            update.verdict(&status("InService", "True", "2026-12-01T10:00:00Z", None)),
            Verdict::Waiting { recoverable: None }
        );
        // A failure the patch caused ends the step.
        assert!(matches!(
            update.verdict(&status(
                "InService",
                "True",
                "2026-12-01T10:00:00Z",
                Some("api error ValidationException: no config b")
            )),
            Verdict::Failed(_)
        ));
    }
}
