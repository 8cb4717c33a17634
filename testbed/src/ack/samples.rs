//! A realistic spec of each of the 13 kinds, shaped like the controller's own unit-test
//! requests (`pkg/resource/<kind>/testdata/v1alpha1/create/desired/`) and e2e resources:
//! what users write, with the values SageMaker would otherwise default spelled out where
//! the controller's e2e resources spell them out.

use serde_json::{Value, json};

use sagemaker_emulator::Kind;

/// An execution role.
pub const ROLE: &str = "arn:aws:iam::123456789012:role/ack-sagemaker-execution-role";
/// A training image.
pub const IMAGE: &str = "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1";
const MONITOR_IMAGE: &str =
    "159807026194.dkr.ecr.us-west-2.amazonaws.com/sagemaker-model-monitor-analyzer";
const BUCKET: &str = "s3://ack-kfp-testbed";

/// The spec of a `kind` resource whose SageMaker name is `name`. `uses` names what it
/// refers to: the Model of an EndpointConfig or TransformJob, the EndpointConfig of an
/// Endpoint, the Endpoint a MonitoringSchedule or job definition watches (ignored by
/// the other kinds).
pub fn spec(kind: Kind, name: &str, uses: &str) -> Value {
    let stopping = json!({"maxRuntimeInSeconds": 1800});
    let cluster = json!({"clusterConfig": {"instanceCount": 1, "instanceType": "ml.m5.large", "volumeSizeInGB": 20}});
    let outputs = json!({"monitoringOutputs": [{"s3Output": {
        "localPath": "/opt/ml/processing/output",
        "s3URI": format!("{BUCKET}/monitoring/{name}/reports"),
        "s3UploadMode": "Continuous"}}]});
    let endpoint_input = json!({
        "endpointName": uses,
        "localPath": "/opt/ml/processing/input/endpoint",
        "s3DataDistributionType": "FullyReplicated",
        "s3InputMode": "File"});
    let mut spec = match kind {
        Kind::TrainingJob => json!({
            "roleARN": ROLE,
            "algorithmSpecification": {"trainingImage": IMAGE, "trainingInputMode": "File"},
            "hyperParameters": {"max_depth": "5", "num_round": "10", "objective": "binary:logistic"},
            "inputDataConfig": [{
                "channelName": "train",
                "contentType": "text/csv",
                "compressionType": "None",
                "dataSource": {"s3DataSource": {
                    "s3DataType": "S3Prefix",
                    "s3URI": format!("{BUCKET}/churn/train/"),
                    "s3DataDistributionType": "FullyReplicated"}},
            }],
            "outputDataConfig": {"s3OutputPath": format!("{BUCKET}/churn/models/")},
            "resourceConfig": {"instanceCount": 1, "instanceType": "ml.m5.xlarge", "volumeSizeInGB": 5},
            "stoppingCondition": {"maxRuntimeInSeconds": 3600},
            "environment": {"STAGE": "test"},
        }),
        Kind::HyperParameterTuningJob => json!({
            "hyperParameterTuningJobConfig": {
                "strategy": "Bayesian",
                "hyperParameterTuningJobObjective": {"type_": "Minimize", "metricName": "validation:error"},
                "resourceLimits": {"maxNumberOfTrainingJobs": 2, "maxParallelTrainingJobs": 1},
                "parameterRanges": {"integerParameterRanges": [
                    {"name": "num_round", "minValue": "10", "maxValue": "20", "scalingType": "Linear"}]},
                "trainingJobEarlyStoppingType": "Auto",
            },
            "trainingJobDefinition": {
                "staticHyperParameters": {"base_score": "0.5"},
                "algorithmSpecification": {"trainingImage": IMAGE, "trainingInputMode": "File"},
                "roleARN": ROLE,
                "inputDataConfig": [{
                    "channelName": "train",
                    "dataSource": {"s3DataSource": {
                        "s3DataType": "S3Prefix",
                        "s3URI": format!("{BUCKET}/churn/train/"),
                        "s3DataDistributionType": "FullyReplicated"}},
                    "contentType": "text/csv",
                    "compressionType": "None",
                    "recordWrapperType": "None",
                    "inputMode": "File",
                }],
                "outputDataConfig": {"s3OutputPath": format!("{BUCKET}/churn/tuning/")},
                "resourceConfig": {"instanceType": "ml.m5.xlarge", "instanceCount": 1, "volumeSizeInGB": 25},
                "stoppingCondition": {"maxRuntimeInSeconds": 3600},
            },
        }),
        Kind::ProcessingJob => json!({
            "roleARN": ROLE,
            "environment": {"STAGE": "test"},
            "appSpecification": {
                "imageURI": "763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:1.5.0-cpu-py36-ubuntu16.04",
                "containerEntrypoint": ["python", "/opt/ml/processing/code/preprocess.py"],
            },
            "processingResources": cluster,
            "processingInputs": [{"inputName": "code", "s3Input": {
                "s3URI": format!("{BUCKET}/code/preprocess.py"),
                "localPath": "/opt/ml/processing/code",
                "s3DataType": "S3Prefix",
                "s3InputMode": "File",
                "s3CompressionType": "None"}}],
            "processingOutputConfig": {"outputs": [{"outputName": "train", "s3Output": {
                "s3URI": format!("{BUCKET}/churn/train/"),
                "localPath": "/opt/ml/processing/train",
                "s3UploadMode": "EndOfJob"}}]},
        }),
        Kind::TransformJob => json!({
            "modelName": uses,
            "transformInput": {"contentType": "text/csv", "dataSource": {"s3DataSource": {
                "s3DataType": "S3Prefix", "s3URI": format!("{BUCKET}/batch/input/")}}},
            "transformOutput": {"s3OutputPath": format!("{BUCKET}/batch/output/")},
            "transformResources": {"instanceCount": 1, "instanceType": "ml.m5.large"},
        }),
        Kind::Model => json!({
            "executionRoleARN": ROLE,
            "containers": [{
                "containerHostname": "xgboost",
                "environment": {"STAGE": "test"},
                "image": IMAGE,
                "imageConfig": {"repositoryAccessMode": "Platform"},
                "modelDataURL": format!("{BUCKET}/churn/models/model.tar.gz"),
            }],
        }),
        Kind::EndpointConfig => json!({
            "productionVariants": [{
                "variantName": "AllTraffic",
                "modelName": uses,
                "initialInstanceCount": 1,
                "initialVariantWeight": 1,
                "instanceType": "ml.c5.large",
            }],
            "dataCaptureConfig": {
                "enableCapture": true,
                "initialSamplingPercentage": 100,
                "destinationS3URI": format!("{BUCKET}/datacapture"),
                "captureOptions": [{"captureMode": "Input"}, {"captureMode": "Output"}],
            },
        }),
        Kind::Endpoint => json!({"endpointConfigName": uses}),
        Kind::MonitoringSchedule => json!({
            "monitoringScheduleConfig": {
                "monitoringType": "DataQuality",
                "scheduleConfig": {"scheduleExpression": "cron(0 * ? * * *)"},
                "monitoringJobDefinition": {
                    "monitoringAppSpecification": {"imageURI": MONITOR_IMAGE},
                    "monitoringInputs": [{"endpointInput": endpoint_input}],
                    "monitoringOutputConfig": outputs,
                    "monitoringResources": cluster,
                    "roleARN": ROLE,
                    "stoppingCondition": stopping,
                },
            },
        }),
        Kind::DataQualityJobDefinition => json!({
            "dataQualityAppSpecification": {"imageURI": MONITOR_IMAGE},
            "dataQualityBaselineConfig": {
                "constraintsResource": {"s3URI": format!("{BUCKET}/baselining/constraints.json")},
                "statisticsResource": {"s3URI": format!("{BUCKET}/baselining/statistics.json")},
            },
            "dataQualityJobInput": {"endpointInput": endpoint_input},
            "dataQualityJobOutputConfig": outputs,
            "jobResources": cluster,
            "roleARN": ROLE,
            "stoppingCondition": stopping,
        }),
        Kind::ModelBiasJobDefinition => json!({
            "modelBiasAppSpecification": {
                "imageURI": "306415355426.dkr.ecr.us-west-2.amazonaws.com/sagemaker-clarify-processing:1.0",
                "configURI": format!("{BUCKET}/clarify/analysis_config.json"),
            },
            "modelBiasJobInput": {
                "endpointInput": merge(&endpoint_input, json!({
                    "probabilityThresholdAttribute": 0.8,
                    "startTimeOffset": "-PT1H",
                    "endTimeOffset": "-PT0H"})),
                "groundTruthS3Input": {"s3URI": format!("{BUCKET}/ground-truth")},
            },
            "modelBiasJobOutputConfig": outputs,
            "jobResources": cluster,
            "roleARN": ROLE,
            "stoppingCondition": stopping,
        }),
        Kind::ModelExplainabilityJobDefinition => json!({
            "modelExplainabilityAppSpecification": {
                "imageURI": "306415355426.dkr.ecr.us-west-2.amazonaws.com/sagemaker-clarify-processing:1.0",
                "configURI": format!("{BUCKET}/clarify/analysis_config.json"),
            },
            "modelExplainabilityJobInput": {"endpointInput": endpoint_input},
            "modelExplainabilityJobOutputConfig": outputs,
            "jobResources": cluster,
            "roleARN": ROLE,
            "stoppingCondition": stopping,
        }),
        Kind::ModelQualityJobDefinition => json!({
            "modelQualityAppSpecification": {"imageURI": MONITOR_IMAGE, "problemType": "BinaryClassification"},
            "modelQualityJobInput": {
                "endpointInput": merge(&endpoint_input, json!({
                    "probabilityAttribute": "0",
                    "probabilityThresholdAttribute": 0.5})),
                "groundTruthS3Input": {"s3URI": format!("{BUCKET}/ground-truth")},
            },
            "modelQualityJobOutputConfig": outputs,
            "jobResources": cluster,
            "roleARN": ROLE,
            "stoppingCondition": stopping,
        }),
        Kind::ModelPackageGroup => json!({"modelPackageGroupDescription": "Churn models"}),
    };
    spec[name_field(kind)] = json!(name);
    spec["tags"] = json!([{"key": "team", "value": "ml-platform"}]);
    spec
}

