"""kerastools.schedules against independent NumPy transcriptions of the papers.

Each reference below is written from the paper's (or PyTorch's documented)
formula, in float64 NumPy, with Python control flow, independently of the
``keras.ops`` implementation. Steps cover at least two full cycles, step 0,
every cycle edge, the last step and past it, in float32 and float64.

``test_schedules_torch_reference.json`` holds learning rates recorded from
PyTorch 2.13's ``CyclicLR``, ``OneCycleLR`` and ``CosineAnnealingWarmRestarts``
by ``tests/scripts/record_torch_schedules.py`` (torch is not needed to run the
tests; the script regenerates the file, or checks it with ``--check``).
"""

import json
import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerastools import schedules as S

HERE = os.path.dirname(__file__)
DTYPES = ["float32", "float64"]
TOL = {"float32": {"rtol": 2e-5, "atol": 1e-9}, "float64": {"rtol": 1e-12, "atol": 1e-15}}


def evaluate(schedule, steps, dtype):
    return np.asarray(keras.ops.convert_to_numpy(schedule(np.asarray(steps, dtype=dtype))))


def close(got, want, dtype):
    np.testing.assert_allclose(got, want, **TOL[dtype])


# ---------------------------------------------------------------- references


def ref_clr_smith(t, lo, hi, ss, scale="triangular", gamma=1.0):
    """Smith (2017), Sec. 3.1: cycle = floor(1 + t/2s), x = |t/s - 2 cycle + 1|."""
    out = []
    for it in t:
        cycle = math.floor(1 + it / (2 * ss))
        x = abs(it / ss - 2 * cycle + 1)
        s = {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1), "exp_range": gamma**it}[scale]
        out.append(lo + (hi - lo) * max(0.0, 1 - x) * s)
    return np.array(out)


def ref_clr_addons(t, lo, hi, ss, scale_fn, scale_mode):
    """TF Addons' CyclicalLearningRate.__call__, transcribed in float64 NumPy:
    cycle = floor(1 + step / (2 step_size)); x = |step / step_size - 2 cycle + 1|;
    lr = initial + (maximal - initial) * max(0, 1 - x) * scale_fn(cycle or step)."""
    t = np.asarray(t, dtype="float64")
    cycle = np.floor(1 + t / (2 * ss))
    x = np.abs(t / ss - 2 * cycle + 1)
    mode_step = cycle if scale_mode == "cycle" else t
    return lo + (hi - lo) * np.maximum(0.0, 1 - x) * scale_fn(mode_step)


def ref_clr_torch(t, lo, hi, up, down, scale):
    """PyTorch CyclicLR docs: asymmetric up/down edges."""
    out = []
    total = up + down
    for it in t:
        cycle = math.floor(1 + it / total)
        x = 1.0 + it / total - cycle
        f = x / (up / total) if x <= up / total else (x - 1) / (up / total - 1)
        out.append(lo + (hi - lo) * f * scale(cycle, it))
    return np.array(out)


def ref_one_cycle(t, max_lr, total, pct=0.3, div=25.0, final_div=1e4, strategy="cos",
                  three=False, values=None):
    lo = max_lr / div
    fin = lo / final_div
    if three:
        ends = [pct * total - 1, 2 * pct * total - 2, total - 1]
        vals = values or [(lo, max_lr), (max_lr, lo), (lo, fin)]
    else:
        ends = [pct * total - 1, total - 1]
        vals = values or [(lo, max_lr), (max_lr, fin)]
    out = []
    for it in t:
        it = min(it, total - 1)  # kerastools holds the final value
        start = 0.0
        for k, (end, (a, b)) in enumerate(zip(ends, vals)):
            if it <= end or k == len(ends) - 1:
                p = (it - start) / (end - start)
                if strategy == "cos":
                    out.append(b + (a - b) / 2 * (math.cos(math.pi * p) + 1))
                else:
                    out.append(a + (b - a) * p)
                break
            start = end
    return np.array(out)


