"""The optimizers from the papers against independent references.

RAdam against PyTorch's ``torch.optim.RAdam`` (recorded by
``tests/scripts/record_torch_optimizers.py`` into
``tests/test_optimizers_torch_reference.json``; re-recorded live on the PyTorch
backend) and against a NumPy transcription of Liu et al. (2020); AdaBelief,
Yogi, QHM, QHAdam and AggMo against NumPy transcriptions of their papers,
written here. Every case trains the same least-squares problem (four variables
of shapes (6, 2, 2), (2, 2), (6, 4) and (4,)) for 200 steps with
``model.fit``, in float32 (norm-wise relative error <= 1e-5) and float64
(<= 1e-12).
"""

import importlib.util
import json
import math
import os
import pathlib

import keras
import numpy as np
import pytest
from harness import assert_config_round_trip
from harness import assert_model_round_trip
from harness import assert_resume_matches

from kerastools import optimizers as kto

HERE = pathlib.Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location(
    "record_torch_optimizers", HERE / "scripts" / "record_torch_optimizers.py")
REC = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(REC)
REFERENCE = json.loads((HERE / "test_optimizers_torch_reference.json").read_text())

X64 = keras.backend.backend() != "jax" or os.environ.get("JAX_ENABLE_X64", "") not in ("", "0")
TOL = {"float32": 1e-5, "float64": 1e-12}


def needs_x64(dtype):
    if dtype == "float64" and not X64:
        pytest.skip("float64 needs JAX_ENABLE_X64=1 on JAX")


# ----------------------------------------------------------------- the problem
def linear_model(dtype, weights=None):
    """The least-squares model of ``REC.problem``: EinsumDense + Dense, summed."""
    inputs = keras.Input((REC.N_IN,), dtype=dtype)
    a = keras.layers.EinsumDense("ab,bcd->acd", output_shape=(2, 2), bias_axes="cd",
                                 dtype=dtype, name="einsum")(inputs)
    d = keras.layers.Dense(4, dtype=dtype, name="dense")(inputs)
    d = keras.layers.Reshape((2, 2), dtype=dtype)(d)
    model = keras.Model(inputs, keras.layers.Add(dtype=dtype)([a, d]))
    if weights is not None:
        model.get_layer("einsum").set_weights(weights[:2])
        model.get_layer("dense").set_weights(weights[2:])
    return model


class Trained:
    """What a training run leaves: the weights and variables (in ``REC.NAMES`` order), the
    optimizer, and the variables in the order the optimizer was built on."""

    def __init__(self, variables, optimizer, built_on):
        self.variables = variables
        self.optimizer = optimizer
        self.built_on = list(built_on)
        self.weights = [keras.ops.convert_to_numpy(v) for v in variables]


# Keras' PyTorch trainer computes the gradients of a float64 model to float32
# precision (Keras SGD on this problem: 5.5e-9 from NumPy after 200 steps);
# there, float64 runs apply NumPy's exact gradients with ``apply_gradients``.
FIT_IN = {"float32": True, "float64": keras.backend.backend() != "torch"}


def keras_train(make_optimizer, dtype, steps=REC.STEPS):
    """Trains the problem's model with ``make_optimizer()`` for ``steps`` batches.

    Through ``model.fit`` (the compiled train step), or, for float64 on
    PyTorch, through ``apply_gradients`` with the NumPy gradients. ``floatx``
    and the dtype policy are the run's dtype while the optimizer is made and
    trains (a Keras optimizer keeps its learning rate in a ``floatx`` variable).
    """
    x, y, w0 = REC.problem(dtype)
    n = steps * REC.BATCH
    floatx, policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)
    try:
        if FIT_IN[dtype]:
            model = linear_model(dtype, w0)
            model.compile(optimizer=make_optimizer(), loss="mse")
            model.fit(x[:n], y[:n], batch_size=REC.BATCH, epochs=1, shuffle=False, verbose=0)
            variables = [v for name in ("einsum", "dense") for v in model.get_layer(name).weights]
            return Trained(variables, model.optimizer, model.trainable_variables)
        variables = [keras.Variable(w, dtype=dtype, name=name) for w, name in zip(w0, REC.NAMES)]
        optimizer = make_optimizer()
        for t in range(steps):
            batch = slice(t * REC.BATCH, (t + 1) * REC.BATCH)
            weights = [keras.ops.convert_to_numpy(v) for v in variables]
            grads = REC.numpy_gradients(weights, x[batch], y[batch])
            optimizer.apply_gradients(
                [(keras.ops.convert_to_tensor(g), v) for g, v in zip(grads, variables)])
        return Trained(variables, optimizer, variables)
    finally:
        keras.config.set_floatx(floatx)
        keras.config.set_dtype_policy(policy)


