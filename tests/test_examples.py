"""Every example runs end to end in quick mode (a data subset, 1-2 epochs) and its figures clear floors.

The floors are far below what the quick runs reach and far above what a run
that does not learn gives (a learning rate of 0 leaves a 10-class softmax at
chance, accuracy about 0.1 and loss about ln 10), so a broken optimizer,
schedule or data pipeline fails here rather than only in a full run.

The examples run on the backend of the test process: TensorFlow in `make test`,
JAX and PyTorch in `make test-examples-jax` / `make test-examples-torch`. What an
example cannot do on a backend is in UNSUPPORTED, with the reason.

The notebooks are the same code (tests/scripts/sync_notebooks.py checks it);
tests/test_notebooks.py executes them and applies the same checks to what they write.
"""

import json
import math
import pathlib
import runpy
import sys

import keras
import numpy as np
import pytest

EXAMPLES = sorted(
    p for p in (pathlib.Path(__file__).parent.parent / "examples").glob("*.py")
    if not p.name.startswith("_")
)
CHANCE = 0.1
HISTORY_KEYS = {"loss", "accuracy", "val_loss", "val_accuracy"}

# backend -> example -> why it cannot run there (and what to use instead).
UNSUPPORTED = {"tensorflow": {}, "jax": {}, "torch": {}}


def _learned(what, accuracy, floor, loss=None):
    """Accuracy at least ``floor`` (well above chance); a loss below uniform guessing."""
    assert floor > 1.4 * CHANCE
    assert floor <= accuracy <= 1.0, f"{what}: accuracy {accuracy:.4f} below the floor {floor}"
    if loss is not None:
        assert math.isfinite(loss) and loss < 0.8 * math.log(10), f"{what}: loss {loss:.4f}"


def _evaluated(what, r, floor, keys=HISTORY_KEYS):
    """An ``experiments.evaluate`` record: test figures and the History keys."""
    _learned(what, r["test_accuracy"], floor, r["test_loss"])
    assert set(keys) <= set(r["history_keys"]), f"{what}: History keys {r['history_keys']}"


def _records(r, labels=None):
    """``(label, seed, record)`` of every run of a ``write_results`` file, and its summaries."""
    runs = r["runs"]
    if labels is not None:
        assert set(runs) == set(labels), sorted(runs)
    out = []
    for label, rec in runs.items():
        assert sorted(rec["seeds"]) == sorted(str(s) for s in r["seeds"]), (label, rec["seeds"])
        for key, s in rec["summary"].items():  # the summary is of the per-seed figures
            values = [seed_rec[key] for seed_rec in rec["seeds"].values()]
            assert s["n"] == len(values) and s["mean"] == pytest.approx(np.mean(values)), (label, key)
        out.extend((label, seed, seed_rec) for seed, seed_rec in rec["seeds"].items())
    return out


def _schedule_varies(what, low_high, constant=None):
    low, high = low_high
    assert 0 < low <= high, f"{what}: learning rates {low_high}"
    if constant is None:
        assert high > 1.05 * low, f"{what}: the learning rate did not change ({low_high})"
    else:
        assert low == pytest.approx(constant) and high == pytest.approx(constant)


def check_baseline(r, run):
    ((_, _, rec),) = _records(r, ["baseline"])
    _evaluated("baseline", rec, 0.6)
    h = json.loads((run / "history.json").read_text())
    assert HISTORY_KEYS | {"learning_rate", "weight_norm/hidden/kernel", "weight_norm/output/bias"} <= set(h)
    assert h["learning_rate"] == pytest.approx([1e-3] * rec["epochs"])
    assert h["loss"][-1] < h["loss"][0]
    assert h["weight_norm/hidden/kernel"][-1] != h["weight_norm/hidden/kernel"][0]
    assert r["prediction"]


def check_batch_norm(r, run):
    labels = {"no BN, dropout 0", "Keras BN, dropout 0", "debiased BN, dropout 0",
              "30 steps, Keras BN", "30 steps, debiased BN"}
    for label, _, rec in _records(r, labels):
        if not label.startswith("30 steps"):
            _evaluated(label, rec, 0.6)
    seed = str(r["seeds"][0])  # debiased statistics are right from the first steps
    keras_bn = r["runs"]["30 steps, Keras BN"]["seeds"][seed]
    debiased = r["runs"]["30 steps, debiased BN"]["seeds"][seed]
    assert debiased["inference_loss"] < keras_bn["inference_loss"]


