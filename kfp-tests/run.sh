#!/usr/bin/env bash
# KFP SDK compatibility tests: builds the launcher, prepares one venv per SDK (kfp 1.8.22
# and the newest kfp 2.x, pinned in requirements-kfp{1,2}.txt) under
# ${CARGO_TARGET_DIR:-target}/kfp-venvs/, and runs the same pytest suite in each.
# A venv is reused while its requirements file and Python are unchanged. Needs only
# cargo, python3 (3.11: kfp 1.8 imports distutils) and PyPI. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$PWD/$target ;; esac

printf '==> cargo build -p launcher --locked\n'
cargo build -p launcher --locked
launcher=$target/debug/ack-kfp-launcher

status=0
for sdk in kfp1 kfp2; do
    requirements=kfp-tests/requirements-$sdk.txt
    venv=$target/kfp-venvs/$sdk
    # What the venv was built from; written last, so a broken install is not reused.
    stamp=$venv/kfp-tests.stamp
    want=$( "$python" --version 2>&1; cat "$requirements" )
    if [[ -x $venv/bin/python && -f $stamp && $(cat "$stamp") == "$want" ]]; then
        printf '\n==> %s: reusing %s\n' "$sdk" "$venv"
    else
        printf '\n==> %s: creating %s from %s\n' "$sdk" "$venv" "$requirements"
        rm -rf "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
        printf '%s\n' "$want" > "$stamp"
    fi
    printf '\n==> %s: pytest kfp-tests\n' "$sdk"
    ACK_KFP_LAUNCHER=$launcher PYTHONDONTWRITEBYTECODE=1 \
        "$venv/bin/python" -m pytest kfp-tests "$@" || status=$?
done
exit "$status"
