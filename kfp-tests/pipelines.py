"""The pipelines under test and the values they pass, written once for both SDKs.

Only the annotation of a boolean pipeline parameter differs (`SDK.BOOL`). Each builder
takes the loaded TrainingJob component and returns a pipeline function.
"""

from kfp import dsl

from sdk import SDK

REGION = "us-west-2"
ROLE_ARN = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-20240101"
JOB_NAME = "xgboost-churn-20240101"
ALGORITHM = {
    "trainingImage": "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1",
    "trainingInputMode": "File",
    "metricDefinitions": [{"name": "validation:auc", "regex": "validation-auc:([0-9\\.]+)"}],
}
CHANNELS = [
    {
        "channelName": "train",
        "contentType": "text/csv",
        "compressionType": "None",
        "dataSource": {"s3DataSource": {
            "s3DataType": "S3Prefix",
            "s3URI": "s3://my-bucket/churn/train/",
            "s3DataDistributionType": "FullyReplicated",
        }},
    },
    {
        "channelName": "validation",
        "contentType": "text/csv",
        "dataSource": {"s3DataSource": {"s3DataType": "S3Prefix", "s3URI": "s3://my-bucket/churn/validation/"}},
    },
]
OUTPUT = {"s3OutputPath": "s3://my-bucket/churn/models/"}
RESOURCES = {"instanceCount": 2, "instanceType": "ml.m5.xlarge", "volumeSizeInGB": 30}
HYPER_PARAMETERS = {"max_depth": "5", "eta": "0.2", "objective": "binary:logistic", "num_round": "100"}
STOPPING = {"maxRuntimeInSeconds": 3600, "maxWaitTimeInSeconds": 7200}
# HTML characters (v2 escapes them) and a non-ASCII letter (v1 escapes it).
TAGS = [{"key": "team", "value": "R&D <ml>"}, {"key": "owner", "value": "José"}]

# What the pipeline below passes, by CRD spec field, with its parameters' defaults.
REALISTIC_SPEC = {
    "algorithmSpecification": ALGORITHM,
    "enableManagedSpotTraining": True,
    "enableNetworkIsolation": True,
    "hyperParameters": HYPER_PARAMETERS,
    "inputDataConfig": CHANNELS,
    "outputDataConfig": OUTPUT,
    "resourceConfig": RESOURCES,
    "roleARN": ROLE_ARN,
    "stoppingCondition": STOPPING,
    "tags": TAGS,
    "trainingJobName": JOB_NAME,
}
# The component inputs that pipeline passes; every other input is left to its default.
REALISTIC_INPUTS = {
    "region", "algorithm_specification", "enable_managed_spot_training", "enable_network_isolation",
    "hyper_parameters", "input_data_config", "output_data_config", "resource_config", "role_arn",
    "stopping_condition", "tags", "training_job_name",
}

CONSUMER_COMMAND = "consume-model"
CONSUMER_YAML = f"""
name: Consume model
inputs:
- {{name: model_artifacts, type: JsonObject}}
- {{name: status, type: String}}
implementation:
  container:
    image: busybox
    command: [{CONSUMER_COMMAND}, {{inputValue: model_artifacts}}, {{inputValue: status}}]
"""


def realistic(train, consume):
    """Literals and typed pipeline parameters mixed, and a step consuming two outputs."""

    @dsl.pipeline(name="churn-training", description="Train and hand the model on.")
    def pipeline(
        region: str = REGION,
        hyper_parameters: dict = HYPER_PARAMETERS,
        channels: list = CHANNELS,
        spot: SDK.BOOL = True,
        job_name: str = JOB_NAME,
    ):
        training = train(
            region=region,
            algorithm_specification=ALGORITHM,
            input_data_config=channels,
            output_data_config=OUTPUT,
            resource_config=RESOURCES,
            hyper_parameters=hyper_parameters,
            stopping_condition=STOPPING,
            role_arn=ROLE_ARN,
            enable_managed_spot_training=spot,
            enable_network_isolation=True,
            tags=TAGS,
            training_job_name=job_name,
        )
        consume(model_artifacts=training.outputs["model_artifacts"], status=training.outputs["training_job_status"])

    return pipeline


def required_only(train):
    """Only the inputs the CRD requires; the job name is left to the launcher."""

    @dsl.pipeline(name="required-only")
    def pipeline():
        train(
            region=REGION,
            algorithm_specification=ALGORITHM,
            output_data_config=OUTPUT,
            resource_config=RESOURCES,
            role_arn=ROLE_ARN,
            stopping_condition=STOPPING,
        )

    return pipeline


def two_steps(train):
    """Two trainings with the same inputs and no job name in one run: two steps, two jobs."""

    @dsl.pipeline(name="two-steps")
    def pipeline():
        for _ in range(2):
            train(
                region=REGION,
                algorithm_specification=ALGORITHM,
                output_data_config=OUTPUT,
                resource_config=RESOURCES,
                role_arn=ROLE_ARN,
                stopping_condition=STOPPING,
            )

    return pipeline


def trivial(consume):
    """A pipeline without the generated component: what the SDK warns about by itself."""

    @dsl.pipeline(name="trivial")
    def pipeline():
        consume(model_artifacts={"s3ModelArtifacts": "s3://b/m.tar.gz"}, status="Completed")

    return pipeline


