#!/usr/bin/env bash
# A fresh virtual environment with only the wheel and one backend extra (no TensorFlow):
#   bash tests/scripts/check_install.sh jax|torch dist/kerastools-*.whl
# imports kerastools, trains a model with a preset, a one-cycle schedule, WeightNormTracker,
# LearningRateLogger and DropConnectDense, saves and reloads it (install_smoke.py), and
# checks that `pip list` there shows no tensorflow. `make check-install` runs it for both.
set -euo pipefail
extra=$1
wheel=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
torch_cpu=${TORCH_CPU:-torch==2.13.0}
venv=$(mktemp -d "${TMPDIR:-/tmp}/kerastools-$extra-XXXX")
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
if [ "$extra" = torch ]; then
  # The CPU build first: the extra is a range that it satisfies.
  "$venv/bin/python" -m pip install -q "$torch_cpu"
fi
"$venv/bin/python" -m pip install -q "${wheel}[${extra}]"
if "$venv/bin/python" -m pip list 2>/dev/null | grep -iE '^(tensorflow|tensorflow-cpu|tf-keras|keras-tuner) '; then
  echo "check_install: the $extra extra installed TensorFlow or keras-tuner" >&2
  exit 1
fi
cd "$venv"   # away from the repository: the installed wheel is what is imported
KERAS_BACKEND=$extra "$venv/bin/python" "$here/install_smoke.py" "$extra"
