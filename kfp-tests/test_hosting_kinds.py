"""The hosting and monitoring components (Model, EndpointConfig, Endpoint, the four Model
Monitor job definitions, MonitoringSchedule, ModelPackageGroup) with the SDK: each loads
without warnings with the declared types, its realistic call compiles and resolves to the
argv the launcher is given, which the launcher's dry run turns into the expected resource;
a pipeline from training to a monitored endpoint compiles with every output wired to the
step that reads it, and each of its steps' dry run holds the value passed down."""

import json
import re

import pytest
import yaml

import hosting
from launcher import canonical, dry_run
from sdk import SDK, assert_declared_types, record_warnings

MODULES = sorted(hosting.KINDS)
REGION_ANNOTATION = "services.k8s.aws/region"


def _spec(module):
    return yaml.safe_load(hosting.component_path(module).read_text())


def _unexpected(caught):
    return [w for w in caught if w not in SDK.SDK_NOISE]


def _snake(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _flags(argv):
    flags = iter(argv[2:])
    return dict(zip(flags, flags))


@pytest.mark.parametrize("module", MODULES)
def test_component_loads_without_warnings_with_the_declared_types(module):
    component, caught = record_warnings(lambda: hosting.load(module))
    assert caught == []
    assert_declared_types(component, _spec(module))


@pytest.mark.parametrize("module", MODULES)
def test_the_command_is_the_kinds_subcommand(module):
    command = _spec(module)["implementation"]["container"]["command"]
    assert command[:2] == [hosting.COMMAND, hosting.KINDS[module][0]]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    out = {}
    for module in MODULES:
        path = tmp_path_factory.mktemp(module) / "pipeline.yaml"
        out[module] = SDK.compile(hosting.single(module, hosting.load(module)), path)
    return out


@pytest.mark.parametrize("module", MODULES)
def test_realistic_call_compiles_without_warnings(compiled, module):
    workflow, caught = compiled[module]
    assert workflow
    assert _unexpected(caught) == []


@pytest.mark.parametrize("module", MODULES)
def test_every_value_reaches_the_launcher(compiled, module):
    step = SDK.step(compiled[module][0], hosting.COMMAND)
    assert step.argv[:2] == [hosting.COMMAND, hosting.KINDS[module][0]]
    assert not any("{{" in a for a in step.argv)
    flags = _flags(step.argv)
    types = {i["name"]: i["type"] for i in _spec(module)["inputs"]}
    for name, value in hosting.CALLS[module].items():
        text = flags[f"--{name}"]
        if types[name] in ("JsonObject", "JsonArray", "Integer", "Float"):
            assert json.loads(text) == value, name
        elif types[name] == "Bool":
            assert text == SDK.text(value), name
        else:
            assert text == value, name
    # Every output path is passed, in the SDK's output folder.
    for output in _spec(module)["outputs"]:
        assert flags[f"--{output['name']}_output_path"] == SDK.OUTPUT_DIR.format(name=output["name"])


@pytest.mark.parametrize("module", MODULES)
def test_the_launcher_makes_the_resource_of_the_resolved_argv(compiled, launcher, module):
    resource = dry_run(launcher, SDK.step(compiled[module][0], hosting.COMMAND).argv)
    _, kind, name_input = hosting.KINDS[module]
    assert resource["apiVersion"] == "sagemaker.services.k8s.aws/v1alpha1"
    assert resource["kind"] == kind
    call = dict(hosting.CALLS[module])
    assert resource["metadata"]["annotations"][REGION_ANNOTATION] == call.pop("region")
    assert canonical({_snake(k): v for k, v in resource["spec"].items()}) == canonical(call)
    assert resource["metadata"]["name"] == call[name_input].lower()


def test_endpoint_config_kms_key_id_reaches_spec_kms_key_id(compiled, launcher):
    # The earlier component sent it as `kmsKeyId`, not a field of the CRD: it was lost.
    spec = dry_run(launcher, SDK.step(compiled["endpoint_config"][0], hosting.COMMAND).argv)["spec"]
    assert spec["kmsKeyID"] == hosting.KMS_KEY
    assert "kmsKeyId" not in spec


# The chain: training -> model -> endpoint config -> endpoint -> data quality -> schedule.

@pytest.fixture(scope="module")
def chained(tmp_path_factory):
    from conftest import COMPONENT

    pipeline = hosting.chain(
        SDK.load(COMPONENT), hosting.load("model"), hosting.load("endpoint_config"), hosting.load("endpoint"),
        hosting.load("data_quality_job_definition"), hosting.load("monitoring_schedule"),
    )
    return SDK.compile(pipeline, tmp_path_factory.mktemp("hosting-chain") / "pipeline.yaml")


def test_the_hosting_chain_compiles_without_warnings(chained):
    workflow, caught = chained
    assert workflow
    assert _unexpected(caught) == []


def _v1_input_name(template, parameter):
    """The component input a v1 task parameter feeds: the flag in front of its placeholder."""
    argv = template["container"]["command"] + template["container"].get("args", [])
    at = argv.index(f"{{{{inputs.parameters.{parameter}}}}}")
    return argv[at - 1].lstrip("-").replace("-", "_")


def _edges(compiled):
    """({(consumer task, input): (producer task, output)}, {task: sorted tasks it waits for})."""
    edges, after = {}, {}
    if SDK.major == 1:
        spec = compiled["spec"]
        templates = {t["name"]: t for t in spec["templates"]}
        entry = templates[spec["entrypoint"]]
        for task in entry["dag"]["tasks"]:
            after[task["name"]] = sorted(task.get("dependencies", []))
            for p in task.get("arguments", {}).get("parameters", []):
                if p["value"].startswith("{{tasks."):
                    _, producer, _, _, parameter = p["value"].strip("{}").split(".")
                    name = _v1_input_name(templates[task["template"]], p["name"])
                    edges[(task["name"], name)] = (producer, parameter.removeprefix(f"{producer}-"))
    else:
        for name, task in compiled["root"]["dag"]["tasks"].items():
            after[name] = sorted(task.get("dependentTasks", []))
            for input_name, source in task.get("inputs", {}).get("parameters", {}).items():
                if "taskOutputParameter" in source:
                    output = source["taskOutputParameter"]
                    edges[(name, input_name)] = (output["producerTask"], output["outputParameterKey"])
    return edges, after


def test_the_hosting_chain_wires_every_output_to_the_step_that_reads_it(chained):
    edges, after = _edges(chained[0])
    assert sorted(after) == sorted(hosting.CHAIN_STEPS)
    assert edges == hosting.CHAIN_EDGES
    # Each step waits for exactly the steps it reads from; training waits for nothing.
    producers = {task: sorted({p for (c, _), (p, _) in edges.items() if c == task}) for task in after}
    assert after == producers
    assert after["sagemaker-trainingjob"] == []


def test_the_hosting_chain_runs_the_launcher_for_its_six_resources(chained):
    commands = {}
    for task, module in hosting.CHAIN_STEPS.items():
        if module in hosting.KINDS or module == "training_job":
            step = SDK.step(chained[0], hosting.COMMAND, task=task, outputs=_CHAIN_OUTPUTS)
            commands[task] = step.argv[1]
    assert commands == {
        "sagemaker-trainingjob": "training-job",
        "sagemaker-model": "model",
        "sagemaker-endpointconfig": "endpoint-config",
        "sagemaker-endpoint": "endpoint",
        "sagemaker-dataqualityjobdefinition": "data-quality-job-definition",
        "sagemaker-monitoringschedule": "monitoring-schedule",
    }


# What each step of one run of the chain writes: the launcher steps' outputs as the
# controller would report them, the glue steps' as their functions compute them from the
# values they are wired to (test_the_hosting_chain_wires_every_output_...).
_ARTIFACTS = {"s3ModelArtifacts": "s3://my-bucket/churn/models/training-job-0123456789abcdef0123/output/model.tar.gz"}
_MODEL = "model-4f1e2d3c4b5a69788796"
_CONFIG = "endpoint-config-a1b2c3d4e5f60718293a"
_ENDPOINT = "endpoint-0f1e2d3c4b5a69788796"
_DEFINITION = "data-quality-job-definition-1a2b3c4d"
_CHAIN_OUTPUTS = {
    ("sagemaker-trainingjob", "model_artifacts"): _ARTIFACTS,
    ("primary-container", "Output"): hosting.primary_container(_ARTIFACTS, hosting.SERVING_IMAGE),
    ("sagemaker-model", "sagemaker_resource_name"): _MODEL,
    ("production-variants", "Output"): hosting.production_variants(_MODEL, "ml.m5.large"),
    ("sagemaker-endpointconfig", "sagemaker_resource_name"): _CONFIG,
    ("sagemaker-endpoint", "sagemaker_resource_name"): _ENDPOINT,
    ("data-quality-job-input", "Output"): hosting.data_quality_job_input(_ENDPOINT),
    ("sagemaker-dataqualityjobdefinition", "sagemaker_resource_name"): _DEFINITION,
    ("monitoring-schedule-config", "Output"): hosting.monitoring_schedule_config(_DEFINITION, "cron(0 * ? * * *)"),
}


def _chain_resource(chained, launcher, task):
    return dry_run(launcher, SDK.step(chained[0], hosting.COMMAND, task=task, outputs=_CHAIN_OUTPUTS).argv)


def test_the_trained_model_is_the_one_hosted(chained, launcher):
    spec = _chain_resource(chained, launcher, "sagemaker-model")["spec"]
    assert spec["primaryContainer"] == {
        "image": hosting.SERVING_IMAGE, "modelDataURL": _ARTIFACTS["s3ModelArtifacts"], "mode": "SingleModel",
    }
    assert spec["executionRoleARN"] == hosting.ROLE_ARN


def test_each_resource_names_the_one_before(chained, launcher):
    config = _chain_resource(chained, launcher, "sagemaker-endpointconfig")["spec"]
    assert [v["modelName"] for v in config["productionVariants"]] == [_MODEL]
    assert config["dataCaptureConfig"] == hosting.CAPTURE
    endpoint = _chain_resource(chained, launcher, "sagemaker-endpoint")["spec"]
    assert endpoint["endpointConfigName"] == _CONFIG
    definition = _chain_resource(chained, launcher, "sagemaker-dataqualityjobdefinition")["spec"]
    assert definition["dataQualityJobInput"]["endpointInput"]["endpointName"] == _ENDPOINT
    schedule = _chain_resource(chained, launcher, "sagemaker-monitoringschedule")["spec"]
    assert schedule["monitoringScheduleConfig"]["monitoringJobDefinitionName"] == _DEFINITION
    assert schedule["monitoringScheduleConfig"]["monitoringType"] == "DataQuality"
    # No name was given: each comes from the run and step, and the resource bears it.
    for spec, field, kind in (
        (config, "endpointConfigName", "endpoint-config"),
        (endpoint, "endpointName", "endpoint"),
        (definition, "jobDefinitionName", "data-quality-job-definition"),
    ):
        assert spec[field].startswith(f"{kind}-"), spec[field]
