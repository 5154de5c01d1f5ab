"""The course's weight-evolution figure: weight norms per epoch, runs compared."""

import math

import matplotlib
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from kerastools.monitoring.summary import history_dict
from kerastools.monitoring.weights import norm_prefix
from kerastools.plotting.curves import epoch_ticks

MAX_PANELS = 12  # more weights than this: one panel, coloured by depth


def _epochs_of(run, n):
    """The x values of a run's ``n`` points: a tracker's ``epochs`` (0 = the initial
    norms), a History's ``epoch`` (0-based, so + 1), else 1..n."""
    epochs = getattr(run, "epochs", None)
    if isinstance(epochs, list) and len(epochs) == n:
        return list(epochs)
    epoch = getattr(run, "epoch", None)
    if isinstance(epoch, list) and len(epoch) == n:
        return [e + 1 for e in epoch]
    return list(range(1, n + 1))


def _is_run(value):
    return hasattr(value, "history") or (isinstance(value, dict) and all(
        isinstance(v, (list, tuple)) for v in value.values()))


def _runs(history):
    """``{label: (logs, source)}``: one run or several (``{label: run}``)."""
    if isinstance(history, dict) and history and all(
            hasattr(v, "history") or isinstance(v, dict) for v in history.values()) \
            and not _is_run(history):
        return {label: (history_dict(run), run) for label, run in history.items()}
    return {"": (history_dict(history), history)}


def plot_weight_norms(history, norm="l2", keys=None, log_scale=False, title=None,
                      overlay=False):
    """Weight norms (recorded by ``WeightNormTracker``) against epochs.

    Args:
        history: a ``WeightNormTracker`` (its record starts with the initial
            norms, at epoch 0), a ``History`` or its dict (from epoch 1), or
            ``{label: any of those}`` to compare runs (e.g.
            ``{"no L2": h0, "L2 1e-3": h1}``): each run is one line style in
            every panel.
        norm: ``"l2"``, ``"l1"`` or ``"max"``. Defaults to `"l2"`.
        keys: the weights (``"hidden/kernel"``, or ``"model"``) to draw.
            Defaults to `None` (every weight the first run logged).
        log_scale: a log y axis. Defaults to `False`.
        title: figure title. Defaults to `None`.
        overlay: all weights in one panel instead of one panel per weight.
            Defaults to `False`; more than 12 weights are always drawn in
            one panel, each line coloured by its depth (a colour bar instead
            of a legend), so 50+ layers stay readable.

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    prefix = norm_prefix(norm) + "/"
    runs = _runs(history)
    first = next(iter(runs.values()))[0]
    available = [k[len(prefix):] for k in first if k.startswith(prefix)]
    if not available:
        raise ValueError(
            f"Argument `history` holds no {prefix}* keys (log them with "
            f"WeightNormTracker(norms=({norm!r},))). Received keys: {sorted(first)}")
    keys = available if keys is None else list(keys)
    for label, (logs, _) in runs.items():
        for key in keys:
            if prefix + key not in logs:
                raise ValueError(
                    f"Argument `keys` names {key!r}, which run {label!r} did not log "
                    f"(it has {available}). Received: keys={keys!r}")
    by_depth = len(keys) > MAX_PANELS
    panels = [keys] if overlay or by_depth else [[k] for k in keys]
    ncols = min(len(panels), 3)
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(4.6 * ncols + (1.2 if by_depth else 0), 3.4 * nrows),
                 layout="constrained")
    styles = ["-", "--", ":", "-."]
    ylabel = {"l2": "L2 norm", "l1": "L1 norm", "max": "max |w|"}[norm]
    cmap = matplotlib.colormaps["viridis"]
    for p, panel in enumerate(panels):
        ax = fig.add_subplot(nrows, ncols, p + 1)
        for r, (label, (logs, source)) in enumerate(runs.items()):
            for c, key in enumerate(panel):
                values = logs[prefix + key]
                if by_depth:
                    color = cmap(c / max(1, len(panel) - 1))
                else:
                    color = f"C{c if overlay else r}"
                name = " ".join(s for s in (label, key if overlay else "") if s) or key
                ax.plot(_epochs_of(source, len(values)), values, styles[r % 4], color=color,
                        linewidth=0.9 if by_depth else 1.5, label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        epoch_ticks(ax)
        if not overlay and not by_depth:
            ax.set_title(panel[0], fontsize="medium")
        if log_scale:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        if by_depth:
            bar = fig.colorbar(ScalarMappable(Normalize(0, len(panel) - 1), cmap), ax=ax)
            ticks = sorted({0, (len(panel) - 1) // 2, len(panel) - 1})
            bar.set_ticks(ticks)
            bar.set_ticklabels([panel[t] for t in ticks], fontsize="x-small")
            bar.set_label("weight, by depth")
            if len(runs) > 1:
                ax.set_title("line styles: " + ", ".join(
                    f"{styles[r % 4]} {label}" for r, label in enumerate(runs)), fontsize="small")
        elif len(runs) > 1 or overlay:
            ax.legend(fontsize="small")
    fig.suptitle(title or "weight evolution")
    return fig