def check_cnn(r, run):
    # One epoch on 1800 images: batch norm's moving statistics (momentum 0.99) have
    # seen 29 steps, so inference lags; the training accuracy shows the learning.
    ((_, _, rec),) = _records(r, ["cnn"])
    _learned("cnn", rec["test_accuracy"], 0.15)
    assert HISTORY_KEYS | {"learning_rate"} <= set(rec["history_keys"]), rec["history_keys"]
    assert rec["final_accuracy"] >= 0.3, rec["final_accuracy"]
    low, high = rec["learning_rate_range"]  # one-cycle: up to 3e-3, then far down
    _schedule_varies("cnn one-cycle", (low, high))
    assert high <= 3e-3 * (1 + 1e-6) and high > 10 * low


def check_early_stopping(r, run):
    ((_, _, rec),) = _records(r, ["early stopping"])
    _evaluated("early stopping", rec, 0.6)
    _learned("checkpoint", rec["checkpoint_test_accuracy"], 0.6, rec["checkpoint_test_loss"])
    assert 1 <= rec["stopped_epoch"] <= rec["epochs"]


def check_initializers(r, run):
    tanh = r["tanh6"]
    # The symmetry problem: a constant initialisation keeps one distinct unit per layer.
    assert tanh["constant 0.05"]["distinct_hidden_units_after_training"] == [1] * 6
    # 0.001 * rand: the activations shrink layer after layer; LSUV keeps them spread.
    small = tanh["0.001 * rand"]["activation_std"]
    assert small[-1] < 1e-2 * small[0]
    assert min(tanh["LSUV"]["activation_std"]) > 0.3
    # Zero kernels: no gradient reaches the hidden kernels.
    assert max(tanh["zeros"]["kernel_gradient_norm_at_init"][:-1]) == 0.0
    assert min(tanh["Xavier (Glorot normal)"]["kernel_gradient_norm_at_init"]) > 0.0
    _learned("tanh6 LSUV", tanh["LSUV"]["test_accuracy"], 0.5, tanh["LSUV"]["test_loss"])
    mlp = r["mlp200"]  # LSUV learns in one epoch; 0.001 * rand barely starts
    _learned("mlp200 LSUV", mlp["LSUV"]["test_accuracy"], 0.6, mlp["LSUV"]["test_loss"])
    assert mlp["LSUV"]["test_accuracy"] > mlp["0.001 * rand"]["test_accuracy"] + 0.2


def check_lr_schedules(r, run):
    records = _records(r)
    assert len(r["runs"]) == 6
    # One epoch of 16 steps on a narrow CNN: the schedules that spend it at a low rate
    # (step decay, SGDR) reach a training accuracy near 0.3, but their batch norm's moving
    # statistics (momentum 0.99) have seen 16 steps, so the test accuracy can stay at chance;
    # the best schedule reaches about 0.65 on the test images.
    for name, _, rec in records:
        _learned(name, rec["final_train_accuracy"], 0.15)
        assert 0.0 <= rec["best_test_accuracy"] <= 1.0
    assert max(rec["best_test_accuracy"] for _, _, rec in records) >= 0.5
    for name, _, rec in records:
        constant = None
        if name == "constant":
            constant = 0.025
        elif name.startswith("exponential") and r["epochs"] == 1:
            constant = 0.05  # decays per epoch: its first drop is after the run
        _schedule_varies(name, rec["learning_rate_range"], constant=constant)
    _learned("fit_one_cycle", r["fit_one_cycle_test_accuracy"], 0.5)
    suggestions = [v for v in r["lr_range_suggestions"].values() if v is not None]
    assert suggestions and all(1e-5 <= v <= 10.0 for v in suggestions), r["lr_range_suggestions"]


