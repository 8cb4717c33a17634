//! A ModelPackageGroup (a model registry group): long-lived; done when
//! `modelPackageGroupStatus` is `Completed` with `ACK.ResourceSynced` True; `Failed` and
//! `DeleteFailed` fail (the controller sets no Terminal for them, and no reason field
//! exists); `Pending`, `InProgress` and `Deleting` wait. Controller v1.9.1, semantics
//! notes 2.10. It cannot be updated.

use std::time::Duration;

use component_runtime::Component;
use generated::model_package_group::{ModelPackageGroup, ModelPackageGroupStatus};

use super::{Class, Fact, Kind, Link, console_page};
use crate::ack::{self, Verdict};

impl Kind for ModelPackageGroup {
    const NOUN: &'static str = "model package group";
    const NAME_MAX: usize = 63;
    const NAME_PREFIX: &'static str = "model-package-group";
    const CLASS: Class = Class::Service;
    const TIME_LIMIT: Option<Duration> = Some(Duration::from_secs(15 * 60));

    fn state_verdict(status: &ModelPackageGroupStatus) -> Verdict {
        match status.model_package_group_status.as_deref() {
            Some("Completed") if ack::synced(Self::conditions(status)) => Verdict::Succeeded {
                warnings: Vec::new(),
            },
            Some(state @ ("Failed" | "DeleteFailed")) => Verdict::Failed(format!(
                "the model package group is {state} (SageMaker reports no reason; see the group in the SageMaker console)"
            )),
            _ => Verdict::Waiting { recoverable: None },
        }
    }

    fn facts(status: &ModelPackageGroupStatus) -> Vec<Fact> {
        status
            .model_package_group_status
            .iter()
            .map(|state| ("model package group status".to_owned(), state.clone()))
            .collect()
    }

    fn links(arn: &str, name: &str) -> Vec<Link> {
        console_page(arn, "model-registry", name)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::kinds::testing::resource;
    use crate::kinds::verdict;

    fn group(state: &str, synced: &str) -> ModelPackageGroup {
        resource(
            json!({"modelPackageGroupName": "g"}),
            json!({"modelPackageGroupStatus": state,
                "conditions": [{"type": "ACK.ResourceSynced", "status": synced}]}),
        )
    }

    #[test]
    fn completed_is_done_failed_fails_without_a_terminal() {
        assert_eq!(
            verdict(&group("Completed", "True")),
            Verdict::Succeeded { warnings: vec![] }
        );
        for state in ["Pending", "InProgress", "Deleting"] {
            assert_eq!(
                verdict(&group(state, "False")),
                Verdict::Waiting { recoverable: None },
                "{state}"
            );
        }
        for state in ["Failed", "DeleteFailed"] {
            assert!(
                matches!(verdict(&group(state, "True")), Verdict::Failed(m) if m.contains(state)),
                "{state}"
            );
        }
        assert!(ModelPackageGroup::UPDATABLE_FIELDS.is_empty());
    }
}
