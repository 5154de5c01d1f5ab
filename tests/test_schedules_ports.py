"""Recipes ported from TF Addons, PyTorch and fastai; float32 accuracy; plateau rule.

References are independent of the implementation: NumPy transcriptions of
fastai's ``SchedCos``/``combine_scheds``/``combined_cos`` and of the papers'
formulas (tests/test_schedules.py), PyTorch's ``ReduceLROnPlateau`` itself
(when torch is installed), and the float64 value of each schedule.
"""

import math
import os

import keras
import numpy as np
import pytest
from harness import assert_resume_matches
from test_schedules import ref_clr_torch
from test_schedules import ref_one_cycle
from test_schedules import ref_sgdr

from kerastools import schedules as S
from kerastools.callbacks import PlateauMonitor
from kerastools.schedules.plateau import find_plateau_schedules
from kerastools.training import fit_one_cycle

X64 = keras.backend.backend() != "jax" or os.environ.get("JAX_ENABLE_X64", "") not in ("", "0")


def evaluate(schedule, steps, dtype):
    return np.asarray(keras.ops.convert_to_numpy(schedule(np.asarray(steps, dtype=dtype))),
                      dtype="float64")


# ------------------------------------------------------------- fastai reference


def sched_cos(start, end, pos):
    """fastai's SchedCos: start + (1 + cos(pi * (1 - pos))) * (end - start) / 2."""
    return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2


def combined_cos(pct, start, middle, end):
    """fastai's combined_cos: combine_scheds([pct, 1 - pct],
    [SchedCos(start, middle), SchedCos(middle, end)])."""
    pcts = [0.0, pct, 1.0]
    scheds = [lambda p: sched_cos(start, middle, p), lambda p: sched_cos(middle, end, p)]

    def f(pos):
        idx = max(i for i, p in enumerate(pcts) if pos >= p)
        if idx == len(pcts) - 1:
            idx -= 1
        return scheds[idx]((pos - pcts[idx]) / (pcts[idx + 1] - pcts[idx]))

    return f


FASTAI_CASES = [(30, 0.25), (17, 0.3), (100, 0.25), (7, 0.5), (9, 0.1)]  # 7.5, 5.1, 25, 3.5, 0.9 steps


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n, pct", FASTAI_CASES)
def test_fastai_one_cycle_matches_combined_cos(n, pct, dtype):
    if dtype == "float64" and not X64:
        pytest.skip("float64 needs JAX_ENABLE_X64=1 on JAX")
    lr_max, div, div_final, moms = 3e-3, 25.0, 1e5, (0.95, 0.85, 0.95)
    lr, mom = S.fastai_one_cycle(lr_max, n, div=div, div_final=div_final, pct_start=pct, moms=moms)
    steps = np.arange(n)
    want_lr = [combined_cos(pct, lr_max / div, lr_max, lr_max / div_final)(i / n) for i in steps]
    want_m = [combined_cos(pct, *moms)(i / n) for i in steps]
    tol = {"rtol": 1e-12, "atol": 1e-18} if dtype == "float64" else {"rtol": 0, "atol": 1e-6 * lr_max}
    np.testing.assert_allclose(evaluate(lr, steps, dtype), want_lr, **tol)
    tol_m = {"rtol": 1e-12} if dtype == "float64" else {"rtol": 0, "atol": 1e-6}
    np.testing.assert_allclose(evaluate(mom, steps, dtype), want_m, **tol_m)
    # Past the end it holds the final value (fastai stops at pos = 1).
    np.testing.assert_allclose(evaluate(lr, [n, n + 5], dtype), lr_max / div_final, rtol=1e-5)


