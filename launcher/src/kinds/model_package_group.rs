//! A ModelPackageGroup (a model registry group): long-lived; done when
//! `modelPackageGroupStatus` is `Completed` with `ACK.ResourceSynced` True; `Failed` and
//! `DeleteFailed` fail (the controller sets no Terminal for them, and no reason field
//! exists); `Pending`, `InProgress` and `Deleting` wait. Controller v1.9.1, semantics
//! notes 2.10. It cannot be updated.

use std::time::Duration;

use generated::model_package_group::{
    ModelPackageGroup, ModelPackageGroupInputs, ModelPackageGroupOutputPaths,
    ModelPackageGroupSpec, ModelPackageGroupStatus,
};

use super::{Class, Kind, console_page};
use crate::ack::{self, Verdict};

impl Kind for ModelPackageGroup {
    type Spec = ModelPackageGroupSpec;
    type Status = ModelPackageGroupStatus;
    type Inputs = ModelPackageGroupInputs;
    type OutputPaths = ModelPackageGroupOutputPaths;
    const NOUN: &'static str = "model package group";
    const NAME_MAX: usize = 63;
    const NAME_INPUT: &'static str = "model_package_group_name";
    const NAME_PREFIX: &'static str = "model-package-group";
    const CLASS: Class = Class::Service;
    const TIME_LIMIT: Option<Duration> = Some(Duration::from_secs(15 * 60));

    crate::kinds::generated_accessors!(ModelPackageGroup, model_package_group_name);

    fn state_verdict(status: &Self::Status) -> Verdict {
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

    fn facts(status: &Self::Status) -> Vec<(String, String)> {
        status
            .model_package_group_status
            .iter()
            .map(|state| ("model package group status".to_owned(), state.clone()))
            .collect()
    }

    fn links(arn: &str, name: &str) -> Vec<(&'static str, String)> {
        console_page(arn, "model-registry", name)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::kinds::{pattern_max_len, verdict};

    fn group(state: &str, synced: &str) -> ModelPackageGroup {
        serde_json::from_value(json!({"apiVersion": "sagemaker.services.k8s.aws/v1alpha1",
            "kind": "ModelPackageGroup", "metadata": {"name": "g"},
            "spec": {"modelPackageGroupName": "g"},
            "status": {"modelPackageGroupStatus": state,
                "conditions": [{"type": "ACK.ResourceSynced", "status": synced}]}}))
        .expect("a ModelPackageGroup")
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
        assert!(ModelPackageGroup::UPDATABLE.is_empty());
        let crd = include_str!(
            "../../../crds/sagemaker-controller/sagemaker.services.k8s.aws_modelpackagegroups.yaml"
        );
        assert_eq!(
            pattern_max_len(crd, "modelPackageGroupName"),
            ModelPackageGroup::NAME_MAX
        );
    }
}
