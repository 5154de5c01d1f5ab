"""Lookahead (Zhang et al., 2019) against a NumPy transcription of its Algorithm 1.

The wrapped optimizers are Keras built-ins and kerastools recipes; the
problem, the training loop and the NumPy transcriptions of the inner
optimizers are those of ``tests/test_optimizers_papers.py``. Coefficients of
the Keras built-ins are powers of two where Keras rounds them through float32
(``ops.cast`` of a Python float on TensorFlow), so that float64 runs compare
at 1e-12.
"""

import keras
import numpy as np
import pytest
from harness import assert_config_round_trip
from harness import assert_model_round_trip
from harness import assert_resume_matches
from test_optimizers_papers import REC
from test_optimizers_papers import TOL
from test_optimizers_papers import NumpyRAdam
from test_optimizers_papers import NumpyYogi
from test_optimizers_papers import assert_moved
from test_optimizers_papers import keras_train
from test_optimizers_papers import needs_x64
from test_optimizers_papers import numpy_train
from test_optimizers_papers import rel_err

from kerastools import optimizers as kto
from kerastools.optimizers import Lookahead


class NumpyLookahead:
    """Zhang et al. (2019), Algorithm 1: k fast steps of ``inner``, then phi += alpha (theta - phi)."""

    def __init__(self, inner, k, alpha):
        self.inner, self.k, self.alpha = inner, k, alpha
        self.slow = None

    def __call__(self, weights, grads, t):
        if self.slow is None:
            self.slow = [w.copy() for w in weights]
        fast = self.inner(weights, grads, t)
        if t % self.k == 0:
            self.slow = [s + self.alpha * (f - s) for s, f in zip(self.slow, fast)]
            fast = [s.copy() for s in self.slow]
        return fast


class NumpyKerasAdam:
    """Keras' Adam (epsilon added to the uncompensated root)."""

    def __init__(self, lr, b1, b2, eps):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.m = self.v = None

    def __call__(self, weights, grads, t):
        if self.m is None:
            self.m = [np.zeros_like(w) for w in weights]
            self.v = [np.zeros_like(w) for w in weights]
        alpha = self.lr * np.sqrt(1 - self.b2**t) / (1 - self.b1**t)
        out = []
        for i, (w, g) in enumerate(zip(weights, grads)):
            self.m[i] = self.m[i] + (g - self.m[i]) * (1 - self.b1)
            self.v[i] = self.v[i] + (g * g - self.v[i]) * (1 - self.b2)
            out.append(w - self.m[i] * alpha / (np.sqrt(self.v[i]) + self.eps))
        return out


class NumpyMomentum:
    """Keras' SGD momentum: v = mu v - lr g; w += v."""

    def __init__(self, lr, mu):
        self.lr, self.mu, self.v = lr, mu, None

    def __call__(self, weights, grads, t):
        if self.v is None:
            self.v = [np.zeros_like(w) for w in weights]
        self.v = [self.mu * v - self.lr * g for v, g in zip(self.v, grads)]
        return [w + v for w, v in zip(weights, self.v)]


EPS = 2.0**-23
CASES = {
    "adam": (lambda: Lookahead(keras.optimizers.Adam(0.01, 0.875, 0.998046875, EPS)),
             lambda: NumpyLookahead(NumpyKerasAdam(0.01, 0.875, 0.998046875, EPS), 6, 0.5)),
    "sgd_momentum_k4": (
        lambda: Lookahead(keras.optimizers.SGD(0.05, momentum=0.875), sync_period=4,
                          slow_step_size=0.75),
        lambda: NumpyLookahead(NumpyMomentum(0.05, 0.875), 4, 0.75)),
    "yogi": (lambda: Lookahead(kto.yogi(0.02), sync_period=5, slow_step_size=0.3),
             lambda: NumpyLookahead(NumpyYogi(0.02), 5, 0.3)),
    "radam": (lambda: Lookahead(kto.radam(0.01), sync_period=7, slow_step_size=0.6),
              lambda: NumpyLookahead(NumpyRAdam(0.01), 7, 0.6)),
}
FAST = ("adam-float32",)
PARAMS = [pytest.param(n, d, id=f"{n}-{d}",
                       marks=() if f"{n}-{d}" in FAST else pytest.mark.slow)
          for n in CASES for d in ("float32", "float64")]


@pytest.mark.parametrize("name, dtype", PARAMS)
def test_matches_numpy_transcription(name, dtype):
    needs_x64(dtype)
    make, reference = CASES[name]
    run = keras_train(make, dtype)
    ours = run.weights
    assert_moved(ours, dtype)
    numpy = reference()
    assert rel_err(ours, numpy_train(numpy, "float64")) <= TOL[dtype]
    # The slow weights are optimizer variables, equal to the transcription's;
    # they equal the fast weights right after a synchronisation only.
    opt = run.optimizer
    slow_of = {id(v): s for v, s in zip(run.built_on, opt.slow_weights)}
    slow = [keras.ops.convert_to_numpy(slow_of[id(v)]) for v in run.variables]
    assert rel_err(slow, numpy.slow) <= TOL[dtype]
    if REC.STEPS % opt.sync_period:
        assert rel_err(slow, ours) > 1e-4
    else:
        assert rel_err(slow, ours) == 0.0
    assert int(keras.ops.convert_to_numpy(opt.iterations)) == REC.STEPS