def ref_sgdr(t, lr0, t0, t_mul=1, m_mul=1.0, alpha=0.0, warmup=0, mode="once"):
    """Loshchilov and Hutter: walk the cycles one by one (T_cur, T_i)."""
    out = []
    for it in t:
        if mode == "once" and warmup and it < warmup:
            out.append(alpha * lr0 + (1 - alpha) * lr0 * it / warmup)
            continue
        tc = it - (warmup if mode == "once" else 0)
        ti, i = t0, 0
        while tc >= ti:
            tc -= ti
            ti *= t_mul
            i += 1
        eta_min = alpha * lr0
        eta_max = eta_min + (1 - alpha) * lr0 * m_mul**i
        if mode == "every_restart" and warmup:
            if tc < warmup:
                out.append(eta_min + (eta_max - eta_min) * tc / warmup)
                continue
            tc, ti = tc - warmup, ti - warmup
        out.append(eta_min + 0.5 * (eta_max - eta_min) * (1 + math.cos(math.pi * tc / ti)))
    return np.array(out)


# ---------------------------------------------------------------- cyclical


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclical_matches_smith(mode, dtype):
    ss = 6
    steps = np.arange(0, 5 * 2 * ss + 3)  # five cycles, every edge, past the end
    sched = S.CyclicalLearningRate(1e-3, 1e-2, ss, mode=mode, gamma=0.99)
    want = ref_clr_smith(steps, 1e-3, 1e-2, ss, mode, 0.99)
    got = evaluate(sched, steps, dtype)
    close(got, want, dtype)
    assert got.dtype == dtype
    edges = np.arange(0, 5 * 2 * ss + 1, ss)
    close(evaluate(sched, edges, dtype), ref_clr_smith(edges, 1e-3, 1e-2, ss, mode, 0.99), dtype)
    assert got[0] == pytest.approx(1e-3) and got[ss] == pytest.approx(
        1e-3 + 9e-3 * (0.99**ss if mode == "exp_range" else 1.0)
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_cyclical_asymmetric_matches_pytorch_formula(dtype):
    steps = np.arange(0, 40)
    sched = S.CyclicalLearningRate(0.0, 1.0, 3, step_size_down=7, mode="triangular2")
    want = ref_clr_torch(steps, 0.0, 1.0, 3, 7, lambda c, it: 1 / 2 ** (c - 1))
    close(evaluate(sched, steps, dtype), want, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_addons_subclasses_match_the_addons_formula(dtype):
    """Each TF Addons subclass against a NumPy transcription of TF Addons' formula
    with its own scale function and scale_mode (not against the class it wraps)."""
    steps = np.arange(0, 53)  # five cycles and a bit, every edge
    cases = [
        (S.TriangularCyclicalLearningRate(1e-4, 1e-2, 5), lambda x: np.ones_like(x), "cycle"),
        (S.Triangular2CyclicalLearningRate(1e-4, 1e-2, 5), lambda x: 1 / 2.0 ** (x - 1), "cycle"),
        (S.ExponentialCyclicalLearningRate(1e-4, 1e-2, 5, gamma=0.95), lambda x: 0.95**x,
         "iterations"),
        (S.Triangular2CyclicalLearningRate(1e-4, 1e-2, 5, scale_mode="iterations"),
         lambda x: 1 / 2.0 ** (x - 1), "iterations"),
        (S.ExponentialCyclicalLearningRate(1e-4, 1e-2, 5, scale_mode="cycle", gamma=0.8),
         lambda x: 0.8**x, "cycle"),
    ]
    for sched, fn, scale_mode in cases:
        want = ref_clr_addons(steps, 1e-4, 1e-2, 5, fn, scale_mode)
        close(evaluate(sched, steps, dtype), want, dtype)


def test_custom_scale_function_by_registered_name(tmp_path):
    @S.register_scale_function("test_sqrt_decay")
    def sqrt_decay(x, gamma):
        return 1.0 / keras.ops.sqrt(x)

    sched = S.CyclicalLearningRate(0.0, 1.0, 4, scale_fn=sqrt_decay)
    assert sched.get_config()["scale_fn"] == "test_sqrt_decay"
    json.dumps(sched.get_config())
    steps = np.arange(0, 30)
    want = ref_clr_torch(steps, 0.0, 1.0, 4, 4, lambda c, it: 1 / math.sqrt(c))
    close(evaluate(sched, steps, "float64"), want, "float64")
    clone = S.CyclicalLearningRate.from_config(sched.get_config())
    close(evaluate(clone, steps, "float64"), want, "float64")
    # Any callable trains (TF Addons' code); only Keras serialization refuses it.
    lam = S.CyclicalLearningRate(0.0, 1.0, 4, scale_fn=lambda x: 1 / 2.0 ** (x - 1))
    close(evaluate(lam, steps, "float64"),
          ref_clr_torch(steps, 0.0, 1.0, 4, 4, lambda c, it: 1 / 2 ** (c - 1)), "float64")
    with pytest.raises(ValueError, match="register_scale_function"):
        keras.saving.serialize_keras_object(lam)

    # TF Addons' form: one-argument scale function, passed positionally.
    @S.register_scale_function("test_addons_half")
    def addons_half(x):
        return 0.5 * keras.ops.ones_like(x)

    addons = S.CyclicalLearningRate(0.0, 1.0, 4, addons_half, "iterations")
    assert addons.scale_fn == "test_addons_half" and addons.scale_mode == "iterations"
    close(evaluate(addons, steps, "float64"),
          0.5 * ref_clr_smith(steps, 0.0, 1.0, 4), "float64")
    with pytest.raises(ValueError, match="scale_fn='nope'"):
        S.CyclicalLearningRate(0.0, 1.0, 4, scale_fn="nope")


# ---------------------------------------------------------------- one-cycle


ONE_CYCLE_CASES = [
    {"max_lr": 0.1, "total": 50},
    {"max_lr": 0.1, "total": 47, "pct": 0.25, "strategy": "linear", "three": True},
    {"max_lr": 0.3, "total": 13, "pct": 0.37, "div": 10.0, "final_div": 100.0},
    {"max_lr": 1.0, "total": 100, "pct": 0.5, "three": True},
]


def _one_cycle(case):
    return S.OneCycle(case["max_lr"], case["total"], pct_start=case.get("pct", 0.3),
                      div_factor=case.get("div", 25.0), final_div_factor=case.get("final_div", 1e4),
                      anneal_strategy=case.get("strategy", "cos"), three_phase=case.get("three", False))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ONE_CYCLE_CASES, ids=str)
def test_one_cycle_matches_pytorch_formula(case, dtype):
    sched = _one_cycle(case)
    total = case["total"]
    steps = np.arange(0, total + 10)  # the whole cycle and past it
    kwargs = {k: v for k, v in case.items() if k not in ("max_lr", "total")}
    want = ref_one_cycle(steps, case["max_lr"], total, **kwargs)
    got = evaluate(sched, steps, dtype)
    close(got, want, dtype)
    final = case["max_lr"] / case.get("div", 25.0) / case.get("final_div", 1e4)
    np.testing.assert_allclose(got[total - 1:], final, rtol=1e-5)  # holds the final LR
    assert got[0] == pytest.approx(case["max_lr"] / case.get("div", 25.0), rel=1e-6)
    assert np.max(got) <= case["max_lr"] * (1 + 1e-6)
    # Momentum mirrors it.
    lo, hi = 0.85, 0.95
    vals = [(hi, lo), (lo, hi), (hi, hi)] if case.get("three") else [(hi, lo), (lo, hi)]
    want_m = ref_one_cycle(steps, case["max_lr"], total, values=vals, **kwargs)
    close(evaluate(sched.momentum_schedule(lo, hi), steps, dtype), want_m, dtype)


# ---------------------------------------------------------------- SGDR


SGDR_CASES = [
    {"t0": 7, "t_mul": 1},
    {"t0": 5, "t_mul": 2},
    {"t0": 3, "t_mul": 3, "m_mul": 0.5, "alpha": 0.1},
    {"t0": 10, "t_mul": 2, "m_mul": 0.8, "warmup": 4, "mode": "once"},
    {"t0": 10, "t_mul": 2, "m_mul": 0.8, "alpha": 0.05, "warmup": 3, "mode": "every_restart"},
    {"t0": 8, "t_mul": 1, "warmup": 2, "mode": "every_restart"},
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", SGDR_CASES, ids=str)
def test_sgdr_matches_the_paper(case, dtype):
    sched = S.SGDR(0.1, case["t0"], t_mul=case["t_mul"], m_mul=case.get("m_mul", 1.0),
                   alpha=case.get("alpha", 0.0), warmup_steps=case.get("warmup", 0),
                   warmup_mode=case.get("mode", "once"))
    boundaries = sched.cycle_boundaries(4)
    steps = np.arange(0, int(boundaries[-1]) + 5)
    want = ref_sgdr(steps, 0.1, case["t0"], case["t_mul"], case.get("m_mul", 1.0),
                    case.get("alpha", 0.0), case.get("warmup", 0), case.get("mode", "once"))
    got = evaluate(sched, steps, dtype)
    close(got, want, dtype)
    # A restart at every boundary: exactly there the rate jumps up (or, with a
    # warmup at every restart, the ramp starts again from the floor).
    for b in boundaries[:3].astype(int):
        if case.get("mode") == "every_restart":
            assert got[b] == pytest.approx(0.1 * case.get("alpha", 0.0), abs=1e-7)
            assert got[b + 1] > got[b] and got[b - 1] < got[b - 2]
        else:
            assert got[b] > got[b - 1], (b, got[b - 2:b + 2])


def test_sgdr_equals_keras_cosine_decay_restarts_but_restarts_on_time():
    """Keras' log-based cycle index can be a step late or early in float32."""
    first, t_mul, m_mul, alpha = 10, 2.0, 0.7, 0.1
    ours = S.SGDR(1.0, first, t_mul=t_mul, m_mul=m_mul, alpha=alpha)
    keras_s = keras.optimizers.schedules.CosineDecayRestarts(1.0, first, t_mul, m_mul, alpha)
    steps = np.arange(0, 310)
    got = evaluate(ours, steps, "float32")
    want = np.asarray(keras_s(keras.ops.convert_to_tensor(steps.astype("float32"))))
    boundaries = set(ours.cycle_boundaries(5).astype(int).tolist())
    inside = np.array([s not in boundaries and s - 1 not in boundaries for s in steps])
    np.testing.assert_allclose(got[inside], want[inside], rtol=1e-4, atol=1e-6)
    ref = ref_sgdr(steps, 1.0, first, t_mul, m_mul, alpha)
    np.testing.assert_allclose(got, ref, rtol=2e-5, atol=1e-7)


def test_sgdr_restarts_where_keras_log_formula_slips():
    """Keras 3.15's CosineDecayRestarts(1.0, 2, t_mul=2) restarts at step 16381
    instead of 16382 (float32 floor(log(...)/log(2))); SGDR restarts on time at
    every boundary, for many first_decay_steps and t_mul."""
    for first, t_mul in [(2, 2.0), (3, 2.0), (10, 3.0), (29, 4.0), (7, 1.5)]:
        sched = S.SGDR(1.0, first, t_mul=t_mul)
        b = sched.cycle_boundaries(14)
        b = b[(np.abs(b - np.round(b)) < 1e-9) & (b < 2**24)].astype(np.int64)
        steps = np.concatenate([b - 1, b])
        got = evaluate(sched, steps, "float32")
        want = ref_sgdr(steps, 1.0, first, t_mul)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6, err_msg=str((first, t_mul)))
        assert np.all(got[len(b):] == 1.0) and np.all(got[:len(b)] < 1.0)


def test_sgdr_large_steps_restart_exactly():
    sched = S.SGDR(1.0, 1000, t_mul=2.0)
    b = sched.cycle_boundaries(12).astype(np.int64)  # up to ~4e6 steps
    got = evaluate(sched, np.concatenate([b - 1, b]), "float32")
    n = len(b)
    assert np.all(got[n:] == 1.0), got[n:]
    assert np.all(got[:n] < 1e-4)


# ---------------------------------------------------------------- pytorch golden


def test_step_for_step_equal_to_pytorch_recording():
    with open(os.path.join(HERE, "test_schedules_torch_reference.json")) as f:
        data = json.load(f)["data"]
    made = {
        "clr_tri": S.CyclicalLearningRate(0.001, 0.01, 7),
        "clr_tri2": S.CyclicalLearningRate(0.001, 0.01, 7, mode="triangular2"),
        "clr_exp": S.CyclicalLearningRate(0.001, 0.01, 7, mode="exp_range", gamma=0.97),
        "clr_asym": S.CyclicalLearningRate(0.001, 0.01, 3, step_size_down=8, mode="triangular2"),
        "oc": S.OneCycle(0.1, 50),
        "oc_lin3": S.OneCycle(0.1, 47, pct_start=0.25, anneal_strategy="linear", three_phase=True),
        "oc_odd": S.OneCycle(0.3, 13, pct_start=0.37, div_factor=10, final_div_factor=100),
        "sgdr1": S.SGDR(0.1, 7, t_mul=1.0),
        "sgdr2": S.SGDR(0.1, 5, t_mul=2),
        "sgdr3": S.SGDR(0.1, 3, t_mul=3),
    }
    momenta = {}
    # The from_pytorch recipes: PyTorch's arguments, copied from the recording script.
    for name, (lr, mom) in {
        "pt_clr_exp_asym": S.CyclicalLearningRate.from_pytorch(
            base_lr=0.01, max_lr=0.1, step_size_up=5, step_size_down=3, mode="exp_range", gamma=0.95,
            base_momentum=0.85, max_momentum=0.95),
        "pt_clr_scale_fn": S.CyclicalLearningRate.from_pytorch(
            base_lr=0.001, max_lr=0.01, step_size_up=4, scale_fn=lambda x: 1.0 / (1.0 + 0.05 * x),
            scale_mode="iterations"),
        "pt_clr_defaults": S.CyclicalLearningRate.from_pytorch(base_lr=0.001, max_lr=0.006),
        "pt_oc_epochs": S.OneCycle.from_pytorch(
            max_lr=0.05, epochs=4, steps_per_epoch=7, pct_start=0.25, div_factor=10.0,
            final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9),
        "pt_oc_three_nomom": S.OneCycle.from_pytorch(max_lr=0.2, total_steps=30, three_phase=True,
                                                     cycle_momentum=False),
        "pt_sgdr_eta_min": S.SGDR.from_pytorch(lr=0.1, T_0=4, T_mult=2, eta_min=0.01),
    }.items():
        made[name] = lr
        momenta[name] = mom
    assert set(made) == set(data), sorted(set(data) ^ set(made))
    for name, sched in made.items():
        lr = np.array(data[name]["lr"])
        steps = np.arange(len(lr))
        # On JAX, float64 cos is computed as Re exp(ix) (Keras' ops.cos rounds
        # float64 through float32 there), one ulp off libm's cos at most: where
        # 1 + cos(pi t) cancels near the end of a one-cycle that is 1e-16 of the
        # peak. TensorFlow keeps the exact bound.
        atol = 1e-16 * lr.max() if keras.backend.backend() == "jax" else 0
        np.testing.assert_allclose(evaluate(sched, steps, "float64"), lr, rtol=1e-13,
                                   atol=atol, err_msg=name)
        np.testing.assert_allclose(evaluate(sched, steps, "float32"), lr, rtol=3e-5, atol=1e-9,
                                   err_msg=name)
        if name.startswith(("oc", "clr")):
            mom = sched.momentum_schedule(*((0.85, 0.95) if name.startswith("oc") else (0.8, 0.9)))
        else:
            mom = momenta.get(name)
        if mom is not None:
            np.testing.assert_allclose(evaluate(mom, steps, "float64"), data[name]["momentum"],
                                       rtol=1e-13, err_msg=name)
        else:  # PyTorch left the optimizer's momentum (0.9) alone
            assert set(data[name]["momentum"]) == {0.9}, name


# ---------------------------------------------------------------- composition


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", ["linear", "cosine", "exponential"])
def test_warmup(shape, dtype):
    inner = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    a = 1e-3 if shape == "exponential" else 0.0
    sched = S.Warmup(inner, 8, initial_learning_rate=a, shape=shape)
    steps = np.arange(0, 40)
    want = []
    for t in steps:
        if t < 8:
            p = t / 8
            if shape == "linear":
                want.append(a + (0.1 - a) * p)
            elif shape == "cosine":
                want.append(a + (0.1 - a) * (1 - math.cos(math.pi * p)) / 2)
            else:
                want.append(a * (0.1 / a) ** p)
        else:
            want.append(0.1 * 0.5 ** ((t - 8) / 10))
    tol = TOL[dtype] if dtype == "float64" else {"rtol": 2e-6}
    # Keras' ExponentialDecay computes in float32 whatever the step dtype.
    np.testing.assert_allclose(evaluate(sched, steps, dtype), want,
                               **(tol if dtype == "float32" else {"rtol": 1e-6}))
    const = S.Warmup(0.05, 4)
    close(evaluate(const, steps[:10], dtype),
          [0.0, 0.0125, 0.025, 0.0375] + [0.05] * 6, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sequential_schedule(dtype):
    a = S.CyclicalLearningRate(0.0, 1.0, 2)
    b = S.SGDR(0.5, 4, t_mul=1.0)
    sched = S.SequentialSchedule([a, b, 0.01], boundaries=[6, 14])
    steps = np.arange(0, 20)
    want = np.concatenate([
        ref_clr_smith(np.arange(6), 0.0, 1.0, 2),
        ref_sgdr(np.arange(8), 0.5, 4),
        np.full(6, 0.01),
    ])
    close(evaluate(sched, steps, dtype), want, dtype)
    with pytest.raises(ValueError, match="boundaries"):
        S.SequentialSchedule([a, b], boundaries=[5, 6])
    with pytest.raises(ValueError, match="strictly increasing"):
        S.SequentialSchedule([a, b, a], boundaries=[6, 6])


def test_nested_config_round_trip_through_model_save(tmp_path):
    sched = S.SequentialSchedule(
        [S.Warmup(S.OneCycle(0.1, 30), 5), keras.optimizers.schedules.ExponentialDecay(0.01, 5, 0.9)],
        [35])
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(sched)))
    clone = keras.saving.deserialize_keras_object(config)
    steps = np.arange(0, 50)
    np.testing.assert_array_equal(evaluate(clone, steps, "float64"), evaluate(sched, steps, "float64"))


