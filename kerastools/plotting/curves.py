"""Learning curves from a Keras History (or its ``history`` dict).

Figures are made with ``matplotlib.figure.Figure`` directly, not pyplot, so no
global figure is kept alive and nothing depends on a display.
"""

import math
import os
import tempfile

from matplotlib.figure import Figure


def _history_dict(history):
    if hasattr(history, "history"):
        return dict(history.history)
    if isinstance(history, dict):
        return dict(history)
    raise ValueError(
        "Argument `history` must be a keras History or a dict of lists. "
        f"Received: history={type(history).__name__}"
    )


def base_metrics(logs):
    """Names that have a training curve (``loss``, ``accuracy``, ...)."""
    return [
        k
        for k in logs
        if not k.startswith("val_") and "/" not in k and k != "learning_rate"
    ]


def plot_learning_curves(history, metrics=None, log_scale=False, mark_best=True, title=None):
    """One panel per metric, training and ``val_`` curves against epochs.

    Args:
        history: a ``keras.callbacks.History`` or its ``history`` dict.
        metrics: names to plot. Defaults to `None` (every metric with a
            training curve).
        log_scale: a log y axis (for losses). Defaults to `False`.
        mark_best: mark the best validation epoch (minimum for losses,
            maximum otherwise). Defaults to `True`.
        title: figure title. Defaults to `None`.

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    logs = _history_dict(history)
    names = list(metrics) if metrics is not None else base_metrics(logs)
    for name in names:
        if name not in logs:
            raise ValueError(
                f"Argument `metrics` names {name!r}, which is not in the history "
                f"({sorted(logs)}). Received: metrics={names!r}"
            )
    ncols = min(len(names), 2) or 1
    nrows = max(1, math.ceil(len(names) / ncols))
    fig = Figure(figsize=(5.5 * ncols, 3.8 * nrows), layout="constrained")
    for i, name in enumerate(names):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        train = logs[name]
        epochs = range(1, len(train) + 1)
        ax.plot(epochs, train, label=name)
        val = logs.get("val_" + name)
        if val:
            ax.plot(range(1, len(val) + 1), val, label="val_" + name)
            if mark_best:
                lower_is_better = "loss" in name or "error" in name
                best = min(range(len(val)), key=val.__getitem__) if lower_is_better \
                    else max(range(len(val)), key=val.__getitem__)
                ax.axvline(best + 1, color="0.6", linestyle=":", linewidth=1)
                ax.plot([best + 1], [val[best]], "o", color="C1",
                        label=f"best epoch {best + 1}: {val[best]:.4g}")
        if log_scale and all(v > 0 for v in train):
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def save_figure(fig, path, dpi=100):
    """Writes ``fig`` to ``path`` atomically (a temporary file, then rename).

    The directory is created; an interrupted write never leaves a half file.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    suffix = os.path.splitext(path)[1] or ".png"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, dpi=dpi, format=suffix.lstrip("."))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path