def rel_err(ours, reference):
    """Largest norm-wise relative error over the variables."""
    pairs = [(np.asarray(a, "float64").ravel(), np.asarray(b, "float64").ravel())
             for a, b in zip(ours, reference)]
    assert len(pairs) == len(REC.NAMES)
    return max(float(np.linalg.norm(a - b) / np.linalg.norm(b)) for a, b in pairs)


def assert_moved(weights, dtype):
    """The optimizer moved the weights far from the start: the comparison is not trivial."""
    w0 = REC.problem(dtype)[2]
    assert rel_err(weights, w0) > 0.05


# ------------------------------------------------- NumPy transcriptions (papers)
class NumpyRAdam:
    """Liu et al. (2020), Algorithm 2, with PyTorch's threshold (rho_t > 5) and epsilon."""

    def __init__(self, lr, beta_1=0.9, beta_2=0.999, eps=1e-7, threshold=5.0, weight_decay=0.0):
        self.lr, self.b1, self.b2, self.eps = lr, beta_1, beta_2, eps
        self.threshold, self.wd = threshold, weight_decay
        self.m = self.v = None

    def __call__(self, weights, grads, t):
        if self.m is None:
            self.m = [np.zeros_like(w) for w in weights]
            self.v = [np.zeros_like(w) for w in weights]
        b1, b2 = self.b1, self.b2
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
        out = []
        for i, (w, g) in enumerate(zip(weights, grads)):
            w = w * (1 - self.lr * self.wd)
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
            m_hat = self.m[i] / (1 - b1**t)
            if rho_t > self.threshold:
                r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                              / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                step = r * m_hat * math.sqrt(1 - b2**t) / (np.sqrt(self.v[i]) + self.eps)
            else:
                step = m_hat
            out.append(w - self.lr * step)
        return out


class NumpyAdaBelief:
    """Zhuang et al. (2020), Algorithm 2, epsilon added to s_t (the official implementation)."""

    def __init__(self, lr, beta_1=0.9, beta_2=0.999, eps=1e-16):
        self.lr, self.b1, self.b2, self.eps = lr, beta_1, beta_2, eps
        self.m = self.s = None

    def __call__(self, weights, grads, t):
        if self.m is None:
            self.m = [np.zeros_like(w) for w in weights]
            self.s = [np.zeros_like(w) for w in weights]
        b1, b2, eps = self.b1, self.b2, self.eps
        out = []
        for i, (w, g) in enumerate(zip(weights, grads)):
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.s[i] = b2 * self.s[i] + (1 - b2) * (g - self.m[i]) ** 2 + eps
            m_hat = self.m[i] / (1 - b1**t)
            s_hat = self.s[i] / (1 - b2**t)
            out.append(w - self.lr * m_hat / (np.sqrt(s_hat) + eps))
        return out


class NumpyYogi:
    """Zaheer et al. (2018), Algorithm 2, with TensorFlow Addons' bias correction and v_0."""

    def __init__(self, lr, beta_1=0.9, beta_2=0.999, eps=1e-3, v0=1e-6):
        self.lr, self.b1, self.b2, self.eps, self.v0 = lr, beta_1, beta_2, eps, v0
        self.m = self.v = None

    def __call__(self, weights, grads, t):
        if self.m is None:
            self.m = [np.zeros_like(w) for w in weights]
            self.v = [np.full_like(w, self.v0) for w in weights]
        b1, b2 = self.b1, self.b2
        out = []
        for i, (w, g) in enumerate(zip(weights, grads)):
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = self.v[i] - (1 - b2) * np.sign(self.v[i] - g * g) * g * g
            lr_t = self.lr * math.sqrt(1 - b2**t) / (1 - b1**t)
            out.append(w - lr_t * self.m[i] / (np.sqrt(self.v[i]) + self.eps))
        return out


