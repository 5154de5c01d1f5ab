"""Figures of learning-rate schedules and LR range tests."""

import keras
import numpy as np
from matplotlib.figure import Figure


def schedule_values(schedule, steps):
    """``schedule`` evaluated at ``steps`` (an int: ``range(steps)``) as NumPy."""
    steps = np.arange(int(steps)) if np.ndim(steps) == 0 else np.asarray(steps)
    if isinstance(schedule, (int, float)):
        return steps, np.full(len(steps), float(schedule))
    try:
        values = np.asarray(keras.ops.convert_to_numpy(schedule(steps.astype("float32"))))
    except (TypeError, ValueError, RuntimeError):
        # A schedule that only takes scalar steps (e.g. Keras' PiecewiseConstantDecay on
        # PyTorch, whose in-place update cannot broadcast a vector of steps).
        values = None
    if values is not None and values.shape == steps.shape:
        return steps, values.astype("float64")
    return steps, np.array([float(keras.ops.convert_to_numpy(schedule(int(s)))) for s in steps])


def plot_schedule(schedule, steps, ax=None, label=None, steps_per_epoch=None, log_scale=False,
                  momentum=None, title=None):
    """The learning rate of any schedule against the step (or epoch).

    Args:
        schedule: a ``LearningRateSchedule`` (kerastools' or Keras'), any
            callable of the step, or a constant; or a dict ``{label:
            schedule}`` to draw several.
        steps: the number of steps (``0 ... steps - 1``) or the steps.
        ax: an existing matplotlib axes to draw in. Defaults to `None` (a new
            figure).
        label: the legend entry. Defaults to `None` (the schedule's class).
        steps_per_epoch: label the x axis in epochs. Defaults to `None`.
        log_scale: a log y axis. Defaults to `False`.
        momentum: a momentum schedule drawn on a second y axis. Defaults to
            `None`.
        title: Defaults to `None`.

    Returns:
        The ``matplotlib.figure.Figure``.

    Example:

    ```python
    fig = plot_schedule(OneCycle(0.1, 1000), 1100)
    save_figure(fig, "one_cycle.png")
    ```
    """
    if ax is None:
        fig = Figure(figsize=(6.5, 3.8), layout="constrained")
        ax = fig.add_subplot(1, 1, 1)
    else:
        fig = ax.figure
    items = schedule.items() if isinstance(schedule, dict) else [(label, schedule)]
    for name, sched in items:
        xs, ys = schedule_values(sched, steps)
        xs = xs / steps_per_epoch if steps_per_epoch else xs
        ax.plot(xs, ys, label=name or type(sched).__name__)
    ax.set_xlabel("epoch" if steps_per_epoch else "step")
    ax.set_ylabel("learning rate")
    if log_scale:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    if momentum is not None:
        ax2 = ax.twinx()
        xs, ys = schedule_values(momentum, steps)
        xs = xs / steps_per_epoch if steps_per_epoch else xs
        ax2.plot(xs, ys, color="C3", linestyle="--", label="momentum")
        ax2.set_ylabel("momentum")
        ax2.legend(loc="upper right", fontsize="small")
    ax.legend(loc="upper left" if momentum is not None else "best", fontsize="small")
    if title:
        ax.set_title(title)
    return fig


def plot_lr_finder(result, ax=None, title="LR range test"):
    """Loss against learning rate (log x) with the three suggestions marked.

    Args:
        result: an ``LRFinderResult`` or the ``LRFinder`` that made it.
        ax: an existing axes. Defaults to `None`.
        title: Defaults to `"LR range test"`.

    Returns:
        The ``matplotlib.figure.Figure``: the raw and the smoothed loss, one
        dotted vertical line per suggestion (``steepest``,
        ``minimum_over_10``, ``valley``) labelled with its rate, and a dot on
        the smoothed curve at each.
    """
    if getattr(result, "result", None) is not None and not hasattr(result, "learning_rates"):
        result = result.result
    if not hasattr(result, "learning_rates"):
        raise ValueError(
            "Argument `result` must be an LRFinderResult or an LRFinder that has run. "
            f"Received: result={result!r}")
    if ax is None:
        fig = Figure(figsize=(6.5, 4.0), layout="constrained")
        ax = fig.add_subplot(1, 1, 1)
    else:
        fig = ax.figure
    lrs, losses, smooth = result.learning_rates, result.losses, result.smoothed_losses
    ax.plot(lrs, losses, color="0.7", linewidth=0.8, label="loss")
    ax.plot(lrs, smooth, color="C0", label="smoothed (compensated EMA)")
    markers = {"steepest": "C1", "minimum_over_10": "C2", "valley": "C3"}
    for name, color in markers.items():
        lr = result.suggestions.get(name)
        if lr is not None:
            ax.axvline(lr, color=color, linestyle=":", label=f"{name}: {lr:.2g}")
    for name, color in markers.items():
        lr = result.suggestions.get(name)
        if lr is not None and len(lrs):
            i = int(np.argmin(np.abs(np.log(lrs) - np.log(lr))))
            ax.scatter([lrs[i]], [smooth[i]], color=color, zorder=3)
    ax.set_xscale("log")
    finite = smooth[np.isfinite(smooth)]
    if len(finite):
        low, high = finite.min(), finite[: max(1, len(finite) // 10)].max()
        span = max(high - low, 1e-12)
        ax.set_ylim(low - 0.1 * span, high + 1.5 * span)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return fig
