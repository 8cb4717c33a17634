"""Pipelines with the hosting and monitoring kinds' components (Model, EndpointConfig,
Endpoint, the four Model Monitor job definitions, MonitoringSchedule, ModelPackageGroup),
and one taking a training job to a monitored endpoint.

Each kind has one realistic call (`CALLS`: the inputs it passes; the launcher's dry run
should make the spec of them); `chain` wires TrainingJob -> Model -> EndpointConfig ->
Endpoint -> DataQualityJobDefinition -> MonitoringSchedule with real outputs.
"""


from kfp import dsl

import pipelines
from sdk import SDK, alone, component_path, load_component as load  # noqa: F401 (re-exported)

COMMAND = "ack-kfp-launcher"

# module -> (launcher subcommand, CRD kind, the input naming the resource)
KINDS = {
    "model": ("model", "Model", "model_name"),
    "endpoint_config": ("endpoint-config", "EndpointConfig", "endpoint_config_name"),
    "endpoint": ("endpoint", "Endpoint", "endpoint_name"),
    "data_quality_job_definition": ("data-quality-job-definition", "DataQualityJobDefinition", "job_definition_name"),
    "model_bias_job_definition": ("model-bias-job-definition", "ModelBiasJobDefinition", "job_definition_name"),
    "model_explainability_job_definition": (
        "model-explainability-job-definition", "ModelExplainabilityJobDefinition", "job_definition_name",
    ),
    "model_quality_job_definition": ("model-quality-job-definition", "ModelQualityJobDefinition", "job_definition_name"),
    "monitoring_schedule": ("monitoring-schedule", "MonitoringSchedule", "monitoring_schedule_name"),
    "model_package_group": ("model-package-group", "ModelPackageGroup", "model_package_group_name"),
}

REGION = pipelines.REGION
ROLE_ARN = pipelines.ROLE_ARN
TAGS = pipelines.TAGS
BUCKET = "s3://my-bucket/churn"
SERVING_IMAGE = pipelines.ALGORITHM["trainingImage"]  # the XGBoost image serves too
# SageMaker's own images in us-west-2 (Model Monitor's analyzer, Clarify).
ANALYZER_IMAGE = "159807026194.dkr.ecr.us-west-2.amazonaws.com/sagemaker-model-monitor-analyzer"
CLARIFY_IMAGE = "306415355426.dkr.ecr.us-west-2.amazonaws.com/sagemaker-clarify-processing:1.0"
KMS_KEY = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
VPC = {"securityGroupIDs": ["sg-0123456789abcdef0"], "subnets": ["subnet-0123", "subnet-4567"]}

MODEL_NAME = "xgboost-churn-20240101"
ENDPOINT_CONFIG_NAME = "xgboost-churn-20240101-config"
ENDPOINT_NAME = "xgboost-churn"

MODEL = {
    "region": REGION,
    "model_name": MODEL_NAME,
    "execution_role_arn": ROLE_ARN,
    "primary_container": {
        "image": SERVING_IMAGE,
        "modelDataURL": f"{BUCKET}/models/xgboost-churn-20240101/output/model.tar.gz",
        "mode": "SingleModel",
        "environment": {"SAGEMAKER_CONTAINER_LOG_LEVEL": "20"},
    },
    "enable_network_isolation": True,
    "vpc_config": VPC,
    "tags": TAGS,
}

CAPTURE = {
    "enableCapture": True,
    "initialSamplingPercentage": 100,
    "destinationS3URI": f"{BUCKET}/capture/",
    "captureOptions": [{"captureMode": "Input"}, {"captureMode": "Output"}],
    "captureContentTypeHeader": {"csvContentTypes": ["text/csv"]},
}


def variants(model_name, instance_type="ml.m5.large"):
    return [{
        "variantName": "AllTraffic",
        "modelName": model_name,
        "instanceType": instance_type,
        "initialInstanceCount": 1,
        "initialVariantWeight": 1.0,
    }]


ENDPOINT_CONFIG = {
    "region": REGION,
    "endpoint_config_name": ENDPOINT_CONFIG_NAME,
    "production_variants": variants(MODEL_NAME),
    "data_capture_config": CAPTURE,
    # The earlier component mapped this input to `kmsKeyId`, which is not the CRD's field
    # (`kmsKeyID`), and so dropped it without a word.
    "kms_key_id": KMS_KEY,
    "tags": TAGS,
}

