"""Learning curves drawn while a model trains: a PNG file, live in a notebook."""

import os
import time

import keras
import numpy as np

from kerastools._checks import check_in_range
from kerastools._checks import check_positive_int
from kerastools._io import check_writable_file
from kerastools._io import write_bytes_atomic
from kerastools.callbacks.tensorboard_images import check_tensorboard_dir
from kerastools.callbacks.tensorboard_images import write_summaries
from kerastools.filters import ARMAFilter
from kerastools.monitoring.losses import per_batch_losses
from kerastools.monitoring.summary import base_metrics
from kerastools.monitoring.summary import metric_summary

FORMATS = ("png", "svg", "pdf")
MAX_BATCH_POINTS = 2000
FIRST_FIGURE_COST = 1.0  # seconds: matplotlib's import and first figure, before one is timed


def in_jupyter():
    """True inside a Jupyter or VS Code notebook (an IPython kernel)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


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
    are recovered from Keras' running epoch means (see
    ``kerastools.monitoring.per_batch_losses``); the work per batch is one
    list append, the smoothing is done once per epoch.

    One figure (``kerastools.plotting.curves.CurvesFigure``, the class that
    ``plot_learning_curves`` draws with) is kept for the run and updated in
    place, on the training thread: no process, thread or open file is left
    behind, however the fit ends. At an epoch end the figure is written to
    ``path`` (PNG, SVG or PDF; the directory is created, the file replaced
    atomically) and, in a notebook (Jupyter, VS Code: an IPython kernel),
    shown and updated in place through one display handle. Drawing costs
    about 0.1-0.3 s, so the figure is refreshed at an epoch end only while
    the time spent drawing stays within ``max_overhead`` of the time trained
    so far (the first figure once its estimated cost, 1 s with matplotlib's
    import, fits); the last state is always drawn at the end of training.
    ``summary()`` gives the text summary (current, min, max of each metric).

    Bad arguments (an unknown metric, a path that cannot be written) raise
    ``ValueError`` at ``on_train_begin``.

    Args:
        path: the figure file (``.png``, ``.svg`` or ``.pdf``), or ``None``
            for no file (a notebook display only). Defaults to
            `"learning_curves.png"`.
        metrics: names of the metrics to draw (without ``val_``). Defaults to
            `None` (every metric logged with a training curve: ``loss``,
            ``accuracy``, ...; keys with ``/`` and ``learning_rate`` are left
            out).
        dpi: resolution of the raster file. Defaults to `100`.
        live: show and update the figure in the notebook. Defaults to `None`
            (inside a notebook only).
        smoothing: the EMA decay ``p`` in ``[0, 1)`` of the per-batch loss
            curve (``0``: raw losses); ``None`` draws no per-batch curve and
            records nothing per batch. Defaults to `0.98`.
        log_scale: log y axes where every value is positive. Defaults to
            `False`.
        mark_best: mark the best epoch. Defaults to `True`.
        title: figure title. Defaults to `None`.
        max_overhead: the largest fraction of the training time spent
            drawing, in ``(0, 1]``; ``None`` draws at every epoch end.
            Defaults to `0.02`.
        tensorboard_dir: also write each figure drawn as an image
            (``learning_curves``, step = the epoch) to this TensorBoard log
            directory (TensorFlow backend only; elsewhere a ``ValueError``
            saying what to use). Defaults to `None`.

    Example:

    >>> curves = LearningCurves("runs/curves.png", metrics=["loss", "accuracy"])
    >>> # model.fit(x, y, validation_split=0.1, epochs=40, callbacks=[curves])
    >>> # print(curves.summary())
    """

    # on_train_batch_end only appends (batch, loss) pairs; they are sorted by
    # batch index at epoch end, so asynchronous dispatch is safe.
    async_safe = True

    def __init__(self, path="learning_curves.png", metrics=None, dpi=100, live=None,
                 smoothing=0.98, log_scale=False, mark_best=True, title=None,
                 max_overhead=0.02, tensorboard_dir=None):
        super().__init__()
        if path is not None:
            if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
                raise ValueError(f"Argument `path` must be a file path or None. Received: path={path!r}")
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
        if live is not None and not isinstance(live, bool):
            raise ValueError(f"Argument `live` must be True, False or None. Received: live={live!r}")
        self.live = live
        if smoothing is not None:
            smoothing = check_in_range("smoothing", smoothing, 0.0, 1.0)
        self.smoothing = smoothing
        self.log_scale = bool(log_scale)
        self.mark_best = bool(mark_best)
        if title is not None and not isinstance(title, str):
            raise ValueError(f"Argument `title` must be a string or None. Received: title={title!r}")
        self.title = title
        if max_overhead is not None:
            max_overhead = check_in_range("max_overhead", max_overhead, 0.0, 1.0,
                                          low_closed=False, high_closed=True)
        self.max_overhead = max_overhead
        self.tensorboard_dir = check_tensorboard_dir("tensorboard_dir", tensorboard_dir)
        self.history = {}
        self.epochs = []
        self.batch_x = np.zeros(0)
        self.batch_loss = np.zeros(0)
        self.batch_smoothed = np.zeros(0)
        self.figures_drawn = 0
        self.drawing_seconds = 0.0
        self._batch = []
        self._handle = None
        self._figure, self._figure_key = None, None

    @property
    def batch_label(self):
        """The legend entry of the per-batch curve."""
        return f"loss per batch (EMA {self.smoothing:g})" if self.smoothing else "loss per batch"

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

    # --------------------------------------------------------------- training
    def on_train_begin(self, logs=None):
        if self.path is not None:
            check_writable_file("path", self.path)
        self._check_metrics()
        self._live = in_jupyter() if self.live is None else self.live
        if self._live:
            try:
                from IPython import display  # noqa: F401
            except ImportError:
                raise ValueError(
                    "Argument `live` needs IPython (pip install ipython). Received: live=True"
                ) from None
        self.history = {}
        self.epochs = []
        self.batch_x = np.zeros(0)
        self.batch_loss = np.zeros(0)
        self.batch_smoothed = np.zeros(0)
        self.figures_drawn = 0
        self.drawing_seconds = 0.0
        self._batch = []
        self._raw_state = 0.0
        self._n_batches = 0
        self._filter = None
        if self.smoothing is not None:
            self._filter = ARMAFilter.ema(self.smoothing, transient_compensation=False)
        self._started = time.perf_counter()
        self._last_cost = FIRST_FIGURE_COST
        self._stale = False

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
        return base_metrics(self.history)

    def _batch_curve(self):
        if self._filter is None or not len(self.batch_x):
            return None
        stride = max(1, int(np.ceil(len(self.batch_x) / MAX_BATCH_POINTS)))
        idx = np.arange(len(self.batch_x) - 1, -1, -stride)[::-1]
        return self.batch_x[idx], self.batch_smoothed[idx]

    def _draw(self):
        """Updates the run's one figure and writes/shows it."""
        start = time.perf_counter()
        from kerastools.plotting.curves import CurvesFigure

        names = self._names()
        key = (tuple(names), self.title, self.batch_label)
        if self._figure is None or self._figure_key != key:
            self._close_figure()
            self._figure, self._figure_key = CurvesFigure(names, self.title, self.batch_label), key
        self._figure.update(self.history, epochs=self.epochs, batch_loss=self._batch_curve(),
                            log_scale=self.log_scale, mark_best=self.mark_best)
        png = None
        if self.path is not None:
            if self.path.lower().endswith(".png"):
                png = self._figure.png_bytes(self.dpi)
                write_bytes_atomic(self.path, png)
            else:
                self._figure.save(self.path, dpi=self.dpi)
        if self._live or self.tensorboard_dir is not None:
            png = png if png is not None else self._figure.png_bytes(self.dpi)
        if self._live:
            self._show(png)
        if self.tensorboard_dir is not None:
            write_summaries(self.tensorboard_dir, self.epochs[-1] if self.epochs else 0,
                            images={"learning_curves": png})
        self._stale = False
        self.figures_drawn += 1
        self._last_cost = time.perf_counter() - start
        self.drawing_seconds += self._last_cost

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

    def _within_budget(self):
        if self.max_overhead is None:
            return True
        elapsed = time.perf_counter() - self._started
        return self.drawing_seconds + self._last_cost <= self.max_overhead * elapsed

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        n = len(self.epochs)
        for key, value in logs.items():
            try:
                value = float(value)
            except (TypeError, ValueError):
                continue
            values = self.history.setdefault(key, [])
            values.extend([float("nan")] * (n - len(values)))  # a key that appears late
            values.append(value)
        for values in self.history.values():  # keys missing this epoch (validation_freq)
            values.extend([float("nan")] * (n + 1 - len(values)))
        self.epochs.append(epoch + 1)
        if self._filter is not None:
            self._smooth_epoch(epoch)
        self._stale = True
        if self.history and self._within_budget():
            self._draw()

    def on_train_end(self, logs=None):
        try:
            if self._filter is not None and self._batch:
                # a stopped, partial epoch
                self._smooth_epoch(self.epochs[-1] if self.epochs else 0)
                self._stale = True
            if self.history and self._stale:
                self._draw()
        finally:
            self._close_figure()

    def summary(self, metrics=None):
        """The text summary of the run so far: current, min and max of each metric
        (``kerastools.monitoring.metric_summary``)."""
        return metric_summary(self.history, self.metrics if metrics is None else metrics)

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
            "max_overhead": self.max_overhead,
            "tensorboard_dir": self.tensorboard_dir,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("background", None)  # configs of versions with a render process
        return cls(**config)
