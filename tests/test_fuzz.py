"""Property-based tests of every schedule and filter constructor (hypothesis).

Schedules: arguments are drawn from their *valid* ranges (extremes included:
rates from 0 to 1e30, step sizes from 1 to 1e6, fractional ones, t_mul just
above 1, tiny and huge div factors), so every draw reaches the property checks;
each test counts the draws that did and asserts that all ``CASES`` did. An
accepted schedule gives finite learning rates within its declared bounds at
every step from 0 to 10^5 (evaluated as one vector of steps, plus the points
just past 10^5; on JAX and PyTorch every step to 10^4, then every 97th).
Rejections are tested separately: each invalid value of each argument raises a
``ValueError`` whose message names the argument and the value received (Keras' form).

Filters: arguments are drawn from ranges that include invalid values; an
accepted filter is stable (or is the accumulator), and its step response over
2,000 steps is finite and, compensated, equals the DC gain at every step.

``derandomize=True`` makes the cases the same on every run; each test function
tries ``CASES`` draws.
"""

import inspect
import re

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from kerastools import filters
from kerastools import schedules

if keras.backend.backend() == "tensorflow":
    STEPS = np.concatenate([np.arange(0, 100_001), [100_001, 123_456, 10**6]]).astype("float64")
else:  # JAX and PyTorch run the same ops 10x slower on such vectors: every step to 10^4,
    # then every 97th to 10^5 (cycle edges fall between them as often as on them).
    STEPS = np.concatenate([np.arange(0, 10_001), np.arange(10_001, 100_001, 97),
                            [100_000, 100_001, 123_456, 10**6]]).astype("float64")
CASES = 60  # per test function below
FUZZ = settings(max_examples=CASES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])

rates = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1e-30, 1e-6, 0.1, 1e30]))
steps_ = st.one_of(st.integers(1, 5000), st.floats(1.0, 1e6), st.sampled_from([1, 2, 7.5, 100_000]))
positive_ints = st.one_of(st.integers(-5, 5000), st.sampled_from([1, 2, 100_000]))
unit_open = st.floats(1e-3, 1 - 1e-3)


def _check_rejection(error, fn):
    """The message names an argument of ``fn`` and the value received."""
    message = str(error)
    names = re.findall(r"`([A-Za-z_][A-Za-z_0-9\[\]]*)`", message)
    params = set(inspect.signature(fn).parameters)
    assert names and any(n.split("[")[0] in params for n in names), message
    assert "Received" in message, message


def _construct(fn, **kwargs):
    try:
        return fn(**kwargs)
    except ValueError as e:
        _check_rejection(e, fn)
        return None


def _lrs(schedule):
    lr = np.asarray(schedule(STEPS.astype("float32")), dtype="float64")
    assert lr.shape == STEPS.shape
    assert np.all(np.isfinite(lr)), lr[~np.isfinite(lr)][:5]
    return lr


def _within(lr, low, high, rtol=1e-5):
    """Within [low, high] up to float32 rounding relative to the largest bound."""
    tol = rtol * max(abs(low), abs(high)) + 1e-12
    assert lr.min() >= low - tol, (lr.min(), low)
    assert lr.max() <= high + tol, (lr.max(), high)


def _run(prop, strategy_kwargs):
    """Runs ``prop`` on CASES draws and returns how many reached its checks."""
    reached = []

    @FUZZ
    @given(**strategy_kwargs)
    def run(**kwargs):
        prop(**kwargs)
        reached.append(1)

    run()
    return len(reached)


def test_cyclical():
    def prop(low, span, step_size, down, mode, gamma):
        high = min(low + span, 3e38)
        s = schedules.CyclicalLearningRate(low, high, step_size, mode=mode, gamma=gamma,
                                           step_size_down=down)
        _within(_lrs(s), low, high)

    n = _run(prop, dict(low=rates, span=rates, step_size=steps_, down=st.none() | steps_,
                        mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
                        gamma=st.one_of(st.floats(1e-6, 1.0), st.sampled_from([1e-300, 0.999, 1.0]))))
    assert n == CASES


def test_sgdr():
    def prop(init, first, t_mul, m_mul, alpha, warmup, warmup_mode):
        if warmup_mode == "every_restart":
            warmup = min(warmup, int(np.ceil(first)) - 1)
        s = schedules.SGDR(init, first, t_mul=t_mul, m_mul=m_mul, alpha=alpha,
                           warmup_steps=max(warmup, 0), warmup_mode=warmup_mode)
        _within(_lrs(s), 0.0, init)

    n = _run(prop, dict(init=rates, first=steps_,
                        t_mul=st.one_of(st.floats(1.0, 3.0), st.sampled_from([1.0, 1 + 1e-9, 1.001, 1e6])),
                        m_mul=st.floats(1e-3, 1.0), alpha=st.floats(0.0, 1.0), warmup=st.integers(0, 300),
                        warmup_mode=st.sampled_from(["once", "every_restart"])))
    assert n == CASES


