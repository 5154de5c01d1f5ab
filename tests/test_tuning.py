"""Keras Tuner integration: search spaces, HyperModel, resumable and distributed search."""

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import keras
import keras_tuner
import numpy as np
import pytest
from harness import assert_model_round_trip

from kerastools import optimizers
from kerastools import tuning

EXAMPLE = str(pathlib.Path(__file__).parent.parent / "examples" / "tuning.py")


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, n).astype("uint8")
    return x, y


def _hp(**values):
    hp = keras_tuner.HyperParameters()
    for name, value in values.items():
        hp.Fixed(name, value)
    return hp


@pytest.mark.parametrize("bad, match", [
    (dict(optimizers=["adam", "lion"]), r"optimizers.*unknown: \['lion'\]"),
    (dict(optimizers=[]), r"optimizers.*at least one"),
    (dict(schedules=["cosine_forever"]), r"schedules.*cosine_forever"),
    (dict(schedules=[]), r"schedules.*at least one"),
    (dict(regularizers=["l3"]), r"regularizers.*l3"),
    (dict(kind="rnn"), r"kind.*rnn"),
    (dict(batch_sizes=()), r"batch_sizes"),
    (dict(epochs=0), r"epochs=0"),
    (dict(learning_rate_range=(1e-2, 1e-3)), r"learning_rate_range=\(0.01, 0.001\)"),
    (dict(learning_rate_range=("3e-4",)), r"learning_rate_range=\('3e-4',\)"),
])
def test_bad_choices_fail_before_any_trial(bad, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        tuner = keras_tuner.RandomSearch(
            tuning.FashionMNISTHyperModel(**bad), objective="val_accuracy", max_trials=1,
            directory=str(tmp_path))
        tuner.search(*_data(32), epochs=1)  # never reached
    assert not list(tmp_path.rglob("trial.json"))


def test_choose_functions_reject_bad_lists():
    hp = keras_tuner.HyperParameters()
    with pytest.raises(ValueError, match=r"choices.*\[\]"):
        tuning.choose_optimizer(hp, [])
    with pytest.raises(ValueError, match="adamw"):
        tuning.choose_optimizer(hp, ["adamw"])
    with pytest.raises(ValueError, match="twice"):
        tuning.choose_regularizer(hp, "r", ["l1", "l1"])
    with pytest.raises(ValueError, match="steps_per_epoch=0"):
        tuning.choose_schedule(hp, 1e-3, 5, 0)


def test_learning_rate_range_overrides_every_preset_range():
    for name in ("adam", "sgd", "adadelta"):
        hp = keras_tuner.HyperParameters()
        tuning.choose_optimizer(hp, [name], learning_rate_range=("3e-4", 1e-2))
        config = hp.get_config()["space"]
        (lr,) = [c["config"] for c in config if c["config"]["name"] == f"{name}_learning_rate"]
        assert (lr["min_value"], lr["max_value"], lr["sampling"]) == (3e-4, 1e-2, "log")
    with pytest.raises(ValueError, match=r"learning_rate_range=\(0, 1\)"):
        tuning.choose_optimizer(keras_tuner.HyperParameters(), ["adam"], learning_rate_range=(0, 1))


def test_regularizer_choices():
    hp = keras_tuner.HyperParameters()
    assert tuning.choose_regularizer(hp, "r0", ["none"]) is None
    assert isinstance(tuning.choose_regularizer(hp, "r1", ["l1"]), keras.regularizers.L1)
    assert isinstance(tuning.choose_regularizer(hp, "r2", ["l2"]), keras.regularizers.L2)
    r = tuning.choose_regularizer(hp, "r3", ["l1l2"])
    assert isinstance(r, keras.regularizers.L1L2) and r.l1 > 0 and r.l2 > 0


@pytest.mark.parametrize("kind, values", [
    ("mlp", dict(optimizer="butterworth", schedule="one_cycle", layers=2,
                 model_kernel_regularizer="l1l2", model_bias_regularizer="l2")),
    ("mlp", dict(optimizer="nadam", schedule="cyclical", layers=1)),
    ("cnn", dict(optimizer="nesterov", schedule="sgdr", conv_blocks=2, batch_norm=True,
                 model_kernel_regularizer="l2")),
    ("cnn", dict(optimizer="adadelta", schedule="step", conv_blocks=1, batch_norm=False)),
])
def test_trial_models_train_save_and_reload(kind, values, tmp_path):
    hypermodel = tuning.FashionMNISTHyperModel(kind, epochs=2, train_samples=64,
                                               batch_sizes=(32,), max_layers=2)
    hp = _hp(**values)
    model = hypermodel.build(hp)
    x, y = _data(64)
    history = hypermodel.fit(hp, model, x, y, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    loaded = assert_model_round_trip(model, x[:8], tmp_path)
    assert type(loaded.optimizer) is type(model.optimizer)
    loaded.fit(x, y, epochs=1, batch_size=32, verbose=0)  # training goes on after reload


def test_per_layer_regularization_names():
    hypermodel = tuning.FashionMNISTHyperModel("mlp", per_layer_regularization=True,
                                               regularizers=["l2"], max_layers=2)
    hp = _hp(layers=2)
    model = hypermodel.build(hp)
    assert {"hidden_0_kernel_regularizer_l2", "hidden_1_bias_regularizer_l2"} <= set(hp.values)
    assert model.get_layer("hidden_1").kernel_regularizer is not None


@pytest.mark.parametrize("tuner_cls", ["RandomSearch", "BayesianOptimization", "Hyperband"])
def test_tuners_run(tuner_cls, tmp_path):
    hypermodel = tuning.FashionMNISTHyperModel("mlp", epochs=1, train_samples=115,
                                               batch_sizes=(64,), max_layers=1)
    kwargs = dict(objective="val_accuracy", directory=str(tmp_path), seed=1)
    if tuner_cls == "Hyperband":
        tuner = keras_tuner.Hyperband(hypermodel, max_epochs=2, factor=3, hyperband_iterations=1,
                                      **kwargs)
    else:
        tuner = getattr(keras_tuner, tuner_cls)(hypermodel, max_trials=2, **kwargs)
    x, y = _data(128)
    tuner.search(x, y, validation_split=0.1, verbose=0)
    trials = tuner.oracle.get_best_trials(10)
    assert len(trials) >= 2 and all(t.score is not None for t in trials)
    best = tuner.get_best_models(1)[0]
    assert best.predict(x[:4], verbose=0).shape == (4, 10)


def _run_example(args, env=None, **kw):
    cmd = [sys.executable, EXAMPLE, *args]
    full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
    return subprocess.Popen(cmd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, **kw)


def _trial_states(directory):
    states = {}
    for path in pathlib.Path(directory).rglob("trial.json"):
        trial = json.loads(path.read_text())
        states[trial["trial_id"]] = (trial["status"], trial.get("score"))
    return states


@pytest.mark.slow
def test_interrupted_search_resumes_without_losing_trials(tmp_path, fashion_dir):
    directory = str(tmp_path / "tuner")
    args = ["--quick", "--tuner", "random", "--max-trials", "3", "--out", str(tmp_path),
            "--directory", directory, "--data-dir", fashion_dir, "--train-size", "500",
            "--optimizers", "adam,sgd", "--schedules", "constant"]
    proc = _run_example(args)
    deadline = time.time() + 240
    while time.time() < deadline:  # kill it as soon as one trial has finished
        if any(s == "COMPLETED" for s, _ in _trial_states(directory).values()):
            break
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {k: v for k, v in _trial_states(directory).items() if v[0] == "COMPLETED"}
    assert 1 <= len(before) < 3

    resumed = _run_example(args)
    output, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, output
    after = _trial_states(directory)
    completed = {k: v for k, v in after.items() if v[0] == "COMPLETED"}
    assert len(completed) == 3, after
    for trial_id, state in before.items():
        assert completed[trial_id] == state  # finished trials are kept, not re-run


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_distributed_search_chief_and_two_workers(tmp_path, fashion_dir):
    directory = str(tmp_path / "tuner")
    port = str(_free_port())
    args = ["--quick", "--tuner", "random", "--max-trials", "4", "--out", str(tmp_path),
            "--directory", directory, "--data-dir", fashion_dir, "--train-size", "500",
            "--optimizers", "adam,rmsprop", "--schedules", "constant,one_cycle"]
    env = {"KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": port}
    chief = _run_example(args, env={**env, "KERASTUNER_TUNER_ID": "chief"})
    time.sleep(3)
    workers = [_run_example(args, env={**env, "KERASTUNER_TUNER_ID": f"tuner{i}"})
               for i in range(2)]
    try:
        outputs = [w.communicate(timeout=400)[0] for w in workers]
        for w, out in zip(workers, outputs):
            assert w.returncode == 0, out
        chief_out, _ = chief.communicate(timeout=120)
        assert chief.returncode == 0, chief_out
    finally:
        for p in [chief, *workers]:
            if p.poll() is None:
                p.kill()
    states = _trial_states(directory)
    completed = [s for s, _ in states.values() if s == "COMPLETED"]
    assert len(completed) == 4, states
    results = json.loads(next(tmp_path.glob("*/results.json")).read_text())
    assert results["trials"] == 4 and 0 < results["test_accuracy"] <= 1


def test_regularizer_strengths_shared_between_choices():
    # "l2" and "l1l2" use the same `<name>_l2` hyperparameter: both must find it
    # active, whichever was drawn first (a search crashed on this once).
    hp = keras_tuner.HyperParameters()
    hp.Choice("r", ["none", "l1", "l2", "l1l2"])
    for kind in ("l2", "l1l2", "l1", "none", "l2"):
        hp.values["r"] = kind
        reg = tuning.choose_regularizer(hp, "r")
        if kind == "none":
            assert reg is None
        else:
            assert (getattr(reg, "l2", 0) > 0) == (kind in ("l2", "l1l2"))
            assert (getattr(reg, "l1", 0) > 0) == (kind in ("l1", "l1l2"))


# What each choice must build, against an independent construction: every
# optimizer choice equals its Keras built-in (or, for Butterworth, SciPy's
# Butterworth design filtering lr * g) step for step on a small quadratic; every
# schedule choice is its kerastools class and equals a NumPy transcription of
# the documented formula at steps across the run. A choice mapped to the wrong
# component (``nesterov`` to plain momentum, ``sgdr`` to one-cycle, ``rmsprop``
# to ``adadelta``, ...) fails here.

_CURVATURE = np.array([0.5, 1.0, 2.0, 0.1, 4.0])
_W0 = np.array([1.0, -2.0, 0.5, 3.0, -0.25])


def _trajectory(optimizer, steps=6):
    """The weights after each of ``steps`` steps on ``0.5 * sum(c * w**2)``."""
    w = keras.Variable(_W0.astype("float32"))
    out = []
    for _ in range(steps):
        g = _CURVATURE * keras.ops.convert_to_numpy(w)
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g.astype("float32")), w)])
        out.append(keras.ops.convert_to_numpy(w).astype("float64"))
    return np.array(out)


