//! The thirteen SageMaker resource kinds the ACK controller's components manage, and
//! what SageMaker's API calls each of them: operation names, the request member holding
//! the name, the answer member holding the ARN, the status member, the ARN's resource
//! type, and the errors for an unknown or a duplicate name.

use crate::error::AwsError;

/// A SageMaker resource kind (named as in its API operations: `Create<Kind>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `CreateTrainingJob`, `DescribeTrainingJob`, `StopTrainingJob`, `UpdateTrainingJob`.
    TrainingJob,
    /// `Create`/`Describe`/`StopHyperParameterTuningJob`.
    HyperParameterTuningJob,
    /// `Create`/`Describe`/`StopProcessingJob`.
    ProcessingJob,
    /// `Create`/`Describe`/`StopTransformJob`.
    TransformJob,
    /// `Create`/`Describe`/`DeleteModel`.
    Model,
    /// `Create`/`Describe`/`DeleteEndpointConfig`.
    EndpointConfig,
    /// `Create`/`Describe`/`Update`/`DeleteEndpoint`.
    Endpoint,
    /// `Create`/`Describe`/`Update`/`DeleteMonitoringSchedule`.
    MonitoringSchedule,
    /// `Create`/`Describe`/`DeleteDataQualityJobDefinition`.
    DataQualityJobDefinition,
    /// `Create`/`Describe`/`DeleteModelBiasJobDefinition`.
    ModelBiasJobDefinition,
    /// `Create`/`Describe`/`DeleteModelExplainabilityJobDefinition`.
    ModelExplainabilityJobDefinition,
    /// `Create`/`Describe`/`DeleteModelQualityJobDefinition`.
    ModelQualityJobDefinition,
    /// `Create`/`Describe`/`DeleteModelPackageGroup`.
    ModelPackageGroup,
}

/// How a kind lives: what its status field holds and how it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Runs and ends (InProgress, then Completed, Failed or Stopped); `Stop<Kind>`, never
    /// deleted.
    Job,
    /// No status: exists once created; `Delete<Kind>`.
    Definition,
    /// Endpoint: Creating, then InService or Failed; updated; deleted.
    Endpoint,
    /// MonitoringSchedule: Pending, then Scheduled or Failed; updated; deleted.
    Schedule,
    /// ModelPackageGroup: Pending/InProgress, then Completed or Failed; deleted.
    Group,
}

/// What a request asks of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `Create<Kind>`.
    Create,
    /// `Describe<Kind>`.
    Describe,
    /// `Stop<Kind>` (jobs).
    Stop,
    /// `Delete<Kind>`.
    Delete,
    /// `Update<Kind>` (TrainingJob, Endpoint, MonitoringSchedule).
    Update,
}

impl Verb {
    const ALL: [Verb; 5] = [
        Verb::Create,
        Verb::Describe,
        Verb::Stop,
        Verb::Delete,
        Verb::Update,
    ];

    /// The operation name's prefix (`Create`, ...).
    pub fn prefix(self) -> &'static str {
        match self {
            Verb::Create => "Create",
            Verb::Describe => "Describe",
            Verb::Stop => "Stop",
            Verb::Delete => "Delete",
            Verb::Update => "Update",
        }
    }
}

impl Kind {
    /// All thirteen, in the order of the components' README table.
    pub const ALL: [Kind; 13] = [
        Kind::TrainingJob,
        Kind::HyperParameterTuningJob,
        Kind::ProcessingJob,
        Kind::TransformJob,
        Kind::Model,
        Kind::EndpointConfig,
        Kind::Endpoint,
        Kind::MonitoringSchedule,
        Kind::DataQualityJobDefinition,
        Kind::ModelBiasJobDefinition,
        Kind::ModelExplainabilityJobDefinition,
        Kind::ModelQualityJobDefinition,
        Kind::ModelPackageGroup,
    ];

