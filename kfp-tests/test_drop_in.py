"""Ours as a drop-in for the earlier SageMaker v2 components (the nine of
fixtures/upstream-v2/components.yaml): every earlier input and output is there with its
name and type; what ours requires, the earlier parser required too; a pipeline written for
the earlier components compiles unchanged with this SDK, keeps its step names, reads every
output by its earlier name from the file the launcher writes, and each step's dry run makes
the resource the earlier component made of the same arguments (with EndpointConfig's
kms_key_id no longer lost)."""

import pytest
import yaml

import drop_in
from launcher import canonical, dry_run, run
from sdk import SDK

KINDS = drop_in.ORDER
COMMAND = "ack-kfp-launcher"
REGION_ANNOTATION = "services.k8s.aws/region"
# Neutral values: the earlier component sent '' and False on (it skipped only {} and []);
# ours leaves every neutral value out. The CRD's own defaults are the same.
NEUTRAL = ("", False, {}, [])
# The one field ours writes under another name: the earlier component wrote kms_key_id to
# `kmsKeyId`, which the CRD does not have, so the key was lost (reference, EndpointConfig).
RENAMED = {"kmsKeyId": "kmsKeyID"}


def _ours(kind):
    return yaml.safe_load(drop_in.component_path(kind).read_text())


def _unexpected(caught):
    return [w for w in caught if w not in SDK.SDK_NOISE]


def _differences(earlier, ours, what):
    missing = [f"{what} {n} ({t}) is missing" for n, t in earlier.items() if n not in ours]
    retyped = [f"{what} {n} is {ours[n]}, was {t}" for n, t in earlier.items() if n in ours and ours[n] != t]
    return missing + retyped


@pytest.mark.parametrize("kind", KINDS)
def test_every_earlier_input_is_there_with_its_type(kind):
    ours = {i["name"]: i["type"] for i in _ours(kind)["inputs"]}
    assert _differences(drop_in.EARLIER[kind]["inputs"], ours, "input") == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_earlier_output_is_there_with_its_type(kind):
    ours = {o["name"]: o["type"] for o in _ours(kind)["outputs"]}
    assert _differences(drop_in.EARLIER[kind]["outputs"], ours, "output") == []


@pytest.mark.parametrize("kind", KINDS)
def test_inputs_the_earlier_component_lacked_are_optional(kind):
    # A pipeline written for the earlier component does not pass them.
    added = [i for i in _ours(kind)["inputs"] if i["name"] not in drop_in.EARLIER[kind]["inputs"]]
    assert [i["name"] for i in added if "default" not in i] == []


@pytest.mark.parametrize("kind", KINDS)
def test_what_ours_requires_the_earlier_parser_required_too(kind):
    # Every earlier input but region had a default, so KFP let a call leave any out; ours
    # requires what the CRD requires (less the name, which the launcher derives). A call
    # giving what the earlier argparse parser required gives all of that.
    required = [i["name"] for i in _ours(kind)["inputs"] if "default" not in i]
    assert [n for n in required if n not in drop_in.EARLIER[kind]["argparse_required"]] == []


def _load_all():
    ops = {kind: SDK.load(drop_in.component_path(kind)) for kind in KINDS}
    reports = {kind: SDK.load_text(drop_in.report_yaml(kind)) for kind in KINDS}
    return ops, reports


@pytest.fixture(scope="module")
def earlier(tmp_path_factory):
    ops, reports = _load_all()
    return SDK.compile(drop_in.earlier(ops, reports), tmp_path_factory.mktemp("earlier") / "pipeline.yaml")


def _tasks(compiled):
    if SDK.major == 1:
        spec = compiled["spec"]
        entry = next(t for t in spec["templates"] if t["name"] == spec["entrypoint"])
        return {t["name"]: sorted(t.get("dependencies", [])) for t in entry["dag"]["tasks"]}
    return {n: sorted(t.get("dependentTasks", [])) for n, t in compiled["root"]["dag"]["tasks"].items()}


def test_the_pipeline_for_the_earlier_components_compiles_unchanged(earlier):
    compiled, caught = earlier
    assert compiled
    assert _unexpected(caught) == []