def _butterworth_trajectory(lr, order, cutoff, steps=6):
    """``w -= B(lr * g)`` with ``B`` SciPy's Butterworth low-pass (unit DC gain), in NumPy."""
    from scipy.signal import butter

    b, a = butter(order, 2.0 * cutoff)  # SciPy's cutoff is relative to Nyquist (0.5)
    w = _W0.copy()
    xs, ys, out = [], [], []
    for n in range(steps):
        xs.append(lr * _CURVATURE * w)
        y = sum(b[i] * xs[n - i] for i in range(len(b)) if n - i >= 0)
        y = y - sum(a[i] * ys[n - i] for i in range(1, len(a)) if n - i >= 0)
        ys.append(y)
        w = w - y
        out.append(w.copy())
    return np.array(out)


_OPTIMIZER_CASES = {
    "sgd": (dict(sgd_learning_rate=0.1), lambda v: keras.optimizers.SGD(0.1)),
    "momentum": (dict(momentum_learning_rate=0.05, momentum_momentum=0.9),
                 lambda v: keras.optimizers.SGD(0.05, momentum=0.9)),
    "nesterov": (dict(nesterov_learning_rate=0.05, nesterov_momentum=0.9),
                 lambda v: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True)),
    "adagrad": (dict(adagrad_learning_rate=0.1), lambda v: keras.optimizers.Adagrad(0.1)),
    "adadelta": (dict(adadelta_learning_rate=1.0, adadelta_rho=0.85),
                 lambda v: keras.optimizers.Adadelta(1.0, rho=0.85)),
    "rmsprop": (dict(rmsprop_learning_rate=0.01, rmsprop_rho=0.85),
                lambda v: keras.optimizers.RMSprop(0.01, rho=0.85)),
    "adam": (dict(adam_learning_rate=0.01, adam_beta_1=0.85, adam_beta_2=0.99),
             lambda v: keras.optimizers.Adam(0.01, beta_1=0.85, beta_2=0.99)),
    "nadam": (dict(nadam_learning_rate=0.01, nadam_beta_1=0.85, nadam_beta_2=0.99),
              lambda v: keras.optimizers.Nadam(0.01, beta_1=0.85, beta_2=0.99)),
    "butterworth": (dict(butterworth_learning_rate=0.05, butterworth_order=3,
                         butterworth_cutoff=0.1), None),
}


