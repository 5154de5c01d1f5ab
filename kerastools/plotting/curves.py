"""Learning curves from a Keras History (or its ``history`` dict).

Figures are made with ``matplotlib.figure.Figure`` directly, not pyplot, so no
global figure is kept alive and nothing depends on a display.
"""

import io
import math
import os
import tempfile

from matplotlib.figure import Figure


def history_dict(history):
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
    names = [
        k
        for k in logs
        if not k.startswith("val_") and "/" not in k and k != "learning_rate"
    ]
    return sorted(names, key=lambda k: k != "loss")  # loss first, others in log order


HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "iou", "r2")


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


def _epoch_axis(epochs, n):
    """x values of ``n`` epoch-level points: ``epochs`` (1-based) or 1..n."""
    if epochs is not None and len(epochs) >= n:
        return list(epochs)[:n]
    return list(range(1, n + 1))


def draw_learning_curves(fig, logs, names, log_scale=False, mark_best=True, title=None,
                         batch_loss=None, batch_label="loss per batch (EMA)", epochs=None):
    """Draws the learning-curve panels of ``names`` onto ``fig``.

    ``batch_loss``: ``None`` or ``(x, y)`` with ``x`` in (fractional) epochs;
    drawn in the ``loss`` panel as a thin line. ``epochs``: the 1-based
    epoch numbers of the logged values (default 1, 2, ...).
    """
    ncols = min(len(names), 2) or 1
    nrows = max(1, math.ceil(len(names) / ncols))
    for i, name in enumerate(names):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        train = [float(v) for v in logs.get(name, [])]
        val = [float(v) for v in logs.get("val_" + name, []) or []]
        positive = all(v > 0 for v in train + val if math.isfinite(v))
        if batch_loss is not None and name == "loss" and len(batch_loss[0]):
            bx, by = batch_loss
            ax.plot(bx, by, color="0.55", linewidth=0.8, label=batch_label)
            positive = positive and bool(min(by) > 0)
        if train:
            ax.plot(_epoch_axis(epochs, len(train)), train, "-", color="C0", marker=".",
                    label=name)
        if val:
            ax.plot(_epoch_axis(epochs, len(val)), val, "-", color="C1", marker=".",
                    label="val_" + name)
        curve, curve_name = (val, "val_" + name) if val else (train, name)
        best = best_epoch(curve, name) if mark_best and curve else None
        if best is not None:
            x_best = _epoch_axis(epochs, len(curve))[best]
            ax.axvline(x_best, color="0.6", linestyle=":", linewidth=1)
            ax.plot([x_best], [curve[best]], "o", color="C3",
                    label=f"best {curve_name}: epoch {x_best}, {curve[best]:.4g}")
        if log_scale and positive:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small", loc="upper right" if lower_is_better(name) else "lower right")
    if title:
        fig.suptitle(title)
    return fig


