"""The HyperParameterTuningJob, ProcessingJob and TransformJob components with the SDK:
each loads without warnings with the declared types, its realistic call compiles and
resolves to the argv the launcher is given, which the launcher's dry run turns into the
expected resource; a pipeline chaining processing -> training -> transform compiles with
every output wired to the step that reads it."""

import json
import re

import pytest
import yaml

import job_kinds
from launcher import canonical, dry_run
from sdk import SDK, assert_declared_types, record_warnings

MODULES = sorted(job_kinds.KINDS)


def _spec(module):
    return yaml.safe_load(job_kinds.component_path(module).read_text())


def _unexpected(caught):
    return [w for w in caught if w not in SDK.SDK_NOISE]


@pytest.mark.parametrize("module", MODULES)
def test_component_loads_without_warnings_with_the_declared_types(module):
    component, caught = record_warnings(lambda: job_kinds.load(module))
    assert caught == []
    assert_declared_types(component, _spec(module))


@pytest.mark.parametrize("module", MODULES)
def test_the_command_is_the_kinds_subcommand(module):
    command = _spec(module)["implementation"]["container"]["command"]
    assert command[:2] == [job_kinds.COMMAND, job_kinds.KINDS[module][0]]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    out = {}
    for module in MODULES:
        path = tmp_path_factory.mktemp(module) / "pipeline.yaml"
        out[module] = SDK.compile(job_kinds.single(module, job_kinds.load(module)), path)
    return out


@pytest.mark.parametrize("module", MODULES)
def test_realistic_call_compiles_without_warnings(compiled, module):
    workflow, caught = compiled[module]
    assert workflow
    assert _unexpected(caught) == []


def _flags(argv):
    flags = iter(argv[2:])
    return dict(zip(flags, flags))


@pytest.mark.parametrize("module", MODULES)
def test_every_value_reaches_the_launcher(compiled, module):
    step = SDK.step(compiled[module][0], job_kinds.COMMAND)
    assert step.argv[:2] == [job_kinds.COMMAND, job_kinds.KINDS[module][0]]
    assert not any("{{" in a for a in step.argv)
    flags = _flags(step.argv)
    types = {i["name"]: i["type"] for i in _spec(module)["inputs"]}
    for name, value in job_kinds.CALLS[module].items():
        text = flags[f"--{name}"]
        if types[name] in ("JsonObject", "JsonArray", "Integer", "Float"):
            assert json.loads(text) == value, name
        else:
            assert text == value, name
    # Every output path is passed, in the SDK's output folder.
    for output in _spec(module)["outputs"]:
        assert flags[f"--{output['name']}_output_path"] == SDK.OUTPUT_DIR.format(name=output["name"])


def test_optional_numbers_are_passed_only_when_given(tmp_path):
    # TransformJob's max_payload_in_mb and max_concurrent_transforms have no neutral
    # value: left out, the flag is absent.
    transform = job_kinds.load("transform_job")
    call = {k: v for k, v in job_kinds.TRANSFORM.items() if k not in ("max_payload_in_mb", "max_concurrent_transforms")}
    from kfp import dsl

    @dsl.pipeline(name="transform-without-numbers")
    def pipeline():
        transform(**call)

    workflow, caught = SDK.compile(pipeline, tmp_path / "pipeline.yaml")
    assert _unexpected(caught) == []
    flags = _flags(SDK.step(workflow, job_kinds.COMMAND).argv)
    assert "--max_payload_in_mb" not in flags and "--max_concurrent_transforms" not in flags
    assert "--batch_strategy" in flags


@pytest.fixture(scope="module")
def chained(tmp_path_factory):
    from conftest import COMPONENT

    pipeline = job_kinds.chain(job_kinds.load("processing_job"), SDK.load(COMPONENT), job_kinds.load("transform_job"))
    return SDK.compile(pipeline, tmp_path_factory.mktemp("chain") / "pipeline.yaml")


def test_the_chain_compiles_without_warnings(chained):
    workflow, caught = chained
    assert workflow
    assert _unexpected(caught) == []


def _wiring(compiled):
    """task -> (subcommand, {input: producer task.output}, tasks it waits for)."""
    wiring = {}
    if SDK.major == 1:
        spec = compiled["spec"]
        templates = {t["name"]: t for t in spec["templates"]}
        entry = templates[spec["entrypoint"]]
        for task in entry["dag"]["tasks"]:
            command = templates[task["template"]]["container"]["command"]
            inputs = {}
            for p in task.get("arguments", {}).get("parameters", []):
                value = p["value"]
                if value.startswith("{{tasks."):
                    _, producer, _, _, output = value.strip("{}").split(".")
                    inputs[p["name"]] = f"{producer}.{output}"
            wiring[task["name"]] = (command[1], inputs, sorted(task.get("dependencies", [])))
    else:
        executors = compiled["deploymentSpec"]["executors"]
        for name, task in compiled["root"]["dag"]["tasks"].items():
            component = compiled["components"][task["componentRef"]["name"]]
            command = executors[component["executorLabel"]]["container"]["command"]
            inputs = {
                input_name: f"{source['taskOutputParameter']['producerTask']}.{source['taskOutputParameter']['outputParameterKey']}"
                for input_name, source in task.get("inputs", {}).get("parameters", {}).items()
                if "taskOutputParameter" in source
            }
            wiring[name] = (command[1], inputs, sorted(task.get("dependentTasks", [])))
    return wiring


def test_the_chain_feeds_each_step_from_the_one_before(chained):
    wiring = _wiring(chained[0])
    by_command = {command: (task, inputs, after) for task, (command, inputs, after) in wiring.items()}
    assert sorted(by_command) == ["processing-job", "training-job", "transform-job"]
    processing, _, first = by_command["processing-job"]
    training, training_inputs, second = by_command["training-job"]
    _, transform_inputs, third = by_command["transform-job"]
    assert first == []
    assert second == [processing]
    assert third == [training]
    # v1 passes an output as a task parameter `<producer>-<output>`; v2 names the input.
    prefix = (lambda producer: f"{producer}-") if SDK.major == 1 else (lambda producer: "")
    assert list(training_inputs.values()) == [f"{processing}.{prefix(processing)}ack_resource_metadata"]
    assert list(transform_inputs.values()) == [f"{training}.{prefix(training)}model_artifacts"]


def _snake(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


@pytest.mark.parametrize("module", MODULES)
def test_the_launcher_makes_the_resource_of_the_resolved_argv(compiled, launcher, module):
    step = SDK.step(compiled[module][0], job_kinds.COMMAND)
    resource = dry_run(launcher, step.argv)
    subcommand, kind = job_kinds.KINDS[module]
    assert resource["apiVersion"] == "sagemaker.services.k8s.aws/v1alpha1"
    assert resource["kind"] == kind
    call = dict(job_kinds.CALLS[module])
    assert resource["metadata"]["annotations"]["services.k8s.aws/region"] == call.pop("region")
    assert canonical({_snake(k): v for k, v in resource["spec"].items()}) == canonical(call)
    name = call[f"{module}_name"]
    assert resource["metadata"]["name"] == name.lower()
