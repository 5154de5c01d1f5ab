"""ARMAFilter: design, NumPy analysis and the tensor step, against closed forms."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from harness import assert_config_round_trip

from kerastools.filters import ARMAFilter


def run_tensor(f, x, dtype="float32", compile_fn=None):
    """Runs ``f.step`` over the first axis of ``x`` on tensors."""
    def loop(xs):
        state = f.initial_state(xs.shape[1:], dtype)
        out = []
        for t in range(xs.shape[0]):
            y, state = f.step(xs[t], state)
            out.append(y)
        return keras.ops.stack(out)

    fn = compile_fn(loop) if compile_fn else loop
    return keras.ops.convert_to_numpy(fn(keras.ops.convert_to_tensor(x, dtype=dtype)))


def reference_lfilter(b, a, x):
    """Independent transcription of y[n] = sum b x[n-i] - sum a y[n-i] (scalar loop)."""
    y = []
    for n in range(len(x)):
        acc = sum(b[i] * x[n - i] for i in range(len(b)) if n - i >= 0)
        acc -= sum(a[i - 1] * y[n - i] for i in range(1, len(a) + 1) if n - i >= 0)
        y.append(acc)
    return np.array(y)


def test_ar1_designs():
    f = ARMAFilter.ar1(0.9)
    assert f.b == pytest.approx((0.1,)) and f.a == (-0.9,)
    assert f.dc_gain() == pytest.approx(1.0)
    g = ARMAFilter.ar1(0.9, gain="input")
    assert g.b == (1.0,) and g.dc_gain() == pytest.approx(10.0)
    assert ARMAFilter.ema(0.9) == ARMAFilter.ar1(0.9, gain="dc", transient_compensation=True,
                                                 name="EMA(0.9)")
    assert f.family() == "ar1_dc" and g.family() == "ar1_input"
    assert ARMAFilter.nesterov(0.9).family() == "nesterov"
    assert ARMAFilter.accumulator().family() == "accumulator"


def test_ar1_step_response_and_adam_bias_correction():
    p, n = 0.9, 50
    raw = ARMAFilter.ar1(p).step_response(n)
    np.testing.assert_allclose(raw, 1 - p ** np.arange(1, n + 1), rtol=1e-12)
    # Compensated step response is exactly one from the first step.
    np.testing.assert_allclose(ARMAFilter.ema(p).step_response(n), np.ones(n), rtol=1e-12)
    # Adam: m_hat = m / (1 - beta1**t) on a random gradient sequence.
    g = np.random.default_rng(0).normal(size=(n, 3))
    m, expected = np.zeros(3), []
    for t in range(1, n + 1):
        m = p * m + (1 - p) * g[t - 1]
        expected.append(m / (1 - p**t))
    np.testing.assert_allclose(ARMAFilter.ema(p).apply(g), np.array(expected), rtol=1e-10)


def test_general_compensation_divides_by_normalised_step_response():
    f = ARMAFilter([0.2, 0.1], [-0.5, 0.1], transient_compensation=True)
    n = 30
    x = np.random.default_rng(1).normal(size=n)
    raw = reference_lfilter(f.b, f.a, x)
    step = reference_lfilter(f.b, f.a, np.ones(n))
    dc = sum(f.b) / (1 + sum(f.a))
    np.testing.assert_allclose(f.apply(x), raw / (step / dc), rtol=1e-10)
    # A compensated filter passes a step at its DC gain from the first step.
    np.testing.assert_allclose(f.step_response(n), np.full(n, dc), rtol=1e-10)


def test_nesterov_is_bengio_form():
    p = 0.8
    g = np.random.default_rng(2).normal(size=40)
    v, expected = 0.0, []
    for gi in g:
        v = p * v + gi
        expected.append(p * v + gi)  # Keras' SGD(nesterov=True) direction
    np.testing.assert_allclose(ARMAFilter.nesterov(p).apply(g), expected, rtol=1e-10)


def test_accumulator_is_allowed_and_sums():
    f = ARMAFilter.accumulator()
    np.testing.assert_allclose(f.apply([1, 2, 3, 4]), [1, 3, 6, 10])
    assert f.dc_gain() == math.inf
    with pytest.raises(ValueError, match="transient_compensation"):
        ARMAFilter([1.0], [-1.0], transient_compensation=True)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_butterworth(order):
    nu_c = 0.1
    f = ARMAFilter.butterworth(order, nu_c)
    assert f.is_stable()
    assert f.dc_gain() == pytest.approx(1.0, rel=1e-12)
    assert abs(f.frequency_response(nu_c)) == pytest.approx(1 / math.sqrt(2), rel=1e-9)
    assert abs(f.frequency_response(0.5)) < 1e-9  # zeros at z = -1
    # Butterworth magnitude law through the bilinear warping.
    nu = np.linspace(0.01, 0.45, 20)
    w = np.tan(np.pi * nu) / np.tan(np.pi * nu_c)
    np.testing.assert_allclose(np.abs(f.frequency_response(nu)),
                               1 / np.sqrt(1 + w ** (2 * order)), rtol=1e-8)
    np.testing.assert_allclose(f.zeros(), -np.ones(order), atol=2e-3)


def test_butterworth_order1_closed_form():
    w = 2 * math.tan(math.pi * 0.2)
    f = ARMAFilter.butterworth(1, 0.2)
    k = w / (w + 2)
    np.testing.assert_allclose(f.b, [k, k], rtol=1e-12)
    np.testing.assert_allclose(f.a, [(w - 2) / (w + 2)], rtol=1e-12)


def test_impulse_and_frequency_response_agree():
    f = ARMAFilter.butterworth(3, 0.15)
    h = f.impulse_response(400)
    nu = np.array([0.0, 0.05, 0.2, 0.4])
    dtft = np.array([np.sum(h * np.exp(-2j * np.pi * v * np.arange(400))) for v in nu])
    np.testing.assert_allclose(f.frequency_response(nu), dtft, atol=1e-10)


def test_apply_axis():
    f = ARMAFilter.ar1(0.7, transient_compensation=True)
    x = np.random.default_rng(3).normal(size=(4, 25))
    np.testing.assert_allclose(f.apply(x, axis=1), f.apply(x.T, axis=0).T)


FILTERS = {
    "ema": ARMAFilter.ema(0.9),
    "ar1_input": ARMAFilter.ar1(0.9, gain="input"),
    "nesterov_comp": ARMAFilter.nesterov(0.9, transient_compensation=True),
    "butter2_comp": ARMAFilter.butterworth(2, 0.1, transient_compensation=True),
    "butter4": ARMAFilter.butterworth(4, 0.2),
    "fir": ARMAFilter([0.5, 0.3, 0.2]),
    "accumulator": ARMAFilter.accumulator(),
}


@pytest.mark.parametrize("name", list(FILTERS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tensor_step_matches_numpy(name, dtype):
    f = FILTERS[name]
    x = np.random.default_rng(4).normal(size=(40, 3, 2))
    expected = f.apply(x)
    got = run_tensor(f, x, dtype)
    tol = 2e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * np.abs(expected).max())


@pytest.mark.tf_only
@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="compiles with tf.function(jit_compile=True); on JAX every train "
                           "step is jax.jit-compiled already (optimizer and layer tests)")
def test_tensor_step_under_xla():
    f = FILTERS["butter2_comp"]
    x = np.random.default_rng(5).normal(size=(20, 4))
    got = run_tensor(f, x, compile_fn=lambda fn: tf.function(fn, jit_compile=True))
    np.testing.assert_allclose(got, f.apply(x), rtol=2e-5, atol=1e-5)


def test_state_layout_and_time_varying_coefficients():
    f = ARMAFilter.ema(0.9)
    state = f.initial_state((2,), "float32")
    assert len(state) == 2 and tuple(state[1].shape) == ()
    # A time-varying pole: step with overriding coefficients (tensors).
    poles = [0.5, 0.7, 0.9]
    x = np.array([1.0, 2.0, 3.0], dtype="float32")
    y_ref, s_ref, m = [], 0.0, 0.0
    for p, xi in zip(poles, x):
        m = p * m + (1 - p) * xi
        s_ref = p * s_ref + (1 - p)
        y_ref.append(m / s_ref)
    out = []
    for p, xi in zip(poles, x):
        pt = keras.ops.convert_to_tensor(p, "float32")
        b, a = f.with_pole(pt)
        y, state = f.step(keras.ops.full((2,), xi), state, b=b, a=a)
        out.append(keras.ops.convert_to_numpy(y)[0])
    np.testing.assert_allclose(out, y_ref, rtol=1e-6)


def test_initial_output():
    f = ARMAFilter.accumulator()
    state = f.initial_state((2,), "float32", initial_output=0.1)
    y, _ = f.step(keras.ops.ones((2,)), state)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(y), [1.1, 1.1], rtol=1e-6)
    with pytest.raises(ValueError, match="initial_output"):
        ARMAFilter.butterworth(2, 0.1).initial_state((2,), initial_output=1.0)


@pytest.mark.parametrize("kwargs, match", [
    ({"b": []}, "Argument `b` must hold at least one"),
    ({"b": [1.0, float("nan")]}, r"Argument `b` must be .*nan"),
    ({"b": "x"}, "Argument `b`"),
    ({"b": [1.0], "a": [-1.5]}, r"Argument `a` must give a stable filter.*a=\[-1.5\]"),
    ({"b": [1.0], "a": [1.0]}, r"Argument `a` must give a stable filter"),
    ({"b": [1.0], "a": [-2.0, 1.0]}, r"Argument `a` must give a stable filter"),
    ({"b": [1.0], "a": [float("inf")]}, r"Argument `a` must be"),
    ({"b": [1.0], "transient_compensation": "yes"}, "transient_compensation"),
    ({"b": [1.0, -1.0], "transient_compensation": True}, "transient_compensation"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ARMAFilter(**kwargs)


@pytest.mark.parametrize("call, match", [
    (lambda: ARMAFilter.ar1(1.0), r"Argument `pole` must be in \[0.0, 1.0\). Received: pole=1.0"),
    (lambda: ARMAFilter.ar1(-0.1), "pole=-0.1"),
    (lambda: ARMAFilter.ar1(float("nan")), "pole=nan"),
    (lambda: ARMAFilter.ar1(0.5, gain="unit"), "gain='unit'"),
    (lambda: ARMAFilter.nesterov(1.2), "momentum=1.2"),
    (lambda: ARMAFilter.butterworth(5, 0.1), "order=5"),
    (lambda: ARMAFilter.butterworth(2, 0.5), "cutoff=0.5"),
    (lambda: ARMAFilter.butterworth(2, 0.0), "cutoff=0.0"),
    (lambda: ARMAFilter.butterworth(2, 0.1).with_pole(0.5), "pole"),
])
def test_bad_design_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_config_round_trip():
    for f in FILTERS.values():
        clone = assert_config_round_trip(f)
        assert clone == f


def test_apply_matches_the_written_out_recursion():
    # apply() uses scipy.signal.lfilter when present; the loop is the reference.
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 4))
    for f in (ARMAFilter.butterworth(3, 0.07), ARMAFilter.nesterov(0.9),
              ARMAFilter.ema(0.98), ARMAFilter([0.2, 0.3, -0.1], [-0.5, 0.06])):
        np.testing.assert_allclose(f.apply(x, compensate=False), f._apply_loop(x),
                                   rtol=1e-10, atol=1e-12)


def test_butterworth_tiny_cutoff_is_rejected():
    with pytest.raises(ValueError, match="cutoff=1e-12"):
        ARMAFilter.butterworth(1, 1e-12)


@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="the in-place recursion is for eager PyTorch tensors (the optimizers' "
                           "hot path there); elsewhere the stages trace `recursion`")
@pytest.mark.parametrize("filt", [
    ARMAFilter.butterworth(2, 0.05), ARMAFilter.butterworth(3, 0.2),
    ARMAFilter([0.5, 0.0, 0.25], [-0.3, 0.1]),  # a zero feed-forward tap
    ARMAFilter([0.5, 0.2], [-0.3, 0.0, 0.1]),   # the last state fed back only
    ARMAFilter([0.5, 0.2, 0.1], [0.0, 0.0]),    # FIR with a zero pole polynomial
    ARMAFilter.ema(0.9), ARMAFilter.nesterov(0.9), ARMAFilter([2.0]),
], ids=lambda f: repr(f.b) + repr(f.a))
@pytest.mark.parametrize("tensor_b", [False, True])
def test_recursion_in_place_equals_recursion(filt, tensor_b):
    import torch

    rng = np.random.default_rng(0)
    xs = [torch.tensor(rng.normal(size=(7, 3)), dtype=torch.float64) for _ in range(12)]
    b = tuple(torch.tensor(c, dtype=torch.float64) if tensor_b else c for c in filt.b)
    order = filt.order
    ref = [torch.zeros(7, 3, dtype=torch.float64) for _ in range(order)]
    state = [torch.zeros(7, 3, dtype=torch.float64) for _ in range(order)]
    for incremental in ((False, True) if filt.family() == "ar1_dc" else (False,)):
        for x in xs:
            y_ref, ref = filt.recursion(x, tuple(ref), b, incremental=incremental)
            y = filt.recursion_in_place(x, state, b, incremental=incremental)
            # add_(x, alpha=c) may round c * x + s once where recursion's x * c + s rounds twice
            torch.testing.assert_close(y, y_ref, rtol=1e-12, atol=1e-13)
            for s, r in zip(state, ref):
                torch.testing.assert_close(s, r, rtol=1e-12, atol=1e-13)
