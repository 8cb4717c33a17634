//! The definition kinds: Model, EndpointConfig and the four Model Monitor job definitions
//! (DataQuality, ModelBias, ModelExplainability, ModelQuality). SageMaker keeps no state
//! for them: the controller (v1.9.1, semantics notes 2.13-2.18) creates them with one
//! call, puts the ARN in `status.ackResourceMetadata` and sets `ACK.ResourceSynced` True
//! `Resource synced successfully`. So each is done once the ARN is set and Synced is
//! True; it fails on `ACK.Terminal` and on a Recoverable validation error (a missing
//! model or role is a `ValidationException` the controller retries for ever). None can be
//! updated: the controller answers a spec change with Terminal `not implemented`.
//!
//! | kind | name input | console page |
//! |---|---|---|
//! | Model | `model_name` | `#/models/<name>` |
//! | EndpointConfig | `endpoint_config_name` | `#/endpointConfig/<name>` |
//! | DataQualityJobDefinition, ModelBiasJobDefinition, ModelExplainabilityJobDefinition, ModelQualityJobDefinition | `job_definition_name` | none (the console shows them under their schedule) |

use std::time::Duration;

use generated::data_quality_job_definition::{
    DataQualityJobDefinition, DataQualityJobDefinitionInputs, DataQualityJobDefinitionOutputPaths,
    DataQualityJobDefinitionSpec, DataQualityJobDefinitionStatus,
};
use generated::endpoint_config::{
    EndpointConfig, EndpointConfigInputs, EndpointConfigOutputPaths, EndpointConfigSpec,
    EndpointConfigStatus,
};
use generated::model::{Model, ModelInputs, ModelOutputPaths, ModelSpec, ModelStatus};
use generated::model_bias_job_definition::{
    ModelBiasJobDefinition, ModelBiasJobDefinitionInputs, ModelBiasJobDefinitionOutputPaths,
    ModelBiasJobDefinitionSpec, ModelBiasJobDefinitionStatus,
};
use generated::model_explainability_job_definition::{
    ModelExplainabilityJobDefinition, ModelExplainabilityJobDefinitionInputs,
    ModelExplainabilityJobDefinitionOutputPaths, ModelExplainabilityJobDefinitionSpec,
    ModelExplainabilityJobDefinitionStatus,
};
use generated::model_quality_job_definition::{
    ModelQualityJobDefinition, ModelQualityJobDefinitionInputs,
    ModelQualityJobDefinitionOutputPaths, ModelQualityJobDefinitionSpec,
    ModelQualityJobDefinitionStatus,
};

use super::{Class, Kind, console_page, definition_verdict};
use crate::ack::Verdict;

/// How long a definition may take by default: SageMaker creates one in a single call, so
/// anything longer is an error the controller keeps retrying.
pub const DEFINITION_TIME_LIMIT: Duration = Duration::from_secs(15 * 60);

/// One definition kind: its generated types, what it is called, its name field and input,
/// the prefix of derived names and its console page (if it has one).
macro_rules! definition_kind {
    ($kind:ident, $spec:ident, $status:ident, $inputs:ident, $outputs:ident,
     noun: $noun:literal, name: $name_field:ident, prefix: $prefix:literal,
     page: $page:expr) => {
        impl Kind for $kind {
            type Spec = $spec;
            type Status = $status;
            type Inputs = $inputs;
            type OutputPaths = $outputs;
            const NOUN: &'static str = $noun;
            const NAME_MAX: usize = 63;
            const NAME_INPUT: &'static str = stringify!($name_field);
            const NAME_PREFIX: &'static str = $prefix;
            const CLASS: Class = Class::Definition;
            const TIME_LIMIT: Option<Duration> = Some(DEFINITION_TIME_LIMIT);

            crate::kinds::generated_accessors!($kind, $name_field);

            fn state_verdict(status: &Self::Status) -> Verdict {
                definition_verdict(Self::conditions(status), Self::arn(status))
            }

            fn facts(_status: &Self::Status) -> Vec<(String, String)> {
                Vec::new()
            }

            fn links(arn: &str, name: &str) -> Vec<(&'static str, String)> {
                let page: Option<&str> = $page;
                page.map(|page| console_page(arn, page, name))
                    .unwrap_or_default()
            }
        }
    };
}

