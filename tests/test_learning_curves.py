"""LearningCurves: per-batch losses, the filter core's smoothing, files, errors, memory."""

import gc
import os

import keras
import numpy as np
import pytest
from matplotlib.figure import Figure

from kerastools.callbacks import LearningCurves
from kerastools.callbacks import learning_curves as lc_module
from kerastools.filters import ARMAFilter


def _model():
    inputs = keras.Input(shape=(6,))
    z = keras.layers.Dense(8, activation="tanh", name="hidden")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", name="output")(z)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.2), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _data(n=128):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)


class _BatchLoss(keras.callbacks.Callback):
    """The loss of each batch before its update, computed independently."""

    def __init__(self, x, y, batch_size):
        super().__init__()
        self.x, self.y, self.bs, self.losses = x, y, batch_size, []

    def on_train_batch_begin(self, batch, logs=None):
        xb = self.x[batch * self.bs:(batch + 1) * self.bs]
        yb = self.y[batch * self.bs:(batch + 1) * self.bs]
        p = np.asarray(keras.ops.convert_to_numpy(self.model(xb, training=False)), dtype=np.float64)
        self.losses.append(float(np.mean(-np.log(p[np.arange(len(yb)), yb]))))


def test_per_batch_losses_and_smoothing_match_references(tmp_path):
    x, y = _data(128)
    model = _model()
    ref = _BatchLoss(x, y, 16)
    curves = LearningCurves(str(tmp_path / "c.png"), smoothing=0.9, dpi=30)
    model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0, callbacks=[ref, curves])
    assert len(curves.batch_loss) == 24
    np.testing.assert_allclose(curves.batch_loss, ref.losses, rtol=2e-5, atol=2e-6)
    # the whole-run compensated EMA of the filter core, computed in one go
    expected = ARMAFilter.ema(0.9, transient_compensation=True).apply(curves.batch_loss)
    np.testing.assert_allclose(curves.batch_smoothed, expected, rtol=1e-12)
    assert curves.batch_smoothed[0] == pytest.approx(curves.batch_loss[0])  # no pull to zero
    np.testing.assert_allclose(curves.batch_x[:8], (np.arange(8) + 1) / 8)
    assert curves.batch_x[-1] == pytest.approx(3.0)


def test_per_batch_losses_with_steps_per_execution():
    counts, losses = lc_module.per_batch_losses([1, 3, 5], [2.0, 3.0, 3.0])
    # batches 0-1 mean 2 (total 4), 0-3 mean 3 (total 12), 0-5 mean 3 (total 18)
    np.testing.assert_allclose(counts, [2, 4, 6])
    np.testing.assert_allclose(losses, [2.0, 4.0, 3.0])


class _FileWatcher(keras.callbacks.Callback):
    def __init__(self, path):
        super().__init__()
        self.path, self.seen = path, []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(os.path.getsize(self.path) if os.path.exists(self.path) else 0)


def test_png_every_epoch_inline_without_validation(tmp_path):
    path = tmp_path / "new" / "dir" / "curves.png"
    x, y = _data(64)
    curves = LearningCurves(str(path), dpi=30, log_scale=True, max_overhead=None)
    watch = _FileWatcher(str(path))
    _model().fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[curves, watch])
    assert all(size > 0 for size in watch.seen) and len(watch.seen) == 3
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in path.parent.iterdir()] == ["curves.png"]  # no temporary left
    assert len(curves.history["loss"]) == 3 and "val_loss" not in curves.history


def test_live_mode_updates_one_display(tmp_path, monkeypatch):
    calls = []

    class Handle:
        def update(self, obj):
            calls.append(("update", obj))

    from IPython import display as ipd

    def fake_display(obj, display_id=None):
        calls.append(("display", obj))
        return Handle()

    monkeypatch.setattr(ipd, "display", fake_display)
    x, y = _data(64)
    path = tmp_path / "c.png"
    _model().fit(x, y, epochs=3, verbose=0,
                 callbacks=[LearningCurves(str(path), live=True, dpi=30, max_overhead=None)])
    # one display, updated at each later epoch end; nothing new to draw at train end
    assert [c[0] for c in calls] == ["display", "update", "update"]
    assert calls[0][1].data[:4] == b"\x89PNG" and path.exists()


def _matplotlib_objects():
    gc.collect()
    return sum(str(getattr(type(o), "__module__", "")).startswith("matplotlib.")
               for o in gc.get_objects())