class NumpyQHAdam:
    """Ma & Yarats (2019), QHAdam (section 4); QHM is ``adam=False``."""

    def __init__(self, lr, beta_1, nu_1, beta_2=0.999, nu_2=1.0, eps=1e-8, adam=True):
        self.lr, self.b1, self.nu1, self.b2, self.nu2 = lr, beta_1, nu_1, beta_2, nu_2
        self.eps, self.adam = eps, adam
        self.g = self.s = None

    def __call__(self, weights, grads, t):
        if self.g is None:
            self.g = [np.zeros_like(w) for w in weights]
            self.s = [np.zeros_like(w) for w in weights]
        b1, b2, nu1, nu2 = self.b1, self.b2, self.nu1, self.nu2
        out = []
        for i, (w, grad) in enumerate(zip(weights, grads)):
            self.g[i] = b1 * self.g[i] + (1 - b1) * grad
            if not self.adam:  # QHM: theta -= lr [(1 - nu) grad + nu g]
                out.append(w - self.lr * ((1 - nu1) * grad + nu1 * self.g[i]))
                continue
            self.s[i] = b2 * self.s[i] + (1 - b2) * grad * grad
            g_hat = self.g[i] / (1 - b1**t)
            s_hat = self.s[i] / (1 - b2**t)
            num = (1 - nu1) * grad + nu1 * g_hat
            den = np.sqrt((1 - nu2) * grad * grad + nu2 * s_hat) + self.eps
            out.append(w - self.lr * num / den)
        return out


class NumpyAggMo:
    """Lucas, Sun, Zemel & Grosse (2019), Algorithm 1: K velocities, their mean applied."""

    def __init__(self, lr, betas=(0.0, 0.9, 0.99)):
        self.lr, self.betas = lr, betas
        self.v = None

    def __call__(self, weights, grads, t):
        if self.v is None:
            self.v = [[np.zeros_like(w) for w in weights] for _ in self.betas]
        out = []
        for i, (w, g) in enumerate(zip(weights, grads)):
            for k, beta in enumerate(self.betas):
                self.v[k][i] = beta * self.v[k][i] - g
            out.append(w + self.lr / len(self.betas) * sum(v[i] for v in self.v))
        return out


def numpy_train(update, dtype):
    return REC.numpy_train(update, dtype)


# ------------------------------------------------------------------- the cases
# name -> (kerastools optimizer factory, NumPy reference factory, torch case or None)
CASES = {
    "radam": (lambda: kto.radam(0.01, 0.9, 0.999, 1e-7),
              lambda: NumpyRAdam(0.01, 0.9, 0.999, 1e-7), "radam"),
    "radam_weight_decay": (
        lambda: kto.radam(0.015625, 0.8, 0.99, 1e-6, weight_decay=0.0078125),
        lambda: NumpyRAdam(0.015625, 0.8, 0.99, 1e-6, weight_decay=0.0078125), "radam_wd"),
    "radam_never_rectified": (lambda: kto.radam(0.003, 0.9, 0.6, 1e-7),
                              lambda: NumpyRAdam(0.003, 0.9, 0.6, 1e-7),
                              "radam_never_rectified"),
    "radam_threshold_6": (lambda: kto.radam(0.01, sma_threshold=6.0),
                          lambda: NumpyRAdam(0.01, threshold=6.0), None),
    "adabelief": (lambda: kto.adabelief(0.01), lambda: NumpyAdaBelief(0.01), None),
    "adabelief_eps": (lambda: kto.adabelief(0.003, 0.8, 0.99, epsilon=1e-8),
                      lambda: NumpyAdaBelief(0.003, 0.8, 0.99, 1e-8), None),
    "yogi": (lambda: kto.yogi(0.02), lambda: NumpyYogi(0.02), None),
    "yogi_args": (lambda: kto.yogi(0.01, 0.5, 0.99, 1e-4, initial_accumulator_value=0.1),
                  lambda: NumpyYogi(0.01, 0.5, 0.99, 1e-4, 0.1), None),
    "qhm": (lambda: kto.qhm(0.5, 0.99, 0.7), lambda: NumpyQHAdam(0.5, 0.99, 0.7, adam=False),
            None),
    "qhadam": (lambda: kto.qhadam(0.01, 0.9, 0.999, 0.7, 0.9),
               lambda: NumpyQHAdam(0.01, 0.9, 0.7, 0.999, 0.9), None),
    "qhadam_defaults": (lambda: kto.qhadam(0.01), lambda: NumpyQHAdam(0.01, 0.995, 0.7), None),
    "aggmo": (lambda: kto.aggmo(0.01), lambda: NumpyAggMo(0.01), None),
    "aggmo_two": (lambda: kto.aggmo(0.02, betas=(0.5, 0.95)),
                  lambda: NumpyAggMo(0.02, (0.5, 0.95)), None),
}
MAIN = ("radam", "radam_weight_decay", "adabelief", "yogi", "qhm", "qhadam", "aggmo")
FLOAT64_FAST = ("radam",)
PARAMS = [pytest.param(n, d, id=f"{n}-{d}", marks=() if (
    n in MAIN and (d == "float32" or n in FLOAT64_FAST)) else pytest.mark.slow)
    for n in CASES for d in ("float32", "float64")]


