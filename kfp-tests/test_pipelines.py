"""Pipelines using the component compile cleanly, and the argv the backend would build
from the compiled step is what the launcher accepts, giving the expected resource."""

import json
import pathlib
import re

import pytest
import yaml

import pipelines
from launcher import canonical, dry_run, run
from sdk import SDK

COMMAND = "ack-kfp-launcher"
REGION_ANNOTATION = "services.k8s.aws/region"
# v2 backends may hand whole numbers over as floats; the launcher must take both forms.
NUMBER_FORMS = [False, True] if SDK.major == 2 else [False]


def _unexpected(caught):
    return [w for w in caught if w not in SDK.SDK_NOISE]


def _step(compiled, run_arguments=None, whole_as_float=False):
    return SDK.step(compiled, COMMAND, run_arguments, whole_as_float=whole_as_float)


def _assert_resource(resource, spec, region):
    assert resource["apiVersion"] == "sagemaker.services.k8s.aws/v1alpha1"
    assert resource["kind"] == "TrainingJob"
    # The launcher may add annotations of its own; the region is the one the controller reads.
    assert resource["metadata"]["annotations"][REGION_ANNOTATION] == region
    assert resource["metadata"]["name"] == spec["trainingJobName"]
    assert canonical(resource["spec"]) == canonical(spec)


@pytest.fixture(scope="module")
def realistic(train, consume, tmp_path_factory):
    return SDK.compile(pipelines.realistic(train, consume), tmp_path_factory.mktemp("realistic") / "pipeline.yaml")


def test_realistic_pipeline_compiles_without_warnings(realistic):
    compiled, caught = realistic
    assert compiled
    assert _unexpected(caught) == []


def test_sdk_noise_is_the_same_for_a_trivial_component(consume, tmp_path):
    # The warnings let through above are the SDK's own, raised for any component.yaml.
    _, caught = SDK.compile(pipelines.trivial(consume), tmp_path / "trivial.yaml")
    assert sorted(set(caught)) == sorted(SDK.SDK_NOISE)


@pytest.mark.parametrize("whole_as_float", NUMBER_FORMS, ids=lambda f: "floats" if f else "ints")
def test_launcher_accepts_the_resolved_argv(realistic, launcher, whole_as_float):
    step = _step(realistic[0], whole_as_float=whole_as_float)
    assert step.argv[:2] == [COMMAND, "training-job"]
    assert not any("{{" in a for a in step.argv)
    # Literals are compiled in (v1) or passed as constants (v2); the typed pipeline
    # parameters stay placeholders, filled at run time.
    placeholders = [a for a in step.raw_argv if "{{" in a]
    if SDK.major == 1:
        parameters = ["region", "spot", "hyper_parameters", "channels", "job_name"]
        run_and_step = ["{{workflow.uid}}", "{{node.name}}"]
        assert sorted(placeholders) == sorted(
            [f"{{{{inputs.parameters.{p}}}}}" for p in parameters] + run_and_step
        )
    else:
        assert len(placeholders) == len(step.argv[2:]) // 2  # every input and output
    _assert_resource(dry_run(launcher, step.argv), pipelines.REALISTIC_SPEC, pipelines.REGION)


def test_values_reach_the_container_as_the_sdk_serialises_them(realistic):
    argv = _step(realistic[0]).argv
    tags = argv[argv.index("--tags") + 1]
    spot = argv[argv.index("--enable_managed_spot_training") + 1]
    isolation = argv[argv.index("--enable_network_isolation") + 1]
    if SDK.major == 1:
        # json.dumps: spaces after separators, non-ASCII escaped; str() for booleans.
        assert tags == '[{"key": "team", "value": "R&D <ml>"}, {"key": "owner", "value": "Jos\\u00e9"}]'
        assert (spot, isolation) == ("True", "True")
    else:
        # Go encoding/json: compact, sorted keys, HTML characters escaped, UTF-8 kept.
        assert tags == '[{"key":"team","value":"R\\u0026D \\u003cml\\u003e"},{"key":"owner","value":"José"}]'
        assert (spot, isolation) == ("true", "true")


def test_run_arguments_override_the_parameter_defaults(realistic, launcher):
    arguments = {
        "region": "eu-central-1",
        "hyper_parameters": {"max_depth": "8", "eta": "0.1"},
        "channels": pipelines.CHANNELS[:1],
        "spot": False,
        "job_name": "xgboost-churn-rerun",
    }
    resource = dry_run(launcher, _step(realistic[0], arguments).argv)
    expected = dict(pipelines.REALISTIC_SPEC)
    expected.update(
        hyperParameters=arguments["hyper_parameters"],
        inputDataConfig=arguments["channels"],
        trainingJobName=arguments["job_name"],
    )
    del expected["enableManagedSpotTraining"]  # False is the neutral default: not set.
    _assert_resource(resource, expected, "eu-central-1")


