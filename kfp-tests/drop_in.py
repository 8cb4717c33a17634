"""Pipelines written for the earlier SageMaker v2 components (kubeflow/pipelines,
components/aws/sagemaker, image 2.3.0), to be run unchanged against ours.

`EARLIER` is the earlier interface as fixtures/upstream-v2/components.yaml records it
(independently of generated/). The calls use the earlier input names and the values of
the earlier components' integration tests (tests/integration_tests/resources/config/*/
config.yaml: ack-training-job, ack-hosting, v2-monitoring-job-*, v2-monitoring-schedule),
with their ((PLACEHOLDERS)) filled in for us-west-2, and read the outputs by their earlier
names. The earlier integration tests were written for kfp 1.8: untyped pipeline parameters
with "" defaults, given their values when the run is submitted (`integration_test_form`).
kfp 2 refuses an unannotated pipeline parameter whatever the component, so the pipeline
both SDKs compile passes the same values as literals.
"""

import pathlib
import re

import yaml
from kfp import dsl

import pipelines
import sdk

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "upstream-v2" / "components.yaml"
EARLIER = yaml.safe_load(FIXTURE.read_text())

# earlier component (its CRD kind) -> our generated module
MODULE = {
    "TrainingJob": "training_job",
    "Model": "model",
    "EndpointConfig": "endpoint_config",
    "Endpoint": "endpoint",
    "MonitoringSchedule": "monitoring_schedule",
    "DataQualityJobDefinition": "data_quality_job_definition",
    "ModelBiasJobDefinition": "model_bias_job_definition",
    "ModelExplainabilityJobDefinition": "model_explainability_job_definition",
    "ModelQualityJobDefinition": "model_quality_job_definition",
}
# earlier component -> the input naming its resource (also the CR's metadata.name)
NAME_INPUT = {
    "TrainingJob": "training_job_name",
    "Model": "model_name",
    "EndpointConfig": "endpoint_config_name",
    "Endpoint": "endpoint_name",
    "MonitoringSchedule": "monitoring_schedule_name",
    "DataQualityJobDefinition": "job_definition_name",
    "ModelBiasJobDefinition": "job_definition_name",
    "ModelExplainabilityJobDefinition": "job_definition_name",
    "ModelQualityJobDefinition": "job_definition_name",
}
# The order a pipeline runs them in: a schedule needs its job definition, which reads
# what the endpoint captures.
ORDER = [
    "TrainingJob", "Model", "EndpointConfig", "Endpoint", "DataQualityJobDefinition", "ModelBiasJobDefinition",
    "ModelExplainabilityJobDefinition", "ModelQualityJobDefinition", "MonitoringSchedule",
]


def component_path(kind):
    return sdk.component_path(MODULE[kind])


def earlier_field(name):
    """The spec field the earlier component wrote an input to: snake_to_camel, with its
    two ARN overrides (reference, "Shared facts")."""
    overrides = {"role_arn": "roleARN", "execution_role_arn": "executionRoleARN"}
    if name in overrides:
        return overrides[name]
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


REGION = pipelines.REGION
ROLE_ARN = pipelines.ROLE_ARN
BUCKET = "my-bucket"
KMEANS_IMAGE = "174872318107.dkr.ecr.us-west-2.amazonaws.com/kmeans:1"
ANALYZER_IMAGE = "159807026194.dkr.ecr.us-west-2.amazonaws.com/sagemaker-model-monitor-analyzer"
CLARIFY_IMAGE = "306415355426.dkr.ecr.us-west-2.amazonaws.com/sagemaker-clarify-processing:1.0"
MONITOR = f"s3://{BUCKET}/model-monitor"

MODEL_NAME = "kmeans-mnist-model-20240101"
ENDPOINT_CONFIG_NAME = "kmeans-mnist-config-20240101"
ENDPOINT_NAME = "kmeans-mnist-endpoint-20240101"


def _endpoint_input(**extra):
    return {
        "endpointName": ENDPOINT_NAME,
        "localPath": "/opt/ml/processing/input/endpoint",
        "s3InputMode": "File",
        "s3DataDistributionType": "FullyReplicated",
        **extra,
    }