def _rss_kb():
    with open(f"/proc/{os.getpid()}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))


@pytest.mark.slow
def test_no_figure_or_memory_growth_over_200_epochs(tmp_path):
    """200 epochs drawn in this process: no Figure survives, memory is flat.

    A first 200-epoch run fills matplotlib's bounded font and text caches (each new
    tick label adds a few cached FontPath/FontProperties/Path objects), so that the
    object count of the measured run compares like with like."""
    def start():
        c = LearningCurves(str(tmp_path / "c.png"), metrics=["loss"], dpi=10, smoothing=0.9,
                           max_overhead=None)  # draw at every epoch
        c.set_model(_model())
        c.set_params({"steps": 4, "epochs": 200})
        c.on_train_begin()
        return c

    def epoch(e):
        for b in range(4):
            curves.on_train_batch_end(b, {"loss": 1.0 / (e + 1)})
        curves.on_epoch_end(e, {"loss": 1.0 / (e + 1), "val_loss": 1.2 / (e + 1)})

    curves = start()
    for e in range(200):
        epoch(e)
    curves.on_train_end()
    curves = start()
    for e in range(20):
        epoch(e)
    objects, rss = _matplotlib_objects(), _rss_kb()
    for e in range(20, 200):
        epoch(e)
    curves.on_train_end()
    assert _matplotlib_objects() <= objects
    assert sum(isinstance(o, Figure) for o in gc.get_objects()) == 0
    assert _rss_kb() - rss < 30_000  # kB; a leaked figure per epoch would be ~180 figures
    assert len(curves.history["loss"]) == 200


@pytest.mark.parametrize("kwargs, match", [
    (dict(path="curves.txt"), "path"),
    (dict(path=""), "path"),
    (dict(metrics="loss"), "metrics"),
    (dict(metrics=[]), "metrics"),
    (dict(dpi=0), "dpi"),
    (dict(smoothing=1.0), "smoothing"),
    (dict(smoothing=-0.1), "smoothing"),
    (dict(live="yes"), "live"),
])
def test_bad_arguments_at_construction(kwargs, match):
    with pytest.raises(ValueError, match=f"Argument `{match}`"):
        LearningCurves(**kwargs)


class _CountBatches(keras.callbacks.Callback):
    n = 0

    def on_train_batch_end(self, batch, logs=None):
        _CountBatches.n += 1


@pytest.mark.parametrize("metrics, match", [
    (["loss", "acuracy"], "names 'acuracy'"),
    (["val_loss"], "without `val_`"),
])
def test_unknown_metric_fails_at_train_begin(tmp_path, metrics, match):
    x, y = _data(32)
    _CountBatches.n = 0
    with pytest.raises(ValueError, match=match):
        _model().fit(x, y, epochs=40, verbose=0, callbacks=[
            _CountBatches(), LearningCurves(str(tmp_path / "c.png"), metrics=metrics)])
    assert _CountBatches.n == 0


def test_unwritable_path_fails_at_train_begin(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    x, y = _data(32)
    with pytest.raises(ValueError, match="Argument `path` must be a writable"):
        _model().fit(x, y, epochs=40, verbose=0,
                     callbacks=[LearningCurves(str(blocker / "sub" / "c.png"))])


def test_figure_is_reused_and_redrawn(tmp_path):
    from kerastools.plotting.curves import CurvesFigure

    fig = CurvesFigure(["loss", "accuracy"])
    batch = ([0.5, 1.0, 1.5, 2.0], [1.2, 1.0, 0.7, 0.5])
    fig.update({"loss": [1.0, 0.5], "val_loss": [1.1, 0.9], "accuracy": [0.5, 0.7]},
               batch_loss=batch)
    fig.update({"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.9, 1.0], "accuracy": [0.5, 0.7, 0.8]},
               batch_loss=batch)
    ax, batch, train, val, vline, best = fig.panels["loss"]
    np.testing.assert_allclose(train.get_ydata(), [1.0, 0.5, 0.4])
    np.testing.assert_allclose(val.get_ydata(), [1.1, 0.9, 1.0])
    assert list(best.get_xdata()) == [2] and "best val_loss: epoch 2" in best.get_label()
    np.testing.assert_allclose(batch.get_ydata(), [1.2, 1.0, 0.7, 0.5])
    ax, _, train, val, _, best = fig.panels["accuracy"]
    assert len(val.get_xdata()) == 0 and list(best.get_xdata()) == [3]  # no val: best of train
    assert fig.save(tmp_path / "c.png")
    fig.close()


def test_plot_learning_curves_panels_best_and_batch_curve():
    from kerastools.plotting import plot_learning_curves

    h = {"accuracy": [0.5, 0.8, 0.7], "val_accuracy": [0.4, 0.6, 0.5], "loss": [1.0, 0.6, 0.5],
         "val_loss": [1.1, 0.7, 0.9], "weight_norm/hidden/kernel": [1, 2, 3], "learning_rate": [1, 1, 1]}
    fig = plot_learning_curves(h, batch_loss=([0.5, 1.0, 2.0], [1.2, 1.0, 0.6]))
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]  # loss first, no "/" keys
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels[0].startswith("loss per batch") and "best val_loss: epoch 2, 0.7" in labels
    assert "best val_accuracy: epoch 2, 0.6" in [line.get_label() for line in fig.axes[1].get_lines()]
    with pytest.raises(ValueError, match="Argument `metrics` names 'mae'"):
        plot_learning_curves(h, metrics=["mae"])


def test_resumed_training_and_validation_freq_keep_epochs_aligned(tmp_path):
    x, y = _data(64)
    curves = LearningCurves(str(tmp_path / "c.png"), dpi=30)
    _model().fit(x, y, epochs=4, initial_epoch=1, batch_size=16, validation_split=0.25,
                 validation_freq=2, verbose=0, callbacks=[curves])
    assert curves.epochs == [2, 3, 4]
    val = curves.history["val_loss"]
    assert np.isfinite(val[0]) and np.isnan(val[1]) and np.isfinite(val[2])
    assert curves.batch_x[0] > 1.0 and curves.batch_x[-1] == pytest.approx(4.0)
    from kerastools.plotting import plot_learning_curves

    fig = plot_learning_curves(curves)  # the callback itself: its epochs and batch curve
    ax = fig.axes[0]
    batch, train, val = ax.get_lines()[:3]
    assert list(train.get_xdata()) == [2, 3, 4] and len(batch.get_xdata()) == len(curves.batch_x)
    assert all(float(t).is_integer() for t in ax.get_xticks())  # integer epoch ticks


# ------------------------------------------------- issue 16, item 3: simple and cheap
def _open_resources():
    """Threads, child processes and open file descriptors of this process.

    Keras' own pool for asynchronous batch callbacks (``ThreadPoolExecutor-*`` workers, on
    JAX) is left out: Keras shuts it down in ``on_train_end``, which it skips when a callback
    raises, with or without LearningCurves (a fit with no callback at all leaves it too).
    """
    import threading

    fds = set(os.listdir(f"/proc/{os.getpid()}/fd"))
    children = set()
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        with open(f"/proc/{os.getpid()}/task/{task}/children") as f:
            children |= set(f.read().split())
    threads = {t.ident for t in threading.enumerate()
               if not t.name.startswith("ThreadPoolExecutor-")}
    return threads, children, fds


class _Stop(keras.callbacks.Callback):
    def __init__(self, exc):
        super().__init__()
        self.exc = exc

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise self.exc


@pytest.mark.parametrize("ending", ["normal", "exception", "keyboard_interrupt"])
def test_learning_curves_leaves_no_process_thread_or_file_after_fit(tmp_path, ending):
    x, y = _data(64)
    model = _model()
    # A first run loads what stays for the process: Keras' threads, the backend's compiled
    # steps, matplotlib's font cache (it keeps the font file open once a figure is drawn).
    model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[
        LearningCurves(str(tmp_path / "warm.png"), dpi=30, max_overhead=None)])
    (tmp_path / "warm.png").unlink()
    threads, children, fds = _open_resources()
    curves = LearningCurves(str(tmp_path / "c.png"), dpi=30, max_overhead=None)
    callbacks = [curves] + ([] if ending == "normal" else [
        _Stop(RuntimeError("stop") if ending == "exception" else KeyboardInterrupt())])
    try:
        model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=callbacks)
    except (RuntimeError, KeyboardInterrupt):
        assert ending != "normal"
    new_threads, new_children, new_fds = _open_resources()
    assert new_children <= children and new_threads <= threads and new_fds <= fds
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["c.png"]  # no temporary file left


