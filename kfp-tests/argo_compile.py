"""Compiles one of the pipelines the real stack runs (xtask/tests/pipelines.rs, `cargo xtask
demo --pipeline`) with kfp 1.8 into the Argo Workflow that KFP v1's backend submits:

    python kfp-tests/argo_compile.py NAME COMPONENTS_DIR OUT.yaml [--retry N] [--policy P] [--job-name NAME]

NAME is `training` (the TrainingJob component alone, the inputs the CRD requires and the
README's data channels), `two-steps` (two trainings with the same inputs in one run) or
`chain` (kfp-tests/hosting.py's chain from training to a monitored endpoint, the README's
hosting example as kfp 1.8 writes it). COMPONENTS_DIR holds `<module>/component.yaml`
(a checkout's generated/components, with the image reference the cluster pulls).
"""

import argparse
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from kfp import components, dsl  # noqa: E402

import hosting  # noqa: E402
import pipelines  # noqa: E402
from sdk import SDK  # noqa: E402

assert SDK.major == 1, "the real stack runs KFP v1 pipelines (Argo Workflows)"


def training(load, retry, policy, job_name):
    train = load("training_job")

    @dsl.pipeline(name="training", description="The TrainingJob component alone.")
    def pipeline():
        step = train(
            region=pipelines.REGION,
            algorithm_specification=pipelines.ALGORITHM,
            input_data_config=pipelines.CHANNELS,
            output_data_config=pipelines.OUTPUT,
            resource_config=pipelines.RESOURCES,
            hyper_parameters=pipelines.HYPER_PARAMETERS,
            stopping_condition=pipelines.STOPPING,
            role_arn=pipelines.ROLE_ARN,
            training_job_name=job_name,
        )
        if retry:
            step.set_retry(retry, policy=policy)

    return pipeline


def two_steps(load, retry, policy, job_name):
    assert not retry and not job_name, "two-steps takes no options"
    return pipelines.two_steps(load("training_job"))


def chain(load, retry, policy, job_name):
    assert not retry and not job_name, "chain takes no options"
    return hosting.chain(*map(load, [
        "training_job", "model", "endpoint_config", "endpoint", "data_quality_job_definition", "monitoring_schedule",
    ]))


PIPELINES = {"training": training, "two-steps": two_steps, "chain": chain}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", choices=sorted(PIPELINES))
    parser.add_argument("components", type=pathlib.Path)
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--retry", type=int, default=0, help="set_retry(N) on the training step")
    parser.add_argument("--policy", default=None, help="set_retry's policy (Argo's retryPolicy)")
    parser.add_argument("--job-name", default="", help="a fixed training_job_name")
    args = parser.parse_args()

    def load(module):
        return components.load_component_from_file(str(args.components / module / "component.yaml"))

    pipeline = PIPELINES[args.name](load, args.retry, args.policy, args.job_name)
    compiled, _ = SDK.compile(pipeline, args.out)
    assert compiled["kind"] == "Workflow", compiled.get("kind")


if __name__ == "__main__":
    main()