def test_steps_keep_their_earlier_names_and_order(earlier):
    # The earlier tests (and any tooling reading a run) find a step's outputs by its name.
    tasks = _tasks(earlier[0])
    steps = {kind: drop_in.EARLIER[kind]["step"] for kind in KINDS}
    assert set(steps.values()) <= set(tasks)
    for kind, before in drop_in.AFTER.items():
        assert steps[before] in tasks[steps[kind]], f"{kind} does not wait for {before}"


def _files_told(argv, outputs):
    return sorted(argv[argv.index(f"--{name}_output_path") + 1] for name in outputs)


@pytest.mark.parametrize("kind", KINDS)
def test_every_earlier_output_is_read_from_the_file_the_launcher_writes(earlier, kind):
    compiled = earlier[0]
    outputs = drop_in.EARLIER[kind]["outputs"]
    files, depends_on = SDK.consumed_files(compiled, drop_in.report_command(kind))
    assert depends_on == [drop_in.EARLIER[kind]["step"]]
    step = SDK.step(compiled, COMMAND, task=drop_in.EARLIER[kind]["step"])
    assert files == _files_told(step.argv, outputs)
    assert len(files) == len(outputs)


def _earlier_spec(call):
    """The spec the earlier component made of `call`, less its neutral values, with the
    field it lost under the name the CRD has."""
    spec = {drop_in.earlier_field(n): v for n, v in call.items() if n != "region" and v not in NEUTRAL}
    return {RENAMED.get(field, field): value for field, value in spec.items()}


def _assert_made_as_earlier(resource, kind, call):
    assert resource["kind"] == kind
    assert resource["metadata"]["annotations"][REGION_ANNOTATION] == call["region"]
    assert canonical(resource["spec"]) == canonical(_earlier_spec(call))


@pytest.mark.parametrize("kind", KINDS)
def test_each_step_makes_the_resource_the_earlier_component_made(earlier, launcher, kind):
    step = SDK.step(earlier[0], COMMAND, task=drop_in.EARLIER[kind]["step"])
    resource = dry_run(launcher, step.argv)
    call = drop_in.CALLS[kind]
    _assert_made_as_earlier(resource, kind, call)
    assert resource["metadata"]["name"] == call[drop_in.NAME_INPUT[kind]]