definition_kind!(Model, ModelSpec, ModelStatus, ModelInputs, ModelOutputPaths,
    noun: "model", name: model_name, prefix: "model", page: Some("models"));
definition_kind!(EndpointConfig, EndpointConfigSpec, EndpointConfigStatus, EndpointConfigInputs,
    EndpointConfigOutputPaths,
    noun: "endpoint configuration", name: endpoint_config_name, prefix: "endpoint-config",
    page: Some("endpointConfig"));
definition_kind!(DataQualityJobDefinition, DataQualityJobDefinitionSpec,
    DataQualityJobDefinitionStatus, DataQualityJobDefinitionInputs,
    DataQualityJobDefinitionOutputPaths,
    noun: "data quality job definition", name: job_definition_name,
    prefix: "data-quality-job-definition", page: None);
definition_kind!(ModelBiasJobDefinition, ModelBiasJobDefinitionSpec,
    ModelBiasJobDefinitionStatus, ModelBiasJobDefinitionInputs, ModelBiasJobDefinitionOutputPaths,
    noun: "model bias job definition", name: job_definition_name,
    prefix: "model-bias-job-definition", page: None);
definition_kind!(ModelExplainabilityJobDefinition, ModelExplainabilityJobDefinitionSpec,
    ModelExplainabilityJobDefinitionStatus, ModelExplainabilityJobDefinitionInputs,
    ModelExplainabilityJobDefinitionOutputPaths,
    noun: "model explainability job definition", name: job_definition_name,
    prefix: "model-explainability-job-definition", page: None);