@pytest.mark.parametrize("name", tuning.OPTIMIZERS)
def test_every_optimizer_choice_steps_like_its_reference(name):
    values, expected = _OPTIMIZER_CASES[name]
    hp = keras_tuner.HyperParameters()
    hp.values.update(optimizer=name, **values)
    opt = tuning.choose_optimizer(hp)  # every choice offered, this one drawn
    assert isinstance(opt, optimizers.FilterOptimizer)
    assert {k: hp.values[k] for k in values} == values  # the drawn values were used
    got = _trajectory(opt)
    if expected is None:
        want = _butterworth_trajectory(0.05, 3, 0.1)
    else:
        want = _trajectory(expected(values))
    assert np.max(np.abs(want - _W0)) > 1e-3  # the reference moved
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)


def _smith_triangle(t, low, high, step_size, mode):
    cycle = np.floor(1 + t / (2 * step_size))
    x = np.abs(t / step_size - 2 * cycle + 1)
    scale = 1.0 if mode == "triangular" else 1.0 / 2.0 ** (cycle - 1)
    return low + (high - low) * np.maximum(0.0, 1 - x) * scale


def _sgdr(t, lr, first, t_mul):
    start, length = 0.0, float(first)
    while t >= start + length:
        start, length = start + length, length * t_mul
    return 0.5 * lr * (1 + np.cos(np.pi * (t - start) / length))


