"""The README's "Use it in a pipeline" examples compile with the SDK they are written for
and give a step that runs the launcher image that component-template/image.toml names."""

import pathlib
import re
import runpy

import yaml

from sdk import SDK, record_warnings

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Each example starts with a comment naming its SDK.
FIRST_LINE = {1: "# kfp==1.8.22", 2: "# kfp>=2,<3"}


def _example():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    mine = [b for b in blocks if b.startswith(FIRST_LINE[SDK.major])]
    assert len(mine) == 1, f"expected one README example for kfp {SDK.major}.x, found {len(mine)}"
    return mine[0]


def _image():
    fields = dict(re.findall(r'^(\w+) = "(.*)"$', (ROOT / "component-template/image.toml").read_text(), flags=re.M))
    return f"{fields['repository']}:{fields['version']}"


def test_readme_pipeline_compiles(tmp_path, monkeypatch):
    script = tmp_path / "example.py"
    script.write_text(_example())
    (tmp_path / "generated").symlink_to(ROOT / "generated")
    monkeypatch.chdir(tmp_path)
    _, caught = record_warnings(lambda: runpy.run_path(str(script), run_name="__main__"))
    # kfp 1.8 warns about its own ContainerOp.image on every pipeline (test_pipelines checks
    # that baseline); nothing else.
    assert [w for w in caught if "ContainerOp.image" not in w] == []
    compiled = (tmp_path / "churn-training.yaml").read_text()
    assert f"image: {_image()}" in compiled
    assert yaml.safe_load(compiled)