/// The Create request SageMaker would receive for what [`spec`] gives `uses` (for
/// seeding what a resource refers to): a Model for an EndpointConfig or TransformJob, an
/// EndpointConfig (of the Model `model`) for an Endpoint.
pub fn dependency(kind: Kind, uses: &str, model: &str) -> Option<(Kind, Value)> {
    match kind {
        Kind::EndpointConfig | Kind::TransformJob => Some((
            Kind::Model,
            json!({"ModelName": uses, "ExecutionRoleArn": ROLE, "PrimaryContainer": {"Image": IMAGE}}),
        )),
        Kind::Endpoint => Some((
            Kind::EndpointConfig,
            json!({"EndpointConfigName": uses, "ProductionVariants": [{
                "VariantName": "AllTraffic", "ModelName": model,
                "InitialInstanceCount": 1, "InstanceType": "ml.c5.large"}]}),
        )),
        _ => None,
    }
}

/// The spec member that names the SageMaker resource (`trainingJobName`).
pub fn name_field(kind: Kind) -> String {
    let member = kind.name_member();
    let mut chars = member.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn merge(base: &Value, more: Value) -> Value {
    let mut merged = base.clone();
    if let (Some(m), Value::Object(more)) = (merged.as_object_mut(), more) {
        m.extend(more);
    }
    merged
}