def _reports(kind):
    return {"monitoringOutputs": [{"s3Output": {
        "localPath": "/opt/ml/processing/output",
        "s3URI": f"{MONITOR}/reports/{kind}-job-definition/",
        "s3UploadMode": "Continuous",
    }}]}


_RESOURCES = {"clusterConfig": {"instanceCount": 1, "instanceType": "ml.m5.large", "volumeSizeInGB": 30}}
_GROUND_TRUTH = {"s3URI": f"{MONITOR}/ground_truth_data"}

# earlier component -> its call: the integration tests' arguments, filled in, and a few
# more inputs the earlier component had (tags, kms_key_id, data capture, ...).
CALLS = {
    "TrainingJob": {
        "region": REGION,
        "algorithm_specification": {"trainingImage": KMEANS_IMAGE, "trainingInputMode": "File"},
        "hyper_parameters": {"k": "10", "feature_dim": "784"},
        "input_data_config": [{
            "channelName": "train",
            "dataSource": {"s3DataSource": {
                "s3URI": f"s3://{BUCKET}/mnist_kmeans_example/data",
                "s3DataType": "S3Prefix",
                "s3DataDistributionType": "FullyReplicated",
            }},
            "compressionType": "None",
            "recordWrapperType": "None",
            "inputMode": "File",
        }],
        "resource_config": {"instanceCount": 1, "instanceType": "ml.m4.xlarge", "volumeSizeInGB": 20},
        "stopping_condition": {"maxRuntimeInSeconds": 3600},
        "output_data_config": {"s3OutputPath": f"s3://{BUCKET}/mnist_kmeans_example/output"},
        "enable_network_isolation": True,
        "enable_managed_spot_training": False,
        "enable_inter_container_traffic_encryption": False,
        "role_arn": ROLE_ARN,
        "training_job_name": "kmeans-mnist-20240101",
        "tags": [{"key": "test", "value": "ack-training-job"}],
    },
    "Model": {
        "region": REGION,
        "execution_role_arn": ROLE_ARN,
        "model_name": MODEL_NAME,
        "primary_container": {
            "image": KMEANS_IMAGE,
            "modelDataURL": f"s3://{BUCKET}/mnist_kmeans_example/model/kmeans-mnist-model/model.tar.gz",
            "containerHostname": "kmeans",
            "mode": "SingleModel",
        },
    },
    "EndpointConfig": {
        "region": REGION,
        "endpoint_config_name": ENDPOINT_CONFIG_NAME,
        "production_variants": [{
            "variantName": "variant-1",
            "modelName": MODEL_NAME,
            "initialVariantWeight": 1.0,
            "instanceType": "ml.m5.xlarge",
            "initialInstanceCount": 1,
        }],
        "data_capture_config": {
            "enableCapture": True,
            "initialSamplingPercentage": 100,
            "destinationS3URI": f"{MONITOR}/endpoint_capture",
            "captureOptions": [{"captureMode": "Input"}, {"captureMode": "Output"}],
        },
        "kms_key_id": "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "tags": [{"key": "test", "value": "ack-hosting"}],
    },
    "Endpoint": {
        "region": REGION,
        "endpoint_config_name": ENDPOINT_CONFIG_NAME,
        "endpoint_name": ENDPOINT_NAME,
    },
    "DataQualityJobDefinition": {
        "region": REGION,
        "data_quality_app_specification": {"imageURI": ANALYZER_IMAGE},
        "data_quality_baseline_config": {
            "constraintsResource": {"s3URI": f"{MONITOR}/baselining/data_quality/constraints.json"},
            "statisticsResource": {"s3URI": f"{MONITOR}/baselining/data_quality/statistics.json"},
        },
        "data_quality_job_input": {"endpointInput": _endpoint_input()},
        "data_quality_job_output_config": _reports("data-quality"),
        "job_definition_name": "kmeans-mnist-data-quality",
        "job_resources": _RESOURCES,
        "role_arn": ROLE_ARN,
        "stopping_condition": {"maxRuntimeInSeconds": 3600},
    },
    "ModelBiasJobDefinition": {
        "region": REGION,
        "model_bias_app_specification": {
            "imageURI": CLARIFY_IMAGE,
            "configURI": f"{MONITOR}/baselining/model_bias/analysis_config.json",
        },
        "model_bias_job_input": {
            "endpointInput": _endpoint_input(
                probabilityThresholdAttribute=0.8, startTimeOffset="-PT1H", endTimeOffset="-PT0H",
            ),
            "groundTruthS3Input": _GROUND_TRUTH,
        },
        "model_bias_baseline_config": {"constraintsResource": {"s3URI": f"{MONITOR}/baselining/model_bias/constraints.json"}},
        "model_bias_job_output_config": _reports("model-bias"),
        "job_definition_name": "kmeans-mnist-model-bias",
        "job_resources": _RESOURCES,
        "role_arn": ROLE_ARN,
        "stopping_condition": {"maxRuntimeInSeconds": 1800},
    },
    "ModelExplainabilityJobDefinition": {
        "region": REGION,
        "model_explainability_app_specification": {
            "imageURI": ANALYZER_IMAGE,
            "configURI": f"{MONITOR}/baselining/model_explainability/analysis_config.json",
        },
        "model_explainability_job_input": {"endpointInput": _endpoint_input(probabilityThresholdAttribute=0.8)},
        "model_explainability_job_output_config": _reports("model-explainability"),
        "job_definition_name": "kmeans-mnist-explainability",
        "job_resources": _RESOURCES,
        "network_config": {"enableNetworkIsolation": True},
        "role_arn": ROLE_ARN,
        "stopping_condition": {"maxRuntimeInSeconds": 3600},
    },
    "ModelQualityJobDefinition": {
        "region": REGION,
        "model_quality_app_specification": {"imageURI": CLARIFY_IMAGE, "problemType": "BinaryClassification"},
        "model_quality_baseline_config": {"constraintsResource": {"s3URI": f"{MONITOR}/baselining/model_quality/constraints.json"}},
        "model_quality_job_input": {
            "endpointInput": _endpoint_input(probabilityAttribute="0", probabilityThresholdAttribute=0.5),
            "groundTruthS3Input": _GROUND_TRUTH,
        },
        "model_quality_job_output_config": _reports("model-quality"),
        "job_definition_name": "kmeans-mnist-model-quality",
        "job_resources": _RESOURCES,
        "role_arn": ROLE_ARN,
        "stopping_condition": {"maxRuntimeInSeconds": 1800},
    },
    "MonitoringSchedule": {
        "region": REGION,
        "monitoring_schedule_config": {
            "monitoringType": "DataQuality",
            "scheduleConfig": {"scheduleExpression": "cron(0 * ? * * *)"},
            "monitoringJobDefinitionName": "kmeans-mnist-data-quality",
        },
        "monitoring_schedule_name": "kmeans-mnist-data-quality-hourly",
        "tags": [{"key": "test", "value": "v2-monitoring-schedule"}],
    },
}
# What the earlier MonitoringSchedule runs after (its job definition), and so on.
AFTER = {
    "EndpointConfig": "Model",
    "Endpoint": "EndpointConfig",
    "DataQualityJobDefinition": "Endpoint",
    "ModelBiasJobDefinition": "Endpoint",
    "ModelExplainabilityJobDefinition": "Endpoint",
    "ModelQualityJobDefinition": "Endpoint",
    "MonitoringSchedule": "DataQualityJobDefinition",
}


