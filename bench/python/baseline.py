"""Python baseline of `cargo xtask bench`: what the earlier SageMaker TrainingJob component
(kubeflow/pipelines components/aws/sagemaker, on ACK) did, with the client it shipped
(kubernetes==12.0.1) and PyYAML.

    baseline.py create NAME           load the kubeconfig, build the TrainingJob, create it
    baseline.py run NAME INTERVAL     the same, then poll every INTERVAL seconds until the
                                      job ends: GET the resource (its conditions), then GET
                                      its status subresource

The kubeconfig comes from $KUBECONFIG and the namespace from its current context. Polls
are on a fixed schedule (create + k * INTERVAL) so that, when the benchmark scales 30
simulated seconds down to 30 ms, request handling time does not stretch the interval.
Exit codes: 0 the job completed, 1 it failed, 3 it did not end within 10 minutes.
"""

import json
import sys
import time

import yaml
from kubernetes import client, config

GROUP, VERSION, PLURAL = "sagemaker.services.k8s.aws", "v1alpha1", "trainingjobs"

# The component's custom resource template, filled from the step's inputs.
TEMPLATE = """
apiVersion: sagemaker.services.k8s.aws/v1alpha1
kind: TrainingJob
metadata:
  name: ""
  annotations:
    services.k8s.aws/region: ""
spec: {}
"""

# The step's inputs as KFP passes them (strings), the same as the launcher's benchmark runs.
INPUTS = {
    "region": "us-west-2",
    "role_arn": "arn:aws:iam::123456789012:role/ack-sagemaker-execution-role",
    "algorithm_specification": '{"trainingImage": "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1", "trainingInputMode": "File"}',
    "hyper_parameters": '{"max_depth": "5", "num_round": "10", "objective": "multi:softmax", "num_class": "10"}',
    "input_data_config": '[{"channelName": "train", "dataSource": {"s3DataSource": {"s3DataType": "S3Prefix", "s3URI": "s3://ack-sagemaker-data/train", "s3DataDistributionType": "FullyReplicated"}}, "contentType": "text/csv", "compressionType": "None"}]',
    "output_data_config": '{"s3OutputPath": "s3://ack-sagemaker-data/output"}',
    "resource_config": '{"instanceCount": 1, "instanceType": "ml.m5.xlarge", "volumeSizeInGB": 5}',
    "stopping_condition": '{"maxRuntimeInSeconds": 3600}',
    "environment": '{"API_TOKEN": "s3cr3t-value"}',
    "enable_network_isolation": "False",
}

SPEC_FIELDS = {
    "role_arn": "roleARN",
    "algorithm_specification": "algorithmSpecification",
    "hyper_parameters": "hyperParameters",
    "input_data_config": "inputDataConfig",
    "output_data_config": "outputDataConfig",
    "resource_config": "resourceConfig",
    "stopping_condition": "stoppingCondition",
    "environment": "environment",
}


def build_resource(name):
    resource = yaml.safe_load(TEMPLATE)
    resource["metadata"]["name"] = name.lower()
    resource["metadata"]["annotations"]["services.k8s.aws/region"] = INPUTS["region"]
    spec = resource["spec"]
    spec["trainingJobName"] = name
    for inp, field in SPEC_FIELDS.items():
        value = INPUTS[inp]
        spec[field] = json.loads(value) if value[:1] in "{[" else value
    spec["enableNetworkIsolation"] = INPUTS["enable_network_isolation"] == "True"
    return resource


def condition(obj, kind):
    for c in obj.get("status", {}).get("conditions") or []:
        if c.get("type") == kind:
            return c
    return None


def main():
    mode, name = sys.argv[1], sys.argv[2]
    config.load_kube_config()
    _, context = config.list_kube_config_contexts()
    namespace = context["context"].get("namespace", "default")
    api = client.CustomObjectsApi()
    api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, build_resource(name))
    if mode == "create":
        return 0
    interval = float(sys.argv[3])
    next_poll = time.monotonic()
    deadline = next_poll + 600
    while next_poll < deadline:
        next_poll += interval
        time.sleep(max(0.0, next_poll - time.monotonic()))
        resource = api.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name.lower())
        terminal = condition(resource, "ACK.Terminal")
        if terminal and terminal.get("status") == "True":
            print("terminal:", terminal.get("message"), file=sys.stderr)
            return 1
        status = api.get_namespaced_custom_object_status(GROUP, VERSION, namespace, PLURAL, name.lower())
        job_status = status.get("status", {}).get("trainingJobStatus")
        synced = condition(status, "ACK.ResourceSynced")
        if job_status == "Completed" and synced and synced.get("status") == "True":
            return 0
        if job_status in ("Failed", "Stopped"):
            print("job", job_status, file=sys.stderr)
            return 1
    print("the job did not end in time", file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(main())
