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
    DataQualityJobDefinition, DataQualityJobDefinitionStatus,
};
use generated::endpoint_config::{EndpointConfig, EndpointConfigStatus};
use generated::model::{Model, ModelStatus};
use generated::model_bias_job_definition::{ModelBiasJobDefinition, ModelBiasJobDefinitionStatus};
use generated::model_explainability_job_definition::{
    ModelExplainabilityJobDefinition, ModelExplainabilityJobDefinitionStatus,
};
use generated::model_quality_job_definition::{
    ModelQualityJobDefinition, ModelQualityJobDefinitionStatus,
};

use super::{Class, Kind, Link, console_page};
use crate::ack::{self, Verdict};

/// How long a definition may take by default: SageMaker creates one in a single call, so
/// anything longer is an error the controller keeps retrying.
pub const DEFINITION_TIME_LIMIT: Duration = Duration::from_secs(15 * 60);

/// The rule of the definition kinds: done once the ARN is set and `ACK.ResourceSynced` is
/// True (the ACK conditions, Terminal first, are read before this).
fn definition_verdict<K: Kind>(status: &K::Status) -> Verdict {
    if K::arn(status).is_some_and(|a| !a.is_empty()) && ack::synced(K::conditions(status)) {
        Verdict::Succeeded {
            warnings: Vec::new(),
        }
    } else {
        Verdict::Waiting { recoverable: None }
    }
}

impl Kind for Model {
    const NOUN: &'static str = "model";
    const NAME_MAX: usize = 63;
    const NAME_PREFIX: &'static str = "model";
    const CLASS: Class = Class::Definition;
    const TIME_LIMIT: Option<Duration> = Some(DEFINITION_TIME_LIMIT);

    fn state_verdict(status: &ModelStatus) -> Verdict {
        definition_verdict::<Self>(status)
    }

    fn links(arn: &str, name: &str) -> Vec<Link> {
        console_page(arn, "models", name)
    }
}

impl Kind for EndpointConfig {
    const NOUN: &'static str = "endpoint configuration";
    const NAME_MAX: usize = 63;
    const NAME_PREFIX: &'static str = "endpoint-config";
    const CLASS: Class = Class::Definition;
    const TIME_LIMIT: Option<Duration> = Some(DEFINITION_TIME_LIMIT);

    fn state_verdict(status: &EndpointConfigStatus) -> Verdict {
        definition_verdict::<Self>(status)
    }

    fn links(arn: &str, name: &str) -> Vec<Link> {
        console_page(arn, "endpointConfig", name)
    }
}

impl Kind for DataQualityJobDefinition {
    const NOUN: &'static str = "data quality job definition";
    const NAME_MAX: usize = 63;
    const NAME_PREFIX: &'static str = "data-quality-job-definition";
    const CLASS: Class = Class::Definition;
    const TIME_LIMIT: Option<Duration> = Some(DEFINITION_TIME_LIMIT);

    fn state_verdict(status: &DataQualityJobDefinitionStatus) -> Verdict {
        definition_verdict::<Self>(status)
    }
}

impl Kind for ModelBiasJobDefinition {
    const NOUN: &'static str = "model bias job definition";
    const NAME_MAX: usize = 63;
    const NAME_PREFIX: &'static str = "model-bias-job-definition";
    const CLASS: Class = Class::Definition;
    const TIME_LIMIT: Option<Duration> = Some(DEFINITION_TIME_LIMIT);

    fn state_verdict(status: &ModelBiasJobDefinitionStatus) -> Verdict {
        definition_verdict::<Self>(status)
    }
}

impl Kind for ModelExplainabilityJobDefinition {
    const NOUN: &'static str = "model explainability job definition";
    const NAME_MAX: usize = 63;
    const NAME_PREFIX: &'static str = "model-explainability-job-definition";
    const CLASS: Class = Class::Definition;
    const TIME_LIMIT: Option<Duration> = Some(DEFINITION_TIME_LIMIT);

    fn state_verdict(status: &ModelExplainabilityJobDefinitionStatus) -> Verdict {
        definition_verdict::<Self>(status)
    }
}

impl Kind for ModelQualityJobDefinition {
    const NOUN: &'static str = "model quality job definition";
    const NAME_MAX: usize = 63;
    const NAME_PREFIX: &'static str = "model-quality-job-definition";
    const CLASS: Class = Class::Definition;
    const TIME_LIMIT: Option<Duration> = Some(DEFINITION_TIME_LIMIT);

    fn state_verdict(status: &ModelQualityJobDefinitionStatus) -> Verdict {
        definition_verdict::<Self>(status)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::kinds::testing::resource;
    use crate::kinds::{arn, verdict};

    fn model(status: Value) -> Model {
        resource(json!({"modelName": "m"}), status)
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
            let resource = |status: Value| -> K { resource(spec.clone(), status) };
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
            assert!(K::UPDATABLE_FIELDS.is_empty(), "{kind}");
            assert_eq!(K::CLASS, Class::Definition);
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
