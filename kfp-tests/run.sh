#!/usr/bin/env bash
# KFP SDK compatibility tests: builds the launcher, prepares one venv per SDK (kfp 1.8.22
# and the newest kfp 2.x, pinned in requirements-kfp{1,2}.txt) under
# ${CARGO_TARGET_DIR:-target}/kfp-venvs/ (kfp-tests/venv.sh), and runs the same pytest
# suite in each. A venv is reused while its requirements file and Python are unchanged.
# Needs only cargo, python3 (3.11: kfp 1.8 imports distutils) and PyPI. Extra arguments go
# to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$PWD/$target ;; esac

printf '==> cargo build -p launcher --locked\n'
cargo build -p launcher --locked
launcher=$target/debug/ack-kfp-launcher

status=0
for sdk in kfp1 kfp2; do
    printf '\n'
    venv=$(kfp-tests/venv.sh "$sdk")
    printf '\n==> %s: pytest kfp-tests\n' "$sdk"
    ACK_KFP_LAUNCHER=$launcher PYTHONDONTWRITEBYTECODE=1 \
        "$venv/bin/python" -m pytest kfp-tests "$@" || status=$?
done
exit "$status"
