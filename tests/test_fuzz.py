"""Property-based tests of every schedule and filter constructor (hypothesis).

Arguments are drawn from ranges that include invalid values. For each draw:

- a constructor that rejects its arguments raises ``ValueError`` whose message
  names one of its arguments and the value received (Keras' form);
- an accepted schedule gives finite learning rates within its declared bounds
  at every step from 0 to 10^5 (evaluated as one vector of steps, plus the
  points just past 10^5);
- an accepted filter is stable (or is the accumulator), and its step response
  over 2,000 steps is finite and, compensated, equals the DC gain at every step.

``derandomize=True`` makes the cases the same on every run; each test function
tries ``CASES`` draws.
"""

import inspect
import re

import numpy as np
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from kerastools import filters
from kerastools import schedules

STEPS = np.concatenate([np.arange(0, 100_001), [100_001, 123_456, 10**6]]).astype("float64")
CASES = 60  # per test function below
FUZZ = settings(max_examples=CASES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

rates = st.one_of(st.floats(-1.0, 1.0), st.sampled_from([0.0, 1e-6, 1e-3, 0.1, float("nan")]))
positive_ints = st.one_of(st.integers(-5, 5000), st.sampled_from([1, 2, 100_000]))
fractions = st.one_of(st.floats(-0.5, 1.5), st.sampled_from([0.0, 1.0, 0.3]))


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
    assert lr.min() >= low * (1 - rtol) - 1e-12, (lr.min(), low)
    assert lr.max() <= high * (1 + rtol) + 1e-12, (lr.max(), high)


@FUZZ
@given(init=rates, peak=rates, step_size=positive_ints,
       mode=st.sampled_from(["triangular", "triangular2", "exp_range", "sine"]),
       gamma=st.floats(0.5, 1.2))
def test_cyclical(init, peak, step_size, mode, gamma):
    s = _construct(schedules.CyclicalLearningRate, initial_learning_rate=init,
                   maximal_learning_rate=peak, step_size=step_size, mode=mode, gamma=gamma)
    if s is None:
        return
    assert mode != "sine" and step_size > 0 and 0 <= init <= peak
    lr = _lrs(s)
    high = peak if gamma <= 1 or mode != "exp_range" else init + (peak - init) * gamma ** STEPS[-1]
    _within(lr, init, high if np.isfinite(high) else np.inf)


@FUZZ
@given(init=rates, first=positive_ints, t_mul=st.floats(0.0, 3.0), m_mul=st.floats(0.0, 1.5),
       alpha=fractions, warmup=st.integers(-2, 300),
       warmup_mode=st.sampled_from(["once", "every_restart", "never"]))
def test_sgdr(init, first, t_mul, m_mul, alpha, warmup, warmup_mode):
    s = _construct(schedules.SGDR, initial_learning_rate=init, first_decay_steps=first,
                   t_mul=t_mul, m_mul=m_mul, alpha=alpha, warmup_steps=warmup,
                   warmup_mode=warmup_mode)
    if s is None:
        return
    assert init >= 0 and first > 0
    lr = _lrs(s)
    _within(lr, 0.0, init * max(1.0, m_mul) ** 40 if m_mul > 1 else init)


@FUZZ
@given(peak=rates, total=positive_ints, pct=fractions, div=st.floats(-1.0, 1e3),
       final_div=st.floats(-1.0, 1e5), strategy=st.sampled_from(["cos", "linear", "step"]),
       three_phase=st.booleans())
def test_one_cycle(peak, total, pct, div, final_div, strategy, three_phase):
    s = _construct(schedules.OneCycle, maximal_learning_rate=peak, total_steps=total,
                   pct_start=pct, div_factor=div, final_div_factor=final_div,
                   anneal_strategy=strategy, three_phase=three_phase)
    if s is None:
        return
    assert peak > 0 and total > 0 and 0 < pct < 1 and strategy != "step"
    lr = _lrs(s)
    _within(lr, min(peak / div / final_div, peak / div), max(peak, peak / div))
    # Holds the final learning rate after total_steps: no wrap-around.
    assert np.allclose(lr[STEPS >= total], lr[-1], rtol=1e-5)


@FUZZ
@given(inner=rates, steps=positive_ints, start=rates,
       shape=st.sampled_from(["linear", "cosine", "exponential", "quadratic"]))
def test_warmup(inner, steps, start, shape):
    base = _construct(schedules.SGDR, initial_learning_rate=abs(inner), first_decay_steps=1000)
    s = _construct(schedules.Warmup, schedule=base, warmup_steps=steps,
                   initial_learning_rate=start, shape=shape)
    if s is None:
        return
    lr = _lrs(s)
    _within(lr, 0.0, max(abs(inner), start))


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


@pytest.mark.parametrize("bad, match", [
    (dict(initial_learning_rate=-1.0, maximal_learning_rate=1.0, step_size=10),
     "initial_learning_rate=-1.0"),
    (dict(initial_learning_rate=0.1, maximal_learning_rate=0.01, step_size=10),
     "maximal_learning_rate=0.01"),
    (dict(initial_learning_rate=0.1, maximal_learning_rate=1.0, step_size=0), "step_size=0"),
    (dict(initial_learning_rate=0.1, maximal_learning_rate=1.0, step_size=10, mode="sine"),
     "mode='sine'"),
])
def test_known_rejections_name_the_argument(bad, match):
    with pytest.raises(ValueError, match=match):
        schedules.CyclicalLearningRate(**bad)