@pytest.mark.parametrize("name, dtype", PARAMS)
def test_matches_reference(name, dtype):
    needs_x64(dtype)
    make, reference, torch_case = CASES[name]
    truth = numpy_train(reference(), "float64")
    ours = keras_train(make, dtype).weights
    assert_moved(ours, dtype)
    assert rel_err(ours, truth) <= TOL[dtype]
    if torch_case is not None:
        recorded = [np.array(REFERENCE["data"][torch_case][n]) for n in REC.NAMES]
        assert rel_err(ours, recorded) <= TOL[dtype]


def test_numpy_radam_equals_torch_recording():
    """The NumPy transcription of Liu et al. equals PyTorch's RAdam (the JSON), so both references agree."""
    assert REFERENCE["meta"]["problem_checksum"] == pytest.approx(REC.checksum(), rel=1e-15)
    for case, (_, _, kwargs) in REC.CASES.items():
        recorded = [np.array(REFERENCE["data"][case][n]) for n in REC.NAMES]
        numpy = NumpyRAdam(kwargs["lr"], *kwargs["betas"], kwargs["eps"],
                           weight_decay=kwargs.get("weight_decay", 0.0))
        got = numpy_train(numpy, "float64")
        assert rel_err(got, recorded) <= 1e-14, case


@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="re-recorded live where torch is already imported (PyTorch backend)")
def test_torch_recording_is_current():
    new = json.loads(json.dumps(REC.build()))
    for case, data in REFERENCE["data"].items():
        for n in REC.NAMES:
            np.testing.assert_allclose(new["data"][case][n], data[n], rtol=1e-13, atol=1e-15)


# ----------------------------------------------------- rectification, corrections
def test_sma_length_and_bias_correction_are_accurate_in_float32():
    from kerastools.optimizers.paper_stages import bias_correction
    from kerastools.optimizers.paper_stages import sma_length

    t = np.arange(1, 3001, dtype="float64")
    tl = t.astype(np.longdouble)  # the direct formula, in extended precision where there is one
    for beta in (0.999, 0.99, 0.9999, 0.6):
        b = np.longdouble(beta)
        rho_inf = 2 / (1 - b) - 1
        want = (rho_inf - 2 * tl * b**tl / (1 - b**tl)).astype("float64")
        for dtype, tol in (("float32", 2e-6), ("float64", 1e-12)):
            if dtype == "float64" and not X64:
                continue
            tt = keras.ops.convert_to_tensor(t, dtype=dtype)
            got = keras.ops.convert_to_numpy(sma_length(beta, tt, dtype))
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol * 5)
            corr = keras.ops.convert_to_numpy(bias_correction(beta, tt, dtype))
            np.testing.assert_allclose(corr, 1 - beta**t, rtol=tol)
    # The first rectified step of beta_2 = 0.999 is t = 6 (rho_5 = 4.996, rho_6 = 5.994).
    rho = keras.ops.convert_to_numpy(sma_length(0.999, keras.ops.arange(1, 8, dtype="float32")))
    assert list(rho > 5.0) == [False] * 5 + [True] * 2
    assert rho[0] == pytest.approx(1.0, abs=1e-6)


