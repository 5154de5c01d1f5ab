"""Keras' logging conventions kept by every monitor (issue 16, item 1).

Every callback that writes epoch values writes the same keys at every epoch (NaN
where it has no fresh measurement), so History stays rectangular and CSVLogger and
TensorBoard keep every column: tested beside each monitor, with every=1 and every>1,
validation_freq>1 and initial_epoch>0. The progress line stays readable by default.
"""

import csv
import glob
import importlib.util
import math
import os

import keras
import numpy as np
import pytest

from kerastools.callbacks import ActivationStats
from kerastools.callbacks import GradientStats
from kerastools.callbacks import LearningRateLogger
from kerastools.callbacks import WeightNormTracker

HAS_TF = importlib.util.find_spec("tensorflow") is not None


def _model():
    inputs = keras.Input(shape=(6,))
    z = keras.layers.Dense(8, activation="tanh", name="hidden")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", name="output")(z)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _data(n=64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)


X, Y = _data()

MONITORS = {
    "weight_norms": lambda every, log_to: WeightNormTracker(norms=("l2", "max"), log_to=log_to),
    "activation_stats": lambda every, log_to: ActivationStats(X[:8], every=every, log_to=log_to),
    "gradient_stats": lambda every, log_to: GradientStats(X[:8], Y[:8], every=every,
                                                          log_to=log_to),
    "lr_logger": lambda every, log_to: LearningRateLogger(log_to=log_to),
}
PREFIXES = ("weight_norm", "activation_", "grad_norm/", "learning_rate")


def _monitor_keys(history):
    return [k for k in history if k.startswith(PREFIXES)]


