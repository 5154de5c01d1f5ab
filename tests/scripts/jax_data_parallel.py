"""Same training under keras.distribution.DataParallel (2 JAX host devices) and on one.

    python jax_data_parallel.py OUT.json

JAX reads XLA_FLAGS when it initialises, hence a script of its own: it asks for two
host (CPU) devices. For every case the same model (same seed, same data, no shuffling)
is trained twice with a global batch of 32: once with ``DataParallel`` over both
devices (16 samples each), once on one device. OUT.json receives, per case, the largest
``|a - b| / max(|a|, 1)`` of the final weights (moving statistics included), of the
optimizer's variables (the FilterOptimizer's filter states, the iteration count) and of
the per-epoch history (losses, the learning rate logged by ``LearningRateLogger``, the
norms logged by ``WeightNormTracker``).
"""

import json
import os
import sys

os.environ["KERAS_BACKEND"] = "jax"
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                           + " --xla_force_host_platform_device_count=2").strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from kerastools import callbacks as ktc  # noqa: E402
from kerastools import layers as ktl  # noqa: E402
from kerastools import optimizers as kto  # noqa: E402
from kerastools import schedules as kts  # noqa: E402

BATCH = 32
EPOCHS = 3
N = 192  # 6 batches per epoch


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, 12)).astype("float32")
    y = np.argmax(x[:, :3] + 0.3 * x[:, 3:6], axis=1).astype("int32")
    return x, y


def build(make_optimizer):
    keras.utils.set_random_seed(7)
    inputs = keras.Input((12,))
    h = keras.layers.Dense(16, use_bias=False, name="hidden")(inputs)
    h = ktl.DebiasedBatchNormalization(name="bn")(h)
    h = keras.layers.Activation("relu")(h)
    h = ktl.DropConnectDense(8, rate=0.0, activation="relu", name="dropconnect")(h)
    outputs = keras.layers.Dense(3, activation="softmax", name="output")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=make_optimizer(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


CASES = {
    "adam+CyclicalLearningRate": lambda: kto.adam(
        kts.CyclicalLearningRate(1e-3, 1e-2, step_size=4)),
    "nesterov+OneCycle": lambda: kto.nesterov(
        kts.OneCycle(0.05, total_steps=EPOCHS * N // BATCH), momentum=0.9),
    "butterworth_momentum": lambda: kto.butterworth_momentum(
        order=2, cutoff=0.1, learning_rate=0.05),
}


def train(make_optimizer, distributed):
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=jax.devices()) if distributed else None)
    try:
        x, y = data()
        model = build(make_optimizer)
        history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0,
                            callbacks=[ktc.LearningRateLogger(), ktc.WeightNormTracker()])
        weights = [np.asarray(w, np.float64) for w in model.get_weights()]
        opt = [np.asarray(keras.ops.convert_to_numpy(v), np.float64)
               for v in model.optimizer.variables]
        return weights, opt, history.history
    finally:
        keras.distribution.set_distribution(None)


def rel(a, b):
    return float(max((np.max(np.abs(p - q) / np.maximum(np.abs(p), 1.0)) if np.size(p) else 0.0)
                     for p, q in zip(a, b)))


def main(out):
    assert len(jax.devices()) == 2, jax.devices()
    result = {"devices": [str(d) for d in jax.devices()]}
    for name, make in CASES.items():
        w1, o1, h1 = train(make, distributed=False)
        w2, o2, h2 = train(make, distributed=True)
        keys = sorted(h1)
        result[name] = {
            "weights": rel(w1, w2),
            "optimizer_variables": rel(o1, o2),
            "n_optimizer_variables": len(o1),
            "history": rel([np.asarray(h1[k]) for k in keys], [np.asarray(h2[k]) for k in keys]),
            "history_keys": keys,
            "same_keys": keys == sorted(h2),
            "final_loss": h1["loss"][-1],
            "first_loss": h1["loss"][0],
        }
    with open(out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
