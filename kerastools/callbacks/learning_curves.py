"""Learning curves drawn while a model trains: a PNG file, live in Jupyter."""

import os
import pickle
import struct
import subprocess
import sys
import tempfile
import threading
import warnings

import keras
import numpy as np

from kerastools._checks import check_in_range
from kerastools._checks import check_positive_int
from kerastools.diagnostics.losses import per_batch_losses
from kerastools.filters import ARMAFilter

# The drawing code, by file path for the render worker, which loads it without Keras.
_CURVES_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "plotting", "curves.py")


def _curves():
    """``kerastools.plotting.curves``, imported on first use: matplotlib is not imported
    by ``import kerastools``, only when a figure is drawn."""
    from kerastools.plotting import curves

    return curves

FORMATS = ("png", "svg", "pdf")
MAX_BATCH_POINTS = 2000
_WORKER_CODE = (
    "import importlib.util, sys\n"
    "spec = importlib.util.spec_from_file_location('_kerastools_curves_worker', sys.argv[1])\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(module)\n"
    "module._worker_main(sys.stdin.buffer, sys.stdout.buffer)\n"
)


def in_jupyter():
    """True inside a Jupyter (IPython kernel) session."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})




class _RenderWorker:
    """A background process that draws and writes the figures.

    Matplotlib spends most of a figure's time in Python; in a separate
    process it does not hold the training thread's interpreter. The worker
    loads ``kerastools/plotting/curves.py`` by file path (matplotlib and
    NumPy only, no Keras). Only the newest pending job is kept: if a figure
    is still being drawn when the next epoch ends, the older job is dropped.
    """

    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER_CODE, _CURVES_FILE],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        self._cond = threading.Condition()
        self._pending = None
        self._busy = False
        self._closing = False
        self.errors = []
        self.broken = False
        self.written = 0
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name="kerastools-learning-curves")
        self._thread.start()

    def submit(self, job):
        with self._cond:
            self._pending = job
            self._cond.notify_all()

    def _loop(self):
        while True:
            with self._cond:
                while self._pending is None and not self._closing:
                    self._cond.wait()
                if self._pending is None:
                    return
                job, self._pending, self._busy = self._pending, None, True
            try:
                data = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
                self.proc.stdin.write(struct.pack("<Q", len(data)) + data)
                self.proc.stdin.flush()
                reply = self.proc.stdout.readline().decode(errors="replace").strip()
                if not reply:
                    raise BrokenPipeError("the render worker exited")
            except (OSError, ValueError) as exc:
                with self._cond:
                    self.broken = True
                    self.errors.append(f"render worker failed: {exc!r}")
                    self._busy = False
                    self._pending = None
                    self._cond.notify_all()
                return
            with self._cond:
                if reply.startswith("ok "):
                    self.written += 1
                else:
                    self.errors.append(reply[len("error "):])
                self._busy = False
                self._cond.notify_all()

    def wait(self, timeout=120.0):
        """Waits until every submitted job is written; False on timeout."""
        with self._cond:
            return self._cond.wait_for(
                lambda: (self._pending is None and not self._busy) or self.broken, timeout)

    def close(self, timeout=30.0):
        self.wait(timeout)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout)
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


@keras.saving.register_keras_serializable(package="kerastools")
class LearningCurves(keras.callbacks.Callback):
    """Draws the learning curves while the model trains.

    One panel per metric: the training curve and its ``val_`` curve against
    epochs, the best epoch marked (minimum of losses and errors, maximum of
    accuracies; of the validation curve, else of the training curve), and, in
    the ``loss`` panel, the per-batch training loss smoothed by the filter
    core's exponential moving average with transient compensation
    (``kerastools.filters.ARMAFilter.ema``):

        s[n] = p s[n-1] + (1 - p) loss[n],   s[-1] = 0
        shown[n] = s[n] / (1 - p^(n+1))

    so the first batches are not pulled towards zero. The per-batch losses
    are recovered from Keras' running epoch means (see ``per_batch_losses``);
    the work per batch is one list append, the smoothing is done once per
    epoch on that epoch's losses.

    The figure is written to ``path`` at every epoch end and at the end of
    training (the directory is created; the file is replaced atomically, so a
    reader never sees half a PNG). Inside Jupyter (an IPython kernel) the
    figure is also shown and updated in place. Elsewhere nothing is shown,
    and by default a background process draws and writes the figure so that
    training does not wait for matplotlib; ``on_train_end`` waits for the
    last figure. One ``matplotlib.figure.Figure`` (no pyplot) is kept for
    the run and updated in place each epoch (``CurvesFigure``), then closed
    at the end of training, so memory does not grow.

    Bad arguments (an unknown metric, a path that cannot be written) raise
    ``ValueError`` at ``on_train_begin``.

    Args:
        path: the figure file (``.png``, ``.svg`` or ``.pdf``). Defaults to
            `"learning_curves.png"`.
        metrics: names of the metrics to draw (without ``val_``). Defaults to
            `None` (every metric logged with a training curve: ``loss``,
            ``accuracy``, ...; keys with ``/`` and ``learning_rate`` are left
            out).
        dpi: resolution of the raster file. Defaults to `100`.
        live: show and update the figure in the notebook. Defaults to `None`
            (inside Jupyter only).
        smoothing: the EMA decay ``p`` in ``[0, 1)`` of the per-batch loss
            curve (``0``: raw losses); ``None`` draws no per-batch curve and
            records nothing per batch. Defaults to `0.98`.
        log_scale: log y axes where every value is positive. Defaults to
            `False`.
        mark_best: mark the best epoch. Defaults to `True`.
        title: figure title. Defaults to `None`.
        background: draw in a background process. Defaults to `None`
            (yes unless ``live``).

    Example:

    >>> curves = LearningCurves("runs/curves.png", metrics=["loss", "accuracy"])
    >>> # model.fit(x, y, validation_split=0.1, epochs=40, callbacks=[curves])
    """

    # on_train_batch_end only appends (batch, loss) pairs; they are sorted by
    # batch index at epoch end, so asynchronous dispatch is safe.
    async_safe = True

    def __init__(self, path="learning_curves.png", metrics=None, dpi=100, live=None,
                 smoothing=0.98, log_scale=False, mark_best=True, title=None,
                 background=None):
        super().__init__()
        if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
            raise ValueError(f"Argument `path` must be a file path. Received: path={path!r}")
        path = os.fspath(path)
        ext = os.path.splitext(path)[1].lstrip(".").lower()
        if ext not in FORMATS:
            raise ValueError(
                f"Argument `path` must end in one of {['.' + f for f in FORMATS]}. "
                f"Received: path={path!r}"
            )
        self.path = path
        if metrics is not None:
            if isinstance(metrics, str) or not all(isinstance(m, str) for m in metrics) \
                    or not metrics:
                raise ValueError(
                    "Argument `metrics` must be a non-empty list of metric names or None. "
                    f"Received: metrics={metrics!r}"
                )
            metrics = list(metrics)
        self.metrics = metrics
        self.dpi = check_positive_int("dpi", dpi)
        for name, value in (("live", live), ("background", background)):
            if value is not None and not isinstance(value, bool):
                raise ValueError(
                    f"Argument `{name}` must be True, False or None. Received: {name}={value!r}")
        self.live = live
        self.background = background
        if smoothing is not None:
            smoothing = check_in_range("smoothing", smoothing, 0.0, 1.0)
        self.smoothing = smoothing
        self.log_scale = bool(log_scale)
        self.mark_best = bool(mark_best)
        if title is not None and not isinstance(title, str):
            raise ValueError(f"Argument `title` must be a string or None. Received: title={title!r}")
        self.title = title
        self.history = {}
        self.epochs = []
        self.batch_x = np.zeros(0)
        self.batch_loss = np.zeros(0)
        self.batch_smoothed = np.zeros(0)
        self._batch = []
        self._worker = None
        self._handle = None
        self._figure, self._figure_key = None, None
        self._epochs_seen = 0

    # ------------------------------------------------------------------ checks
    def _known_metric_names(self):
        """Names the model will log, or None where they cannot be known yet."""
        try:
            return [n for n in self.model.get_metrics_result() if n != "compile_metrics"]
        except Exception:  # metrics are built with the train function
            pass
        config = self.model.get_compile_config() if self.model is not None else {}
        if not config or len(getattr(self.model, "outputs", None) or [None]) != 1:
            return None
        names = ["loss"]
        for key in ("metrics", "weighted_metrics"):
            entries = config.get(key) or []
            if not isinstance(entries, (list, tuple)):
                return None
            for entry in entries:
                if isinstance(entry, str):
                    names.append(entry)
                elif isinstance(entry, dict) and isinstance(entry.get("config"), dict) \
                        and "name" in entry["config"]:
                    names.append(entry["config"]["name"])
                else:
                    return None
        return names

    def _check_metrics(self):
        if self.metrics is None:
            return
        known = self._known_metric_names()
        for name in self.metrics:
            if name.startswith("val_"):
                raise ValueError(
                    f"Argument `metrics` takes names without `val_` (the validation curve is "
                    f"drawn with its training curve). Received: metrics={self.metrics!r}"
                )
            # Names with "/" or learning_rate come from other callbacks: checked at epoch end.
            if known is not None and name not in known and "/" not in name and name != "learning_rate":
                raise ValueError(
                    f"Argument `metrics` names {name!r}, which the model does not compute "
                    f"(it logs {known}). Received: metrics={self.metrics!r}"
                )

    def _check_path(self):
        directory = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
            os.close(fd)
            os.remove(tmp)
        except OSError as exc:
            raise ValueError(
                f"Argument `path` must be a writable file path; {directory!r} cannot be "
                f"written ({exc.strerror or exc}). Received: path={self.path!r}"
            ) from None
        if os.path.isdir(self.path):
            raise ValueError(
                f"Argument `path` must be a file path, not a directory. Received: path={self.path!r}"
            )

    # --------------------------------------------------------------- training
    def on_train_begin(self, logs=None):
        self._check_path()
        self._check_metrics()
        self.history = {}
        self.epochs = []
        self.batch_x = np.zeros(0)
        self.batch_loss = np.zeros(0)
        self.batch_smoothed = np.zeros(0)
        self._batch = []
        self._epochs_seen = 0
        self._raw_state = 0.0
        self._n_batches = 0
        self._filter = None
        if self.smoothing is not None:
            self._filter = ARMAFilter.ema(self.smoothing, transient_compensation=False)
        self._live = in_jupyter() if self.live is None else self.live
        if self._live:
            try:
                from IPython import display  # noqa: F401
            except ImportError:
                raise ValueError(
                    "Argument `live` needs IPython (pip install ipython). Received: live=True"
                ) from None
        use_background = (not self._live) if self.background is None else self.background
        if use_background and self._worker is None:
            try:
                self._worker = _RenderWorker()
            except OSError as exc:
                warnings.warn(f"LearningCurves: no background process ({exc}); drawing inline.",
                              stacklevel=2)
                self._worker = None

    def on_train_batch_end(self, batch, logs=None):
        if logs is not None and self._filter is not None and "loss" in logs:
            self._batch.append((batch, logs["loss"]))

    def _smooth_epoch(self, epoch):
        items = sorted(self._batch)
        self._batch = []
        if not items:
            return
        batches, means = zip(*items)
        counts, losses = per_batch_losses(batches, [float(m) for m in means])
        steps = (self.params or {}).get("steps") or counts[-1]
        p = self.smoothing
        k = np.arange(1, len(losses) + 1, dtype=np.float64)
        # The core's EMA from a zero state, plus the carried state decaying as p^k
        # (linearity), then the transient compensation 1 - p^(n+1) of the whole run.
        raw = self._filter.apply(losses) + self._raw_state * p**k
        self._raw_state = float(raw[-1])
        n = self._n_batches + k
        smoothed = raw / (1.0 - p**n)
        self._n_batches += len(losses)
        self.batch_x = np.concatenate([self.batch_x, epoch + counts / steps])
        self.batch_loss = np.concatenate([self.batch_loss, losses])
        self.batch_smoothed = np.concatenate([self.batch_smoothed, smoothed])

    def _names(self):
        if self.metrics is not None:
            for name in self.metrics:
                if name not in self.history:
                    raise ValueError(
                        f"Argument `metrics` names {name!r}, which is not in the logs "
                        f"({sorted(self.history)}). Received: metrics={self.metrics!r}"
                    )
            return list(self.metrics)
        return _curves().base_metrics(self.history)

    def _job(self, path):
        names = self._names()
        logs = {}
        for name in names:
            logs[name] = list(self.history.get(name, []))
            if "val_" + name in self.history:
                logs["val_" + name] = list(self.history["val_" + name])
        batch = None
        if self._filter is not None and len(self.batch_x):
            stride = max(1, int(np.ceil(len(self.batch_x) / MAX_BATCH_POINTS)))
            idx = np.arange(len(self.batch_x) - 1, -1, -stride)[::-1]
            batch = (self.batch_x[idx].tolist(), self.batch_smoothed[idx].tolist())
        label = f"loss per batch (EMA {self.smoothing:g})" if self.smoothing else "loss per batch"
        return {"logs": logs, "metrics": names, "log_scale": self.log_scale,
                "mark_best": self.mark_best, "title": self.title, "batch_loss": batch,
                "batch_label": label, "dpi": self.dpi, "path": path,
                "epochs": list(self.epochs)}

    def _raise_worker_errors(self):
        if self._worker is not None and self._worker.errors:
            errors, self._worker.errors = list(self._worker.errors), []
            if self._worker.broken:
                warnings.warn(f"LearningCurves: {errors[-1]}; drawing inline from now on.",
                              stacklevel=2)
                self._worker.close(timeout=5)
                self._worker = None
                return
            raise RuntimeError(f"LearningCurves could not write {self.path!r}: {errors[-1]}")

    def _draw(self):
        if not self.history:
            return
        self._raise_worker_errors()
        if self._worker is not None and not self._live:
            self._worker.submit(self._job(self.path))
            return
        job = self._job(self.path)
        figure = self._inline_figure(job)
        figure.update(job)
        if self._live:
            png = figure.png_bytes(self.dpi)
            if self.path.lower().endswith(".png"):
                _curves().write_bytes_atomic(self.path, png)
            else:
                figure.save(self.path, dpi=self.dpi)
            self._show(png)
        else:
            figure.save(self.path, dpi=self.dpi)

    def _inline_figure(self, job):
        """One figure for the whole run, updated in place (closed at train end)."""
        key = (tuple(job["metrics"]), job["title"], job["batch_label"])
        if self._figure is None or self._figure_key != key:
            self._close_figure()
            self._figure = _curves().CurvesFigure(job["metrics"], job["title"], job["batch_label"])
            self._figure_key = key
        return self._figure

    def _close_figure(self):
        if self._figure is not None:
            self._figure.close()
        self._figure, self._figure_key = None, None

    def _show(self, png):
        from IPython import display

        image = display.Image(data=png, format="png")
        if self._handle is None:
            self._handle = display.display(image, display_id=True)
        else:
            self._handle.update(image)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        for key, value in logs.items():
            try:
                value = float(value)
            except (TypeError, ValueError):
                continue
            values = self.history.setdefault(key, [])
            # a key that appears late is padded so every list is indexed by epoch
            values.extend([float("nan")] * (self._epochs_seen - len(values)))
            values.append(value)
        self._epochs_seen += 1
        for values in self.history.values():  # keys missing this epoch (validation_freq)
            values.extend([float("nan")] * (self._epochs_seen - len(values)))
        self.epochs.append(epoch + 1)
        if self._filter is not None:
            self._smooth_epoch(epoch)
        self._draw()

    def on_train_end(self, logs=None):
        try:
            if self._filter is not None and self._batch:
                # a stopped, partial epoch
                self._smooth_epoch(self.epochs[-1] if self.epochs else 0)
            self._draw()
            if self._worker is not None:
                self._worker.wait()
                broken = self._worker.broken
                self._raise_worker_errors()
                if broken and self.history:  # the last figure was lost with the worker
                    self._draw()
        finally:
            self._close_figure()
            if self._worker is not None:
                self._worker.close()
                self._worker = None

    def get_config(self):
        return {
            "path": self.path,
            "metrics": None if self.metrics is None else list(self.metrics),
            "dpi": self.dpi,
            "live": self.live,
            "smoothing": self.smoothing,
            "log_scale": self.log_scale,
            "mark_best": self.mark_best,
            "title": self.title,
            "background": self.background,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

