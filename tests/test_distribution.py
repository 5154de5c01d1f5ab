"""tf.distribute: MirroredStrategy over 2 logical CPUs equals one device;
MultiWorkerMirroredStrategy with two local workers trains the baseline model.

Both run in subprocesses (logical devices and TF_CONFIG must be set before
TensorFlow initialises). tests/test_optimizers_training.py already checks a
FilterOptimizer preset against the Keras built-in under MirroredStrategy;
here the comparison is strategy vs one device, across optimizers, schedules,
layers and callbacks. Keras 3.15's ``Model.fit`` cannot run under
MultiWorkerMirroredStrategy (see tests/scripts/distributed_baseline.py), so
the multi-worker test trains the baseline example's model with the kerastools
``adam`` preset in a custom distributed loop.
"""

import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="tf.distribute strategies exist only on the TensorFlow backend")

SCRIPTS = os.path.join(os.path.dirname(__file__), "scripts")

# |a - b| / max(|a|, 1): relative above 1, absolute below. One device sums the
# batch's gradients in one reduction, two replicas in two plus an all-reduce:
# the float32 rounding differs, nothing else may.
TOLERANCE = 1e-5


def _env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="",
                KERAS_BACKEND="tensorflow", PYTHONHASHSEED="0")


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory):
    out = tmp_path_factory.mktemp("mirrored") / "result.json"
    result = subprocess.run([sys.executable, os.path.join(SCRIPTS, "distributed_check.py"),
                             str(out)], capture_output=True, text=True, env=_env(), timeout=400)
    assert result.returncode == 0, result.stderr[-4000:]
    with open(out) as f:
        return json.load(f)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["adam+CyclicalLearningRate", "nesterov+OneCycle",
                                  "butterworth_momentum"])
def test_mirrored_training_equals_one_device(mirrored, case):
    r = mirrored[case]
    # Weights include DebiasedBatchNormalization(synchronized=True)'s debiased
    # moving statistics; the history holds loss, accuracy, the learning rate
    # and momentum from LearningRateLogger and WeightNormTracker's norms.
    assert r["n_weights"] >= 7  # kernel, BN (gamma, beta, moving and debiasing state), output
    assert {"loss", "accuracy", "learning_rate", "weight_norm/hidden/kernel",
            "weight_norm_max/bn/gamma"} <= set(r["history_keys"]), r["history_keys"]
    assert r["loss_drop"] > 0.05, r  # it trained
    assert r["weights_rel"] < TOLERANCE, r
    assert r["history_rel"] < TOLERANCE, r
    if "+" in case:  # the schedule moves: not a constant compared with itself
        assert len(set(np.round(r["learning_rates"], 8))) == len(r["learning_rates"])


@pytest.mark.slow
def test_mirrored_dropconnect_inference_is_the_mean_network(mirrored):
    r = mirrored["DropConnectDense inference"]
    assert r["predict_rel"] < TOLERANCE, r
    assert r["first_layer_vs_numpy"] < 1e-5, r


def _free_ports(n):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@pytest.mark.slow
def test_multi_worker_trains_baseline_model(tmp_path, fashion_dir):
    ports = _free_ports(2)
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    procs, outs, logs = [], [], []
    try:
        for index in range(2):
            out = tmp_path / f"worker{index}"
            out.mkdir()
            env = _env()
            env["TF_CONFIG"] = json.dumps({"cluster": cluster,
                                           "task": {"type": "worker", "index": index}})
            log = open(out / "log.txt", "w")
            logs.append(log)
            procs.append(subprocess.Popen(
                [sys.executable, os.path.join(SCRIPTS, "distributed_baseline.py"), str(out),
                 str(fashion_dir)], stdout=log, stderr=subprocess.STDOUT, env=env))
            outs.append(out)
        codes = [p.wait(timeout=240) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for log in logs:
            log.close()
    tails = [(o / "log.txt").read_text()[-3000:] for o in outs]
    assert codes == [0, 0], tails
    runs = [np.load(o / "worker.npz") for o in outs]
    for r in runs:
        assert int(r["replicas"]) == 2
        assert int(r["iterations"]) == 2000 // 32  # global batch 32: 16 per worker
        losses = r["losses"]
        assert np.all(np.isfinite(losses))
        assert losses[-5:].mean() < 0.6 * losses[:5].mean(), losses
        assert float(r["test_accuracy"]) > 0.6, float(r["test_accuracy"])
    a, b = runs
    # All-reduced gradients, mirrored variables: the two workers hold the same model.
    for key in a.files:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