def test_rectification_switches_on_at_the_threshold():
    """Steps 1-5 of RAdam are momentum SGD with the compensated m; step 6 is rectified."""
    var = keras.Variable(np.zeros(3), dtype="float32")
    opt = kto.radam(0.1, beta_1=0.9, beta_2=0.999, epsilon=0.0)
    g = np.array([1.0, -2.0, 0.5], "float32")
    moves = []
    for _ in range(7):
        before = keras.ops.convert_to_numpy(var).copy()
        opt.apply_gradients([(keras.ops.convert_to_tensor(g), var)])
        moves.append(keras.ops.convert_to_numpy(var) - before)
    # (atol: a move is the difference of two float32 weights of about 1.)
    # Constant gradient: the compensated m is g, so SGD steps are -lr g exactly ...
    for k in range(5):
        np.testing.assert_allclose(moves[k], -0.1 * g, rtol=1e-6, atol=3e-7)
    # ... then -lr r_t sign(g) (m^ / sqrt(v^) = sign(g) for a constant gradient).
    for t in (6, 7):
        rho_inf = 2 / 0.001 - 1
        rho = rho_inf - 2 * t * 0.999**t / (1 - 0.999**t)
        r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        np.testing.assert_allclose(moves[t - 1], -0.1 * r * np.sign(g), rtol=1e-5, atol=3e-7)


# ------------------------------------------------ config, save/load, resume, fit
RECIPES = {
    "radam": lambda: kto.radam(0.01, sma_threshold=4.5, weight_decay=0.001),
    "adabelief": lambda: kto.adabelief(0.01, 0.8, 0.99, 1e-12),
    "yogi": lambda: kto.yogi(0.02, initial_accumulator_value=1e-4, clipnorm=1.0),
    "qhm": lambda: kto.qhm(0.1, 0.9, 0.6),
    "qhadam": lambda: kto.qhadam(0.003, nu_2=0.8),
    "aggmo": lambda: kto.aggmo(0.01, betas=(0.0, 0.5, 0.9)),
}


def _mlp_data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 5)).astype("float32")
    y = (np.sin(x[:, :1]) + 0.5 * x[:, 1:2]).astype("float32")
    return x, y


def _mlp(optimizer):
    inputs = keras.Input((5,))
    hidden = keras.layers.Dense(8, activation="tanh")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    model.compile(optimizer=optimizer, loss="mse")
    return model


@pytest.mark.parametrize("name", list(RECIPES))
def test_config_round_trip(name):
    opt = RECIPES[name]()
    clone = assert_config_round_trip(opt)
    assert [type(s) for s in clone.stages] == [type(s) for s in opt.stages]
    for stage in opt.stages:
        assert_config_round_trip(stage)


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=() if n in ("radam", "aggmo") else pytest.mark.slow) for n in RECIPES])
def test_fit_save_load_and_resume(name, tmp_path):
    x, y = _mlp_data()
    keras.utils.set_random_seed(1)
    model = _mlp(RECIPES[name]())
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert_model_round_trip(model, x[:8], tmp_path)
    assert_resume_matches(lambda: _mlp(RECIPES[name]()), x, y, tmp_path, epochs_before=1,
                          epochs_after=1)


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=() if n == "yogi" else pytest.mark.slow) for n in RECIPES])
def test_sparse_gradients_of_an_embedding(name):
    """An Embedding's sparse gradient (TensorFlow's IndexedSlices) trains like a dense one."""
    ids = np.array([[0, 1], [2, 3], [1, 4], [0, 4]] * 4)
    y = np.linspace(-1, 1, len(ids)).reshape(-1, 1).astype("float32")
    for make in (RECIPES[name],):
        keras.utils.set_random_seed(2)
        model = keras.Sequential([keras.Input((2,), dtype="int32"), keras.layers.Embedding(6, 3),
                                  keras.layers.Flatten(), keras.layers.Dense(1)])
        model.compile(optimizer=make(), loss="mse")
        losses = model.fit(ids, y, batch_size=4, epochs=3, verbose=0).history["loss"]
        assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]


