"""Every notebook executes top to bottom in quick mode (KERASTOOLS_QUICK=1) and its figures clear floors.

After the notebook's own cells, the test runs one more cell in the same kernel
(the notebook file is not changed) that prints a JSON summary of what the
notebook computed: every Keras ``History`` (top-level or in a dict), and the
few other figures a notebook leaves (test accuracy, activation statistics, the
fitted curve, tuner scores, the optimizer's learning rate). The floors are far
below what the quick runs reach and far above a run that does not learn (a
learning rate of 0 leaves the softmax at chance, accuracy about 0.1).
"""

import json
import pathlib

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((pathlib.Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
MARK = "KERASTOOLS_SUMMARY "
HISTORY_KEYS = {"loss", "accuracy", "val_loss", "val_accuracy"}

SUMMARY_CELL = r'''
import json as _json
import keras as _keras
import numpy as _np

def _history(h):
    out = {"keys": sorted(h.history)}
    out.update({k: [float(v) for v in h.history[k]] for k in
                ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate") if k in h.history})
    return out

_g = dict(globals())
_summary = {"histories": {}}
for _name, _value in _g.items():
    if isinstance(_value, _keras.callbacks.History):
        _summary["histories"][_name] = _history(_value)
    elif isinstance(_value, dict):
        for _key, _item in _value.items():
            if isinstance(_item, _keras.callbacks.History):
                _summary["histories"][f"{_name}[{_key}]"] = _history(_item)
if "test_acc" in _g:
    _summary["test_accuracy"] = float(test_acc)
if "stats" in _g and "layers" in _g:
    _summary["activation_std"] = {n: [float(s[l]["std"]) for l in layers] for n, s in stats.items()}
if {"pred", "grid", "nielsen"} <= set(_g):
    _summary["nielsen_mse"] = float(_np.mean((pred - nielsen(grid)) ** 2))
    _summary["nielsen_variance"] = float(_np.var(nielsen(grid)))
if "scores" in _g:
    _summary["tuner_scores"] = [float(s) for s in scores]
if "schedule" in _g and "model" in _g:
    _summary["learning_rate_start"] = float(_keras.ops.convert_to_numpy(schedule(0)))
    _summary["learning_rate_now"] = float(_keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    _summary["optimizer_steps"] = int(_keras.ops.convert_to_numpy(model.optimizer.iterations))
print("KERASTOOLS_SUMMARY " + _json.dumps(_summary))
'''


def _learned(what, h, floor=0.6, keys=HISTORY_KEYS, loss_floor=True):
    """A History that learned: its keys, and a final validation accuracy >= ``floor``."""
    assert floor > 0.14  # well above chance (0.1)
    assert set(keys) <= set(h["keys"]), f"{what}: History keys {h['keys']}"
    assert h["val_accuracy"][-1] >= floor, f"{what}: val_accuracy {h['val_accuracy']}"
    if loss_floor:  # below uniform guessing, ln 10
        assert h["val_loss"][-1] < 0.8 * np.log(10), f"{what}: val_loss {h['val_loss']}"


def _histories(s, prefix, count):
    found = {k: v for k, v in s["histories"].items() if k.startswith(prefix)}
    assert len(found) == count, f"{prefix}: {sorted(s['histories'])}"
    return found


def check_01_baseline(s):
    assert s["test_accuracy"] >= 0.6
    _learned("baseline", s["histories"]["history"])


def check_02_regularization(s):
    for prefix, count in (("l2_runs[", 2), ("dropout_runs[", 1), ("combined[", 1)):
        for name, h in _histories(s, prefix, count).items():
            _learned(name, h, keys=HISTORY_KEYS | {"weight_norm/hidden/kernel"})


def check_03_early_stopping(s):
    _learned("early stopping", s["histories"]["history"])


def check_04_optimizers_as_filters(s):
    runs = _histories(s, "runs[", 3)
    for name, h in runs.items():
        _learned(name, h, floor=0.3 if "Butterworth" in name else 0.6)


def check_05_lr_schedules(s):
    runs = _histories(s, "runs[", 2)
    keys = HISTORY_KEYS | {"learning_rate"}
    constant, one_cycle = runs["runs[constant]"], runs["runs[one-cycle]"]
    _learned("constant", constant, keys=keys)
    _learned("one-cycle", one_cycle, keys=keys)
    assert constant["learning_rate"] == pytest.approx([1e-3] * len(constant["learning_rate"]))
    rates = one_cycle["learning_rate"]  # the rate at each epoch's last step
    assert len(rates) >= 2 and min(rates) > 0 and max(rates) > 1.05 * min(rates), rates


def check_06_initializers(s):
    std = s["activation_std"]
    small = std["W = 0.001 rand"]
    assert small[-1] < 1e-2 * small[0], small  # the activations vanish layer after layer
    assert min(std["LSUV"]) > 0.3 and min(std["Xavier"]) > 0.1, std


def check_07_batch_norm(s):
    for name, h in _histories(s, "runs[", 2).items():
        _learned(name, h)


def check_08_cnn(s):
    # One epoch on 1800 images: batch norm's moving statistics have seen 29 steps, so
    # the validation accuracy lags (about 0.23); the training accuracy shows the learning.
    h = s["histories"]["history"]
    _learned("cnn", h, floor=0.15, loss_floor=False)
    assert h["accuracy"][-1] >= 0.3, h
    assert s["optimizer_steps"] > 0
    # One-cycle: the rate after the last step is far below the start (and the peak).
    assert 0 < s["learning_rate_now"] < 0.1 * s["learning_rate_start"], s


def check_09_nielsen_function(s):
    assert s["nielsen_mse"] < s["nielsen_variance"], s  # beats the best constant, f's mean


def check_10_babysitting_and_tuning(s):
    # No accuracy floor: two random trials of one epoch do not learn (best val_accuracy
    # about 0.17); test_tuning.py checks what each choice builds.
    assert len(s["tuner_scores"]) == 2 and all(0.0 <= v <= 1.0 for v in s["tuner_scores"]), s


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items() if name.startswith("check_")}


def run_notebook(path, tmp_path):
    """Executes ``path`` and the summary cell; returns (notebook, summary dict)."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(SUMMARY_CELL))
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    lines = [line for o in nb.cells[-1].get("outputs", []) if o.get("output_type") == "stream"
             for line in o.get("text", "").splitlines() if line.startswith(MARK)]
    assert len(lines) == 1, "the summary cell printed no summary"
    nb.cells.pop()
    return nb, json.loads(lines[0][len(MARK):])


def test_every_notebook_has_floors():
    assert sorted(CHECKS) == sorted(p.stem for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_quick_mode(path, tmp_path, monkeypatch, fashion_dir):
    monkeypatch.setenv("KERASTOOLS_QUICK", "1")
    monkeypatch.setenv("KERASTOOLS_DATA_DIR", fashion_dir)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb, summary = run_notebook(path, tmp_path)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure shown inline"
    print(json.dumps(summary)[:4000])  # the figures, for a failing floor's report
    CHECKS[path.stem](summary)


def test_notebooks_exist():
    assert len(NOTEBOOKS) >= 5
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert any(c.cell_type == "markdown" for c in nb.cells)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "kerastools" in code and "KERASTOOLS_QUICK" in code