def test_learning_curves_drawing_stays_within_its_time_budget(tmp_path):
    x, y = _data(64)
    curves = LearningCurves(str(tmp_path / "c.png"), dpi=30, max_overhead=0.02)
    _model().fit(x, y, epochs=6, batch_size=16, verbose=0, callbacks=[curves])
    # Six short epochs: the budget allows few figures, and the last state is always drawn.
    assert 1 <= curves.figures_drawn < 6
    assert len(curves.history["loss"]) == 6
    every = LearningCurves(str(tmp_path / "d.png"), dpi=30, max_overhead=None)
    _model().fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[every])
    assert every.figures_drawn == 3  # every epoch end; nothing new at train end


def test_learning_curves_text_summary_beside_the_figure(tmp_path):
    x, y = _data(64)
    curves = LearningCurves(str(tmp_path / "c.png"), dpi=30)
    _model().fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                 callbacks=[curves])
    text = curves.summary()
    lines = text.splitlines()
    assert lines[0] == "loss" and "accuracy" in lines
    loss, val = curves.history["loss"], curves.history["val_loss"]
    assert f"(min: {min(loss):8.3f}, max: {max(loss):8.3f}, cur: {loss[-1]:8.3f})" in lines[1]
    assert lines[2].strip().startswith("validation") and f"cur: {val[-1]:8.3f}" in lines[2]