def test_fit_one_cycle_sets_the_rate_and_drives_beta_1():
    x = np.random.default_rng(0).normal(size=(60, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(loss="mse", metrics=["mae"])
    seen = []

    class Grab(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))

    history = fit_one_cycle(model, x, y, epochs=2, lr_max=0.01, batch_size=8, verbose=0,
                            shuffle=False, callbacks=[Grab()])
    n = 2 * 8  # ceil(60 / 8) batches per epoch
    assert set(history.history) == {"loss", "mae"}
    want = [combined_cos(0.25, 0.01 / 25, 0.01, 0.01 / 1e5)(i / n) for i in range(n)]
    np.testing.assert_allclose(seen, want, rtol=1e-5)
    config = model.optimizer.get_config()
    assert config["weight_decay"] == pytest.approx(0.01)
    text = str(config)
    assert "CombinedCosine" in text and "0.85" in text  # beta_1 is the momentum schedule
    # A user optimizer factory receives both schedules (fastai's opt_func).
    got = {}

    def opt_func(lr, mom):
        got["lr"], got["mom"] = lr, mom
        return keras.optimizers.SGD(lr)

    fit_one_cycle(model, x, y, epochs=1, lr_max=0.02, batch_size=20, verbose=0, optimizer=opt_func)
    assert got["lr"].total_steps == 3 and got["mom"].middle == 0.85
    with pytest.raises(ValueError, match="loss"):
        fit_one_cycle(keras.Model(inputs, keras.layers.Dense(1)(inputs)), x, y)


@pytest.mark.parametrize("warmup", [7.5, 0.25, 3])
def test_warmup_any_positive_number_of_steps(warmup):
    inner = S.SGDR(0.1, 10, t_mul=1.0)
    sched = S.Warmup(inner, warmup, shape="cosine")
    steps = np.arange(0, 30)
    want = [0.1 * (1 - math.cos(math.pi * t / warmup)) / 2 if t < warmup
            else ref_sgdr([t - warmup], 0.1, 10)[0] for t in steps]
    dtype = "float64" if X64 else "float32"
    np.testing.assert_allclose(evaluate(sched, steps, dtype), want, rtol=1e-6, atol=1e-12)
    assert S.Warmup.from_config(sched.get_config()).warmup_steps == warmup


# ------------------------------------------------------------- TF Addons inputs


def test_addons_bounds_as_tensors_numpy_scalars_and_variables():
    kinds = [keras.ops.convert_to_tensor(0.001), np.float32(0.001), np.array(0.001),
             keras.Variable(0.001)]
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        kinds.append(tf.constant(0.001))
    steps = np.arange(0, 30)
    for low in kinds:
        sched = S.CyclicalLearningRate(low, keras.ops.convert_to_tensor(0.01), np.int64(5),
                                       scale_fn=lambda x: 1 / 2.0 ** (x - 1))
        want = ref_clr_torch(steps, float(np.float32(0.001)), float(np.float32(0.01)), 5, 5,
                             lambda c, it: 1 / 2 ** (c - 1))
        np.testing.assert_allclose(evaluate(sched, steps, "float32"), want, rtol=2e-6)
        assert isinstance(sched.get_config()["initial_learning_rate"], float)
    with pytest.raises(ValueError, match="initial_learning_rate"):
        S.CyclicalLearningRate(np.ones(3), 0.1, 5)


def test_model_with_a_lambda_scale_fn_trains_and_save_says_how_to_register(tmp_path):
    x = np.random.default_rng(2).normal(size=(32, 3)).astype("float32")
    y = x[:, :1]
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))

    def local_scale(x):
        return 1 / 2.0 ** (x - 1)

    sched = S.CyclicalLearningRate(0.001, 0.05, 2, scale_fn=local_scale)
    model.compile(optimizer=keras.optimizers.SGD(sched), loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    path = tmp_path / "model.keras"
    with pytest.raises(ValueError, match="register_scale_function"):
        model.save(path)
    # Registered under a name, the same schedule saves and loads.
    S.register_scale_function("test_ports_local_scale")(local_scale)
    sched = S.CyclicalLearningRate(0.001, 0.05, 2, scale_fn=local_scale)
    model.compile(optimizer=keras.optimizers.SGD(sched), loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert "test_ports_local_scale" in str(loaded.optimizer.get_config())


# ------------------------------------------------------------- numerics


def _numerics_cases():
    return {
        "clr_exp_range_0.999": S.CyclicalLearningRate(1e-4, 1e-2, 25, mode="exp_range", gamma=0.999),
        "clr_tri2_asym": S.CyclicalLearningRate(1e-3, 1e-1, 7, mode="triangular2", step_size_down=13),
        "clr_fractional": S.CyclicalLearningRate(1e-3, 1e-1, 7.5),
        "clr_momentum": S.CyclicalLearningRate(1e-3, 1e-1, 11).momentum_schedule(),
        "one_cycle": S.OneCycle(0.1, 20_000),
        "one_cycle_3": S.OneCycle(0.1, 997, pct_start=0.37, three_phase=True, anneal_strategy="linear"),
        "one_cycle_momentum": S.OneCycle(0.1, 20_000).momentum_schedule(),
        "sgdr_t1": S.SGDR(0.1, 97, t_mul=1.0, alpha=0.01),
        "sgdr_t2": S.SGDR(0.1, 10, t_mul=2.0, m_mul=0.9, warmup_steps=5, warmup_mode="every_restart"),
        "sgdr_t1.001": S.SGDR(0.1, 3, t_mul=1.001),
        "warmup_exp": S.Warmup(S.SGDR(0.1, 500), 7.5, initial_learning_rate=1e-4, shape="exponential"),
        "sequential": S.SequentialSchedule([S.Warmup(0.1, 30), S.CyclicalLearningRate(0.01, 0.1, 40)],
                                           [30]),
        "combined_cos": S.fastai_one_cycle(1e-3, 20_000)[0],
        "plateau": S.ReduceOnPlateau(S.SGDR(0.1, 50), scale=0.1),
    }


@pytest.mark.skipif(not X64, reason="float64 needs JAX_ENABLE_X64=1 on JAX")
def test_float32_within_1e_6_of_the_peak_of_float64_at_every_step():
    steps = np.arange(0, 20_001)
    worst = {}
    for name, sched in _numerics_cases().items():
        lo = evaluate(sched, steps, "float32")
        hi = evaluate(sched, steps, "float64")
        peak = np.max(np.abs(hi))
        worst[name] = float(np.max(np.abs(lo - hi)) / peak)
    print("worst |float32 - float64| / peak:", {k: f"{v:.2g}" for k, v in worst.items()})
    assert all(v <= 1e-6 for v in worst.values()), worst
    # Each case is a real test: the old float32 gamma**t was 4.3e-6 off.
    old = 1e-4 + (1e-2 - 1e-4) * np.float32(0.999) ** np.float32(903) * 1.0
    assert abs(old - (1e-4 + (1e-2 - 1e-4) * 0.999**903)) / 1e-2 > 1e-6


def test_accepted_extremes_give_finite_rates():
    far = np.array([4000, 4095, 4096, 4097, 5000, 10**5, 10**6, 2**30], dtype="float64")
    sched = S.SGDR(0.1, 1, t_mul=1 + 1e-9)
    got = evaluate(sched, far, "float32")
    assert np.all(np.isfinite(got)) and np.all((got >= 0) & (got <= 0.1 * (1 + 1e-6))), got
    # Beyond the 4096-cycle table the closed form restarts where the cycles do.
    sched = S.SGDR(0.1, 3, t_mul=1.001)
    table_end = float(sched.cycle_boundaries(4096)[-1])
    steps = np.arange(int(table_end) - 5, int(table_end) + 4000, 7)
    dtype = "float64" if X64 else "float32"
    want = ref_sgdr(steps, 0.1, 3, 1.001)
    np.testing.assert_allclose(evaluate(sched, steps, dtype), want, atol=1e-6 if X64 else 1e-3)
    for sched in [S.CyclicalLearningRate(0.1, 1, step_size=1), S.OneCycle(3e38, 10, div_factor=1.0),
                  S.SGDR(3e38, 5), S.CyclicalLearningRate(0.0, 1.0, 1e15, step_size_down=1),
                  S.Warmup(S.SGDR(1.0, 5), 3, initial_learning_rate=1e-30, shape="exponential")]:
        got = evaluate(sched, np.arange(0, 50), "float32")
        assert np.all(np.isfinite(got)), (sched.get_config(), got)


# ------------------------------------------------------------- PyTorch entry points


def test_from_pytorch_defaults_are_pytorchs():
    lr, mom = S.CyclicalLearningRate.from_pytorch(0.001, 0.006)
    assert (lr.step_size, lr.step_size_down, lr.mode, lr.gamma) == (2000, None, "triangular", 1.0)
    assert (mom.base_momentum, mom.max_momentum) == (0.8, 0.9)
    assert S.CyclicalLearningRate.from_pytorch(0.001, 0.006, cycle_momentum=False)[1] is None
    lr, mom = S.OneCycle.from_pytorch(max_lr=0.1, total_steps=100, epochs=3, steps_per_epoch=5)
    assert lr.total_steps == 100  # total_steps wins, as in PyTorch
    assert (lr.pct_start, lr.div_factor, lr.final_div_factor, lr.anneal_strategy, lr.three_phase) == (
        0.3, 25.0, 1e4, "cos", False)
    assert (mom.base_momentum, mom.max_momentum) == (0.85, 0.95)
    lr, none = S.SGDR.from_pytorch(lr=0.1, T_0=10)
    assert none is None and (lr.t_mul, lr.alpha, lr.m_mul) == (1.0, 0.0, 1.0)
    np.testing.assert_allclose(evaluate(S.SGDR.from_pytorch(0.2, 4, 2, eta_min=0.05)[0],
                                        np.arange(40), "float32"),
                               0.05 + (ref_sgdr(np.arange(40), 0.2, 4, 2) * 0.75), rtol=2e-6)
    np.testing.assert_allclose(evaluate(S.OneCycle.from_pytorch(0.1, epochs=5, steps_per_epoch=10)[0],
                                        np.arange(50), "float32"),
                               ref_one_cycle(np.arange(50), 0.1, 50), rtol=2e-5)


# ------------------------------------------------------------- plateau


def test_plateau_rule_equals_pytorchs_reduce_lr_on_plateau():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    metrics = np.concatenate([np.linspace(1, 0.5, 5), 0.5 + rng.uniform(-1e-5, 1e-3, 40),
                              np.linspace(0.5, 0.1, 5), np.full(20, 0.1)])
    for kwargs in [{}, {"patience": 2, "factor": 0.5, "cooldown": 3},
                   {"mode": "max", "threshold_mode": "abs", "threshold": 0.01, "patience": 1},
                   {"patience": 0, "factor": 0.3, "min_scale": 0.01}]:
        values = -metrics if kwargs.get("mode") == "max" else metrics
        param = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([param], lr=1.0)
        torch_kwargs = {("min_lr" if k == "min_scale" else k): v for k, v in kwargs.items()}
        ref = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **torch_kwargs)
        ours = S.ReduceOnPlateau(S.SGDR(0.1, 10), **kwargs)
        want, got = [], []
        for v in values:
            ref.step(float(v))
            want.append(opt.param_groups[0]["lr"])
            ours.update(float(v))
            got.append(ours.scale)
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=str(kwargs))
        assert min(got) < 1.0, kwargs  # the sequence does trigger reductions


