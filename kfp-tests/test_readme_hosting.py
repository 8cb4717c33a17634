"""The README's kfp 2 example from training to a monitored endpoint compiles, and each of
its steps reads the step before it. The block is found in README.md by its first line."""

import pathlib
import re
import runpy

import pytest
import yaml

from sdk import SDK, record_warnings

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIRST_LINE = "# Hosting and monitoring, kfp>=2,<3"
SOURCES = [ROOT / "README.md"]

pytestmark = pytest.mark.skipif(SDK.major != 2, reason="the example is written for kfp 2")


def _example():
    for source in SOURCES:
        blocks = [b for b in re.findall(r"```python\n(.*?)```", source.read_text(), flags=re.S)
                  if b.startswith(FIRST_LINE)]
        if blocks:
            assert len(blocks) == 1, f"{source.name} has {len(blocks)} hosting examples"
            return blocks[0]
    raise AssertionError(f"no Python block starting {FIRST_LINE!r} in {[s.name for s in SOURCES]}")


def _image():
    fields = dict(re.findall(r'^(\w+) = "(.*)"$', (ROOT / "component-template/image.toml").read_text(), flags=re.M))
    return f"{fields['repository']}:{fields['version']}"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    directory = tmp_path_factory.mktemp("readme-hosting")
    script = directory / "example.py"
    script.write_text(_example())
    (directory / "generated").symlink_to(ROOT / "generated")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(directory)
        _, caught = record_warnings(lambda: runpy.run_path(str(script), run_name="__main__"))
    return yaml.safe_load((directory / "churn-train-host-monitor.yaml").read_text()), caught


def test_readme_hosting_pipeline_compiles_without_warnings(compiled):
    ir, caught = compiled
    assert caught == []
    assert ir["pipelineInfo"]["name"] == "churn-train-host-monitor"


def test_each_step_of_the_readme_hosting_pipeline_reads_the_one_before(compiled):
    ir = compiled[0]
    executors = ir["deploymentSpec"]["executors"]
    order = [
        ("sagemaker-trainingjob", "training-job"), ("serving-container", None), ("sagemaker-model", "model"),
        ("one-variant", None), ("sagemaker-endpointconfig", "endpoint-config"), ("sagemaker-endpoint", "endpoint"),
        ("endpoint-capture", None), ("sagemaker-dataqualityjobdefinition", "data-quality-job-definition"),
        ("hourly", None), ("sagemaker-monitoringschedule", "monitoring-schedule"),
    ]
    tasks = ir["root"]["dag"]["tasks"]
    assert sorted(tasks) == sorted(name for name, _ in order)
    for (before, _), (task, subcommand) in zip(order, order[1:]):
        spec = tasks[task]
        producers = {
            source["taskOutputParameter"]["producerTask"]
            for source in spec["inputs"]["parameters"].values()
            if "taskOutputParameter" in source
        }
        assert producers == {before} and spec["dependentTasks"] == [before], task
    for task, subcommand in order:
        container = executors[ir["components"][tasks[task]["componentRef"]["name"]]["executorLabel"]]["container"]
        if subcommand:
            assert container["image"] == _image()
            assert container["command"][:2] == ["ack-kfp-launcher", subcommand]
