"""Fixtures for the KFP SDK compatibility tests: the component, the launcher, the SDK.

Run through kfp-tests/run.sh, which builds the launcher, prepares one venv per SDK and
sets ACK_KFP_LAUNCHER. The same test files run under kfp 1.x and 2.x; `sdk.SDK` holds
what differs.
"""

import os
import pathlib
import sys

import kfp
import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from sdk import SDK  # noqa: E402

COMPONENT = HERE.parent / "generated" / "components" / "training_job" / "component.yaml"


def pytest_report_header(config):
    return f"kfp {kfp.__version__} (SDK v{SDK.major}); launcher {os.environ.get('ACK_KFP_LAUNCHER')}"


@pytest.fixture(scope="session")
def launcher():
    path = os.environ.get("ACK_KFP_LAUNCHER")
    assert path, "set ACK_KFP_LAUNCHER to the built ack-kfp-launcher (kfp-tests/run.sh does)"
    path = pathlib.Path(path)
    assert path.is_file() and os.access(path, os.X_OK), f"{path} is not an executable"
    return path


@pytest.fixture(scope="session")
def component_path():
    return COMPONENT


@pytest.fixture(scope="session")
def train():
    return SDK.load(COMPONENT)


@pytest.fixture(scope="session")
def consume():
    from pipelines import CONSUMER_YAML

    return SDK.load_text(CONSUMER_YAML)