def _plateau_model():
    sched = S.ReduceOnPlateau(S.SGDR(0.05, 8, t_mul=1.0), monitor="loss", factor=0.5, patience=0,
                              threshold=0.5)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Dense(8, activation="tanh")(inputs)))
    model.compile(optimizer=keras.optimizers.SGD(sched, momentum=0.9), loss="mse")
    return model


def test_plateau_scale_is_in_graph_saved_and_resumed(tmp_path):
    x = np.random.default_rng(1).normal(size=(64, 4)).astype("float32")
    y = (x[:, :1] - x[:, 1:2]).astype("float32")
    model = _plateau_model()
    model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, callbacks=[PlateauMonitor()])
    (sched,) = find_plateau_schedules(model.optimizer)
    assert sched.scale < 1.0  # threshold 0.5: at most one epoch counts as an improvement
    # The optimizer uses the reduced rate (in the compiled step too: see the resume below).
    step = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    np.testing.assert_allclose(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)),
                               sched.scale * ref_sgdr([step], 0.05, 8)[0], rtol=1e-6)
    model.save(tmp_path / "p.keras")
    loaded = keras.saving.load_model(tmp_path / "p.keras", safe_mode=True)
    (restored,) = find_plateau_schedules(loaded.optimizer)
    assert restored.get_config() == sched.get_config()
    assert_resume_matches(_plateau_model, x, y, tmp_path, epochs_before=2, epochs_after=3,
                          batch_size=16, callbacks=[PlateauMonitor])


