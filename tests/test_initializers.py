"""The course's initialisers: distributions against their formulas, config."""

import keras
import numpy as np
import pytest
from harness import assert_config_round_trip

from kerastools.initializers import GlorotSigmoidNormal
from kerastools.initializers import GlorotSigmoidUniform
from kerastools.initializers import SmallUniform


def _np(x):
    return keras.ops.convert_to_numpy(x)


def test_small_uniform_is_course_formula():
    # W = 0.001 * np.random.random(...): uniform on [0, 0.001), mean 5e-4,
    # variance 0.001^2 / 12.
    w = _np(SmallUniform(seed=3)((400, 300)))
    assert w.min() >= 0.0 and w.max() < 0.001
    assert abs(w.mean() - 5e-4) < 5e-6
    np.testing.assert_allclose(w.var(), 1e-6 / 12, rtol=0.02)


def test_small_uniform_centered_and_scale():
    w = _np(SmallUniform(scale=0.01, centered=True, seed=3)((400, 300)))
    assert w.min() >= -0.01 and w.max() < 0.01
    assert abs(w.mean()) < 1e-4
    np.testing.assert_allclose(w.var(), (0.02) ** 2 / 12, rtol=0.02)


def test_seeded_initializers_are_deterministic_and_float64():
    for init in (SmallUniform(seed=5), GlorotSigmoidUniform(seed=5), GlorotSigmoidNormal(seed=5)):
        a, b = _np(init((30, 20))), _np(init((30, 20)))
        np.testing.assert_array_equal(a, b)
        assert _np(init((4, 4), dtype="float64")).dtype == np.float64


@pytest.mark.parametrize("shape", [(300, 200), (3, 3, 32, 64)])
def test_glorot_sigmoid_uniform_has_four_times_glorot_bound(shape):
    if len(shape) == 2:
        fan_in, fan_out = shape
    else:
        fan_in, fan_out = 9 * shape[2], 9 * shape[3]
    bound = 4.0 * np.sqrt(6.0 / (fan_in + fan_out))
    w = _np(GlorotSigmoidUniform(seed=0)(shape))
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.98 * bound
    np.testing.assert_allclose(w.var(), bound**2 / 3, rtol=0.03)
    # Equal to 4 x Keras' Glorot uniform with the same seed.
    ref = _np(keras.initializers.GlorotUniform(seed=0)(shape))
    np.testing.assert_allclose(w, 4 * ref, rtol=1e-5, atol=1e-7)


def test_glorot_sigmoid_normal_std():
    w = _np(GlorotSigmoidNormal(seed=0)((400, 400)))
    np.testing.assert_allclose(w.std(), 4 * np.sqrt(2.0 / 800), rtol=0.02)
    ref = _np(keras.initializers.GlorotNormal(seed=0)((400, 400)))
    np.testing.assert_allclose(w, 4 * ref, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "factory", [lambda: SmallUniform(0.01, True, seed=2), lambda: GlorotSigmoidUniform(seed=1),
                lambda: GlorotSigmoidNormal(), lambda: SmallUniform()])
def test_config_round_trip(factory):
    init = factory()
    clone = assert_config_round_trip(init)
    if init.get_config()["seed"] is not None:
        np.testing.assert_array_equal(_np(init((5, 5))), _np(clone((5, 5))))


def test_usable_by_name_in_a_layer():
    layer = keras.layers.Dense(4, kernel_initializer={"class_name": "kerastools>SmallUniform",
                                                      "config": {"scale": 0.5, "seed": 1}})
    layer.build((None, 3))
    assert 0.0 <= _np(layer.kernel).min() and _np(layer.kernel).max() < 0.5


@pytest.mark.parametrize("kwargs, match", [
    (dict(scale=0), "Argument `scale` must be > 0. Received: scale=0"),
    (dict(scale=float("nan")), "Argument `scale`"),
    (dict(centered="yes"), "Argument `centered` must be a bool"),
    (dict(seed=1.5), "Argument `seed` must be an integer or None. Received: seed=1.5"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SmallUniform(**kwargs)


def test_bad_seed_glorot_sigmoid():
    with pytest.raises(ValueError, match="Argument `seed`"):
        GlorotSigmoidUniform(seed="a")
