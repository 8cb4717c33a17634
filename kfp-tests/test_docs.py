"""Every pipeline in README.md and docs/ compiles with the SDK its first line names, the
way the page says to compile it.

A page's Python blocks marked `kfp file=NAME.py` are saved, as a reader would save them,
in a folder outside the repository (`~/pipelines`, with HOME a temporary folder); the
page's shell blocks marked `kfp` then run as written with bash, from the repository's
root, with this SDK's `python3` first on PATH. The pipelines load the components through
`ACK_KFP_COMPONENTS`, which those commands set: a pipeline that found its components
only from the repository's root would fail here. xtask/src/docs.rs describes the marks
(and xtask/tests/docs.rs checks that every command block has one).

The train-to-endpoint pipelines are also resolved step by step as the backend would run
them, with the values each step before hands on, and dry-run through the launcher: on
KFP v1 the model's name placed inside the production variants is filled in by Argo, on
KFP v2 a small component builds the variants."""

import os
import pathlib
import re
import shlex
import subprocess
import sys
import textwrap

import pytest
import yaml

from launcher import dry_run
from sdk import SDK

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A fenced block, also one indented inside a list item (as xtask/src/docs.rs reads them).
FENCE = re.compile(r"^[ \t]*```(\S+)([^\n]*)\n(.*?)^[ \t]*```$", re.M | re.S)
SDK_SPECS = {"kfp==1.8.22": 1, "kfp>=2,<3": 2}
# The one warning of kfp 1.8 a pipeline triggers whatever it does (sdk.SDK_NOISE): pending
# deprecations are not shown when a script runs, so nothing at all is expected on stderr.


def _blocks(page):
    for lang, info, text in FENCE.findall(page.read_text()):
        marks = {}
        for word in shlex.split(info):
            key, _, value = word.partition("=")
            marks[key] = value
        yield lang, marks, textwrap.dedent(text)


def _sdks(text):
    first = text.splitlines()[0] if text else ""
    return {SDK_SPECS[part.split()[0]] for part in first.removeprefix("# ").split(" or ") if part.split()
            and part.split()[0] in SDK_SPECS}


def _pages():
    """page -> (this SDK's pipelines by file name, the commands that compile them)."""
    pages = {}
    for page in PAGES:
        pipelines, commands = {}, []
        for lang, marks, text in _blocks(page):
            if "kfp" not in marks:
                continue
            if lang == "python":
                if SDK.major in _sdks(text):
                    name = marks["file"]
                    assert name not in pipelines, f"{page.name}: two kfp {SDK.major} pipelines saved as {name}"
                    pipelines[name] = text
            else:
                commands.append(text)
        if pipelines or commands:
            pages[page.relative_to(ROOT).as_posix()] = (pipelines, commands)
    return pages


PAGES_WITH_PIPELINES = _pages()


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """page -> (the folder the pipelines were saved and compiled in, what the commands
    printed on stderr)."""
    results = {}
    venv_bin = pathlib.Path(sys.executable).parent
    for page, (pipelines, commands) in PAGES_WITH_PIPELINES.items():
        home = tmp_path_factory.mktemp("home")
        folder = home / "pipelines"
        folder.mkdir()
        for name, text in pipelines.items():
            (folder / name).write_text(text)
        env = {k: v for k, v in os.environ.items() if k != "ACK_KFP_COMPONENTS"}
        env.update(HOME=str(home), PATH=f"{venv_bin}{os.pathsep}{env.get('PATH', '')}", PYTHONDONTWRITEBYTECODE="1")
        stderr = ""
        for command in commands:
            done = subprocess.run(["bash", "-ec", command], cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=300, check=False)
            assert done.returncode == 0, f"{page}: `{command.strip()}` exited {done.returncode}:\n{done.stderr}"
            stderr += done.stderr
        results[page] = (folder, stderr)
    return results


def _output_file(text):
    match = re.search(r"""compile\(\s*pipeline\s*,\s*["']([^"']+)["']\s*\)""", text)
    assert match, "the pipeline is compiled to a file"
    return match.group(1)


def _image():
    fields = dict(re.findall(r'^(\w+) = "(.*)"$', (ROOT / "component-template/image.toml").read_text(), flags=re.M))
    return f"{fields['repository']}:{fields['version']}"


def test_the_docs_have_pipelines_for_this_sdk():
    names = {name for pipelines, _ in PAGES_WITH_PIPELINES.values() for name in pipelines}
    assert {"churn_training.py", "train_to_endpoint.py"} <= names


@pytest.mark.parametrize("page", sorted(PAGES_WITH_PIPELINES))
def test_every_documented_pipeline_compiles_as_the_page_says(page, compiled):
    pipelines, commands = PAGES_WITH_PIPELINES[page]
    folder, stderr = compiled[page]
    run = " ".join(commands)
    for name, text in pipelines.items():
        assert re.search(rf"python3 {re.escape(name)}\b", run), f"{page}: no command compiles {name}"
        output = folder / _output_file(text)
        assert output.is_file(), f"{page}: {name} wrote no {output.name}"
        compiled_text = output.read_text()
        assert yaml.safe_load(compiled_text)
        # Every launcher step runs the image component-template/image.toml names.
        assert f"image: {_image()}" in compiled_text
        assert "ack-kfp-launcher" in compiled_text
    assert stderr == "", f"{page}: the SDK warned:\n{stderr}"