def plot_learning_curves(history, metrics=None, log_scale=False, mark_best=True, title=None,
                         batch_loss=None):
    """One panel per metric, training and ``val_`` curves against epochs.

    Args:
        history: a ``keras.callbacks.History`` or its ``history`` dict.
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
            Defaults to `None`.

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
    ncols = min(len(names), 2) or 1
    nrows = max(1, math.ceil(len(names) / ncols))
    fig = Figure(figsize=(5.5 * ncols, 3.8 * nrows), layout="constrained")
    return draw_learning_curves(fig, logs, names, log_scale=log_scale, mark_best=mark_best,
                                title=title, batch_loss=batch_loss)


def render_learning_curves(job):
    """Draws a learning-curve figure from a plain ``job`` dict and writes it.

    The keys: ``logs`` (dict of lists), ``metrics`` (names), ``log_scale``,
    ``mark_best``, ``title``, ``batch_loss`` (``None`` or ``(x, y)``),
    ``dpi`` and ``path`` (``None``: return the PNG bytes instead). Uses a
    fixed layout (cheaper than constrained layout) and clears the figure.
    This module imports only matplotlib and NumPy, so a worker process can
    load it by file path without Keras (see ``LearningCurves``).
    """
    names = list(job["metrics"])
    ncols = min(len(names), 2) or 1
    nrows = max(1, math.ceil(len(names) / ncols))
    fig = Figure(figsize=(5.5 * ncols, 3.6 * nrows + (0.3 if job.get("title") else 0)))
    fig.subplots_adjust(left=0.08 if ncols == 2 else 0.14, right=0.98, wspace=0.28,
                        hspace=0.4, bottom=0.14 / nrows,
                        top=1 - (0.1 if job.get("title") else 0.05) / nrows)
    try:
        draw_learning_curves(fig, job["logs"], names, log_scale=job.get("log_scale", False),
                             mark_best=job.get("mark_best", True), title=job.get("title"),
                             batch_loss=job.get("batch_loss"),
                             batch_label=job.get("batch_label", "loss per batch (EMA)"),
                             epochs=job.get("epochs"))
        if job.get("path") is None:
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=job.get("dpi", 100))
            return buf.getvalue()
        return save_figure(fig, job["path"], dpi=job.get("dpi", 100))
    finally:
        fig.clear()


class CurvesFigure:
    """A learning-curve figure kept between epochs: each ``update(job)`` only
    replaces the lines' data and redraws, which skips most of matplotlib's
    per-figure set-up (about 3 times faster than a new figure). Used by the
    background renderer of ``LearningCurves``; one figure, so memory is
    bounded. ``job`` is as in ``render_learning_curves``.
    """

    def __init__(self, metrics, title=None, batch_label="loss per batch (EMA)"):
        self.metrics = list(metrics)
        ncols = min(len(self.metrics), 2) or 1
        nrows = max(1, math.ceil(len(self.metrics) / ncols))
        self.fig = Figure(figsize=(5.5 * ncols, 3.6 * nrows + (0.3 if title else 0)))
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
            self.panels[name] = (ax, batch, train, val, vline, best)

    def update(self, job):
        logs = job["logs"]
        for name, (ax, batch, train, val, vline, best) in self.panels.items():
            t = [float(v) for v in logs.get(name, [])]
            v = [float(x) for x in logs.get("val_" + name, []) or []]
            epochs = job.get("epochs")
            train.set_data(_epoch_axis(epochs, len(t)), t)
            val.set_data(_epoch_axis(epochs, len(v)), v)
            handles = [h for h, d in ((train, t), (val, v)) if d]
            values = t + v
            if batch is not None:
                bx, by = job.get("batch_loss") or ([], [])
                batch.set_data(bx, by)
                if len(bx):
                    handles.insert(0, batch)
                    values = values + list(by)
            curve, curve_name = (v, "val_" + name) if v else (t, name)
            b = best_epoch(curve, name) if job.get("mark_best", True) and curve else None
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
            log = job.get("log_scale", False) and finite and min(finite) > 0
            ax.set_yscale("log" if log else "linear")
            ax.relim()
            ax.autoscale_view()
            ax.legend(handles=handles, fontsize="small",
                      loc="upper right" if lower_is_better(name) else "lower right")

    def save(self, path, dpi=100):
        return save_figure(self.fig, path, dpi=dpi)

    def png_bytes(self, dpi=100):
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png", dpi=dpi)
        return buf.getvalue()

    def close(self):
        self.fig.clear()


def _worker_main(stdin, stdout):
    """Render loop of a background process: length-prefixed pickled jobs in,
    one ``ok <path>`` / ``error <message>`` line out per job; EOF ends it."""
    import pickle
    import struct
    import traceback

    figure, key = None, None
    while True:
        header = stdin.read(8)
        if len(header) < 8:
            return
        (size,) = struct.unpack("<Q", header)
        job = pickle.loads(stdin.read(size))
        try:
            new_key = (tuple(job["metrics"]), job.get("title"), job.get("batch_label"))
            if figure is None or new_key != key:
                if figure is not None:
                    figure.close()
                figure, key = CurvesFigure(job["metrics"], job.get("title"),
                                           job.get("batch_label") or "loss per batch"), new_key
            figure.update(job)
            path = figure.save(job["path"], dpi=job.get("dpi", 100))
            reply = f"ok {path}"
        except Exception as exc:  # reported to the parent, which raises it
            figure, key = None, None
            reply = "error " + repr(exc).replace("\n", " ") + " | " + \
                traceback.format_exc().replace("\n", " | ")
        stdout.write((reply + "\n").encode())
        stdout.flush()


def _usual_permissions(path):
    """mkstemp makes 0600 files; figures are meant to be read by others (0644)."""
    os.chmod(path, 0o644)


def _write_atomic(path, write, default_suffix=""):
    """Calls ``write(file)`` on a temporary file beside ``path``, then renames it.

    The directory is created; an interrupted write never leaves a half file.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    suffix = os.path.splitext(path)[1] or default_suffix
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        _usual_permissions(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def write_bytes_atomic(path, data):
    """Writes ``data`` to ``path`` through a temporary file and a rename."""
    return _write_atomic(path, lambda f: f.write(data))


def save_figure(fig, path, dpi=100):
    """Writes ``fig`` to ``path`` atomically (a temporary file, then rename).

    The directory is created; an interrupted write never leaves a half file.
    """
    fmt = (os.path.splitext(os.fspath(path))[1] or ".png").lstrip(".")
    return _write_atomic(path, lambda f: fig.savefig(f, dpi=dpi, format=fmt), ".png")