ENDPOINT = {
    "region": REGION,
    "endpoint_name": ENDPOINT_NAME,
    "endpoint_config_name": ENDPOINT_CONFIG_NAME,
    "deployment_config": {
        "blueGreenUpdatePolicy": {
            "trafficRoutingConfiguration": {"type_": "ALL_AT_ONCE", "waitIntervalInSeconds": 300},
            "terminationWaitInSeconds": 600,
        },
        "autoRollbackConfiguration": {"alarms": [{"alarmName": "xgboost-churn-5xx"}]},
    },
    "tags": TAGS,
}


def endpoint_input(endpoint_name, **extra):
    return {
        "endpointName": endpoint_name,
        "localPath": "/opt/ml/processing/input/endpoint",
        "s3InputMode": "File",
        "s3DataDistributionType": "FullyReplicated",
        **extra,
    }


def reports(kind):
    return {"monitoringOutputs": [{"s3Output": {
        "localPath": "/opt/ml/processing/output",
        "s3URI": f"{BUCKET}/monitoring/{kind}/",
        "s3UploadMode": "Continuous",
    }}]}


JOB_RESOURCES = {"clusterConfig": {"instanceCount": 1, "instanceType": "ml.m5.large", "volumeSizeInGB": 30}}
GROUND_TRUTH = {"s3URI": f"{BUCKET}/ground-truth/"}

DATA_QUALITY = {
    "region": REGION,
    "job_definition_name": "xgboost-churn-data-quality",
    "data_quality_app_specification": {"imageURI": ANALYZER_IMAGE},
    "data_quality_baseline_config": {
        "constraintsResource": {"s3URI": f"{BUCKET}/baseline/constraints.json"},
        "statisticsResource": {"s3URI": f"{BUCKET}/baseline/statistics.json"},
    },
    "data_quality_job_input": {"endpointInput": endpoint_input(ENDPOINT_NAME)},
    "data_quality_job_output_config": reports("data-quality"),
    "job_resources": JOB_RESOURCES,
    "network_config": {"enableNetworkIsolation": False, "vpcConfig": VPC},
    "role_arn": ROLE_ARN,
    "stopping_condition": {"maxRuntimeInSeconds": 3600},
    "tags": TAGS,
}

MODEL_BIAS = {
    "region": REGION,
    "job_definition_name": "xgboost-churn-model-bias",
    "model_bias_app_specification": {"imageURI": CLARIFY_IMAGE, "configURI": f"{BUCKET}/baseline/bias/analysis_config.json"},
    "model_bias_baseline_config": {"constraintsResource": {"s3URI": f"{BUCKET}/baseline/bias/analysis.json"}},
    "model_bias_job_input": {
        "endpointInput": endpoint_input(
            ENDPOINT_NAME, probabilityThresholdAttribute=0.8, startTimeOffset="-PT1H", endTimeOffset="-PT0H",
        ),
        "groundTruthS3Input": GROUND_TRUTH,
    },
    "model_bias_job_output_config": reports("model-bias"),
    "job_resources": JOB_RESOURCES,
    "role_arn": ROLE_ARN,
    "stopping_condition": {"maxRuntimeInSeconds": 1800},
}

MODEL_EXPLAINABILITY = {
    "region": REGION,
    "job_definition_name": "xgboost-churn-explainability",
    "model_explainability_app_specification": {
        "imageURI": CLARIFY_IMAGE,
        "configURI": f"{BUCKET}/baseline/explainability/analysis_config.json",
        "environment": {"LOG_LEVEL": "info"},
    },
    "model_explainability_baseline_config": {"constraintsResource": {"s3URI": f"{BUCKET}/baseline/explainability/analysis.json"}},
    "model_explainability_job_input": {"endpointInput": endpoint_input(ENDPOINT_NAME, probabilityThresholdAttribute=0.8)},
    "model_explainability_job_output_config": reports("model-explainability"),
    "job_resources": JOB_RESOURCES,
    "role_arn": ROLE_ARN,
    "stopping_condition": {"maxRuntimeInSeconds": 3600},
}

