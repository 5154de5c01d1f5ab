"""Every example runs end to end in quick mode (a data subset, 1-2 epochs) and its figures clear floors.

The floors are far below what the quick runs reach and far above what a run
that does not learn gives (a learning rate of 0 leaves a 10-class softmax at
chance, accuracy about 0.1 and loss about ln 10), so a broken optimizer,
schedule or data pipeline fails here rather than only in a full run.
"""

import json
import math
import pathlib
import runpy
import sys

import numpy as np
import pytest

EXAMPLES = sorted(
    p for p in (pathlib.Path(__file__).parent.parent / "examples").glob("*.py")
    if not p.name.startswith("_")
)
CHANCE = 0.1
HISTORY_KEYS = {"loss", "accuracy", "val_loss", "val_accuracy"}


def _learned(what, accuracy, floor, loss=None):
    """Accuracy at least ``floor`` (well above chance); a loss below uniform guessing."""
    assert floor > 1.4 * CHANCE
    assert floor <= accuracy <= 1.0, f"{what}: accuracy {accuracy:.4f} below the floor {floor}"
    if loss is not None:
        assert math.isfinite(loss) and loss < 0.8 * math.log(10), f"{what}: loss {loss:.4f}"


def _evaluated(what, r, floor, keys=HISTORY_KEYS):
    """A ``_common.evaluate`` record: test figures and the History keys."""
    _learned(what, r["test_accuracy"], floor, r["test_loss"])
    assert set(keys) <= set(r["history_keys"]), f"{what}: History keys {r['history_keys']}"


def _schedule_varies(what, low_high, constant=None):
    low, high = low_high
    assert 0 < low <= high, f"{what}: learning rates {low_high}"
    if constant is None:
        assert high > 1.05 * low, f"{what}: the learning rate did not change ({low_high})"
    else:
        assert low == pytest.approx(constant) and high == pytest.approx(constant)


def check_baseline(r, run):
    _evaluated("baseline", r, 0.6)
    h = json.loads((run / "history.json").read_text())
    assert HISTORY_KEYS | {"learning_rate", "weight_norm/hidden/kernel", "weight_norm/output/bias"} \
        <= set(h)
    assert h["learning_rate"] == pytest.approx([1e-3] * r["epochs"])
    assert h["loss"][-1] < h["loss"][0]
    assert h["weight_norm/hidden/kernel"][-1] != h["weight_norm/hidden/kernel"][0]


def check_batch_norm(r, run):
    assert set(r["runs"]) == {"no BN, dropout 0", "Keras BN, dropout 0", "debiased BN, dropout 0"}
    for label, rec in r["runs"].items():
        _evaluated(label, rec, 0.6)
    gap = r["early_gap"]  # debiased statistics are right from the first steps
    assert gap["debiased BN"]["inference_loss"] < gap["Keras BN"]["inference_loss"]


def check_cnn(r, run):
    # One epoch on 1800 images: batch norm's moving statistics (momentum 0.99) have
    # seen 29 steps, so inference lags; the training accuracy shows the learning.
    _learned("cnn", r["test_accuracy"], 0.15)
    assert HISTORY_KEYS | {"learning_rate"} <= set(r["history_keys"]), r["history_keys"]
    assert r["final_accuracy"] >= 0.3, r["final_accuracy"]
    low, high = r["learning_rate_range"]  # one-cycle: up to 3e-3, then far down
    _schedule_varies("cnn one-cycle", (low, high))
    assert high <= 3e-3 * (1 + 1e-6) and high > 10 * low


def check_early_stopping(r, run):
    _evaluated("early stopping", r, 0.6)
    _learned("checkpoint", r["checkpoint_test_accuracy"], 0.6, r["checkpoint_test_loss"])
    assert 1 <= r["stopped_epoch"] <= r["epochs"]


def check_initializers(r, run):
    tanh = r["tanh6"]
    # The symmetry problem: a constant initialisation keeps one distinct unit per layer.
    assert tanh["constant 0.05"]["distinct_hidden_units_after_training"] == [1] * 6
    # 0.001 * rand: the activations shrink layer after layer; LSUV keeps them spread.
    small = tanh["0.001 * rand"]["activation_std"]
    assert small[-1] < 1e-2 * small[0]
    assert min(tanh["LSUV"]["activation_std"]) > 0.3
    _learned("tanh6 LSUV", tanh["LSUV"]["test_accuracy"], 0.5, tanh["LSUV"]["test_loss"])
    mlp = r["mlp200"]  # LSUV learns in one epoch; 0.001 * rand barely starts
    _learned("mlp200 LSUV", mlp["LSUV"]["test_accuracy"], 0.6, mlp["LSUV"]["test_loss"])
    assert mlp["LSUV"]["test_accuracy"] > mlp["0.001 * rand"]["test_accuracy"] + 0.2