# ---------------------------------------------------------------- course decays


def test_course_epoch_decays_built_on_keras():
    spe, n = 7, 8
    steps = np.arange(0, spe * (n + 2))
    epoch = steps // spe
    eta0 = 0.01
    cases = [
        (S.exponential_decay(eta0, 0.8, spe), eta0 * 0.8**epoch,
         keras.optimizers.schedules.ExponentialDecay),
        (S.step_decay(eta0, 0.5, 3, spe), eta0 * 0.5 ** (epoch // 3),
         keras.optimizers.schedules.ExponentialDecay),
        (S.linear_decay(eta0, n, spe), eta0 * np.maximum(1 - epoch / n, 0),
         keras.optimizers.schedules.PiecewiseConstantDecay),
        (S.linear_decay(eta0, n, spe, staircase=False), eta0 * np.maximum(1 - steps / (n * spe), 0),
         keras.optimizers.schedules.PolynomialDecay),
        (S.fractional_decay(eta0, 0.3, spe), eta0 / (1 + 0.3 * epoch),
         keras.optimizers.schedules.InverseTimeDecay),
        (S.exponential_decay(eta0, 0.8, spe, staircase=False), eta0 * 0.8 ** (steps / spe),
         keras.optimizers.schedules.ExponentialDecay),
        (S.milestone_decay(eta0, n, spe), eta0 * np.where(epoch >= 6, 0.04, np.where(epoch >= 4, 0.2, 1.0)),
         keras.optimizers.schedules.PiecewiseConstantDecay),
    ]
    short = S.milestone_decay(eta0, 1, 8)  # one epoch: drops within it, at steps 4 and 6
    cases.append((short, eta0 * np.where(steps >= 6, 0.04, np.where(steps >= 4, 0.2, 1.0)),
                  keras.optimizers.schedules.PiecewiseConstantDecay))
    for sched, want, cls in cases:
        assert type(sched) is cls
        got = np.array([float(sched(int(s))) for s in steps])
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-12, err_msg=str(sched.get_config()))


