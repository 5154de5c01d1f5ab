"""Learning curves: one figure class that every path draws with.

``plot_learning_curves`` (a History, a dict or a ``LearningCurves`` callback),
the callback's PNG at each epoch and its live notebook display all go through
``CurvesFigure``: built once, then ``update`` replaces the lines' data. Figures
are ``matplotlib.figure.Figure`` objects, not pyplot, so no global figure is kept
alive and nothing depends on a display.
"""

import io
import math
import os

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from kerastools._io import write_atomic
from kerastools.monitoring.summary import base_metrics
from kerastools.monitoring.summary import history_dict

__all__ = ["CurvesFigure", "base_metrics", "best_epoch", "epoch_ticks", "history_dict",
           "lower_is_better", "plot_learning_curves", "save_figure"]

HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "iou", "r2")
PANEL_SIZE = (5.5, 3.6)  # inches per panel


def lower_is_better(name):
    """Losses and errors go down; accuracies, AUC, precision, recall go up."""
    base = name[4:] if name.startswith("val_") else name
    if "loss" in base or "error" in base:
        return True
    return not any(h in base for h in HIGHER_IS_BETTER)


def best_epoch(values, name):
    """0-based index of the best value (first one on ties; NaN never best), or None."""
    values = list(values)
    index = [i for i, v in enumerate(values) if math.isfinite(v)]
    if not index:
        return None
    key = values.__getitem__
    return min(index, key=key) if lower_is_better(name) else max(index, key=key)


def epoch_ticks(ax):
    """Integer ticks on the x (epoch) axis."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _epoch_axis(epochs, n):
    """x values of ``n`` epoch-level points: ``epochs`` (1-based) or 1..n."""
    if epochs is not None and len(epochs) >= n:
        return list(epochs)[:n]
    return list(range(1, n + 1))


def save_figure(fig, path, dpi=100):
    """Writes ``fig`` to ``path`` atomically (a temporary file, then rename).

    The directory is created; an interrupted write never leaves a half file.
    """
    fmt = (os.path.splitext(os.fspath(path))[1] or ".png").lstrip(".")
    return write_atomic(path, lambda f: fig.savefig(f, dpi=dpi, format=fmt), ".png")


class CurvesFigure:
    """A learning-curve figure: one panel per metric, built once, updated in place.

    Each panel holds the training curve, the ``val_`` curve, the best epoch
    (a dotted line and a dot: the minimum of losses and errors, the maximum
    of accuracies; of the validation curve, else of the training curve) and,
    in the ``loss`` panel, an optional per-batch curve. ``update`` replaces
    the lines' data, which skips most of matplotlib's per-figure set-up, so a
    callback keeps one figure for a whole run (memory bounded) and
    ``plot_learning_curves`` uses the same code once. A fixed layout (no
    constrained layout, which costs more than the drawing).

    Args:
        metrics: the metric names (without ``val_``), one panel each.
        title: figure title. Defaults to `None`.
        batch_label: the legend entry of the per-batch curve. Defaults to
            `"loss per batch"`.
    """

    def __init__(self, metrics, title=None, batch_label="loss per batch"):
        self.metrics = list(metrics)
        ncols = min(len(self.metrics), 2) or 1
        nrows = max(1, math.ceil(len(self.metrics) / ncols))
        extra = 0.3 if title else 0.0
        self.fig = Figure(figsize=(PANEL_SIZE[0] * ncols, PANEL_SIZE[1] * nrows + extra))
        self.fig.subplots_adjust(left=0.08 if ncols == 2 else 0.14, right=0.98, wspace=0.28,
                                 hspace=0.4, bottom=0.14 / nrows,
                                 top=1 - (0.1 if title else 0.05) / nrows)
        if title:
            self.fig.suptitle(title)
        self.panels = {}
        for i, name in enumerate(self.metrics):
            ax = self.fig.add_subplot(nrows, ncols, i + 1)
            batch = ax.plot([], [], color="0.55", linewidth=0.8, label=batch_label)[0] \
                if name == "loss" else None
            train = ax.plot([], [], "-", color="C0", marker=".", label=name)[0]
            val = ax.plot([], [], "-", color="C1", marker=".", label="val_" + name)[0]
            vline = ax.axvline(1, color="0.6", linestyle=":", linewidth=1)
            best = ax.plot([], [], "o", color="C3")[0]
            ax.set_xlabel("epoch")
            ax.set_ylabel(name)
            ax.grid(True, alpha=0.3)
            epoch_ticks(ax)
            self.panels[name] = (ax, batch, train, val, vline, best)

    def update(self, logs, epochs=None, batch_loss=None, log_scale=False, mark_best=True):
        """Draws ``logs`` (``{name: [value per epoch]}``) into the panels.

        Args:
            logs: the values, ``val_`` keys included; NaN points are gaps.
            epochs: the 1-based epoch of each value. Defaults to `None` (1, 2, ...).
            batch_loss: ``(x, y)`` with ``x`` in fractional epochs, drawn in the
                ``loss`` panel. Defaults to `None`.
            log_scale: a log y axis where every value is positive. Defaults to `False`.
            mark_best: mark the best epoch. Defaults to `True`.

        Returns:
            ``self``.
        """
        for name, (ax, batch, train, val, vline, best) in self.panels.items():
            t = [float(v) for v in logs.get(name, [])]
            v = [float(x) for x in logs.get("val_" + name, []) or []]
            train.set_data(_epoch_axis(epochs, len(t)), t)
            val.set_data(_epoch_axis(epochs, len(v)), v)
            handles = [h for h, d in ((train, t), (val, v)) if d]
            values = t + v
            if batch is not None:
                bx, by = batch_loss if batch_loss is not None else ([], [])
                batch.set_data(bx, by)
                if len(bx):
                    handles.insert(0, batch)
                    values = values + [float(b) for b in by]
            curve, curve_name = (v, "val_" + name) if any(map(math.isfinite, v)) else (t, name)
            b = best_epoch(curve, name) if mark_best and curve else None
            if b is not None:
                x_best = _epoch_axis(epochs, len(curve))[b]
                vline.set_xdata([x_best, x_best])
                vline.set_visible(True)
                best.set_data([x_best], [curve[b]])
                best.set_label(f"best {curve_name}: epoch {x_best}, {curve[b]:.4g}")
                handles.append(best)
            else:
                vline.set_visible(False)
                best.set_data([], [])
            finite = [x for x in values if math.isfinite(x)]
            ax.set_yscale("log" if log_scale and finite and min(finite) > 0 else "linear")
            ax.relim()
            ax.autoscale_view()
            ax.legend(handles=handles, fontsize="small",
                      loc="upper right" if lower_is_better(name) else "lower right")
        return self

    def png_bytes(self, dpi=100):
        """The figure as PNG bytes."""
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png", dpi=dpi)
        return buf.getvalue()

    def save(self, path, dpi=100):
        """Writes the figure to ``path`` atomically (format from the extension)."""
        return save_figure(self.fig, path, dpi=dpi)

    def close(self):
        """Releases the figure's artists."""
        self.fig.clear()


