//! An Endpoint: long-lived; done when `endpointStatus` is `InService` with
//! `ACK.ResourceSynced` True and no deployment pending (the ACK conditions, Terminal
//! first, are read before this). `Failed` fails with `failureReason` (the controller also
//! sets Terminal); `OutOfService` and `UpdateRollbackFailed` fail too (Synced True, not
//! Terminal, and not serving). Anything else (`Creating`, `Updating`, `SystemUpdating`,
//! `RollingBack`, `Deleting`, Synced False) waits. Controller v1.9.1, semantics notes 2.6.
//!
//! An update (the controller updates `endpointConfigName` and `deploymentConfig`) is
//! taken when the controller's annotation
//! `sagemaker.services.k8s.aws/last-endpoint-config-for-update` names the desired
//! configuration *and* SageMaker shows that it acted: a `lastModifiedTime` other than the
//! one before the patch, or the endpoint `Updating` (written in the same status write
//! that follows the annotation; not trusted when the endpoint was not settled before the
//! patch, since it could be the earlier change's). The annotation alone is no proof: the
//! controller writes it in a metadata patch *before* its status patch, so one event shows
//! the new annotation with the old `InService`.

use std::time::Duration;

use component_runtime::Component;
use generated::endpoint::{Endpoint, EndpointStatus};

use super::{Class, Fact, Kind, Link, Marks, console_page, reason};
use crate::ack::{self, Verdict};

/// The annotation the controller writes when it calls UpdateEndpoint.
pub const LAST_CONFIG_ANNOTATION: &str =
    "sagemaker.services.k8s.aws/last-endpoint-config-for-update";

/// The states in which SageMaker is changing the endpoint.
const MODIFYING: [&str; 5] = [
    "Creating",
    "Updating",
    "SystemUpdating",
    "RollingBack",
    "Deleting",
];

impl Kind for Endpoint {
    const NOUN: &'static str = "endpoint";
    const NAME_MAX: usize = 63;
    const NAME_PREFIX: &'static str = "endpoint";
    const CLASS: Class = Class::Service;
    /// Creating an endpoint takes minutes; large models on many instances up to an hour.
    const TIME_LIMIT: Option<Duration> = Some(Duration::from_secs(90 * 60));

    fn state_verdict(status: &EndpointStatus) -> Verdict {
        let synced = ack::synced(Self::conditions(status));
        let why = || reason(status.failure_reason.as_deref());
        match status.endpoint_status.as_deref() {
            Some("InService") if synced && status.pending_deployment_summary.is_none() => {
                Verdict::Succeeded {
                    warnings: Vec::new(),
                }
            }
            Some("Failed") => Verdict::Failed(format!("the endpoint failed: {}", why())),
            Some(state @ ("OutOfService" | "UpdateRollbackFailed")) if synced => {
                Verdict::Failed(format!("the endpoint is {state}: {}", why()))
            }
            _ => Verdict::Waiting { recoverable: None },
        }
    }

    fn facts(status: &EndpointStatus) -> Vec<Fact> {
        let mut facts = Vec::new();
        if let Some(state) = &status.endpoint_status {
            facts.push(("endpoint status".to_owned(), state.clone()));
        }
        if let Some(pending) = &status.pending_deployment_summary
            && let Some(config) = &pending.endpoint_config_name
        {
            facts.push((
                "deploying endpoint configuration".to_owned(),
                config.clone(),
            ));
        }
        facts
    }

    fn links(arn: &str, name: &str) -> Vec<Link> {
        let mut links = console_page(arn, "endpoints", name);
        // One log group per endpoint, a stream per variant and instance.
        if let Some((host, region)) = ack::console_host(arn) {
            links.push((
                "logs",
                format!(
                    "https://{host}/cloudwatch/home?region={region}#logsV2:log-groups/log-group/$252Faws$252Fsagemaker$252FEndpoints$252F{name}"
                ),
            ));
        }
        links
    }

    fn update_marks(&self) -> Marks {
        let status = self.status.as_ref();
        Marks {
            last_modified_time: status.and_then(|s| s.last_modified_time.clone()),
            settled: settled(status),
        }
    }