def report_command(kind):
    return f"report-{kind.lower()}"


def report_yaml(kind):
    """A downstream component taking every earlier output of `kind`, typed as it was."""
    outputs = EARLIER[kind]["outputs"]
    inputs = "\n".join(f"- {{name: {n}, type: {t}}}" for n, t in outputs.items())
    values = ", ".join(f"{{inputValue: {n}}}" for n in outputs)
    return f"""
name: Report {kind}
inputs:
{inputs}
implementation:
  container:
    image: busybox
    command: [{report_command(kind)}, {values}]
"""


def earlier(ops, reports):
    """All nine, as a user of the earlier components chained them: keyword arguments with
    the earlier names, `.after()` where one needs the other to exist (the names are given,
    as the integration tests gave them), and every output read by its earlier name.
    `ops` and `reports` map the earlier kind to the loaded component and its report step."""

    @dsl.pipeline(name="earlier-components", description="SageMaker v2 components, as their users called them")
    def pipeline():
        tasks = {}
        for kind in ORDER:
            task = ops[kind](**CALLS[kind])
            if kind in AFTER:
                task.after(tasks[AFTER[kind]])
            tasks[kind] = task
            reports[kind](**{name: task.outputs[name] for name in EARLIER[kind]["outputs"]})

    return pipeline