    /// The kind's name in operation names and in the ACK CRD (`TrainingJob`).
    pub fn api_name(self) -> &'static str {
        match self {
            Kind::TrainingJob => "TrainingJob",
            Kind::HyperParameterTuningJob => "HyperParameterTuningJob",
            Kind::ProcessingJob => "ProcessingJob",
            Kind::TransformJob => "TransformJob",
            Kind::Model => "Model",
            Kind::EndpointConfig => "EndpointConfig",
            Kind::Endpoint => "Endpoint",
            Kind::MonitoringSchedule => "MonitoringSchedule",
            Kind::DataQualityJobDefinition => "DataQualityJobDefinition",
            Kind::ModelBiasJobDefinition => "ModelBiasJobDefinition",
            Kind::ModelExplainabilityJobDefinition => "ModelExplainabilityJobDefinition",
            Kind::ModelQualityJobDefinition => "ModelQualityJobDefinition",
            Kind::ModelPackageGroup => "ModelPackageGroup",
        }
    }

    /// The operation's kind and verb (`CreateTrainingJob` -> TrainingJob, Create), if it is
    /// one SageMaker offers for these kinds.
    pub fn operation(op: &str) -> Option<(Kind, Verb)> {
        Verb::ALL.iter().find_map(|&verb| {
            let rest = op.strip_prefix(verb.prefix())?;
            let kind = Kind::ALL.into_iter().find(|k| k.api_name() == rest)?;
            kind.offers(verb).then_some((kind, verb))
        })
    }

    /// Whether SageMaker has `<verb><Kind>` for this kind.
    pub fn offers(self, verb: Verb) -> bool {
        match verb {
            Verb::Create | Verb::Describe => true,
            Verb::Stop => self.class() == Class::Job,
            Verb::Delete => self.class() != Class::Job,
            Verb::Update => matches!(
                self,
                Kind::TrainingJob | Kind::Endpoint | Kind::MonitoringSchedule
            ),
        }
    }

    /// How the kind lives.
    pub fn class(self) -> Class {
        match self {
            Kind::TrainingJob
            | Kind::HyperParameterTuningJob
            | Kind::ProcessingJob
            | Kind::TransformJob => Class::Job,
            Kind::Endpoint => Class::Endpoint,
            Kind::MonitoringSchedule => Class::Schedule,
            Kind::ModelPackageGroup => Class::Group,
            Kind::Model
            | Kind::EndpointConfig
            | Kind::DataQualityJobDefinition
            | Kind::ModelBiasJobDefinition
            | Kind::ModelExplainabilityJobDefinition
            | Kind::ModelQualityJobDefinition => Class::Definition,
        }
    }

    /// The request member that names the resource (`TrainingJobName`; the four monitoring
    /// job definitions share `JobDefinitionName`).
    pub fn name_member(self) -> &'static str {
        match self {
            Kind::TrainingJob => "TrainingJobName",
            Kind::HyperParameterTuningJob => "HyperParameterTuningJobName",
            Kind::ProcessingJob => "ProcessingJobName",
            Kind::TransformJob => "TransformJobName",
            Kind::Model => "ModelName",
            Kind::EndpointConfig => "EndpointConfigName",
            Kind::Endpoint => "EndpointName",
            Kind::MonitoringSchedule => "MonitoringScheduleName",
            Kind::DataQualityJobDefinition
            | Kind::ModelBiasJobDefinition
            | Kind::ModelExplainabilityJobDefinition
            | Kind::ModelQualityJobDefinition => "JobDefinitionName",
            Kind::ModelPackageGroup => "ModelPackageGroupName",
        }
    }

    /// The answer member that holds the ARN (`TrainingJobArn`, `JobDefinitionArn`, ...).
    pub fn arn_member(self) -> &'static str {
        match self {
            Kind::TrainingJob => "TrainingJobArn",
            Kind::HyperParameterTuningJob => "HyperParameterTuningJobArn",
            Kind::ProcessingJob => "ProcessingJobArn",
            Kind::TransformJob => "TransformJobArn",
            Kind::Model => "ModelArn",
            Kind::EndpointConfig => "EndpointConfigArn",
            Kind::Endpoint => "EndpointArn",
            Kind::MonitoringSchedule => "MonitoringScheduleArn",
            Kind::DataQualityJobDefinition
            | Kind::ModelBiasJobDefinition
            | Kind::ModelExplainabilityJobDefinition
            | Kind::ModelQualityJobDefinition => "JobDefinitionArn",
            Kind::ModelPackageGroup => "ModelPackageGroupArn",
        }
    }

    /// The Describe answer's status member, for the kinds that have one.
    pub fn status_member(self) -> Option<&'static str> {
        Some(match self {
            Kind::TrainingJob => "TrainingJobStatus",
            Kind::HyperParameterTuningJob => "HyperParameterTuningJobStatus",
            Kind::ProcessingJob => "ProcessingJobStatus",
            Kind::TransformJob => "TransformJobStatus",
            Kind::Endpoint => "EndpointStatus",
            Kind::MonitoringSchedule => "MonitoringScheduleStatus",
            Kind::ModelPackageGroup => "ModelPackageGroupStatus",
            _ => return None,
        })
    }

    /// The status SageMaker reports while it works on a resource of this kind (`InProgress`,
    /// `Creating`, `Pending`), for the kinds that have one.
    pub fn working_status(self) -> Option<&'static str> {
        match self.class() {
            Class::Job | Class::Group => Some("InProgress"),
            Class::Endpoint => Some("Creating"),
            Class::Schedule => Some("Pending"),
            Class::Definition => None,
        }
    }

    /// The status SageMaker reports once a resource of this kind is done (`Completed`,
    /// `InService`, `Scheduled`), for the kinds that have one.
    pub fn done_status(self) -> Option<&'static str> {
        match self.class() {
            Class::Job | Class::Group => Some("Completed"),
            Class::Endpoint => Some("InService"),
            Class::Schedule => Some("Scheduled"),
            Class::Definition => None,
        }
    }

    /// The resource type in the ARN (`arn:aws:sagemaker:<region>:<account>:<type>/<name>`).
    pub fn arn_type(self) -> &'static str {
        match self {
            Kind::TrainingJob => "training-job",
            Kind::HyperParameterTuningJob => "hyper-parameter-tuning-job",
            Kind::ProcessingJob => "processing-job",
            Kind::TransformJob => "transform-job",
            Kind::Model => "model",
            Kind::EndpointConfig => "endpoint-config",
            Kind::Endpoint => "endpoint",
            Kind::MonitoringSchedule => "monitoring-schedule",
            Kind::DataQualityJobDefinition => "data-quality-job-definition",
            Kind::ModelBiasJobDefinition => "model-bias-job-definition",
            Kind::ModelExplainabilityJobDefinition => "model-explainability-job-definition",
            Kind::ModelQualityJobDefinition => "model-quality-job-definition",
            Kind::ModelPackageGroup => "model-package-group",
        }
    }

    /// The ARN of `name` (SageMaker writes names in ARNs in lower case).
    pub fn arn(self, region: &str, account: &str, name: &str) -> String {
        format!(
            "arn:aws:sagemaker:{region}:{account}:{}/{}",
            self.arn_type(),
            name.to_ascii_lowercase()
        )
    }

    /// The error of `Describe`/`Stop`/`Delete`/`Update` for a name SageMaker does not know:
    /// exactly the code and message form the controller recognises as "not found" for
    /// this kind (its `sdk.go`, `sdkFind`).
    pub fn not_found(self, name: &str, arn: &str) -> AwsError {
        match self {
            // A ValidationException whose message starts "Requested resource not found".
            Kind::TrainingJob => AwsError::validation("Requested resource not found."),
            // ResourceNotFound, any message.
            Kind::HyperParameterTuningJob => AwsError::new(
                400,
                "ResourceNotFound",
                format!("Amazon SageMaker can't find a tuning job with name {name}"),
            ),
            // Prefixes "Could not find requested job" / "... with name".
            Kind::ProcessingJob | Kind::TransformJob => {
                AwsError::validation(format!("Could not find requested job with name {name}"))
            }
            Kind::Model => AwsError::validation(format!("Could not find model \"{arn}\".")),
            Kind::EndpointConfig => {
                AwsError::validation(format!("Could not find endpoint configuration \"{arn}\"."))
            }
            Kind::Endpoint => AwsError::validation(format!("Could not find endpoint \"{arn}\".")),
            Kind::MonitoringSchedule => AwsError::new(
                400,
                "ResourceNotFound",
                format!("Monitoring Schedule {arn} does not exist."),
            ),
            Kind::DataQualityJobDefinition
            | Kind::ModelBiasJobDefinition
            | Kind::ModelExplainabilityJobDefinition
            | Kind::ModelQualityJobDefinition => AwsError::new(
                400,
                "ResourceNotFound",
                format!("Job definition {arn} does not exist."),
            ),
            // A ValidationException whose message ends "does not exist.".
            Kind::ModelPackageGroup => {
                AwsError::validation(format!("ModelPackageGroup {arn} does not exist."))
            }
        }
    }

    /// The error of `Create` for a name SageMaker already holds (jobs, schedules and
    /// job definitions: `ResourceInUse`; the hosting kinds and groups: a
    /// ValidationException).
    pub fn already_exists(self, arn: &str) -> AwsError {
        let in_use = |what: &str| {
            AwsError::new(
                400,
                "ResourceInUse",
                format!(
                    "{what} names must be unique within an AWS account and region, and a \
                     {} with this name already exists ({arn})",
                    what.to_ascii_lowercase()
                ),
            )
        };
        match self {
            Kind::TrainingJob => in_use("Training job"),
            Kind::HyperParameterTuningJob => in_use("Hyperparameter tuning job"),
            Kind::ProcessingJob => in_use("Processing job"),
            Kind::TransformJob => in_use("Transform job"),
            Kind::MonitoringSchedule => in_use("Monitoring schedule"),
            Kind::DataQualityJobDefinition
            | Kind::ModelBiasJobDefinition
            | Kind::ModelExplainabilityJobDefinition
            | Kind::ModelQualityJobDefinition => in_use("Job definition"),
            Kind::Model => {
                AwsError::validation(format!("Cannot create already existing model \"{arn}\"."))
            }
            Kind::EndpointConfig => AwsError::validation(format!(
                "Cannot create already existing endpoint configuration \"{arn}\"."
            )),
            Kind::Endpoint => AwsError::validation(format!(
                "Cannot create already existing endpoint \"{arn}\"."
            )),
            Kind::ModelPackageGroup => {
                AwsError::validation(format!("Model Package Group already exists: {arn}"))
            }
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.api_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_read_from_their_names() {
        assert_eq!(
            Kind::operation("CreateTrainingJob"),
            Some((Kind::TrainingJob, Verb::Create))
        );
        assert_eq!(
            Kind::operation("DeleteModelQualityJobDefinition"),
            Some((Kind::ModelQualityJobDefinition, Verb::Delete))
        );
        assert_eq!(
            Kind::operation("UpdateEndpoint"),
            Some((Kind::Endpoint, Verb::Update))
        );
        // SageMaker has no such operations for these kinds.
        assert_eq!(Kind::operation("DeleteTrainingJob"), None);
        assert_eq!(Kind::operation("StopEndpoint"), None);
        assert_eq!(Kind::operation("UpdateModel"), None);
        assert_eq!(Kind::operation("ListTrainingJobs"), None);
    }

    #[test]
    fn arns_name_region_account_type_and_the_name_in_lower_case() {
        assert_eq!(
            Kind::HyperParameterTuningJob.arn("eu-west-1", "111122223333", "Tune-1"),
            "arn:aws:sagemaker:eu-west-1:111122223333:hyper-parameter-tuning-job/tune-1"
        );
    }
}
