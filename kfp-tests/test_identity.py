"""The run and step reach the launcher through both SDKs, so that every retry attempt of a
step arrives at the same resource and two runs or two steps never do."""

import pytest

import pipelines
from launcher import dry_run
from sdk import SDK, WORKFLOW_UID

COMMAND = "ack-kfp-launcher"
IDENTITY_ANNOTATION = "ack-kfp.launcher/kfp-run-step"


@pytest.fixture(scope="module")
def two_steps(train, tmp_path_factory):
    compiled, _ = SDK.compile(pipelines.two_steps(train), tmp_path_factory.mktemp("two") / "pipeline.yaml")
    return compiled


def _tasks(compiled):
    if SDK.major == 1:
        spec = compiled["spec"]
        templates = {t["name"]: t for t in spec["templates"]}
        entry = templates[spec["entrypoint"]]
        return [t["name"] for t in entry["dag"]["tasks"]]
    return list(compiled["root"]["dag"]["tasks"])


def _flag(argv, flag):
    return argv[argv.index(flag) + 1]


def test_the_sdk_compiles_the_argo_variables_in_verbatim(two_steps):
    for task in _tasks(two_steps):
        step = SDK.step(two_steps, COMMAND, task=task)
        assert step.command[2:6] == ["--kfp-run-id", "{{workflow.uid}}", "--kfp-step-id", "{{node.name}}"]


def test_run_and_step_reach_the_argv_and_name_the_job(two_steps, launcher):
    tasks = _tasks(two_steps)
    assert len(tasks) == 2
    names = {}
    for task in tasks:
        step = SDK.step(two_steps, COMMAND, task=task)
        assert _flag(step.argv, "--kfp-run-id") == WORKFLOW_UID
        node = _flag(step.argv, "--kfp-step-id")
        assert task in node and "{{" not in node
        resource = dry_run(launcher, step.argv)
        assert resource["metadata"]["annotations"][IDENTITY_ANNOTATION] == f"{WORKFLOW_UID}/{node}"
        names[task] = resource["metadata"]["name"]
        # A retry attempt of the step gets the same argv, hence the same name.
        assert dry_run(launcher, step.argv)["metadata"]["name"] == names[task]
        # Another run of the same pipeline gets another name.
        other_run = SDK.step(two_steps, COMMAND, task=task, workflow_uid="0b9e4c1a-1111-4f2e-9d3c-2a1b0c9d8e7f")
        assert dry_run(launcher, other_run.argv)["metadata"]["name"] != names[task]
    # Two steps with the same inputs in one run: two names.
    assert len(set(names.values())) == 2, names
    for name in names.values():
        assert name.startswith("training-job-") and len(name) <= 63