def test_inputs_not_given_do_not_change_the_resource(realistic, launcher, component_path):
    component = yaml.safe_load(component_path.read_text())
    not_given = {i["name"] for i in component["inputs"]} - pipelines.REALISTIC_INPUTS
    assert not_given, "the realistic pipeline should leave some inputs out"
    argv = _step(realistic[0]).argv
    neutral = {"", "{}", "[]", "False" if SDK.major == 1 else "false"}
    reduced = list(argv[:2])
    flags = iter(argv[2:])
    for flag, value in zip(flags, flags):
        name = flag.removeprefix("--")
        if name in not_given:
            assert value in neutral, f"{name} reaches the container as {value!r}"
        else:
            reduced += [flag, value]
    assert len(reduced) == len(argv) - 2 * len(not_given)
    assert canonical(dry_run(launcher, argv)) == canonical(dry_run(launcher, reduced))


def _files_told(argv, outputs):
    return sorted(argv[argv.index(f"--{name}_output_path") + 1] for name in outputs)


def test_downstream_step_reads_the_files_the_launcher_is_told_to_write(realistic):
    compiled = realistic[0]
    files, depends_on = SDK.consumed_files(compiled, pipelines.CONSUMER_COMMAND)
    assert len(depends_on) == 1
    outputs = ("model_artifacts", "training_job_status")
    assert files == _files_told(_step(compiled).argv, outputs)
    assert files == sorted(SDK.OUTPUT_DIR.format(name=n) for n in outputs)


def test_required_only_pipeline_gets_a_name_from_the_run_and_step(train, launcher, tmp_path):
    compiled, caught = SDK.compile(pipelines.required_only(train), tmp_path / "required.yaml")
    assert _unexpected(caught) == []
    resource = dry_run(launcher, _step(compiled).argv)
    name = resource["metadata"]["name"]
    assert re.fullmatch(r"training-job-[0-9a-f]{20}", name), name
    expected = {
        "algorithmSpecification": pipelines.ALGORITHM,
        "outputDataConfig": pipelines.OUTPUT,
        "resourceConfig": pipelines.RESOURCES,
        "roleARN": pipelines.ROLE_ARN,
        "stoppingCondition": pipelines.STOPPING,
        "trainingJobName": name,
    }
    _assert_resource(resource, expected, pipelines.REGION)


def test_launcher_rejects_what_the_crd_does_not_allow(realistic, launcher, component_path, tmp_path):
    # The dry run validates, so the acceptance above means something. A failed step still
    # writes every output file (a missing one fails the step in both backends): they are
    # sent to tmp_path here instead of the pod's /tmp.
    argv = _step(realistic[0]).argv
    at = argv.index("--algorithm_specification") + 1
    argv[at] = '{"TrainingImage": "x", "trainingInputMode": "File"}'
    outputs = {}
    for i, arg in enumerate(argv):
        if arg.endswith("_output_path"):
            name = arg.removeprefix("--").removesuffix("_output_path")
            argv[i + 1] = outputs[name] = str(tmp_path / name)
    done = run(launcher, argv)
    assert done.returncode == 2
    assert "algorithm_specification" in done.stderr and "TrainingImage" in done.stderr
    assert done.stdout == ""
    declared = {o["name"]: o["type"] for o in yaml.safe_load(component_path.read_text())["outputs"]}
    assert set(outputs) == set(declared)
    for name, kind in declared.items():
        text = pathlib.Path(outputs[name]).read_text()
        if kind in ("JsonObject", "JsonArray"):
            assert isinstance(json.loads(text), dict if kind == "JsonObject" else list), name


@pytest.fixture(scope="module")
def earlier(train, tmp_path_factory):
    report = SDK.load_text(pipelines.earlier_consumer_yaml())
    return SDK.compile(pipelines.earlier(train, report), tmp_path_factory.mktemp("earlier") / "pipeline.yaml")


def test_pipeline_for_the_earlier_component_compiles_unchanged(earlier):
    compiled, caught = earlier
    assert _unexpected(caught) == []
    files, depends_on = SDK.consumed_files(compiled, "report")
    assert len(depends_on) == 1
    assert files == _files_told(_step(compiled).argv, pipelines.EARLIER_OUTPUTS)
    assert len(files) == len(pipelines.EARLIER_OUTPUTS)


def test_pipeline_for_the_earlier_component_gives_every_field(earlier, launcher):
    resource = dry_run(launcher, _step(earlier[0]).argv)
    expected = {
        pipelines.SPEC_FIELD[name]: value
        for name, value in pipelines.EARLIER_ARGUMENTS.items()
        if name != "region"
    }
    _assert_resource(resource, expected, pipelines.REGION)
