"""Mixed precision: mixed_float16 / mixed_bfloat16 with kerastools optimizers and
layers train to finite losses and to the float32 accuracy within a few points.

A 784-64-64-10 MLP with DebiasedBatchNormalization and DropConnectDense on a
class-balanced Fashion-MNIST subset (3000 / 1000), 2 epochs of batch 32. Under
mixed_float16 ``Model.compile`` wraps the FilterOptimizer in a
``LossScaleOptimizer`` (dynamic loss scaling); under mixed_bfloat16 it does
not (bfloat16 has float32's exponent range).
"""

import math

import keras
import numpy as np
import pytest

from kerastools import layers as ktl
from kerastools import optimizers as kto
from kerastools.datasets import load_fashion_mnist

# Test accuracy (percentage points) a mixed-precision run may lose or gain
# against the same run in float32. Measured gaps are well under 1 point; the
# margin covers float16 rounding changing which weights DropConnect meets.
ACCURACY_TOLERANCE = 3.0
EPOCHS = 2

OPTIMIZERS = {
    "adam": lambda: kto.adam(2e-3),
    "butterworth_momentum": lambda: kto.butterworth_momentum(
        order=2, cutoff=0.1, learning_rate=0.05, transient_compensation=True),
}


@pytest.fixture(scope="module")
def subset(fashion_dir):
    return load_fashion_mnist(fashion_dir, flatten=True, train_size=3000, test_size=1000)


@pytest.fixture
def policy(request):
    keras.config.set_dtype_policy(request.param)
    try:
        yield request.param
    finally:
        keras.config.set_dtype_policy("float32")


def build(optimizer):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((784,))
    h = keras.layers.Dense(64, use_bias=False, name="hidden")(inputs)
    h = ktl.DebiasedBatchNormalization(momentum=0.9, name="bn")(h)
    h = keras.layers.Activation("relu")(h)
    h = ktl.DropConnectDense(64, rate=0.3, activation="relu", seed=1, name="dc")(h)
    logits = keras.layers.Dense(10, name="logits")(h)
    # Softmax and loss in float32, as the Keras mixed-precision guide advises.
    outputs = keras.layers.Activation("softmax", dtype="float32", name="probs")(logits)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def run(make_optimizer, data):
    (x, y), (x_test, y_test) = data
    model = build(make_optimizer())
    history = model.fit(x, y, batch_size=32, epochs=EPOCHS, shuffle=False, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=500, verbose=0)
    return model, history.history["loss"], loss, 100.0 * accuracy


_FLOAT32 = {}


def float32_accuracy(name, data):
    if name not in _FLOAT32:
        keras.config.set_dtype_policy("float32")
        _FLOAT32[name] = run(OPTIMIZERS[name], data)[3]
    return _FLOAT32[name]


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"], indirect=True)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_mixed_precision_trains_like_float32(policy, name, subset):
    reference = float32_accuracy(name, subset)
    keras.config.set_dtype_policy(policy)
    model, losses, test_loss, accuracy = run(OPTIMIZERS[name], subset)
    compute = "float16" if policy == "mixed_float16" else "bfloat16"
    for layer_name in ("hidden", "bn", "dc", "logits"):
        layer = model.get_layer(layer_name)
        assert layer.compute_dtype == compute, (layer_name, layer.compute_dtype)
        assert all(w.dtype == "float32" for w in layer.weights), layer_name
    wrapped = isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert wrapped == (policy == "mixed_float16")
    inner = model.optimizer.inner_optimizer if wrapped else model.optimizer
    assert isinstance(inner, kto.ChainOptimizer)
    assert all(math.isfinite(v) for v in losses + [test_loss]), losses
    assert losses[-1] < losses[0]
    for w in model.get_weights():
        assert np.all(np.isfinite(w))
    assert accuracy > 65.0, accuracy  # it learned (chance is 10 %)
    assert abs(accuracy - reference) <= ACCURACY_TOLERANCE, (accuracy, reference)
    print(f"{policy} {name}: test accuracy {accuracy:.2f}% vs float32 {reference:.2f}%")