    fn update_taken(before: &Marks, now: &Self) -> bool {
        if last_config(now) != Some(now.spec.endpoint_config_name.as_str()) {
            return false;
        }
        let status = now.status.as_ref();
        let modified = before.last_modified_time.as_ref()
            != status.and_then(|s| s.last_modified_time.as_ref());
        let updating = before.settled
            && status
                .and_then(|s| s.endpoint_status.as_deref())
                .is_some_and(|state| MODIFYING.contains(&state));
        modified || updating
    }
}

fn last_config(endpoint: &Endpoint) -> Option<&str> {
    endpoint
        .metadata
        .annotations
        .as_ref()?
        .get(LAST_CONFIG_ANNOTATION)
        .map(String::as_str)
}

/// In service and synced: nothing of an earlier change is still under way.
fn settled(status: Option<&EndpointStatus>) -> bool {
    status.is_some_and(|s| {
        s.endpoint_status.as_deref() == Some("InService") && ack::synced(Endpoint::conditions(s))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::kinds::testing::resource;
    use crate::kinds::{progress, verdict};

    fn endpoint(annotation: Option<&str>, config: &str, status: Value) -> Endpoint {
        let mut endpoint: Endpoint = resource(
            json!({"endpointName": "e", "endpointConfigName": config}),
            status,
        );
        if let Some(annotation) = annotation {
            endpoint.metadata.annotations =
                Some([(LAST_CONFIG_ANNOTATION.to_owned(), annotation.to_owned())].into());
        }
        endpoint
    }

    fn status(state: &str, synced: &str, modified: &str) -> Value {
        json!({"endpointStatus": state, "lastModifiedTime": modified,
            "conditions": [{"type": "ACK.ResourceSynced", "status": synced,
                "message": format!("Endpoint is in {state} status.")}]})
    }

    #[test]
    fn in_service_and_synced_is_done() {
        let done = endpoint(
            None,
            "a",
            status("InService", "True", "2026-12-01T10:00:00Z"),
        );
        assert_eq!(verdict(&done), Verdict::Succeeded { warnings: vec![] });
        let waiting = Verdict::Waiting { recoverable: None };
        for state in [
            "Creating",
            "Updating",
            "SystemUpdating",
            "RollingBack",
            "Deleting",
        ] {
            assert_eq!(
                verdict(&endpoint(
                    None,
                    "a",
                    status(state, "False", "2026-12-01T09:00:00Z")
                )),
                waiting,
                "{state}"
            );
        }
        // InService that the controller has not confirmed, or with a deployment pending.
        assert_eq!(
            verdict(&endpoint(
                None,
                "a",
                status("InService", "False", "2026-12-01T09:00:00Z")
            )),
            waiting
        );
        let mut pending = status("InService", "True", "2026-12-01T09:00:00Z");
        pending["pendingDeploymentSummary"] = json!({"endpointConfigName": "b"});
        assert_eq!(verdict(&endpoint(None, "a", pending.clone())), waiting);
        let facts = progress(&endpoint(None, "a", pending));
        assert!(
            facts.contains(&(
                "deploying endpoint configuration".to_owned(),
                "b".to_owned()
            )),
            "{facts:?}"
        );
    }

    #[test]
    fn failed_out_of_service_and_a_failed_rollback_fail() {
        let mut failed = status("Failed", "True", "2026-12-01T09:00:00Z");
        failed["failureReason"] =
            json!("The primary container did not pass the ping health check.");
        failed["conditions"].as_array_mut().expect("conditions").push(json!({"type": "ACK.Terminal",
            "status": "True", "message": "Endpoint status reached terminal state: Failed. Check the FailureReason."}));
        assert!(
            matches!(verdict(&endpoint(None, "a", failed)), Verdict::Failed(m) if m == "the endpoint failed: The primary container did not pass the ping health check.")
        );
        for state in ["OutOfService", "UpdateRollbackFailed"] {
            assert!(
                matches!(verdict(&endpoint(None, "a", status(state, "True", "2026-12-01T09:00:00Z"))), Verdict::Failed(m) if m.contains(state)),
                "{state}"
            );
        }
        // A rolled-back update: InService again, but the controller's Terminal says why.
        let mut rolled_back = status("InService", "False", "2026-12-01T09:00:00Z");
        rolled_back["conditions"].as_array_mut().expect("conditions").push(json!({"type": "ACK.Terminal",
            "status": "True", "message": "api error EndpointUpdateError: unable to update endpoint. check FailureReason. latest EndpointConfigName is a"}));
        assert!(
            matches!(verdict(&endpoint(Some("b"), "b", rolled_back)), Verdict::Failed(m) if m.contains("EndpointUpdateError"))
        );
    }

    #[test]
    fn an_update_is_taken_on_the_controllers_markers_only() {
        let before = Endpoint::update_marks(&endpoint(
            None,
            "a",
            status("InService", "True", "2026-12-01T10:00:00Z"),
        ));
        // Just patched: the old annotation (none) and the old state.
        assert!(!Endpoint::update_taken(
            &before,
            &endpoint(
                None,
                "b",
                status("InService", "True", "2026-12-01T10:00:00Z")
            )
        ));
        // A resync changed the conditions' timestamps only: not taken.
        let mut resynced = status("InService", "True", "2026-12-01T10:00:00Z");
        resynced["conditions"][0]["lastTransitionTime"] = json!("2026-12-01T10:30:00Z");
        let resynced = endpoint(None, "b", resynced);
        assert_ne!(
            resynced.status,
            endpoint(
                None,
                "b",
                status("InService", "True", "2026-12-01T10:00:00Z")
            )
            .status
        );
        assert!(!Endpoint::update_taken(&before, &resynced));
        // The controller's metadata patch lands before its status patch: the annotation
        // with the old InService is not yet proof.
        let annotated = endpoint(
            Some("b"),
            "b",
            status("InService", "True", "2026-12-01T10:00:00Z"),
        );
        assert!(!Endpoint::update_taken(&before, &annotated));
        assert_eq!(
            verdict(&annotated),
            Verdict::Succeeded { warnings: vec![] },
            "the trap: a done-looking state"
        );
        // Then its status patch (Updating), or SageMaker's new lastModifiedTime.
        assert!(Endpoint::update_taken(
            &before,
            &endpoint(
                Some("b"),
                "b",
                status("Updating", "False", "2026-12-01T10:00:00Z")
            )
        ));
        assert!(Endpoint::update_taken(
            &before,
            &endpoint(
                Some("b"),
                "b",
                status("InService", "True", "2026-12-01T10:05:00Z")
            )
        ));
        // An annotation naming another configuration is another update's.
        assert!(!Endpoint::update_taken(
            &before,
            &endpoint(
                Some("a"),
                "b",
                status("Updating", "False", "2026-12-01T10:05:00Z")
            )
        ));
        // Patched while an earlier change was under way: its Updating proves nothing.
        let unsettled = Endpoint::update_marks(&endpoint(
            Some("b"),
            "b",
            status("Updating", "False", "2026-12-01T10:00:00Z"),
        ));
        assert!(!Endpoint::update_taken(
            &unsettled,
            &endpoint(
                Some("b"),
                "b",
                status("Updating", "False", "2026-12-01T10:00:00Z")
            )
        ));
        assert!(Endpoint::update_taken(
            &unsettled,
            &endpoint(
                Some("b"),
                "b",
                status("Updating", "False", "2026-12-01T10:05:00Z")
            )
        ));
    }

    #[test]
    fn updatable_fields() {
        assert_eq!(
            Endpoint::UPDATABLE_FIELDS,
            ["deploymentConfig", "endpointConfigName"]
        );
    }

    #[test]
    fn links() {
        let links = Endpoint::links("arn:aws:sagemaker:us-west-2:1:endpoint/e", "e");
        assert!(links[0].1.ends_with("#/endpoints/e"), "{links:?}");
        assert!(
            links[1]
                .1
                .ends_with("log-group/$252Faws$252Fsagemaker$252FEndpoints$252Fe"),
            "{links:?}"
        );
    }
}