# ---------------------------------------------------------------- jit and fit


def _all_schedules():
    return [
        S.CyclicalLearningRate(1e-3, 1e-2, 5, mode="triangular2"),
        S.SGDR(0.1, 5, t_mul=2.0, m_mul=0.9, warmup_steps=2, warmup_mode="every_restart"),
        S.SGDR(0.1, 5, t_mul=1.0, warmup_steps=3),
        S.OneCycle(0.1, 40, three_phase=True),
        S.OneCycle(0.1, 40).momentum_schedule(),
        S.Warmup(S.SGDR(0.1, 8), 4, shape="cosine"),
        S.SequentialSchedule([S.Warmup(0.1, 3), S.CyclicalLearningRate(0.01, 0.1, 4)], [3]),
    ]


@pytest.mark.tf_only
@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="compiles with tf.function(jit_compile=True) on tf.int64 steps")
@pytest.mark.parametrize("sched", _all_schedules(), ids=lambda s: s.name)
def test_xla_compiled_equals_eager(sched):
    fn = tf.function(lambda step: sched(step), jit_compile=True)
    steps = list(range(0, 45, 1))
    eager = np.array([float(sched(tf.constant(s, tf.int64))) for s in steps[::11]])
    compiled = np.array([float(fn(tf.constant(s, tf.int64))) for s in steps[::11]])
    np.testing.assert_allclose(compiled, eager, rtol=1e-6)
    vec = evaluate(sched, steps, "float32")
    np.testing.assert_allclose(vec[::11], eager, rtol=1e-6)