@pytest.mark.parametrize("call, match", [
    (lambda: kto.radam(beta_1=1.0), "beta"),
    (lambda: kto.radam(beta_2=0.0), "beta_2"),
    (lambda: kto.radam(sma_threshold=3.0), "sma_threshold"),
    (lambda: kto.radam(epsilon=-1.0), "epsilon"),
    (lambda: kto.radam(learning_rate=-0.1), "learning_rate"),
    (lambda: kto.adabelief(beta_2=1.5), "beta_2"),
    (lambda: kto.adabelief(epsilon=float("nan")), "epsilon"),
    (lambda: kto.yogi(initial_accumulator_value=-1.0), "initial_value"),
    (lambda: kto.yogi(beta_1=lambda t: 0.9), "beta"),
    (lambda: kto.qhm(nu=1.5), "nu"),
    (lambda: kto.qhm(momentum=-0.1), "beta"),
    (lambda: kto.qhadam(nu_2=-0.5), "nu"),
    (lambda: kto.aggmo(betas=()), "betas"),
    (lambda: kto.aggmo(betas=0.9), "betas"),
    (lambda: kto.aggmo(betas=(0.9, 1.0)), "betas"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=f"Argument `{match}"):
        call()


# ------------------------------------------------------------ frequency responses
def test_frequency_responses_of_the_new_filters(tmp_path):
    from kerastools.filters import ARMAFilter
    from kerastools.plotting import gradient_filter_of
    from kerastools.plotting import plot_frequency_response

    nu_grid = np.linspace(0.0, 0.5, 101)
    z1 = np.exp(-2j * np.pi * nu_grid)
    qh = kto.qhm(momentum=0.9, nu=0.7).stages[0].as_filter()
    np.testing.assert_allclose(qh.frequency_response(nu_grid),
                               0.3 + 0.7 * 0.1 / (1 - 0.9 * z1), rtol=1e-12)
    assert qh.dc_gain() == pytest.approx(1.0)
    agg = kto.aggmo(betas=(0.0, 0.9, 0.99)).stages[0].as_filter()
    want = (1 + 1 / (1 - 0.9 * z1) + 1 / (1 - 0.99 * z1)) / 3
    np.testing.assert_allclose(agg.frequency_response(nu_grid), want, rtol=1e-10)
    assert agg.dc_gain() == pytest.approx((1 + 10 + 100) / 3)
    # Its step response is the optimizer's: the mean of the three velocities for g = 1.
    n = np.arange(40)
    np.testing.assert_allclose(agg.step_response(40),
                               (1 + (1 - 0.9 ** (n + 1)) / 0.1 + (1 - 0.99 ** (n + 1)) / 0.01) / 3,
                               rtol=1e-10)
    for make in (kto.radam, kto.yogi, kto.adabelief):
        f = [s.as_filter() for s in make().stages if s.as_filter() is not None][-1]
        ema = ARMAFilter.ema(0.9)
        assert (f.b, f.a, f.transient_compensation) == (ema.b, ema.a, True)
    # plot_frequency_response takes the optimizers themselves (gradient_filter_of).
    for make in (kto.radam, kto.yogi, kto.adabelief):
        f = gradient_filter_of(make(beta_1=0.8))
        assert (f.b, f.a, f.transient_compensation) == ((0.19999999999999996,), (-0.8,), True)
    assert gradient_filter_of(kto.qhm(momentum=0.9, nu=0.7)) == qh
    assert gradient_filter_of(kto.aggmo()) == agg
    fig = plot_frequency_response({"QHM (0.9, nu 0.7)": kto.qhm(momentum=0.9, nu=0.7),
                                   "AggMo (0, 0.9, 0.99)": kto.aggmo(), "QHAdam": kto.qhadam(),
                                   "RAdam": kto.radam(), "AdaBelief": kto.adabelief(),
                                   "Yogi": kto.yogi()}, n_freq=101, step_length=40)
    mag, step = fig.axes
    np.testing.assert_allclose(mag.lines[1].get_data()[1], 20 * np.log10(np.abs(want)), atol=1e-9)
    assert len(mag.lines) == 6
    np.testing.assert_allclose(mag.lines[0].get_data()[1],
                               20 * np.log10(np.abs(0.3 + 0.7 * 0.1 / (1 - 0.9 * z1))), atol=1e-9)
    for line in step.lines[2:]:  # compensated: QHAdam, RAdam, AdaBelief, Yogi
        np.testing.assert_allclose(line.get_data()[1], 1.0, rtol=1e-12)
