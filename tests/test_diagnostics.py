"""Babysitting checks: each passes on a healthy model and fails on a broken one."""

import math

import keras
import numpy as np
import pytest

from kerastools.monitoring import babysit
from kerastools.monitoring import check_gradients_finite
from kerastools.monitoring import check_initial_loss
from kerastools.monitoring import check_overfit_small_sample
from kerastools.monitoring import check_regularization_raises_loss
from kerastools.monitoring import check_units


def _data(n=64, d=20, c=5):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, d)).astype("float32"), rng.integers(0, c, n)


def build(l2=0.0, activation="relu", kernel_init="glorot_uniform", bias_init="zeros",
          out_bias="zeros", logits=False, lr=0.05):
    reg = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input(shape=(20,))
    h = keras.layers.Dense(64, activation=activation, kernel_initializer=kernel_init,
                           bias_initializer=bias_init, kernel_regularizer=reg, name="hidden")(inputs)
    outputs = keras.layers.Dense(5, activation=None if logits else "softmax", name="output",
                                 bias_initializer=out_bias, kernel_regularizer=reg)(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=logits))
    return model


def test_initial_loss_near_ln_c_and_independent_of_keras():
    x, y = _data(256)
    model = build(kernel_init=keras.initializers.RandomNormal(stddev=0.01))
    r = check_initial_loss(model, x, y)
    assert r.passed and r.expected.startswith("ln(5)")
    np.testing.assert_allclose(r.value, model.evaluate(x, y, verbose=0), rtol=1e-5)
    assert abs(r.value - math.log(5)) < 0.05
    logits = check_initial_loss(build(logits=True, kernel_init=keras.initializers.RandomNormal(
        stddev=0.01)), x, y)
    assert logits.passed and logits.details["from_logits"]
    bad = check_initial_loss(build(out_bias=keras.initializers.Constant(
        [8.0, 0, 0, 0, 0])), x, y)
    assert not bad.passed and "not uniform" in bad.message and "FAIL" in str(bad)
    one_hot = check_initial_loss(model, x, np.eye(5)[y])
    assert one_hot.value == pytest.approx(r.value)


def test_overfit_small_sample_and_regularization():
    x, y = _data()
    fit = check_overfit_small_sample(lambda: build(), x, y, n_samples=16, epochs=120)
    assert fit.passed, fit.message
    assert fit.details["loss_curve"][0] > fit.details["loss_curve"][-1]
    cannot = check_overfit_small_sample(lambda: build(lr=1e-6), x, y, n_samples=16, epochs=20)
    assert not cannot.passed and "cannot over-fit" in cannot.message
    reg = check_regularization_raises_loss(lambda: build(), lambda: build(l2=0.05), x, y,
                                           n_samples=16, epochs=120)
    assert reg.passed and reg.details["loss_regularized"] > reg.details["loss_plain"]
    same = check_regularization_raises_loss(lambda: build(), lambda: build(), x, y,
                                            n_samples=16, epochs=10)
    assert not same.passed


def test_dead_relu_and_saturated_tanh_are_found():
    x, _ = _data()
    ok = check_units(build(), x)
    assert ok.passed and ok.details["layers"]["hidden"]["dead_fraction"] < 0.5
    dead = check_units(build(bias_init=keras.initializers.Constant(-100.0)), x)
    assert not dead.passed and dead.value == 1.0 and "hidden (100% dead units)" in dead.message
    saturated = check_units(build(activation="tanh",
                                  kernel_init=keras.initializers.RandomNormal(stddev=20.0)), x)
    assert not saturated.passed and saturated.details["layers"]["hidden"]["saturated_fraction"] > 0.5
    # reference: the fraction computed by hand
    model = build(activation="tanh", kernel_init=keras.initializers.RandomNormal(stddev=20.0))
    w, b = model.get_layer("hidden").get_weights()
    a = np.tanh(x.astype(np.float64) @ w + b)
    r = check_units(model, x)
    assert r.details["layers"]["hidden"]["saturated_fraction"] == pytest.approx(
        np.mean(np.abs(a) >= 0.98), abs=2 / a.size)


def test_gradients_finite_and_nan_found():
    x, y = _data()
    model = build()
    ok = check_gradients_finite(model, x, y)
    assert ok.passed and ok.value > 0
    w, b = model.get_layer("hidden").get_weights()
    w[0, 0] = np.nan
    model.get_layer("hidden").set_weights([w, b])
    bad = check_gradients_finite(model, x, y)
    assert not bad.passed and "hidden/kernel" in bad.details["non_finite"]


def test_babysit_report():
    x, y = _data()
    model = build(kernel_init=keras.initializers.RandomNormal(stddev=0.01))
    report = babysit(model, x, y, build_model=lambda: build(),
                     build_regularized=lambda: build(l2=0.05), n_samples=16, epochs=100)
    names = [r.name for r in report.results]
    assert names == ["initial loss", "dead or saturated units", "finite gradients",
                     "overfit small sample", "regularization raises loss"]
    assert report.passed, str(report)
    assert str(report).endswith("5 passed, 0 failed")
    assert report.to_dict()["passed"] is True
    assert report["finite gradients"].passed


def test_bad_arguments():
    x, y = _data()
    with pytest.raises(ValueError, match="Argument `tolerance`"):
        check_initial_loss(build(), x, y, tolerance=0)
    with pytest.raises(ValueError, match="Argument `x`"):
        check_units(build(), x[:, :5])
    with pytest.raises(ValueError, match="Argument `n_samples`"):
        check_overfit_small_sample(build, x, y, n_samples=0)
