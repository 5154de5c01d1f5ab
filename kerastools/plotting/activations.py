"""Activation histograms per layer and gradient norms per layer."""

import numpy as np
from matplotlib.figure import Figure


def _records(source, field, epochs):
    """``{"epoch e": record[field]}`` from a callback (its ``stats``), a list of records
    or one record; by default the first and the last record."""
    records = getattr(source, "stats", source)
    if isinstance(records, dict) and field in records:
        records = [records]
    if not isinstance(records, list) or not all(
            isinstance(r, dict) and field in r and "epoch" in r for r in records):
        return None
    if not records:
        raise ValueError(
            "Argument `stats` holds no records yet: plot after the fit (or after on_train_begin).")
    if epochs is None:
        chosen = [records[0], records[-1]] if len(records) > 1 else records
    else:
        by_epoch = {r["epoch"]: r for r in records}
        missing = [e for e in epochs if e not in by_epoch]
        if missing:
            raise ValueError(
                f"Argument `epochs` names epochs without a record ({missing}); recorded: "
                f"{sorted(by_epoch)}. Received: epochs={list(epochs)!r}")
        chosen = [by_epoch[e] for e in epochs]
    return {f"epoch {r['epoch']}": r[field] for r in chosen}


def _runs(stats, epochs=None):
    """``{label: {layer: summary}}`` from one summary dict or several."""
    records = _records(stats, "layers", epochs)
    if records is not None:
        return records
    if not isinstance(stats, dict) or not stats:
        raise ValueError(
            "Argument `stats` must be {layer: statistics} (ActivationStats.stats[i]['layers'] "
            f"or activation_statistics(...)) or {{label: that}}. Received: stats={type(stats).__name__}")
    first = next(iter(stats.values()))
    if isinstance(first, dict) and "hist" in first:
        return {"": stats}
    return dict(stats)


def plot_activation_stats(stats, title=None, epochs=None):
    """The course's deep-net activation figure: a histogram per layer, and the
    mean and standard deviation against depth.

    Args:
        stats: an ``ActivationStats`` callback (or its ``stats`` list, or one
            record): one row of histograms per chosen record; ``{layer:
            statistics}`` (``kerastools.monitoring.activation_statistics``);
            or ``{label: that}`` to compare runs (one row each, e.g.
            ``{"W = 0.001 rand": s0, "Xavier": s1}``).
        title: figure title. Defaults to `None`.
        epochs: the records to draw, by epoch, for a callback or a list of
            records. Defaults to `None` (the first and the last).

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    runs = _runs(stats, epochs)
    nlayers = max(len(r) for r in runs.values())
    ncols = nlayers + 1
    nrows = len(runs)
    height = 2.3 * nrows + 0.5
    # a fixed layout: constrained layout costs seconds on a grid this size
    fig = Figure(figsize=(2.2 * ncols + 1.5, height))
    fig.subplots_adjust(left=0.5 / (2.2 * ncols + 1.5), right=0.99, bottom=0.45 / height,
                        top=1 - 0.75 / height, wspace=0.15, hspace=0.75)
    for r, (label, layers) in enumerate(runs.items()):
        names = list(layers)
        for c, name in enumerate(names):
            s = layers[name]
            ax = fig.add_subplot(len(runs), ncols, r * ncols + c + 1)
            edges = np.asarray(s["edges"])
            ax.bar(edges[:-1], s["hist"], width=np.diff(edges), align="edge", color=f"C{r}")
            ax.set_title(f"{name}\nmean {s['mean']:.2g} std {s['std']:.2g}", fontsize="small")
            ax.tick_params(labelsize="x-small")
            ax.set_yticks([])
            if c == 0 and label:
                ax.set_ylabel(label)
        ax = fig.add_subplot(len(runs), ncols, r * ncols + ncols)
        depth = np.arange(1, len(names) + 1)
        ax.plot(depth, [layers[n]["mean"] for n in names], "o-", label="mean")
        ax.plot(depth, [layers[n]["std"] for n in names], "s-", label="std")
        ax.set_xlabel("layer")
        ax.set_xticks(depth)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="x-small")
        ax.tick_params(labelsize="x-small")
    if title:
        fig.suptitle(title)
    return fig


def plot_gradient_norms(norms, title=None, log_scale=True, kernels_only=True, epochs=None):
    """Gradient norm per weight against depth (the vanishing-gradient picture).

    Args:
        norms: a ``GradientStats`` callback (or its ``stats`` list, or one
            record): one curve per chosen record; ``{"layer/weight": norm}``
            (``kerastools.monitoring.gradient_norms``); or ``{label: that}``
            to compare runs.
        title: figure title. Defaults to `None`.
        log_scale: a log y axis. Defaults to `True`.
        kernels_only: leave out rank-1 weights whose name ends in ``bias``,
            ``gamma`` or ``beta``. Defaults to `True`.
        epochs: the records to draw, for a callback. Defaults to `None` (the
            first and the last).

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    runs = _records(norms, "norms", epochs)
    if runs is None:
        if not isinstance(norms, dict) or not norms:
            raise ValueError(
                f"Argument `norms` must be a GradientStats callback or a non-empty dict. "
                f"Received: norms={norms!r}")
        runs = {"": norms} if not isinstance(next(iter(norms.values())), dict) else dict(norms)
    fig = Figure(figsize=(6.5, 3.8), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    for r, (label, values) in enumerate(runs.items()):
        keys = [k for k in values
                if not (kernels_only and k.rsplit("/", 1)[-1] in ("bias", "gamma", "beta"))]
        ax.plot(range(1, len(keys) + 1), [values[k] for k in keys], "o-", color=f"C{r}",
                label=label or None)
        ax.set_xticks(range(1, len(keys) + 1))
        ax.set_xticklabels(keys, rotation=45, ha="right", fontsize="x-small")
    if log_scale and all(v > 0 for run in runs.values() for v in run.values()):
        ax.set_yscale("log")
    ax.set_ylabel("||dL/dW||_2")
    ax.grid(True, alpha=0.3)
    if len(runs) > 1:
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig
