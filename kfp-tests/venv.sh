#!/usr/bin/env bash
# kfp-tests/venv.sh kfp1|kfp2: creates the venv of one KFP SDK under
# ${CARGO_TARGET_DIR:-target}/kfp-venvs/<sdk>/ from kfp-tests/requirements-<sdk>.txt (PyPI),
# or reuses it while that file and Python are unchanged, and prints its path. Used by
# kfp-tests/run.sh and by the tests that compile pipelines for the real stack
# (xtask/tests/pipelines.rs). Progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

sdk=${1:?usage: kfp-tests/venv.sh kfp1|kfp2}
python=${PYTHON:-python3}
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$PWD/$target ;; esac

requirements=kfp-tests/requirements-$sdk.txt
[[ -f $requirements ]] || { echo "no $requirements" >&2; exit 2; }
venv=$target/kfp-venvs/$sdk
mkdir -p "$target/kfp-venvs"
# One creator at a time (test binaries and run.sh may ask together).
exec 9> "$target/kfp-venvs/$sdk.lock"
flock 9
# What the venv was built from; written last, so a broken install is not reused.
stamp=$venv/kfp-tests.stamp
want=$( "$python" --version 2>&1; cat "$requirements" )
if [[ -x $venv/bin/python && -f $stamp && $(cat "$stamp") == "$want" ]]; then
    printf '==> %s: reusing %s\n' "$sdk" "$venv" >&2
else
    printf '==> %s: creating %s from %s\n' "$sdk" "$venv" "$requirements" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements" >&2
    printf '%s\n' "$want" > "$stamp"
fi
printf '%s\n' "$venv"