def _tensorboard_scalars(logdir):
    """``{tag: [step, ...]}`` of the epoch scalars TensorBoard wrote under ``logdir/train``."""
    import tensorflow as tf

    steps = {}
    for path in glob.glob(os.path.join(logdir, "train", "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                steps.setdefault(value.tag, []).append(event.step)
    return steps


@pytest.mark.parametrize("every", [1, 2])
@pytest.mark.parametrize("name", sorted(MONITORS))
def test_csv_logger_and_tensorboard_keep_every_monitor_column(tmp_path, name, every):
    if name in ("weight_norms", "lr_logger") and every > 1:
        pytest.skip("measures at every epoch")
    monitor = MONITORS[name](every, "logs")
    csv_path, logdir = tmp_path / "log.csv", str(tmp_path / "tb")
    callbacks = [monitor, keras.callbacks.CSVLogger(str(csv_path))]
    if HAS_TF:
        callbacks.append(keras.callbacks.TensorBoard(logdir, write_graph=False))
    history = _model().fit(X, Y, epochs=5, initial_epoch=1, batch_size=16, validation_split=0.25,
                           validation_freq=2, verbose=0, callbacks=callbacks).history
    keys = _monitor_keys(history)
    assert keys, sorted(history)
    # History: rectangular for the monitor's keys (4 epochs run: 1, 2, 3, 4).
    assert all(len(history[k]) == len(history["loss"]) == 4 for k in keys)
    if every > 1 and name != "lr_logger":  # measured after epochs 2 and 4 (0-based 1 and 3)
        for k in keys:
            assert [math.isfinite(v) for v in history[k]] == [False, True, False, True], k
    # CSVLogger: a column per key (its columns are fixed at the first epoch), every row.
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == 4 and set(keys) <= set(rows[0])
    for k in keys:
        assert [float(r[k]) for r in rows] == pytest.approx(history[k], nan_ok=True)
    if HAS_TF:
        scalars = _tensorboard_scalars(logdir)
        for k in keys:
            assert scalars.get(f"epoch_{k}") == [1, 2, 3, 4], (k, sorted(scalars))


def test_activation_stats_every_5_keeps_history_rectangular():
    """The README's ActivationStats(every=5): `loss` had 6 values, `activation_mean/h` 2."""
    history = _model().fit(X, Y, epochs=6, verbose=0, validation_split=0.25, callbacks=[
        ActivationStats(X[:8], every=5), GradientStats(X[:8], Y[:8], every=5)]).history
    lengths = {k: len(v) for k, v in history.items()}
    assert set(lengths.values()) == {6}, lengths
    assert [math.isfinite(v) for v in history["activation_mean/hidden"]] == [
        False, False, False, False, True, False]


def test_csv_logger_keeps_activation_statistics_with_every_5(tmp_path):
    """CSVLogger fixes its columns at the first epoch: it silently dropped the statistics."""
    path = tmp_path / "log.csv"
    _model().fit(X, Y, epochs=6, verbose=0, callbacks=[
        ActivationStats(X[:8], every=5, log_to="logs"), keras.callbacks.CSVLogger(str(path))])
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 6 and math.isfinite(float(rows[4]["activation_std/output"]))
    assert math.isnan(float(rows[0]["activation_std/output"]))


def _progress_lines(capsys):
    return [line for line in capsys.readouterr().out.splitlines() if "loss:" in line]


def test_weight_norm_tracker_keeps_progress_line_readable_by_default(capsys):
    """Default log_to="history": History gets every norm, the progress line none."""
    history = _model().fit(X, Y, epochs=2, verbose=2, callbacks=[WeightNormTracker(
        norms=("l2", "l1", "max")), ActivationStats(X[:8])]).history
    lines = _progress_lines(capsys)
    assert len(lines) == 2 and not any("weight_norm" in line or "activation" in line
                                       for line in lines)
    assert len(history["weight_norm/hidden/kernel"]) == len(history["loss"]) == 2
    assert len(_monitor_keys(history)) == 4 * 3 + 2 * 3


def test_progbar_logger_first_keeps_the_line_short_while_csv_gets_every_key(tmp_path, capsys):
    """The documented recipe for log_to="logs": Keras' ProgbarLogger first in the list
    prints each epoch's line before the monitors add their keys."""
    path = tmp_path / "log.csv"
    history = _model().fit(X, Y, epochs=2, verbose=2, callbacks=[
        keras.callbacks.ProgbarLogger(), WeightNormTracker(log_to="logs"),
        keras.callbacks.CSVLogger(str(path))]).history
    lines = _progress_lines(capsys)
    assert len(lines) == 2 and not any("weight_norm" in line for line in lines)
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 2 and float(rows[1]["weight_norm/hidden/kernel"]) > 0
    assert len(history["weight_norm/hidden/kernel"]) == 2


def test_log_to_logs_puts_the_keys_on_the_progress_line(capsys):
    _model().fit(X, Y, epochs=1, verbose=2, callbacks=[WeightNormTracker(log_to="logs")])
    assert "weight_norm/hidden/kernel" in " ".join(_progress_lines(capsys))


def test_initial_records_are_labelled_with_the_first_epoch():
    tracker = WeightNormTracker()
    acts = ActivationStats(X[:8], every=2)
    model = _model()
    model.fit(X, Y, epochs=5, initial_epoch=2, verbose=0, callbacks=[tracker, acts])
    assert tracker.epochs == [2, 3, 4, 5]  # the initial norms, then after epochs 3, 4, 5
    assert all(len(v) == 4 for v in tracker.history.values())
    assert [r["epoch"] for r in acts.stats] == [2, 4]  # measured every 2 epochs of the run


@pytest.mark.parametrize("kwargs", [{"log_to": "csv"}, {"log_to": None}])
def test_bad_log_to(kwargs):
    for make in (lambda: WeightNormTracker(**kwargs), lambda: ActivationStats(X[:8], **kwargs),
                 lambda: GradientStats(X[:8], Y[:8], **kwargs),
                 lambda: LearningRateLogger(**kwargs)):
        with pytest.raises(ValueError, match="Argument `log_to` must be one of"):
            make()


# ------------------------------------------------------ issue 16, item 4: TensorBoard
def _tensorboard_tags(logdir):
    """``{tag: (plugin name, [step, ...])}`` of every summary under ``logdir``."""
    import tensorflow as tf

    tags = {}
    for path in glob.glob(os.path.join(logdir, "**", "events.out.tfevents.*"), recursive=True):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                tags.setdefault(value.tag, (plugin, []))[1].append(event.step)
    return {tag: (plugin, sorted(steps)) for tag, (plugin, steps) in tags.items()}


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.summary: TensorFlow")
def test_tensorboard_gets_histograms_and_figures(tmp_path):
    from kerastools.callbacks import LearningCurves
    from kerastools.callbacks import find_learning_rate

    logdir = str(tmp_path / "tb")
    model = _model()
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[
        ActivationStats(X[:8], tensorboard_dir=logdir),
        GradientStats(X[:8], Y[:8], tensorboard_dir=logdir),
        LearningCurves(str(tmp_path / "c.png"), dpi=30, max_overhead=None, tensorboard_dir=logdir)])
    result = find_learning_rate(model, X, Y, batch_size=8, num_steps=16, verbose=0)
    result.to_tensorboard(logdir)
    tags = _tensorboard_tags(logdir)
    assert tags["activations/hidden"] == ("histograms", [0, 1, 2])
    assert tags["gradients/hidden/kernel"] == ("histograms", [0, 1, 2])
    assert tags["learning_curves"] == ("images", [1, 2])
    assert tags["lr_finder"] == ("images", [0])


@pytest.mark.skipif(keras.backend.backend() == "tensorflow", reason="the other backends")
def test_tensorboard_dir_off_tensorflow_says_what_to_use():
    from kerastools.callbacks import LearningCurves

    for make in (lambda: ActivationStats(X[:8], tensorboard_dir="tb"),
                 lambda: GradientStats(X[:8], Y[:8], tensorboard_dir="tb"),
                 lambda: LearningCurves(tensorboard_dir="tb")):
        with pytest.raises(ValueError, match="needs the TensorFlow backend.*CSVLogger"):
            make()