def _compiled_pipeline(compiled, name):
    for page, (pipelines, _) in PAGES_WITH_PIPELINES.items():
        if name in pipelines:
            return yaml.safe_load((compiled[page][0] / _output_file(pipelines[name])).read_text())
    raise AssertionError(f"no page has {name} for kfp {SDK.major}")


# What one run of the train-to-endpoint pipeline hands on: the launcher steps' outputs as
# the controller reports them, the small components' as they compute them.
_ARTIFACTS = {"s3ModelArtifacts": "s3://my-bucket/churn/models/training-job-0123456789abcdef/output/model.tar.gz"}
_IMAGE = "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1"
_MODEL = "model-4f1e2d3c4b5a69788796"
_CONFIG = "endpoint-config-a1b2c3d4e5f60718293a"
_ENDPOINT = "endpoint-0f1e2d3c4b5a69788796"
_DEFINITION = "data-quality-job-definition-1a2b3c4d"
_OUTPUTS = {
    ("sagemaker-trainingjob", "model_artifacts"): _ARTIFACTS,
    ("serving-container", "Output"): {"image": _IMAGE, "modelDataURL": _ARTIFACTS["s3ModelArtifacts"]},
    ("sagemaker-model", "sagemaker_resource_name"): _MODEL,
    ("one-variant", "Output"): [{"variantName": "AllTraffic", "modelName": _MODEL, "instanceType": "ml.m5.large",
                                 "initialInstanceCount": 1}],
    ("sagemaker-endpointconfig", "sagemaker_resource_name"): _CONFIG,
    ("sagemaker-endpoint", "sagemaker_resource_name"): _ENDPOINT,
    ("endpoint-capture", "Output"): {"endpointInput": {"endpointName": _ENDPOINT,
                                                       "localPath": "/opt/ml/processing/input/endpoint"}},
    ("sagemaker-dataqualityjobdefinition", "sagemaker_resource_name"): _DEFINITION,
    ("hourly", "Output"): {"monitoringJobDefinitionName": _DEFINITION, "monitoringType": "DataQuality",
                           "scheduleConfig": {"scheduleExpression": "cron(0 * ? * * *)"}},
}


def _resource(compiled, launcher, task):
    pipeline = _compiled_pipeline(compiled, "train_to_endpoint.py")
    return dry_run(launcher, SDK.step(pipeline, "ack-kfp-launcher", task=task, outputs=_OUTPUTS).argv)


def test_train_to_endpoint_hosts_the_trained_model(compiled, launcher):
    model = _resource(compiled, launcher, "sagemaker-model")["spec"]
    assert model["primaryContainer"] == {"image": _IMAGE, "modelDataURL": _ARTIFACTS["s3ModelArtifacts"]}


def test_train_to_endpoint_names_each_resource_in_the_next(compiled, launcher):
    # On KFP v1 the model's name reaches the production variants inside the JSON input,
    # filled in by Argo; on KFP v2 through the small component that builds them.
    config = _resource(compiled, launcher, "sagemaker-endpointconfig")["spec"]
    assert config["productionVariants"] == [{"variantName": "AllTraffic", "modelName": _MODEL,
                                             "instanceType": "ml.m5.large", "initialInstanceCount": 1}]
    assert config["dataCaptureConfig"]["destinationS3URI"] == "s3://my-bucket/churn/capture/"
    endpoint = _resource(compiled, launcher, "sagemaker-endpoint")["spec"]
    assert endpoint["endpointConfigName"] == _CONFIG
    definition = _resource(compiled, launcher, "sagemaker-dataqualityjobdefinition")["spec"]
    assert definition["dataQualityJobInput"]["endpointInput"]["endpointName"] == _ENDPOINT
    schedule = _resource(compiled, launcher, "sagemaker-monitoringschedule")["spec"]
    assert schedule["monitoringScheduleConfig"]["monitoringJobDefinitionName"] == _DEFINITION
    assert schedule["monitoringScheduleConfig"]["scheduleConfig"] == {"scheduleExpression": "cron(0 * ? * * *)"}


def test_a_json_output_inside_a_json_input_would_not_be_valid_json_on_v1(compiled, launcher):
    """What the docs warn about: Argo puts an output's text where its placeholder is, so a
    JSON output (or text with a quote) inside a JSON input breaks the JSON the launcher
    reads. Shown on the kfp 1.8 pipeline by handing the model step a name with a quote."""
    if SDK.major != 1:
        pytest.skip("KFP v2 builds the JSON in a component; nothing is placed inside it")
    pipeline = _compiled_pipeline(compiled, "train_to_endpoint.py")
    outputs = dict(_OUTPUTS)
    outputs[("sagemaker-model", "sagemaker_resource_name")] = 'model "a"'
    from launcher import run

    step = SDK.step(pipeline, "ack-kfp-launcher", task="sagemaker-endpointconfig", outputs=outputs)
    done = run(launcher, step.argv)
    assert done.returncode == 2, done.stderr
    assert "input `production_variants`" in done.stderr