def test_plateau_reduction_changes_the_training_step():
    """A reduced scale changes the weights' update on every backend (JAX: retraced)."""
    x = np.ones((8, 4), "float32")
    y = np.zeros((8, 1), "float32")
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1, kernel_initializer="ones", use_bias=False)(inputs))
    sched = S.ReduceOnPlateau(0.01, monitor="loss", mode="max", patience=0, factor=0.5, threshold=0.0)
    model.compile(optimizer=keras.optimizers.SGD(sched), loss="mse")
    deltas = []

    class Delta(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.w = np.array(self.model.get_weights()[0])

        def on_epoch_end(self, epoch, logs=None):
            deltas.append(float(np.abs(np.array(self.model.get_weights()[0]) - self.w).sum()))

    # mode="max" on a falling loss: every epoch after the first is a plateau.
    model.fit(x, y, batch_size=8, epochs=4, verbose=0, callbacks=[Delta(), PlateauMonitor()])
    # Epoch 1 sets `best`; epochs 2, 3, 4 each end with a reduction.
    assert sched.scale == 0.125
    # |dw| = lr * |grad| with a slowly shrinking gradient: the update keeps its size
    # from epoch 1 to 2 (same rate) and halves with the rate after each reduction.
    ratios = np.array(deltas[1:]) / np.array(deltas[:-1])
    assert ratios[0] > 0.8 and np.all((ratios[1:] > 0.4) & (ratios[1:] < 0.55)), deltas
    with pytest.raises(ValueError, match="ReduceOnPlateau"):
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        model.fit(x, y, verbose=0, callbacks=[PlateauMonitor()])