def _batch_curve(source):
    """The per-batch smoothed loss of a ``LearningCurves`` callback, or None."""
    x = getattr(source, "batch_x", None)
    y = getattr(source, "batch_smoothed", None)
    if x is None or y is None or not len(x):
        return None
    return list(x), list(y)


def plot_learning_curves(history, metrics=None, log_scale=False, mark_best=True, title=None,
                         batch_loss=None):
    """One panel per metric, training and ``val_`` curves against epochs.

    Args:
        history: a ``keras.callbacks.History``, its ``history`` dict, or a
            ``LearningCurves`` callback (its epochs and per-batch curve too).
        metrics: names to plot. Defaults to `None` (every metric with a
            training curve).
        log_scale: a log y axis (used where every value is positive).
            Defaults to `False`.
        mark_best: mark the best epoch of the validation curve (of the
            training curve when there is no validation): the minimum for
            losses and errors, the maximum for accuracies. Defaults to `True`.
        title: figure title. Defaults to `None`.
        batch_loss: ``(x, y)``, a per-batch (smoothed) training loss with
            ``x`` in fractional epochs, drawn in the ``loss`` panel.
            Defaults to `None` (a ``LearningCurves`` callback's own curve).

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    logs = history_dict(history)
    names = list(metrics) if metrics is not None else base_metrics(logs)
    for name in names:
        if name not in logs:
            raise ValueError(
                f"Argument `metrics` names {name!r}, which is not in the history "
                f"({sorted(logs)}). Received: metrics={names!r}"
            )
    epochs = None
    if isinstance(getattr(history, "epochs", None), list):  # LearningCurves: 1-based
        epochs = history.epochs
    elif isinstance(getattr(history, "epoch", None), list):  # History: 0-based
        epochs = [e + 1 for e in history.epoch]
    if batch_loss is None and not isinstance(history, dict):
        batch_loss = _batch_curve(history)
    label = getattr(history, "batch_label", "loss per batch")
    figure = CurvesFigure(names, title=title, batch_label=label)
    figure.update(logs, epochs=epochs, batch_loss=batch_loss, log_scale=log_scale,
                  mark_best=mark_best)
    return figure.fig