def test_one_cycle():
    def prop(peak, total, pct, div, final_div, strategy, three_phase):
        s = schedules.OneCycle(peak, total, pct_start=pct, div_factor=div, final_div_factor=final_div,
                               anneal_strategy=strategy, three_phase=three_phase)
        lr = _lrs(s)
        values = (peak, peak / div, peak / div / final_div)
        _within(lr, min(values), max(values))
        # Holds the final learning rate after total_steps: no wrap-around.
        assert np.allclose(lr[STEPS >= total], lr[-1], rtol=1e-5)

    # 1e28 / 1e-6 / 1e-3 stays below the float32 maximum (larger draws are rejections).
    n = _run(prop, dict(peak=st.one_of(st.floats(1e-6, 10.0), st.sampled_from([1e-30, 1e28])),
                        total=st.one_of(st.integers(1, 5000), st.sampled_from([1, 2, 100_000])),
                        pct=unit_open, div=st.one_of(st.floats(1.0, 1e3), st.sampled_from([0.5, 1e-6])),
                        final_div=st.one_of(st.floats(1.0, 1e5), st.sampled_from([1e-3, 1e8])),
                        strategy=st.sampled_from(["cos", "linear"]), three_phase=st.booleans()))
    assert n == CASES


def test_warmup():
    def prop(inner, steps, start, shape):
        if shape == "exponential":
            start = max(start, 1e-12)
        base = schedules.SGDR(inner, 1000)
        s = schedules.Warmup(base, steps, initial_learning_rate=start, shape=shape)
        _within(_lrs(s), 0.0, max(inner, start))

    n = _run(prop, dict(inner=rates, steps=steps_, start=rates,
                        shape=st.sampled_from(["linear", "cosine", "exponential"])))
    assert n == CASES


def test_combined_cosine():
    def prop(start, middle, end, total, pct):
        s = schedules.CombinedCosine(start, middle, end, total, pct)
        _within(_lrs(s), min(start, middle, end), max(start, middle, end))

    n = _run(prop, dict(start=rates, middle=rates, end=rates,
                        total=st.one_of(st.integers(1, 5000), st.sampled_from([1, 100_000])), pct=unit_open))
    assert n == CASES


CLR, SGDR, OC, WU = (schedules.CyclicalLearningRate, schedules.SGDR, schedules.OneCycle,
                     schedules.Warmup)