# The earlier Python component's interface, which the generated one keeps.
EARLIER_INPUTS = {
    "region": "String",
    "algorithm_specification": "JsonObject",
    "checkpoint_config": "JsonObject",
    "debug_hook_config": "JsonObject",
    "debug_rule_configurations": "JsonArray",
    "enable_inter_container_traffic_encryption": "Bool",
    "enable_managed_spot_training": "Bool",
    "enable_network_isolation": "Bool",
    "environment": "JsonObject",
    "experiment_config": "JsonObject",
    "hyper_parameters": "JsonObject",
    "input_data_config": "JsonArray",
    "output_data_config": "JsonObject",
    "profiler_config": "JsonObject",
    "profiler_rule_configurations": "JsonArray",
    "resource_config": "JsonObject",
    "retry_strategy": "JsonObject",
    "role_arn": "String",
    "stopping_condition": "JsonObject",
    "tags": "JsonArray",
    "tensor_board_output_config": "JsonObject",
    "training_job_name": "String",
    "vpc_config": "JsonObject",
}
EARLIER_OUTPUTS = {
    "ack_resource_metadata": "JsonObject",
    "conditions": "JsonArray",
    "creation_time": "String",
    "debug_rule_evaluation_statuses": "JsonArray",
    "failure_reason": "String",
    "last_modified_time": "String",
    "model_artifacts": "JsonObject",
    "profiler_rule_evaluation_statuses": "JsonArray",
    "profiling_status": "String",
    "secondary_status": "String",
    "training_job_status": "String",
    "warm_pool_status": "JsonObject",
}

# A value for every input of the earlier component, and the spec field it lands in.
EARLIER_ARGUMENTS = {
    "region": REGION,
    "algorithm_specification": ALGORITHM,
    "checkpoint_config": {"s3URI": "s3://my-bucket/checkpoints/", "localPath": "/opt/ml/checkpoints"},
    "debug_hook_config": {
        "s3OutputPath": "s3://my-bucket/debug/",
        "hookParameters": {"save_interval": "100"},
        "collectionConfigurations": [{"collectionName": "losses", "collectionParameters": {"save_interval": "10"}}],
    },
    "debug_rule_configurations": [{
        "ruleConfigurationName": "LossNotDecreasing",
        "ruleEvaluatorImage": "895741380848.dkr.ecr.us-west-2.amazonaws.com/sagemaker-debugger-rules:latest",
        "ruleParameters": {"rule_to_invoke": "LossNotDecreasing"},
        "volumeSizeInGB": 10,
    }],
    "enable_inter_container_traffic_encryption": True,
    "enable_managed_spot_training": True,
    "enable_network_isolation": True,
    "environment": {"LOG_LEVEL": "debug"},
    "experiment_config": {"experimentName": "churn", "trialName": "churn-trial-1"},
    "hyper_parameters": HYPER_PARAMETERS,
    "input_data_config": CHANNELS,
    "output_data_config": {"s3OutputPath": "s3://my-bucket/churn/models/", "kmsKeyID": "alias/sagemaker"},
    "profiler_config": {"s3OutputPath": "s3://my-bucket/profiler/", "profilingIntervalInMilliseconds": 500},
    "profiler_rule_configurations": [{
        "ruleConfigurationName": "ProfilerReport",
        "ruleEvaluatorImage": "895741380848.dkr.ecr.us-west-2.amazonaws.com/sagemaker-debugger-rules:latest",
        "ruleParameters": {"rule_to_invoke": "ProfilerReport"},
    }],
    "resource_config": RESOURCES,
    "retry_strategy": {"maximumRetryAttempts": 2},
    "role_arn": ROLE_ARN,
    "stopping_condition": STOPPING,
    "tags": TAGS,
    "tensor_board_output_config": {"s3OutputPath": "s3://my-bucket/tensorboard/", "localPath": "/opt/ml/tb"},
    "training_job_name": JOB_NAME,
    "vpc_config": {"securityGroupIDs": ["sg-0123456789abcdef0"], "subnets": ["subnet-0123", "subnet-4567"]},
}
SPEC_FIELD = {
    "algorithm_specification": "algorithmSpecification",
    "checkpoint_config": "checkpointConfig",
    "debug_hook_config": "debugHookConfig",
    "debug_rule_configurations": "debugRuleConfigurations",
    "enable_inter_container_traffic_encryption": "enableInterContainerTrafficEncryption",
    "enable_managed_spot_training": "enableManagedSpotTraining",
    "enable_network_isolation": "enableNetworkIsolation",
    "environment": "environment",
    "experiment_config": "experimentConfig",
    "hyper_parameters": "hyperParameters",
    "input_data_config": "inputDataConfig",
    "output_data_config": "outputDataConfig",
    "profiler_config": "profilerConfig",
    "profiler_rule_configurations": "profilerRuleConfigurations",
    "resource_config": "resourceConfig",
    "retry_strategy": "retryStrategy",
    "role_arn": "roleARN",
    "stopping_condition": "stoppingCondition",
    "tags": "tags",
    "tensor_board_output_config": "tensorBoardOutputConfig",
    "training_job_name": "trainingJobName",
    "vpc_config": "vpcConfig",
}


def earlier_consumer_yaml():
    """A downstream component taking every output of the earlier component, typed as it was."""
    inputs = "\n".join(f"- {{name: {n}, type: {t}}}" for n, t in EARLIER_OUTPUTS.items())
    values = ", ".join(f"{{inputValue: {n}}}" for n in EARLIER_OUTPUTS)
    return f"""
name: Report
inputs:
{inputs}
implementation:
  container:
    image: busybox
    command: [report, {values}]
"""


def earlier(train, report):
    """As a pipeline written for the earlier component calls it: every input by keyword,
    every output consumed."""

    @dsl.pipeline(name="earlier-component-pipeline")
    def pipeline():
        training = train(**EARLIER_ARGUMENTS)
        report(**{name: training.outputs[name] for name in EARLIER_OUTPUTS})

    return pipeline
