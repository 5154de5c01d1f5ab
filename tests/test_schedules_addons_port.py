"""TF Addons' own test file for cyclical learning rates, ported by changing only its imports.

Translated from ``tensorflow_addons/optimizers/tests/cyclical_learning_rate_test.py``
(TF Addons at commit 61b23b1, its last version: six test functions, each
parametrized over ``serialize``). What was translated: the imports only; the
TF Addons module ``cyclical_learning_rate`` is ``kerastools.schedules`` here.
Every case, value, tolerance and assertion is the same (rewritten in this
project's words, not copied): the same learning rates are expected at the
same steps with ``np.testing.assert_allclose(..., rtol=1e-6)`` (and
``atol=1e-6`` where TF Addons has it), the schedules are evaluated as TF Addons
does (a Python int step, default float32), the custom scale functions are
local functions written with Python operators on the tensor, and
"serialized" means ``get_config`` then ``from_config``.

The file calls ``.numpy()`` on the returned tensor, as TF Addons' does: that
runs on the TensorFlow and PyTorch backends; JAX arrays have no ``.numpy()``,
so the module is skipped there (tests/test_schedules.py covers JAX).
"""

import keras
import numpy as np
import pytest

from kerastools import schedules as cyclical_learning_rate  # the only change: the import

# 32,000 eager calls one step at a time, as TF Addons' file makes them (about
# 5 minutes on a loaded 2-core machine): slow, still run in CI.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(keras.backend.backend() == "jax",
                       reason="TF Addons' file calls .numpy() on the result"),
]


def _maybe_serialized(lr_decay, serialize_and_deserialize):
    if not serialize_and_deserialize:
        return lr_decay
    return lr_decay.from_config(lr_decay.get_config())


@pytest.mark.parametrize("serialize", [True, False])
def test_triangular_cyclical_learning_rate(serialize):
    initial, maximal, step_size = 0.1, 1, 40
    lr = _maybe_serialized(cyclical_learning_rate.TriangularCyclicalLearningRate(
        initial_learning_rate=initial, maximal_learning_rate=maximal, step_size=step_size), serialize)
    expected = np.concatenate([np.linspace(initial, maximal, num=step_size + 1),
                               np.linspace(maximal, initial, num=step_size + 1)[1:]])
    for step, value in enumerate(expected):
        np.testing.assert_allclose(lr(step), value, 1e-6)


@pytest.mark.parametrize("serialize", [True, False])
def test_triangular2_cyclical_learning_rate(serialize):
    initial, maximal, step_size = 0.1, 1, 30
    lr = _maybe_serialized(cyclical_learning_rate.Triangular2CyclicalLearningRate(
        initial_learning_rate=initial, maximal_learning_rate=maximal, step_size=step_size), serialize)
    middle = (maximal + initial) / 2
    expected = np.concatenate([
        np.linspace(initial, maximal, num=step_size + 1),
        np.linspace(maximal, initial, num=step_size + 1)[1:],
        np.linspace(initial, middle, num=step_size + 1)[1:],
        np.linspace(middle, initial, num=step_size + 1)[1:],
    ])
    for step, value in enumerate(expected):
        np.testing.assert_allclose(lr(step).numpy(), value, 1e-6)


@pytest.mark.parametrize("serialize", [True, False])
def test_exponential_cyclical_learning_rate(serialize):
    initial, maximal, step_size, gamma = 0.1, 1, 2000, 0.996
    lr = _maybe_serialized(cyclical_learning_rate.ExponentialCyclicalLearningRate(
        initial_learning_rate=initial, maximal_learning_rate=maximal, step_size=step_size,
        gamma=gamma), serialize)
    step = 0
    for i in range(0, 8001):
        unbounded = np.abs(i / 2000.0 - 2 * np.floor(1 + i / (2 * 2000)) + 1)
        expected = initial + (maximal - initial) * np.maximum(0, 1 - unbounded) * gamma**i
        np.testing.assert_allclose(lr(step).numpy(), expected, 1e-6)
        step += 1


@pytest.mark.parametrize("serialize", [True, False])
def test_custom_cyclical_learning_rate(serialize):
    initial, maximal, step_size = 0.1, 1, 4000

    def scale_fn(x):
        return 1 / (5 ** (x * 0.0001))

    lr = _maybe_serialized(cyclical_learning_rate.CyclicalLearningRate(
        initial_learning_rate=initial, maximal_learning_rate=maximal, step_size=step_size,
        scale_fn=scale_fn), serialize)
    for step in range(1, 8001):
        cycle = np.floor(1 + step / (2 * step_size))
        unbounded = np.abs(step / step_size - 2 * cycle + 1)
        expected = initial + (maximal - initial) * np.maximum(0, 1 - unbounded) * scale_fn(cycle)
        np.testing.assert_allclose(lr(step).numpy(), expected, 1e-6, 1e-6)


@pytest.mark.parametrize("serialize", [True, False])
def test_custom_cyclical_learning_rate_with_scale_mode(serialize):
    initial, maximal, step_size, scale_mode = 0.1, 1, 4000, "iterations"

    def scale_fn(x):
        return 1 / (5 ** (x * 0.0001))

    lr = _maybe_serialized(cyclical_learning_rate.CyclicalLearningRate(
        initial_learning_rate=initial, maximal_learning_rate=maximal, step_size=step_size,
        scale_fn=scale_fn, scale_mode=scale_mode), serialize)
    for step in range(1, 8001):
        cycle = np.floor(1 + step / (2 * step_size))
        unbounded = np.abs(step / step_size - 2 * cycle + 1)
        expected = initial + (maximal - initial) * np.maximum(0, 1 - unbounded) * scale_fn(step)
        np.testing.assert_allclose(lr(step).numpy(), expected, 1e-6, 1e-6)