MODEL_QUALITY = {
    "region": REGION,
    "job_definition_name": "xgboost-churn-model-quality",
    "model_quality_app_specification": {"imageURI": ANALYZER_IMAGE, "problemType": "BinaryClassification"},
    "model_quality_baseline_config": {"constraintsResource": {"s3URI": f"{BUCKET}/baseline/quality/constraints.json"}},
    "model_quality_job_input": {
        "endpointInput": endpoint_input(ENDPOINT_NAME, probabilityAttribute="0", probabilityThresholdAttribute=0.5),
        "groundTruthS3Input": GROUND_TRUTH,
    },
    "model_quality_job_output_config": reports("model-quality"),
    "job_resources": JOB_RESOURCES,
    "role_arn": ROLE_ARN,
    "stopping_condition": {"maxRuntimeInSeconds": 1800},
}


def schedule_config(job_definition_name, monitoring_type="DataQuality", expression="cron(0 * ? * * *)"):
    return {
        "monitoringJobDefinitionName": job_definition_name,
        "monitoringType": monitoring_type,
        "scheduleConfig": {"scheduleExpression": expression},
    }


MONITORING_SCHEDULE = {
    "region": REGION,
    "monitoring_schedule_name": "xgboost-churn-hourly-data-quality",
    "monitoring_schedule_config": schedule_config(DATA_QUALITY["job_definition_name"]),
    "tags": TAGS,
}

MODEL_PACKAGE_GROUP = {
    "region": REGION,
    "model_package_group_name": "xgboost-churn",
    "model_package_group_description": "XGBoost churn models, one version per training run",
    "tags": TAGS,
}

# module -> the arguments of its realistic call
CALLS = {
    "model": MODEL,
    "endpoint_config": ENDPOINT_CONFIG,
    "endpoint": ENDPOINT,
    "data_quality_job_definition": DATA_QUALITY,
    "model_bias_job_definition": MODEL_BIAS,
    "model_explainability_job_definition": MODEL_EXPLAINABILITY,
    "model_quality_job_definition": MODEL_QUALITY,
    "monitoring_schedule": MONITORING_SCHEDULE,
    "model_package_group": MODEL_PACKAGE_GROUP,
}


def single(module, component):
    """The kind's realistic call, alone in a pipeline."""
    return alone(module, component, CALLS[module])


# The chain's glue: each takes a step's output whole and returns the next step's input
# whole. A task output placed inside a dict or list argument compiles with both SDKs, but
# the KFP v2 launcher substitutes the placeholders of one argument in Go map order, so a
# placeholder inside another one's value is filled only some of the time
# (kubeflow/pipelines#11035); output-to-input edges are filled every time. The functions
# are self-contained (each becomes a lightweight Python component).

def primary_container(model_artifacts: dict, image: str) -> dict:
    """The Model's primary container: the serving image and the trained model's S3 URI."""
    return {"image": image, "modelDataURL": model_artifacts["s3ModelArtifacts"], "mode": "SingleModel"}


def production_variants(model_name: str, instance_type: str) -> list:
    """One variant taking all traffic to the model."""
    return [{
        "variantName": "AllTraffic",
        "modelName": model_name,
        "instanceType": instance_type,
        "initialInstanceCount": 1,
        "initialVariantWeight": 1.0,
    }]


def data_quality_job_input(endpoint_name: str) -> dict:
    """Data quality monitoring reads what the endpoint captured."""
    return {"endpointInput": {
        "endpointName": endpoint_name,
        "localPath": "/opt/ml/processing/input/endpoint",
        "s3InputMode": "File",
        "s3DataDistributionType": "FullyReplicated",
    }}


def monitoring_schedule_config(job_definition_name: str, schedule_expression: str) -> dict:
    """A data quality schedule running the job definition."""
    return {
        "monitoringJobDefinitionName": job_definition_name,
        "monitoringType": "DataQuality",
        "scheduleConfig": {"scheduleExpression": schedule_expression},
    }


GLUE = (primary_container, production_variants, data_quality_job_input, monitoring_schedule_config)
GLUE_IMAGE = "python:3.11-slim"