def check_lr_schedules(r, run):
    schedules = r["schedules"]
    assert len(schedules) == 6
    # One epoch of 16 steps on a narrow CNN: the schedules that spend it at a low
    # rate (step decay, SGDR) stay near 0.2; the best reaches about 0.65.
    for name, rec in schedules.items():
        _learned(name, rec["best_test_accuracy"], 0.15)
    assert max(rec["best_test_accuracy"] for rec in schedules.values()) >= 0.5
    for name, rec in schedules.items():
        constant = None
        if name == "constant":
            constant = 0.025
        elif name.startswith("exponential") and r["epochs"] == 1:
            constant = 0.05  # decays per epoch: its first drop is after the run
        _schedule_varies(name, rec["learning_rate_range"], constant=constant)


def check_monitors(r, run):
    for name in ("no L2", "L2 1e-3"):
        rec = r[name]
        _learned(name, rec["test_accuracy_best_model"], 0.6, rec["test_loss_best_model"])
        assert 1 <= rec["best_epoch"] <= r["epochs"]
    # Weight evolution: L2 keeps the hidden kernel smaller.
    assert r["L2 1e-3"]["final_weight_norm_hidden_kernel"] < r["no L2"]["final_weight_norm_hidden_kernel"]
    checks = {c["check"]: c for c in r["babysitting"]}
    assert len(checks) >= 3
    failed = [name for name, c in checks.items() if not c["passed"]]
    assert not failed, f"babysitting checks failed: {failed}"
    std = r["tanh W = 0.001 rand"]["activation_std"]
    assert std[-1] < 1e-2 * std[0]


def check_nielsen_function(r, run):
    grid = np.linspace(0, 1, 1001)
    f = 0.2 + 0.4 * grid**2 + 0.3 * grid * np.sin(15 * grid) + 0.05 * np.cos(50 * grid)
    for label, rec in r["runs"].items():  # better than the best constant, f's mean
        assert rec["grid_mse"] < np.var(f), f"{label}: MSE {rec['grid_mse']:.3g}"


def check_optimizers_as_filters(r, run):
    assert set(r["runs"]) == {"momentum", "adam", "butterworth2"}
    for name, rec in r["runs"].items():  # the Butterworth (DC gain 1) is the slow one
        _learned(name, rec["test_accuracy"], 0.3 if name == "butterworth2" else 0.6,
                 rec["test_loss"])


def check_regularization(r, run):
    assert len(r["runs"]) == 4
    for label, rec in r["runs"].items():
        _evaluated(label, rec, 0.6)


def check_tuning(r, run):
    # No accuracy floor: two random trials of one epoch on 1800 images do not learn
    # (the best gets about chance); test_tuning.py checks what each choice builds.
    from kerastools import tuning

    assert r["trials"] == 2 and 0.0 <= r["test_accuracy"] <= 1.0
    assert math.isfinite(r["test_loss"])
    best = r["best_hyperparameters"]
    assert best["optimizer"] in tuning.OPTIMIZERS and best["schedule"] in tuning.SCHEDULES
    assert best["batch_size"] in (64, 128)


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items() if name.startswith("check_")}


def test_every_example_has_floors():
    assert sorted(CHECKS) == sorted(p.stem for p in EXAMPLES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_quick(path, tmp_path, monkeypatch, fashion_dir):
    argv = [str(path), "--quick", "--out", str(tmp_path), "--data-dir", fashion_dir]
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(path), run_name="__main__")
    results = list(tmp_path.glob("*/results.json"))
    assert len(results) == 1, f"{path.name} wrote {len(results)} results.json"
    assert list(tmp_path.glob("*/*.png")), f"{path.name} wrote no figure"
    r = json.loads(results[0].read_text())
    print(json.dumps(r, default=str)[:4000])  # the figures, for a failing floor's report
    assert r["quick"] is True
    CHECKS[path.stem](r, results[0].parent)
