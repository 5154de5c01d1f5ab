"""The course's weight-evolution figure: weight norms per epoch, runs compared."""

import math

from matplotlib.figure import Figure

from kerastools.diagnostics.weights import norm_prefix
from kerastools.plotting.curves import history_dict


def _runs(history):
    """``{label: logs}``: one run (History / dict of lists) or several ({label: run})."""
    if hasattr(history, "history"):
        return {"": dict(history.history)}
    if isinstance(history, dict) and history and all(
            hasattr(v, "history") or isinstance(v, dict) for v in history.values()):
        return {label: history_dict(run) for label, run in history.items()}
    return {"": history_dict(history)}


def plot_weight_norms(history, norm="l2", keys=None, log_scale=False, title=None,
                      overlay=False):
    """Weight norms (logged by ``WeightNormTracker``) against epochs.

    Args:
        history: a ``History`` (or its dict), or ``{label: History}`` to
            compare runs (e.g. ``{"no L2": h0, "L2 1e-3": h1}``): each run is
            one line style in every panel.
        norm: ``"l2"``, ``"l1"`` or ``"max"``. Defaults to `"l2"`.
        keys: the weights (``"hidden/kernel"``, or ``"model"``) to draw.
            Defaults to `None` (every weight the first run logged).
        log_scale: a log y axis. Defaults to `False`.
        title: figure title. Defaults to `None`.
        overlay: all weights in one panel instead of one panel per weight.
            Defaults to `False`.

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    prefix = norm_prefix(norm) + "/"
    runs = _runs(history)
    first = next(iter(runs.values()))
    available = [k[len(prefix):] for k in first if k.startswith(prefix)]
    if not available:
        raise ValueError(
            f"Argument `history` holds no {prefix}* keys (log them with "
            f"WeightNormTracker(norms=({norm!r},))). Received keys: {sorted(first)}")
    keys = available if keys is None else list(keys)
    for label, logs in runs.items():
        for key in keys:
            if prefix + key not in logs:
                raise ValueError(
                    f"Argument `keys` names {key!r}, which run {label!r} did not log "
                    f"(it has {available}). Received: keys={keys!r}")
    panels = [keys] if overlay else [[k] for k in keys]
    ncols = min(len(panels), 3)
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(4.6 * ncols, 3.4 * nrows), layout="constrained")
    styles = ["-", "--", ":", "-."]
    for p, panel in enumerate(panels):
        ax = fig.add_subplot(nrows, ncols, p + 1)
        for r, (label, logs) in enumerate(runs.items()):
            for c, key in enumerate(panel):
                values = logs[prefix + key]
                name = " ".join(s for s in (label, key if overlay else "") if s) or key
                ax.plot(range(1, len(values) + 1), values, styles[r % 4],
                        color=f"C{c if overlay else r}", label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel({"l2": "L2 norm", "l1": "L1 norm", "max": "max |w|"}[norm])
        if not overlay:
            ax.set_title(panel[0], fontsize="medium")
        if log_scale:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        if len(runs) > 1 or overlay:
            ax.legend(fontsize="small")
    fig.suptitle(title or "weight evolution")
    return fig