def _one_cycle(t, peak, total, pct):
    initial = peak / 25.0
    final = initial / 1e4
    e0, e1 = pct * total - 1, total - 1
    t = min(t, e1)
    if t <= e0:
        start, end, frac = initial, peak, t / e0
    else:
        start, end, frac = peak, final, (t - e0) / (e1 - e0)
    return end + (start - end) / 2 * (1 + np.cos(np.pi * frac))


_LR, _EPOCHS, _SPE = 0.1, 6, 5  # 30 steps
_SCHEDULE_CASES = [
    ("constant", {}, None, lambda t: _LR),
    ("step", {}, "PiecewiseConstantDecay",
     lambda t: _LR * 0.2 ** ((t >= 15) + (t >= 22))),  # drops at round(0.5 * 30), round(0.75 * 30)
    ("exponential", dict(schedule_decay_rate=0.85), "ExponentialDecay",
     lambda t: _LR * 0.85 ** np.floor(t / _SPE)),
    ("cyclical", dict(cyclical_epochs_per_half_cycle=2, cyclical_mode="triangular"),
     "CyclicalLearningRate", lambda t: _smith_triangle(t, _LR / 10, _LR, 10, "triangular")),
    ("cyclical", dict(cyclical_epochs_per_half_cycle=1, cyclical_mode="triangular2"),
     "CyclicalLearningRate", lambda t: _smith_triangle(t, _LR / 10, _LR, 5, "triangular2")),
    ("sgdr", dict(sgdr_first_cycle_epochs=1, sgdr_t_mul=2.0), "SGDR",
     lambda t: _sgdr(t, _LR, 5, 2.0)),
    ("sgdr", dict(sgdr_first_cycle_epochs=2, sgdr_t_mul=1.0), "SGDR",
     lambda t: _sgdr(t, _LR, 10, 1.0)),
    ("one_cycle", dict(one_cycle_pct_start=0.4), "OneCycle",
     lambda t: _one_cycle(t, _LR, 30, 0.4)),
]
_STEPS = [0, 1, 3, 4, 5, 6, 9, 10, 11, 14, 15, 16, 21, 22, 23, 28, 29, 30, 34]


def test_every_schedule_choice_follows_its_formula():
    assert set(_OPTIMIZER_CASES) == set(tuning.OPTIMIZERS)
    assert {case[0] for case in _SCHEDULE_CASES} == set(tuning.SCHEDULES)
    for i, (name, values, cls, formula) in enumerate(_SCHEDULE_CASES):
        what = f"case {i}: {name} {values}"
        hp = keras_tuner.HyperParameters()
        hp.values.update(schedule=name, **values)
        sched = tuning.choose_schedule(hp, _LR, epochs=_EPOCHS, steps_per_epoch=_SPE)
        assert {k: hp.values[k] for k in values} == values, what
        if cls is None:
            assert sched == _LR, what
            continue
        assert type(sched).__name__ == cls, f"{what}: built {type(sched).__name__}"
        got = np.array([float(sched(s)) for s in _STEPS])
        want = np.array([formula(float(s)) for s in _STEPS])
        assert np.ptp(want) > 0.01 * _LR, what  # the formula varies over the steps checked
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-9, err_msg=what)