definition_kind!(ModelQualityJobDefinition, ModelQualityJobDefinitionSpec,
    ModelQualityJobDefinitionStatus, ModelQualityJobDefinitionInputs,
    ModelQualityJobDefinitionOutputPaths,
    noun: "model quality job definition", name: job_definition_name,
    prefix: "model-quality-job-definition", page: None);

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::kinds::{arn, pattern_max_len, verdict};

    fn model(status: Value) -> Model {
        serde_json::from_value(json!({"apiVersion": "sagemaker.services.k8s.aws/v1alpha1",
            "kind": "Model", "metadata": {"name": "m"}, "spec": {"modelName": "m"},
            "status": status}))
        .expect("a Model")
    }

    fn metadata(arn: &str) -> Value {
        json!({"arn": arn, "ownerAccountID": "123456789012", "region": "us-west-2"})
    }

    #[test]
    fn done_on_the_arn_with_synced_true() {
        let arn_value = "arn:aws:sagemaker:us-west-2:123456789012:model/m";
        let synced = json!([{"type": "ACK.LateInitialized", "status": "True"},
            {"type": "ACK.ResourceSynced", "status": "True", "message": "Resource synced successfully"}]);
        let done = model(json!({"ackResourceMetadata": metadata(arn_value), "conditions": synced}));
        assert_eq!(verdict(&done), Verdict::Succeeded { warnings: vec![] });
        assert_eq!(arn(&done), Some(arn_value));
        let waiting = Verdict::Waiting { recoverable: None };
        // The ARN without Synced True, Synced without an ARN, no status: not yet.
        let unsynced = json!([{"type": "ACK.ResourceSynced", "status": "Unknown"}]);
        assert_eq!(
            verdict(&model(
                json!({"ackResourceMetadata": metadata(arn_value), "conditions": unsynced})
            )),
            waiting
        );
        assert_eq!(
            verdict(&model(
                json!({"ackResourceMetadata": metadata(""), "conditions": synced})
            )),
            waiting
        );
        assert_eq!(verdict(&model(Value::Null)), waiting);
    }

    #[test]
    fn a_validation_error_or_terminal_fails_other_errors_wait() {
        let recoverable = |message: &str| {
            model(
                json!({"conditions": [{"type": "ACK.Recoverable", "status": "True", "message": message}]}),
            )
        };
        let missing = recoverable(
            "api error ValidationException: Could not access model data at s3://b/m.tar.gz",
        );
        assert!(
            matches!(verdict(&missing), Verdict::Failed(m) if m.contains("Could not access model data"))
        );
        let throttled = "api error ThrottlingException: Rate exceeded";
        assert_eq!(
            verdict(&recoverable(throttled)),
            Verdict::Waiting {
                recoverable: Some(throttled.to_owned())
            }
        );
        let drift = model(
            json!({"ackResourceMetadata": metadata("arn:aws:sagemaker:us-west-2:1:model/m"),
            "conditions": [{"type": "ACK.Terminal", "status": "True", "message": "not implemented"},
                {"type": "ACK.ResourceSynced", "status": "False", "message": "Resource not synced"}]}),
        );
        assert!(matches!(verdict(&drift), Verdict::Failed(m) if m.contains("not implemented")));
    }

    #[test]
    fn every_definition_kind_has_the_rule_and_no_updates() {
        fn check<K: Kind>(kind: &str, spec: Value) {
            let resource = |status: Value| -> K {
                serde_json::from_value(json!({"apiVersion": "sagemaker.services.k8s.aws/v1alpha1",
                    "kind": kind, "metadata": {"name": "d"}, "spec": spec.clone(), "status": status}))
                .expect(kind)
            };
            let done = resource(
                json!({"ackResourceMetadata": metadata("arn:aws:sagemaker:us-west-2:1:x/d"),
                "conditions": [{"type": "ACK.ResourceSynced", "status": "True"}]}),
            );
            assert_eq!(
                verdict(&done),
                Verdict::Succeeded { warnings: vec![] },
                "{kind}"
            );
            assert_eq!(
                verdict(&resource(json!({}))),
                Verdict::Waiting { recoverable: None },
                "{kind}"
            );
            assert!(K::UPDATABLE.is_empty(), "{kind}");
            assert_eq!(K::CLASS, Class::Definition);
            assert!(
                K::NAME_PREFIX.len() + 21 <= K::NAME_MAX,
                "{kind}: derived names fit"
            );
        }
        let job_definition = |prefix: &str| {
            json!({"jobDefinitionName": "d", "roleARN": "r", "jobResources": {},
                format!("{prefix}AppSpecification"): {}, format!("{prefix}JobInput"): {},
                format!("{prefix}JobOutputConfig"): {}})
        };
        check::<Model>("Model", json!({"modelName": "d"}));
        check::<EndpointConfig>(
            "EndpointConfig",
            json!({"endpointConfigName": "d", "productionVariants": []}),
        );
        check::<DataQualityJobDefinition>(
            "DataQualityJobDefinition",
            job_definition("dataQuality"),
        );
        check::<ModelBiasJobDefinition>("ModelBiasJobDefinition", job_definition("modelBias"));
        check::<ModelExplainabilityJobDefinition>(
            "ModelExplainabilityJobDefinition",
            job_definition("modelExplainability"),
        );
        check::<ModelQualityJobDefinition>(
            "ModelQualityJobDefinition",
            job_definition("modelQuality"),
        );
    }

    #[test]
    fn name_limits_are_the_crds() {
        let endpoint_config = include_str!(
            "../../../crds/sagemaker-controller/sagemaker.services.k8s.aws_endpointconfigs.yaml"
        );
        assert_eq!(
            pattern_max_len(endpoint_config, "endpointConfigName"),
            EndpointConfig::NAME_MAX
        );
        let data_quality = include_str!(
            "../../../crds/sagemaker-controller/sagemaker.services.k8s.aws_dataqualityjobdefinitions.yaml"
        );
        assert_eq!(
            pattern_max_len(data_quality, "jobDefinitionName"),
            DataQualityJobDefinition::NAME_MAX
        );
    }

    #[test]
    fn console_links() {
        let links = Model::links("arn:aws:sagemaker:eu-west-1:1:model/m", "m");
        assert_eq!(
            links,
            [(
                "console",
                "https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1#/models/m".to_owned()
            )]
        );
        assert!(
            DataQualityJobDefinition::links("arn:aws:sagemaker:eu-west-1:1:x/d", "d").is_empty()
        );
    }
}