@pytest.mark.parametrize("dtype", ["float32", pytest.param("float64", marks=pytest.mark.slow)])
def test_identities_with_the_inner_optimizer(dtype):
    needs_x64(dtype)
    tol = {"float32": 1e-6, "float64": 1e-14}[dtype]
    # slow_step_size = 1: the slow weights jump to the fast ones; the inner optimizer alone.
    alone = keras_train(lambda: kto.qhm(0.5, 0.99, 0.7), dtype, steps=40).weights
    wrapped = (keras_train(
        lambda: Lookahead(kto.qhm(0.5, 0.99, 0.7), sync_period=3, slow_step_size=1.0), dtype,
        steps=40)).weights
    assert rel_err(wrapped, alone) <= tol
    # sync_period = 1 around SGD(lr): phi + alpha (phi - lr g - phi) is SGD(alpha lr).
    sgd = keras_train(lambda: keras.optimizers.SGD(0.25 * 0.5), dtype, steps=40).weights
    wrapped = (keras_train(
        lambda: Lookahead(keras.optimizers.SGD(0.5), sync_period=1, slow_step_size=0.25), dtype,
        steps=40)).weights
    assert rel_err(wrapped, sgd) <= tol


def _data():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(64, 5)).astype("float32")
    return x, (x[:, :1] * x[:, 1:2] + np.cos(x[:, 2:3])).astype("float32")


def _model(optimizer):
    inputs = keras.Input((5,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    model.compile(optimizer=optimizer, loss="mse")
    return model


def test_save_load_and_resume_mid_period(tmp_path):
    """4 steps per epoch, k = 6: the file is written between two synchronisations."""
    x, y = _data()
    keras.utils.set_random_seed(1)
    model = _model(Lookahead(keras.optimizers.Adam(0.01), sync_period=6))
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    paths = [v.path for v in model.optimizer.variables]
    assert sum(p.endswith("_slow") for p in paths) == 4  # one per model variable
    assert any(p.startswith("adam/") for p in paths)  # the inner optimizer's state is saved too
    loaded = assert_model_round_trip(model, x[:8], tmp_path)
    assert isinstance(loaded.optimizer, Lookahead)
    assert isinstance(loaded.optimizer.inner_optimizer, keras.optimizers.Adam)
    assert_resume_matches(lambda: _model(Lookahead(kto.radam(0.01), sync_period=6)), x, y,
                          tmp_path, epochs_before=1, epochs_after=2)


def test_learning_rate_and_iterations_are_the_inner_optimizers():
    inner = keras.optimizers.SGD(0.1, momentum=0.5)
    opt = Lookahead(inner, sync_period=2)
    assert opt.learning_rate is inner.learning_rate
    opt.learning_rate = 0.03
    assert float(keras.ops.convert_to_numpy(inner.learning_rate)) == pytest.approx(0.03)
    x, y = _data()
    model = _model(opt)
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch: 0.01 / (epoch + 1))
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[schedule])
    assert float(keras.ops.convert_to_numpy(inner.learning_rate)) == pytest.approx(0.005)
    assert int(keras.ops.convert_to_numpy(opt.iterations)) == 8
    assert opt.iterations is inner.iterations


def test_config_round_trip():
    for opt in (Lookahead(kto.radam(0.01), 5, 0.3), Lookahead("adam"),
                Lookahead({"class_name": "SGD", "config": {"learning_rate": 0.1}}, 3)):
        clone = assert_config_round_trip(opt)
        assert type(clone.inner_optimizer) is type(opt.inner_optimizer)
        assert (clone.sync_period, clone.slow_step_size) == (opt.sync_period, opt.slow_step_size)


def test_mixed_precision_trains():
    x, y = _data()
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = _model(Lookahead(keras.optimizers.Adam(0.01), sync_period=3))
        losses = model.fit(x, y, batch_size=16, epochs=3, verbose=0).history["loss"]
    finally:
        keras.config.set_dtype_policy(policy)
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]


def _built():
    opt = keras.optimizers.Adam()
    opt.build([keras.Variable(np.zeros(2))])
    return opt


@pytest.mark.parametrize("call, match", [
    (lambda: Lookahead(keras.optimizers.Adam(), sync_period=0), "sync_period"),
    (lambda: Lookahead(keras.optimizers.Adam(), sync_period=2.5), "sync_period"),
    (lambda: Lookahead(keras.optimizers.Adam(), sync_period="6"), "sync_period"),
    (lambda: Lookahead(keras.optimizers.Adam(), slow_step_size=0.0), "slow_step_size"),
    (lambda: Lookahead(keras.optimizers.Adam(), slow_step_size=1.5), "slow_step_size"),
    (lambda: Lookahead(keras.optimizers.Adam(), slow_step_size=float("nan")), "slow_step_size"),
    (lambda: Lookahead(42), "optimizer"),
    (lambda: Lookahead("no_such_optimizer"), "optimizer"),
    (lambda: Lookahead(_built()), "optimizer"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=f"Argument `{match}`"):
        call()
