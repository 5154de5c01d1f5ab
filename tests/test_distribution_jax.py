"""keras.distribution.DataParallel on JAX over 2 host devices equals one device.

The check runs in a subprocess (tests/scripts/jax_data_parallel.py): JAX reads
``XLA_FLAGS=--xla_force_host_platform_device_count=2`` when it initialises. Cases:
``adam`` + ``CyclicalLearningRate``, ``nesterov`` + ``OneCycle`` and
``butterworth_momentum``, with ``DebiasedBatchNormalization``, ``DropConnectDense``,
``LearningRateLogger`` and ``WeightNormTracker``.
"""

import json
import os
import subprocess
import sys

import keras
import pytest

pytestmark = [
    pytest.mark.skipif(keras.backend.backend() != "jax",
                       reason="keras.distribution.DataParallel is checked in the JAX run "
                              "(make test-jax); TensorFlow's strategies: test_distribution.py"),
]

SCRIPT = os.path.join(os.path.dirname(__file__), "scripts", "jax_data_parallel.py")
# One device reduces the batch's gradients in one sum, two devices in two sums and an
# all-reduce: float32 rounding differs, nothing else may.
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("dp") / "result.json"
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    env.pop("JAX_ENABLE_X64", None)  # float32 training, as users run it
    proc = subprocess.run([sys.executable, SCRIPT, str(out)], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    with open(out) as f:
        return json.load(f)


def test_two_host_devices(result):
    assert len(result["devices"]) == 2


@pytest.mark.parametrize("case", ["adam+CyclicalLearningRate", "nesterov+OneCycle",
                                  "butterworth_momentum"])
def test_data_parallel_equals_one_device(result, case):
    r = result[case]
    assert r["final_loss"] < r["first_loss"]           # it trained
    assert r["n_optimizer_variables"] >= 6             # filter states, iterations, rate
    assert r["same_keys"] and {"loss", "learning_rate", "weight_norm/hidden/kernel",
                               "weight_norm/bn/gamma"} <= set(r["history_keys"])
    assert r["weights"] < TOLERANCE
    assert r["optimizer_variables"] < TOLERANCE
    assert r["history"] < TOLERANCE