def _crd_spec_fields(kind):
    # The pinned CRD itself (not generated/); every plural here is the kind, lower-cased, + s.
    path = drop_in.ROOT / "crds" / "sagemaker-controller" / f"sagemaker.services.k8s.aws_{kind.lower()}s.yaml"
    crd = yaml.safe_load(path.read_text())
    version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
    return set(version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"])


@pytest.mark.parametrize("kind", KINDS)
def test_the_earlier_field_of_every_input_is_a_crd_field_but_kms_key_id(kind):
    # By the earlier rule (snake_to_camel, two ARN overrides) every input names a field of
    # the pinned CRD, except EndpointConfig's kms_key_id: the earlier component's loss.
    fields = _crd_spec_fields(kind)
    lost = [n for n in drop_in.EARLIER[kind]["inputs"] if n != "region" and drop_in.earlier_field(n) not in fields]
    assert lost == (["kms_key_id"] if kind == "EndpointConfig" else [])
    assert all(RENAMED.get(drop_in.earlier_field(n)) in fields for n in lost)


@pytest.fixture(scope="module")
def every_input(tmp_path_factory):
    ops, _ = _load_all()
    return SDK.compile(drop_in.every_input(ops), tmp_path_factory.mktemp("every") / "pipeline.yaml")


@pytest.mark.parametrize("kind", KINDS)
def test_every_earlier_input_reaches_its_field(every_input, launcher, kind):
    compiled, caught = every_input
    assert _unexpected(caught) == []
    call = drop_in.EVERY_INPUT[kind]
    assert sorted(call) == sorted(drop_in.EARLIER[kind]["inputs"])
    step = SDK.step(compiled, COMMAND, task=drop_in.EARLIER[kind]["step"])
    _assert_made_as_earlier(dry_run(launcher, step.argv), kind, call)


@pytest.fixture(scope="module")
def required_only(tmp_path_factory):
    ops, _ = _load_all()
    return SDK.compile(drop_in.argparse_required_only(ops), tmp_path_factory.mktemp("required") / "pipeline.yaml")


def test_a_call_with_what_the_earlier_parser_required_compiles(required_only):
    compiled, caught = required_only
    assert compiled
    assert _unexpected(caught) == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_call_with_what_the_earlier_parser_required_makes_the_resource(required_only, launcher, kind):
    step = SDK.step(required_only[0], COMMAND, task=drop_in.EARLIER[kind]["step"])
    call = {n: drop_in.CALLS[kind][n] for n in drop_in.EARLIER[kind]["argparse_required"]}
    _assert_made_as_earlier(dry_run(launcher, step.argv), kind, call)


# The earlier integration tests' own pipelines (kfp 1.x only).

v1_only = pytest.mark.skipif(
    SDK.major != 1, reason="kfp 2 refuses unannotated pipeline parameters, whatever the component",
)


def _integration_test_pipelines():
    ops, _ = _load_all()
    return {
        "trainingv2": (drop_in.training_v2(ops["TrainingJob"]), drop_in.TRAINING_V2_ARGUMENTS,
                       {"sagemaker-trainingjob": "TrainingJob"}),
        "create_hosting_v2": (
            drop_in.create_hosting_v2(ops["Model"], ops["EndpointConfig"], ops["Endpoint"]),
            drop_in.HOSTING_V2_ARGUMENTS,
            {"sagemaker-model": "Model", "sagemaker-endpointconfig": "EndpointConfig", "sagemaker-endpoint": "Endpoint"},
        ),
        "monitoring_schedule_v2": (
            drop_in.monitoring_schedule_v2(ops["MonitoringSchedule"], ops["ModelBiasJobDefinition"]),
            drop_in.MONITORING_SCHEDULE_V2_ARGUMENTS,
            {"sagemaker-modelbiasjobdefinition": "ModelBiasJobDefinition",
             "sagemaker-monitoringschedule": "MonitoringSchedule"},
        ),
    }


@v1_only
@pytest.mark.parametrize("definition", ["trainingv2", "create_hosting_v2", "monitoring_schedule_v2"])
def test_the_earlier_integration_test_pipelines_run_unchanged(definition, launcher, tmp_path):
    pipeline, arguments, steps = _integration_test_pipelines()[definition]
    compiled, caught = SDK.compile(pipeline, tmp_path / "pipeline.yaml")
    assert _unexpected(caught) == []
    assert set(steps) <= set(_tasks(compiled))
    for task, kind in steps.items():
        step = SDK.step(compiled, COMMAND, run_arguments=arguments, task=task)
        given = {n: v for n, v in arguments.items() if n in drop_in.EARLIER[kind]["inputs"]}
        # The run parameters are strings; the launcher reads "True"/"False" as the earlier one did.
        call = {n: (v == "True") if v in ("True", "False") else v for n, v in given.items()}
        _assert_made_as_earlier(dry_run(launcher, step.argv), kind, call)


def test_a_field_the_earlier_component_let_through_misplaced_is_refused(earlier, launcher, tmp_path):
    # The earlier component sent it on and the API server pruned it; ours stops before
    # anything reaches the cluster, naming the input and the field. A failed step still
    # writes every output file, sent to tmp_path here.
    step = SDK.step(earlier[0], COMMAND, task=drop_in.EARLIER["DataQualityJobDefinition"]["step"])
    argv = list(step.argv)
    at = argv.index("--data_quality_job_output_config") + 1
    argv[at] = SDK.text(drop_in.MISPLACED_UPLOAD_MODE)
    for i, arg in enumerate(argv):
        if arg.endswith("_output_path"):
            argv[i + 1] = str(tmp_path / arg.removeprefix("--").removesuffix("_output_path"))
    done = run(launcher, argv)
    assert done.returncode == 2, done.stderr
    assert "data_quality_job_output_config" in done.stderr and "s3UploadMode" in done.stderr
    assert done.stdout == ""