REJECTIONS = [
    (CLR, dict(initial_learning_rate=-1.0, maximal_learning_rate=1.0, step_size=10),
     "initial_learning_rate"),
    (CLR, dict(initial_learning_rate=float("nan"), maximal_learning_rate=1.0,
                                          step_size=10), "initial_learning_rate"),
    (CLR, dict(initial_learning_rate=0.1, maximal_learning_rate=0.01, step_size=10),
     "maximal_learning_rate"),
    (CLR, dict(initial_learning_rate=0.1, maximal_learning_rate=1e39, step_size=10),
     "maximal_learning_rate"),
    (CLR, dict(initial_learning_rate=0.1, maximal_learning_rate=1.0, step_size=0),
     "step_size"),
    (CLR, dict(initial_learning_rate=0.1, maximal_learning_rate=1.0, step_size=1e-300),
     "step_size"),
    (CLR, dict(initial_learning_rate=0.1, maximal_learning_rate=1.0, step_size=10,
                                          step_size_down=0.5), "step_size_down"),
    (CLR, dict(initial_learning_rate=0.1, maximal_learning_rate=1.0, step_size=10,
                                          mode="sine"), "mode"),
    (CLR, dict(initial_learning_rate=0.1, maximal_learning_rate=1.0, step_size=10,
                                          mode="exp_range", gamma=1.2), "gamma"),
    (CLR, dict(initial_learning_rate=0.1, maximal_learning_rate=1.0, step_size=10,
                                          gamma=0.0), "gamma"),
    (SGDR, dict(initial_learning_rate=-0.1, first_decay_steps=10), "initial_learning_rate"),
    (SGDR, dict(initial_learning_rate=1e39, first_decay_steps=10), "initial_learning_rate"),
    (SGDR, dict(initial_learning_rate=0.1, first_decay_steps=1e-300), "first_decay_steps"),
    (SGDR, dict(initial_learning_rate=0.1, first_decay_steps=10, t_mul=0.9), "t_mul"),
    (SGDR, dict(initial_learning_rate=0.1, first_decay_steps=10, m_mul=1.5), "m_mul"),
    (SGDR, dict(initial_learning_rate=0.1, first_decay_steps=10, m_mul=0.0), "m_mul"),
    (SGDR, dict(initial_learning_rate=0.1, first_decay_steps=10, alpha=1.5), "alpha"),
    (SGDR, dict(initial_learning_rate=0.1, first_decay_steps=10, warmup_steps=-2), "warmup_steps"),
    (SGDR, dict(initial_learning_rate=0.1, first_decay_steps=10, warmup_mode="never"), "warmup_mode"),
    (OC, dict(maximal_learning_rate=0.0, total_steps=10), "maximal_learning_rate"),
    (OC, dict(maximal_learning_rate=0.1, total_steps=0), "total_steps"),
    (OC, dict(maximal_learning_rate=0.1, total_steps=10, pct_start=1.0), "pct_start"),
    (OC, dict(maximal_learning_rate=0.1, total_steps=10, div_factor=-1.0), "div_factor"),
    (OC, dict(maximal_learning_rate=0.1, total_steps=10, div_factor=1e-300), "div_factor"),
    (OC, dict(maximal_learning_rate=0.1, total_steps=10, final_div_factor=1e-300),
     "final_div_factor"),
    (OC, dict(maximal_learning_rate=0.1, total_steps=10, anneal_strategy="step"),
     "anneal_strategy"),
    (WU, dict(schedule=0.1, warmup_steps=0), "warmup_steps"),
    (WU, dict(schedule=-0.1, warmup_steps=5), "schedule"),
    (WU, dict(schedule=0.1, warmup_steps=5, shape="quadratic"), "shape"),
    (WU, dict(schedule=0.1, warmup_steps=5, initial_learning_rate=-1.0), "initial_learning_rate"),
    (schedules.CombinedCosine, dict(start=0.1, middle=1.0, end=0.0, total_steps=10, pct_start=0.0),
     "pct_start"),
    (schedules.CombinedCosine, dict(start=-0.1, middle=1.0, end=0.0, total_steps=10), "start"),
    (schedules.SequentialSchedule, dict(schedules=[0.1, 0.2], boundaries=None), "boundaries"),
    (schedules.ReduceOnPlateau, dict(schedule=0.1, factor=1.0), "factor"),
    (schedules.ReduceOnPlateau, dict(schedule=0.1, patience=-1), "patience"),
    (schedules.ReduceOnPlateau, dict(schedule=0.1, threshold_mode="pct"), "threshold_mode"),
]


@pytest.mark.parametrize("fn, kwargs, name", REJECTIONS,
                         ids=[f"{f.__name__}-{n}-{i}" for i, (f, _, n) in enumerate(REJECTIONS)])
def test_rejections_name_the_argument(fn, kwargs, name):
    with pytest.raises(ValueError) as info:
        fn(**kwargs)
    _check_rejection(info.value, fn)
    assert f"`{name}`" in str(info.value) and f"Received: {name}=" in str(info.value), str(info.value)


@FUZZ
@given(b=st.lists(st.floats(-2, 2), min_size=0, max_size=4),
       a=st.lists(st.floats(-2, 2), min_size=0, max_size=4),
       compensate=st.booleans())
def test_arma_filter(b, a, compensate):
    f = _construct(filters.ARMAFilter, b=b, a=a, transient_compensation=compensate)
    if f is None:
        return
    assert f.is_stable() or f.is_accumulator
    _check_step_response(f)


@FUZZ
@given(pole=st.floats(-1.5, 1.5), gain=st.sampled_from(["dc", "input", "unit"]),
       order=st.integers(-1, 6), cutoff=st.floats(-0.1, 0.7))
def test_filter_designs(pole, gain, order, cutoff):
    f = _construct(filters.ARMAFilter.ar1, pole=pole, gain=gain, transient_compensation=True)
    if f is not None:
        assert abs(pole) < 1 and gain in ("dc", "input")
        _check_step_response(f)
    f = _construct(filters.ARMAFilter.butterworth, order=order, cutoff=cutoff)
    if f is not None:
        assert 1 <= order <= 4 and 0 < cutoff < 0.5
        assert f.is_stable() and abs(f.dc_gain() - 1.0) < 1e-9
        _check_step_response(f)
    f = _construct(filters.ARMAFilter.nesterov, momentum=pole)
    if f is not None:
        assert 0 <= pole < 1
        _check_step_response(f)


def _check_step_response(f):
    n = 2_000
    raw = f.step_response(n, compensate=False)
    assert np.all(np.isfinite(raw))
    if f.transient_compensation and not f.is_accumulator:
        compensated = f.step_response(n)
        np.testing.assert_allclose(compensated, f.dc_gain(), rtol=1e-6, atol=1e-9)
