"""Runs the built `ack-kfp-launcher` with a step's resolved argv in dry-run mode."""

import json
import os
import subprocess

import yaml


def run(launcher, argv):
    """`argv` is the step's resolved command + args; its first element (the command as the
    image names it) is replaced by the built binary and `--dry-run` is appended."""
    env = dict(os.environ, RUST_BACKTRACE="0")
    return subprocess.run(
        [str(launcher), *argv[1:], "--dry-run"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )


def dry_run(launcher, argv):
    """The custom resource the launcher prints for `argv`; fails the test on a non-zero exit."""
    done = run(launcher, argv)
    assert done.returncode == 0, f"launcher exited {done.returncode}:\n{done.stderr}\nargv: {argv}"
    assert done.stderr == "", f"launcher wrote to stderr on success:\n{done.stderr}"
    return yaml.safe_load(done.stdout)


def canonical(value):
    """JSON text that tells 30 from 30.0 and True from 1, for exact comparisons."""
    return json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False)