def test_schedule_drives_a_jit_compiled_fit():
    """The optimizer evaluates the schedule at `iterations` inside the XLA step."""
    sched = S.OneCycle(0.05, 12)
    x = np.random.default_rng(0).normal(size=(48, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")(inputs))
    model.compile(optimizer=keras.optimizers.SGD(sched), loss="mse", jit_compile=True)
    w_before = []
    lrs_seen = []

    def weights():
        # On JAX, fit() holds the state outside the model between steps; a
        # callback that reads weights per batch asks for it back.
        if hasattr(model, "jax_state_sync"):
            model.jax_state_sync()
        return np.array(model.get_weights()[0])

    class Grab(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            w_before.append(weights())

        def on_train_batch_end(self, batch, logs=None):
            lrs_seen.append(weights())

    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=[Grab()])
    # With SGD, delta w = -lr * grad; for a linear model on MSE, the gradient is
    # computable: recover lr per step and compare with the schedule.
    lrs = []
    for k, w in enumerate(w_before):
        xb = x[(k % 6) * 8:(k % 6 + 1) * 8]
        yb = y[(k % 6) * 8:(k % 6 + 1) * 8]
        grad = 2 * xb.T @ (xb @ w - yb) / len(xb)
        delta = lrs_seen[k] - w
        lrs.append(float(-(delta.ravel() @ grad.ravel()) / (grad.ravel() @ grad.ravel())))
    np.testing.assert_allclose(lrs, ref_one_cycle(np.arange(12), 0.05, 12), rtol=1e-3, atol=1e-8)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: S.CyclicalLearningRate(0.1, 0.01, 5), r"maximal_learning_rate=0.01"),
        (lambda: S.CyclicalLearningRate(0.01, 0.1, 0), r"step_size.*Received: step_size=0"),
        (lambda: S.CyclicalLearningRate(0.01, 0.1, -3), r"Received: step_size=-3"),
        (lambda: S.CyclicalLearningRate(-0.01, 0.1, 3), r"Received: initial_learning_rate=-0.01"),
        (lambda: S.CyclicalLearningRate(0.01, 0.1, 3, mode="sine"), r"Received: mode='sine'"),
        (lambda: S.CyclicalLearningRate(0.01, 0.1, 3, scale_mode="epoch"), r"scale_mode='epoch'"),
        (lambda: S.OneCycle(0.1, 100, pct_start=0.0), r"Received: pct_start=0.0"),
        (lambda: S.OneCycle(0.1, 100, pct_start=1.0), r"Received: pct_start=1.0"),
        (lambda: S.OneCycle(0.1, 0), r"Received: total_steps=0"),
        (lambda: S.OneCycle(-0.1, 10), r"Received: maximal_learning_rate=-0.1"),
        (lambda: S.OneCycle(0.1, 10, anneal_strategy="exp"), r"anneal_strategy='exp'"),
        (lambda: S.SGDR(-1.0, 10), r"Received: initial_learning_rate=-1.0"),
        (lambda: S.SGDR(0.1, 0), r"Received: first_decay_steps=0"),
        (lambda: S.SGDR(0.1, 10, t_mul=0.5), r"Received: t_mul=0.5"),
        (lambda: S.SGDR(0.1, 10, warmup_steps=10, warmup_mode="every_restart"), r"warmup_steps=10"),
        (lambda: S.SGDR(0.1, 10, warmup_mode="sometimes"), r"warmup_mode='sometimes'"),
        (lambda: S.Warmup(0.1, 0), r"Received: warmup_steps=0"),
        (lambda: S.SequentialSchedule([0.1, 0.2], boundaries=None), r"Received: boundaries=None"),
        (lambda: S.milestone_decay(0.1, 10, 5, milestones=0.5), r"Received: milestones=0.5"),
        (lambda: S.SGDR(0.1, first_decay_steps=1e-300), r"Received: first_decay_steps=1e-300"),
        (lambda: S.SGDR(1e39, 10), r"Received: initial_learning_rate=1e\+?39"),
        (lambda: S.CyclicalLearningRate(0.1, 1, step_size=1e-300), r"Received: step_size=1e-300"),
        (lambda: S.OneCycle(0.1, 10, div_factor=1e-300), r"Received: div_factor=1e-300"),
        (lambda: S.OneCycle(0.1, 10, final_div_factor=1e-300, div_factor=1e-30),
         r"Received: final_div_factor=1e-300"),
        (lambda: S.CyclicalLearningRate(0.1, "1", 4), r"Received: maximal_learning_rate='1'"),
        (lambda: S.CyclicalLearningRate(0.1, 1, 4, scale_fn=3), r"Received: scale_fn=3"),
        (lambda: S.OneCycle.from_pytorch(0.1), r"total_steps"),
        (lambda: S.OneCycle.from_pytorch(0.1, epochs=3, steps_per_epoch=0), r"steps_per_epoch=0"),
        (lambda: S.SGDR.from_pytorch(lr=0.1, T_0=5, eta_min=0.2), r"Received: eta_min=0.2"),
        (lambda: S.Warmup(0.1, float("inf")), r"Received: warmup_steps=inf"),
        (lambda: S.Warmup(-0.1, 5), r"schedule=-0.1"),
        (lambda: S.Warmup(0.1, 5, shape="exponential"), r"initial_learning_rate=0.0"),
        (lambda: S.Warmup(0.1, 5, shape="step"), r"shape='step'"),
    ],
)
def test_bad_input(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ---------------------------------------------------------------- plotting


def test_plot_schedule_draws_the_values(tmp_path):
    from kerastools.plotting import save_figure
    from kerastools.plotting.schedules import plot_schedule

    sched = S.OneCycle(0.1, 50)
    fig = plot_schedule({"one-cycle": sched, "constant": 0.05,
                         "keras step": keras.optimizers.schedules.PiecewiseConstantDecay([20], [0.1, 0.01])},
                        60, momentum=sched.momentum_schedule(), steps_per_epoch=10)
    lines = fig.axes[0].get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), ref_one_cycle(np.arange(60), 0.1, 50), rtol=2e-5)
    np.testing.assert_allclose(lines[0].get_xdata(), np.arange(60) / 10)
    np.testing.assert_allclose(lines[2].get_ydata(), np.where(np.arange(60) <= 20, 0.1, 0.01))
    assert fig.axes[0].get_xlabel() == "epoch"
    save_figure(fig, tmp_path / "s.png")
    assert (tmp_path / "s.png").stat().st_size > 1000


def test_training_resumed_from_a_saved_model_follows_the_schedule(tmp_path):
    from harness import assert_resume_matches

    x = np.random.default_rng(1).normal(size=(64, 4)).astype("float32")
    y = (x[:, :1] - x[:, 1:2]).astype("float32")

    def build():
        sched = S.SequentialSchedule(
            [S.Warmup(S.SGDR(0.05, 6, t_mul=2.0, m_mul=0.8), 3),
             S.CyclicalLearningRate(0.001, 0.02, 4, mode="triangular2")], [20])
        inputs = keras.Input((4,))
        outputs = keras.layers.Dense(1)(keras.layers.Dense(8, activation="tanh")(inputs))
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.SGD(sched, momentum=0.9), loss="mse")
        return model

    assert_resume_matches(build, x, y, tmp_path, epochs_before=2, epochs_after=2, batch_size=8)