CHAIN_STEPS = {  # task name (the SDKs sanitise the component's name) -> module or glue
    "sagemaker-trainingjob": "training_job",
    "primary-container": "primary_container",
    "sagemaker-model": "model",
    "production-variants": "production_variants",
    "sagemaker-endpointconfig": "endpoint_config",
    "sagemaker-endpoint": "endpoint",
    "data-quality-job-input": "data_quality_job_input",
    "sagemaker-dataqualityjobdefinition": "data_quality_job_definition",
    "monitoring-schedule-config": "monitoring_schedule_config",
    "sagemaker-monitoringschedule": "monitoring_schedule",
}
# (consumer task, input) -> (producer task, output): every edge of the chain.
CHAIN_EDGES = {
    ("primary-container", "model_artifacts"): ("sagemaker-trainingjob", "model_artifacts"),
    ("sagemaker-model", "primary_container"): ("primary-container", "Output"),
    ("production-variants", "model_name"): ("sagemaker-model", "sagemaker_resource_name"),
    ("sagemaker-endpointconfig", "production_variants"): ("production-variants", "Output"),
    ("sagemaker-endpoint", "endpoint_config_name"): ("sagemaker-endpointconfig", "sagemaker_resource_name"),
    ("data-quality-job-input", "endpoint_name"): ("sagemaker-endpoint", "sagemaker_resource_name"),
    ("sagemaker-dataqualityjobdefinition", "data_quality_job_input"): ("data-quality-job-input", "Output"),
    ("monitoring-schedule-config", "job_definition_name"): ("sagemaker-dataqualityjobdefinition", "sagemaker_resource_name"),
    ("sagemaker-monitoringschedule", "monitoring_schedule_config"): ("monitoring-schedule-config", "Output"),
}


def chain(train, model, endpoint_config, endpoint, data_quality, schedule):
    """Training -> Model -> EndpointConfig -> Endpoint -> DataQualityJobDefinition ->
    MonitoringSchedule. Every name is left to the launcher (derived from the run and step)
    and read downstream from the step's sagemaker_resource_name; the model artifacts' S3
    URI comes from the training job's model_artifacts."""
    make_container, make_variants, make_job_input, make_schedule = (
        SDK.python_component(f, GLUE_IMAGE) for f in GLUE
    )

    @dsl.pipeline(name="churn-train-host-monitor", description="Train, host behind an endpoint, monitor data quality.")
    def pipeline(instance_type: str = "ml.m5.large", schedule_expression: str = "cron(0 * ? * * *)"):
        training = train(
            region=REGION,
            algorithm_specification=pipelines.ALGORITHM,
            input_data_config=pipelines.CHANNELS,
            output_data_config=pipelines.OUTPUT,
            resource_config=pipelines.RESOURCES,
            hyper_parameters=pipelines.HYPER_PARAMETERS,
            stopping_condition=pipelines.STOPPING,
            role_arn=ROLE_ARN,
        )
        container = make_container(model_artifacts=training.outputs["model_artifacts"], image=SERVING_IMAGE)
        hosted_model = model(region=REGION, execution_role_arn=ROLE_ARN, primary_container=container.output)
        variant = make_variants(model_name=hosted_model.outputs["sagemaker_resource_name"], instance_type=instance_type)
        config = endpoint_config(region=REGION, production_variants=variant.output, data_capture_config=CAPTURE)
        serving = endpoint(region=REGION, endpoint_config_name=config.outputs["sagemaker_resource_name"])
        job_input = make_job_input(endpoint_name=serving.outputs["sagemaker_resource_name"])
        definition = data_quality(
            region=REGION,
            data_quality_app_specification=DATA_QUALITY["data_quality_app_specification"],
            data_quality_baseline_config=DATA_QUALITY["data_quality_baseline_config"],
            data_quality_job_input=job_input.output,
            data_quality_job_output_config=DATA_QUALITY["data_quality_job_output_config"],
            job_resources=JOB_RESOURCES,
            role_arn=ROLE_ARN,
        )
        config_of_schedule = make_schedule(
            job_definition_name=definition.outputs["sagemaker_resource_name"], schedule_expression=schedule_expression,
        )
        schedule(region=REGION, monitoring_schedule_config=config_of_schedule.output)

    return pipeline
