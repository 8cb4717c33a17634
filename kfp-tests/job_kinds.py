"""Pipelines with the other job kinds' components (HyperParameterTuningJob,
ProcessingJob, TransformJob), and one chaining processing -> training -> transform.

Each kind has one realistic call (`CALLS`: the inputs it passes, and the spec the
launcher should make of them); `chain` wires the kinds together with real outputs.
"""


from kfp import dsl

import pipelines
from sdk import alone, component_path, load_component as load  # noqa: F401 (re-exported)

COMMAND = "ack-kfp-launcher"

# module -> (launcher subcommand, CRD kind)
KINDS = {
    "hyper_parameter_tuning_job": ("hyper-parameter-tuning-job", "HyperParameterTuningJob"),
    "processing_job": ("processing-job", "ProcessingJob"),
    "transform_job": ("transform-job", "TransformJob"),
}

REGION = pipelines.REGION
ROLE_ARN = pipelines.ROLE_ARN
PREPARED = "s3://my-bucket/churn/prepared/"

PROCESSING = {
    "region": REGION,
    "app_specification": {
        "imageURI": "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        "containerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocess.py"],
        "containerArguments": ["--train-test-split", "0.2"],
    },
    "processing_inputs": [
        {
            "inputName": "raw",
            "s3Input": {
                "s3URI": "s3://my-bucket/churn/raw/",
                "localPath": "/opt/ml/processing/input",
                "s3DataType": "S3Prefix",
                "s3InputMode": "File",
            },
        },
        {
            "inputName": "code",
            "s3Input": {
                "s3URI": "s3://my-bucket/churn/code/preprocess.py",
                "localPath": "/opt/ml/processing/input/code",
                "s3DataType": "S3Prefix",
                "s3InputMode": "File",
            },
        },
    ],
    "processing_output_config": {"outputs": [{
        "outputName": "train",
        "s3Output": {"s3URI": PREPARED, "localPath": "/opt/ml/processing/train", "s3UploadMode": "EndOfJob"},
    }]},
    "processing_resources": {"clusterConfig": {"instanceCount": 1, "instanceType": "ml.m5.xlarge", "volumeSizeInGB": 30}},
    "role_arn": ROLE_ARN,
    "stopping_condition": {"maxRuntimeInSeconds": 3600},
    "environment": {"LOG_LEVEL": "info"},
    "tags": pipelines.TAGS,
    "processing_job_name": "churn-preprocess-20240101",
}

TUNING = {
    "region": REGION,
    "hyper_parameter_tuning_job_config": {
        "strategy": "Bayesian",
        "hyperParameterTuningJobObjective": {"metricName": "validation:auc", "type_": "Maximize"},
        "resourceLimits": {"maxNumberOfTrainingJobs": 20, "maxParallelTrainingJobs": 2},
        "parameterRanges": {
            "integerParameterRanges": [{"name": "max_depth", "minValue": "3", "maxValue": "10"}],
            "continuousParameterRanges": [{"name": "eta", "minValue": "0.05", "maxValue": "0.5", "scalingType": "Auto"}],
        },
        "trainingJobEarlyStoppingType": "Auto",
    },
    "training_job_definition": {
        "algorithmSpecification": pipelines.ALGORITHM,
        "inputDataConfig": pipelines.CHANNELS,
        "outputDataConfig": pipelines.OUTPUT,
        "resourceConfig": pipelines.RESOURCES,
        "roleARN": ROLE_ARN,
        "staticHyperParameters": {"objective": "binary:logistic", "num_round": "100"},
        "stoppingCondition": pipelines.STOPPING,
        "enableManagedSpotTraining": True,
    },
    "tags": pipelines.TAGS,
    # SageMaker allows 32 characters for a tuning job.
    "hyper_parameter_tuning_job_name": "xgboost-churn-tuning-20240101",
}

TRANSFORM = {
    "region": REGION,
    "model_name": "xgboost-churn-model",
    "transform_input": {
        "contentType": "text/csv",
        "splitType": "Line",
        "compressionType": "None",
        "dataSource": {"s3DataSource": {"s3DataType": "S3Prefix", "s3URI": "s3://my-bucket/churn/batch/"}},
    },
    "transform_output": {"s3OutputPath": "s3://my-bucket/churn/predictions/", "assembleWith": "Line", "accept": "text/csv"},
    "transform_resources": {"instanceCount": 1, "instanceType": "ml.m5.large"},
    "batch_strategy": "MultiRecord",
    "max_payload_in_mb": 6,
    "max_concurrent_transforms": 4,
    "data_processing": {"inputFilter": "$[1:]", "joinSource": "Input", "outputFilter": "$[0,-1]"},
    "transform_job_name": "xgboost-churn-batch-20240101",
}

# module -> the arguments of its realistic call
CALLS = {
    "processing_job": PROCESSING,
    "hyper_parameter_tuning_job": TUNING,
    "transform_job": TRANSFORM,
}


def single(module, component):
    """The kind's realistic call, alone in a pipeline."""
    return alone(module, component, CALLS[module])


def chain(process, train, transform):
    """processing -> training -> transform, each step fed by the one before.

    ACK puts no output location in a ProcessingJob's status (it stays in the spec), so the
    prepared data's S3 URI is one pipeline parameter given to the processing job's output
    and the training job's channel, and the processing job's ARN (its
    ack_resource_metadata output) reaches the training container's environment, which
    also orders the steps. The training job's model_artifacts (s3ModelArtifacts) reach
    the transform container's environment; the transform runs the SageMaker Model named
    by `model_name`, created from those artifacts outside this pipeline (a Model
    component is the next issue).
    """

    @dsl.pipeline(name="churn-process-train-transform")
    def pipeline(prepared: str = PREPARED, model_name: str = TRANSFORM["model_name"]):
        processing = process(**dict(
            PROCESSING,
            processing_output_config={"outputs": [{
                "outputName": "train",
                "s3Output": {"s3URI": prepared, "localPath": "/opt/ml/processing/train", "s3UploadMode": "EndOfJob"},
            }]},
            processing_job_name="",
        ))
        training = train(
            region=REGION,
            algorithm_specification=pipelines.ALGORITHM,
            input_data_config=[{
                "channelName": "train",
                "contentType": "text/csv",
                "dataSource": {"s3DataSource": {"s3DataType": "S3Prefix", "s3URI": prepared}},
            }],
            output_data_config=pipelines.OUTPUT,
            resource_config=pipelines.RESOURCES,
            hyper_parameters=pipelines.HYPER_PARAMETERS,
            stopping_condition=pipelines.STOPPING,
            role_arn=ROLE_ARN,
            environment=processing.outputs["ack_resource_metadata"],
        )
        transform(**dict(
            TRANSFORM,
            model_name=model_name,
            environment=training.outputs["model_artifacts"],
            transform_job_name="",
        ))

    return pipeline