def check_monitors(r, run):
    for name in ("no L2", "L2 1e-3"):
        rec = r[name]
        _learned(name, rec["test_accuracy_best_model"], 0.6, rec["test_loss_best_model"])
        assert 1 <= rec["best_epoch"] <= r["epochs"]
    # Weight evolution: L2 keeps the hidden kernel smaller.
    assert r["L2 1e-3"]["final_weight_norm_hidden_kernel"] < r["no L2"]["final_weight_norm_hidden_kernel"]
    checks = {c["check"]: c for c in r["babysitting"]}
    assert len(checks) >= 3
    # The initial-loss check allows ln(10) +- 10%, which the Glorot draw of one seed can miss on
    # raw [0, 1] pixels (JAX, seed 0: 2.64); a broken output layer is far outside +- 25%.
    assert abs(checks["initial loss"]["value"] - math.log(10)) < 0.25 * math.log(10), checks
    failed = [name for name, c in checks.items() if not c["passed"] and name != "initial loss"]
    assert not failed, f"babysitting checks failed: {failed}"
    std = r["tanh W = 0.001 rand"]["activation_std"]
    assert std[-1] < 1e-2 * std[0]


def check_nielsen_function(r, run):
    grid = np.linspace(0, 1, 1001)
    f = 0.2 + 0.4 * grid**2 + 0.3 * grid * np.sin(15 * grid) + 0.05 * np.cos(50 * grid)
    assert r["variance_of_f"] == pytest.approx(np.var(f), rel=1e-4)
    for label, _, rec in _records(r, ["no dropout", "20% dropout"]):  # better than f's mean
        assert rec["grid_mse"] < np.var(f), f"{label}: MSE {rec['grid_mse']:.3g}"


def check_optimizers_as_filters(r, run):
    for name, _, rec in _records(r, ["momentum", "adam", "butterworth2"]):
        # the Butterworth (DC gain 10, like momentum 0.9) ends one quick epoch lower
        _evaluated(name, rec, 0.3 if name == "butterworth2" else 0.6)


def check_regularization(r, run):
    labels = {"L2 0", "L2 0.001", "dropout 0.6", "dropout 0.6 + L2 1e-4 (128)"}
    for label, _, rec in _records(r, labels):
        _evaluated(label, rec, 0.6, keys=HISTORY_KEYS | {"weight_norm/hidden/kernel"})


def check_tuning(r, run):
    # The first trial is the defaults (Adam 1e-3, cosine, 256 units): it learns even on the
    # quick subset (about 0.78); the second is random. test_tuning.py checks each choice.
    from kerastools import tuning

    assert r["trials"] == 2 and 0.0 <= r["test_accuracy"] <= 1.0
    assert r["first_trial_score"] > 0.5, r["first_trial_score"]
    assert math.isfinite(r["test_loss"])
    best = r["best_hyperparameters"]
    assert best["optimizer"] in tuning.OPTIMIZERS and best["schedule"] in tuning.SCHEDULES
    assert best["batch_size"] in (64, 128)


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items() if name.startswith("check_")}


def check_results(stem, out_dir):
    """The one ``results.json`` an example wrote under ``out_dir``, checked; the dict."""
    results = list(pathlib.Path(out_dir).glob("*/results.json"))
    assert len(results) == 1, f"{stem} wrote {len(results)} results.json"
    assert list(pathlib.Path(out_dir).glob("*/*.png")), f"{stem} wrote no figure"
    r = json.loads(results[0].read_text())
    print(json.dumps(r, default=str)[:4000])  # the figures, for a failing floor's report
    assert r["quick"] is True
    CHECKS[stem](r, results[0].parent)
    return r


def test_every_example_has_floors():
    assert sorted(CHECKS) == sorted(p.stem for p in EXAMPLES)


def test_no_example_edits_sys_path():
    for path in EXAMPLES:
        assert "sys.path" not in path.read_text(), f"{path.name} edits sys.path"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_quick(path, tmp_path, monkeypatch, fashion_dir):
    reason = UNSUPPORTED[keras.backend.backend()].get(path.stem)
    if reason:
        pytest.skip(reason)
    argv = [str(path), "--quick", "--out", str(tmp_path), "--data-dir", fashion_dir]
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(path), run_name="__main__")
    check_results(path.stem, tmp_path)