def argparse_required_only(ops):
    """Each component given only what the earlier argparse parser required."""

    @dsl.pipeline(name="earlier-required-only")
    def pipeline():
        for kind in ORDER:
            ops[kind](**{name: CALLS[kind][name] for name in EARLIER[kind]["argparse_required"]})

    return pipeline


# Every earlier input given, for the field each reaches (not a call SageMaker would take:
# a Model gets both a primary container and a container list, for instance).
_TAGS = pipelines.TAGS
_ISOLATED = {"enableNetworkIsolation": True, "enableInterContainerTrafficEncryption": True}
EVERY_INPUT = {
    "TrainingJob": pipelines.EARLIER_ARGUMENTS,
    "Model": {
        **CALLS["Model"],
        "containers": [{"image": KMEANS_IMAGE, "containerHostname": "kmeans-2", "mode": "SingleModel"}],
        "enable_network_isolation": True,
        "inference_execution_config": {"mode": "Serial"},
        "tags": _TAGS,
        "vpc_config": pipelines.EARLIER_ARGUMENTS["vpc_config"],
    },
    "EndpointConfig": {
        **CALLS["EndpointConfig"],
        "async_inference_config": {
            "outputConfig": {"s3OutputPath": f"{MONITOR}/async/"},
            "clientConfig": {"maxConcurrentInvocationsPerInstance": 4},
        },
    },
    "Endpoint": {
        **CALLS["Endpoint"],
        "deployment_config": {"autoRollbackConfiguration": {"alarms": [{"alarmName": "kmeans-mnist-5xx"}]}},
        "tags": _TAGS,
    },
    "MonitoringSchedule": CALLS["MonitoringSchedule"],
    "DataQualityJobDefinition": {**CALLS["DataQualityJobDefinition"], "network_config": _ISOLATED, "tags": _TAGS},
    "ModelBiasJobDefinition": {**CALLS["ModelBiasJobDefinition"], "network_config": _ISOLATED, "tags": _TAGS},
    "ModelExplainabilityJobDefinition": {
        **CALLS["ModelExplainabilityJobDefinition"],
        "model_explainability_baseline_config": {
            "constraintsResource": {"s3URI": f"{MONITOR}/baselining/model_explainability/analysis.json"},
        },
        "tags": _TAGS,
    },
    "ModelQualityJobDefinition": {**CALLS["ModelQualityJobDefinition"], "network_config": _ISOLATED, "tags": _TAGS},
}


def every_input(ops):
    @dsl.pipeline(name="earlier-every-input")
    def pipeline():
        for kind in ORDER:
            ops[kind](**EVERY_INPUT[kind])

    return pipeline


# The earlier integration tests' own pipeline definitions (resources/definition/
# trainingv2_pipeline.py, create_hosting_v2_pipeline.py, monitoring_schedule_v2_pipeline.py):
# every parameter untyped with a "" default, forwarded to the component by the same name,
# and the values given when the run is submitted. Only kfp 1.x compiles this form.

def training_v2(op):
    inputs = [n for n in EARLIER["TrainingJob"]["inputs"]]

    def TrainingJob(**kwargs):
        op(**{n: kwargs[n] for n in inputs})

    return _untyped("TrainingJob", "SageMaker TrainingJob component", TrainingJob, inputs)


def create_hosting_v2(model_op, endpoint_config_op, endpoint_op):
    parameters = ["region", "execution_role_arn", "model_name", "primary_container", "endpoint_config_name",
                  "production_variants", "endpoint_name"]

    def Hosting(**p):
        Model = model_op(
            region=p["region"], execution_role_arn=p["execution_role_arn"], model_name=p["model_name"],
            primary_container=p["primary_container"],
        )
        EndpointConfig = endpoint_config_op(
            region=p["region"], endpoint_config_name=p["endpoint_config_name"],
            production_variants=p["production_variants"],
        ).after(Model)
        endpoint_op(
            region=p["region"], endpoint_config_name=p["endpoint_config_name"], endpoint_name=p["endpoint_name"],
        ).after(EndpointConfig)

    return _untyped("CreateHosting", "SageMaker Hosting", Hosting, parameters)


def monitoring_schedule_v2(schedule_op, bias_op):
    parameters = ["region", "model_bias_app_specification", "model_bias_job_input", "model_bias_job_output_config",
                  "job_definition_name", "job_resources", "role_arn", "stopping_condition",
                  "monitoring_schedule_name", "monitoring_schedule_config"]

    def MonitoringSchedule(**p):
        ModelBiasJobDefinition = bias_op(
            region=p["region"], job_definition_name=p["job_definition_name"], job_resources=p["job_resources"],
            model_bias_app_specification=p["model_bias_app_specification"],
            model_bias_job_input=p["model_bias_job_input"],
            model_bias_job_output_config=p["model_bias_job_output_config"],
            role_arn=p["role_arn"], stopping_condition=p["stopping_condition"],
        )
        schedule_op(
            region=p["region"], monitoring_schedule_config=p["monitoring_schedule_config"],
            monitoring_schedule_name=p["monitoring_schedule_name"],
        ).after(ModelBiasJobDefinition)

    return _untyped("MonitoringSchedule", "SageMaker MonitoringSchedule component", MonitoringSchedule, parameters)


def _untyped(name, description, body, parameters):
    """`def <name>(p1="", p2="", ...): body(...)` under @dsl.pipeline: the SDK reads the
    parameters off the function's signature, so it is written out as the tests had it."""
    assert all(re.fullmatch(r"[a-z_]+", p) for p in parameters)
    source = (
        f"def {name}({', '.join(f'{p}=' + repr('') for p in parameters)}):\n"
        f"    body({', '.join(f'{p}={p}' for p in parameters)})\n"
    )
    namespace = {"body": body}
    exec(source, namespace)  # noqa: S102 - a fixed signature built from the fixture's names
    return dsl.pipeline(name=name, description=description)(namespace[name])


# The run arguments those tests submitted (their config.yaml `Arguments`, filled in). The
# Bool values are strings there, as KFP 1.x run parameters are.
TRAINING_V2_ARGUMENTS = {
    name: ("True" if value is True else "False" if value is False else value)
    for name, value in CALLS["TrainingJob"].items()
    if name != "tags"
}
HOSTING_V2_ARGUMENTS = {
    **{n: CALLS["Model"][n] for n in ("region", "execution_role_arn", "model_name", "primary_container")},
    **{n: CALLS["EndpointConfig"][n] for n in ("endpoint_config_name", "production_variants")},
    "endpoint_name": ENDPOINT_NAME,
}
MONITORING_SCHEDULE_V2_ARGUMENTS = {
    **{n: v for n, v in CALLS["ModelBiasJobDefinition"].items() if n != "model_bias_baseline_config"},
    "monitoring_schedule_name": "kmeans-mnist-model-bias-daily",
    "monitoring_schedule_config": {
        "monitoringType": "ModelBias",
        "scheduleConfig": {"scheduleExpression": "cron(0 12 ? * * *)"},
        "monitoringJobDefinitionName": "kmeans-mnist-model-bias",
    },
}

# One of those configs (v2-monitoring-job-data-quality) has `s3UploadMode` one level too
# high, beside `s3Output` instead of inside it; the earlier component sent it on and the
# API server pruned it. This is that output config.
MISPLACED_UPLOAD_MODE = {"monitoringOutputs": [{
    "s3Output": {
        "localPath": "/opt/ml/processing/output",
        "s3URI": f"{MONITOR}/reports/data-quality-job-definition/",
    },
    "s3UploadMode": "Continuous",
}]}
