"""Several runs on one figure: the course's sweeps (L2, dropout, optimizers)."""

from matplotlib.figure import Figure

from kerastools.monitoring.summary import history_dict
from kerastools.plotting.curves import epoch_ticks


def plot_runs(runs, metrics=("val_loss", "val_accuracy"), log_scale=False, title=None):
    """One panel per metric, one curve per run.

    Args:
        runs: ``{label: history}``, each a ``keras.callbacks.History``, its
            ``history`` dict or a monitor with a ``history`` dict
            (``LearningCurves``).
        metrics: metric names to draw. Defaults to
            `("val_loss", "val_accuracy")`.
        log_scale: a log y axis. Defaults to `False`.
        title: figure title. Defaults to `None`.

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    if not runs:
        raise ValueError(f"Argument `runs` must hold at least one run. Received: runs={runs!r}")
    logs = {label: history_dict(h) for label, h in runs.items()}
    metrics = list(metrics)
    for label, log in logs.items():
        for m in metrics:
            if m not in log:
                raise ValueError(
                    f"Argument `metrics` names {m!r}, which run {label!r} lacks "
                    f"(it has {sorted(log)}). Received: metrics={metrics!r}"
                )
    fig = Figure(figsize=(5.5 * len(metrics), 3.8), layout="constrained")
    for i, m in enumerate(metrics):
        ax = fig.add_subplot(1, len(metrics), i + 1)
        for label, log in logs.items():
            ax.plot(range(1, len(log[m]) + 1), log[m], label=str(label))
        if log_scale:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        epoch_ticks(ax)
        ax.set_ylabel(m)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig
