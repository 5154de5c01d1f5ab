"""A finished (or running) Keras Tuner search, readable: a progress line, a table, a figure.

Everything here reads a tuner through Keras Tuner's public API
(``tuner.oracle.trials``, ``get_best_trials``, ``objective``), so it works for
any tuner, kerastools' or Keras Tuner's own, and for a search reloaded from
its directory.
"""

import math

_SHORT = {"learning_rate": "lr", "regularizer": "reg"}


def trials_in_order(tuner):
    """The search's trials in the order they started (Keras Tuner's trial ids)."""
    trials = list(tuner.oracle.trials.values())
    return sorted(trials, key=lambda t: (len(t.trial_id), t.trial_id))


def search_history(tuner):
    """``(trial_ids, scores, best_so_far)`` over the trials in start order.

    ``scores[i]`` is None for a trial without a score (failed, or running);
    ``best_so_far[i]`` is the best score among trials ``0..i`` (None before
    the first score), in the objective's direction.
    """
    maximize = tuner.oracle.objective.direction == "max"
    ids, scores, best = [], [], []
    current = None
    for trial in trials_in_order(tuner):
        score = trial.score
        ids.append(trial.trial_id)
        scores.append(score)
        if score is not None and math.isfinite(score):
            if current is None or (score > current if maximize else score < current):
                current = score
        best.append(current)
    return ids, scores, best


def _format(value):
    if isinstance(value, float):
        return f"{value:.3g}" if value != 0 and (abs(value) < 1e-2 or abs(value) >= 1e3) \
            else f"{value:.4g}"
    return str(value)


def describe(values):
    """A short text of the hyperparameters that matter most: ``adam lr 0.001, constant, ...``."""
    parts = []
    optimizer = values.get("optimizer")
    for key, value in values.items():
        if key.endswith("_learning_rate") and (optimizer is None or key.startswith(optimizer)):
            parts.append(f"{optimizer or key[:-len('_learning_rate')]} lr {_format(value)}")
            break
    if "schedule" in values:
        parts.append(str(values["schedule"]))
    if "layers" in values:
        units = [values[f"units_{i}"] for i in range(values["layers"]) if f"units_{i}" in values]
        parts.append("units " + "x".join(str(u) for u in units) if units else
                     f"{values['layers']} layers")
    if "conv_blocks" in values:
        filters = [values[f"filters_{i}"] for i in range(values["conv_blocks"])
                   if f"filters_{i}" in values]
        parts.append("filters " + "x".join(str(f) for f in filters) if filters else
                     f"{values['conv_blocks']} blocks")
    if "batch_size" in values:
        parts.append(f"batch {values['batch_size']}")
    if "tuner/epochs" in values:
        parts.append(f"epochs {values.get('tuner/initial_epoch', 0)}-{values['tuner/epochs']}")
    return ", ".join(parts)


def progress_line(tuner, trial, seconds=None):
    """One line on a finished trial: its score, the best so far, its time and its choices.

    ``trial 3/20: val_accuracy 0.8812 | best 0.8950 (trial 1) | 45.2 s | adam lr 0.001, ...``
    """
    name = tuner.oracle.objective.name
    total = getattr(tuner.oracle, "max_trials", None)
    head = f"trial {trial.trial_id}" + (f"/{total}" if total else "")
    if trial.score is None:
        text = f"{head}: {trial.status.lower()}, no {name}"
    else:
        text = f"{head}: {name} {trial.score:.4f}"
    best = tuner.oracle.get_best_trials(1)
    if best:
        text += f" | best {best[0].score:.4f} (trial {best[0].trial_id})"
    if seconds is not None:
        text += f" | {seconds:.1f} s"
    summary = describe(trial.hyperparameters.values)
    return text + (f" | {summary}" if summary else "")


def top_trials_table(tuner, num_trials=5):
    """The best trials' hyperparameters: ``(columns, rows)``.

    ``columns`` is ``["trial", objective, hyperparameter names...]``, the
    names those trials use (Hyperband's ``tuner/epochs`` included), the ones
    that differ between them first; each row lists a trial's values ("" where
    a hyperparameter is inactive), best first.
    """
    trials = tuner.oracle.get_best_trials(num_trials)
    names = []
    for trial in trials:
        for key in trial.hyperparameters.values:
            if key not in names and (key == "tuner/epochs" or not key.startswith("tuner/")):
                names.append(key)

    def differs(key):
        return len({repr(t.hyperparameters.values.get(key)) for t in trials}) > 1

    names = [k for k in names if differs(k)] + [k for k in names if not differs(k)]
    rows = [[t.trial_id, _format(t.score)]
            + [_format(t.hyperparameters.values[k]) if k in t.hyperparameters.values else ""
               for k in names] for t in trials]
    return ["trial", tuner.oracle.objective.name, *names], rows


def plot_search(tuner, num_trials=5, max_hyperparameters=14, title=None):
    """The search at a glance: score per trial, best so far, the top trials' hyperparameters.

    Left: each trial's score (a dot, a cross at the bottom for a trial without
    one; a red triangle at the edge for a score far off the others, such as a
    diverged run) and the best so far (a step line), in start order. Right: a table of
    the ``num_trials`` best trials (columns, best first) and their
    hyperparameters (rows; those that differ between them first, at most
    ``max_hyperparameters``).

    Args:
        tuner: a Keras Tuner tuner, after (or during) ``search``.
        num_trials: how many of the best trials the table shows. Defaults to `5`.
        max_hyperparameters: rows of the table at most. Defaults to `14`.
        title: the figure's title. Defaults to `None`.

    Returns:
        A ``matplotlib.figure.Figure`` (save it with
        ``kerastools.plotting.save_figure``).

    Example:

    ```python
    tuner.search(x, y, validation_split=0.1)
    fig = plot_search(tuner)
    ```
    """
    from matplotlib.figure import Figure

    ids, scores, best = search_history(tuner)
    name = tuner.oracle.objective.name
    columns, rows = top_trials_table(tuner, num_trials)
    fig = Figure(figsize=(12, 4.2), layout="constrained")
    ax, ax_table = fig.subplots(1, 2, width_ratios=(1.1, 1))
    steps = list(range(len(ids)))
    got = [(i, s) for i, s in zip(steps, scores) if s is not None]
    if got:
        ax.plot([i for i, _ in got], [s for _, s in got], "o", label=f"trial {name}")
    missing = [i for i, s in zip(steps, scores) if s is None]
    if missing and got:
        floor = min(s for _, s in got)
        ax.plot(missing, [floor] * len(missing), "x", color="grey", label="no score")
    ax.step(steps, [float("nan") if b is None else b for b in best], where="post",
            label="best so far")
    values = sorted(s for _, s in got if math.isfinite(s))
    if len(values) >= 5:  # far-off trials (a diverged run) would squash the others: clip them
        maximize = tuner.oracle.objective.direction == "max"
        lo, hi = (values[len(values) // 5], values[-1]) if maximize else \
            (values[0], values[-1 - len(values) // 5])
        pad = 0.5 * (hi - lo) if hi > lo else 0.05 * abs(hi) or 0.05
        low, high = lo - pad, hi + pad
        if values[0] < low or values[-1] > high:
            ax.set_ylim(low, high)
            off = [(i, s) for i, s in got if not low <= s <= high]
            ax.plot([i for i, _ in off], [low if s < low else high for _, s in off], "v",
                    color="red", clip_on=False, label="off the axis")
    ax.set_xlabel("trial (in start order)")
    ax.set_ylabel(name)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    ax_table.axis("off")
    if rows:
        names = columns[2:][:max_hyperparameters]
        cell_text = [[r[1] for r in rows]] + [[r[2 + j] for r in rows] for j in range(len(names))]
        table = ax_table.table(cellText=cell_text, rowLabels=[name, *names],
                               colLabels=[f"trial {r[0]}" for r in rows], loc="center",
                               cellLoc="center")
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        ax_table.set_title(f"best {len(rows)} trials", fontsize=10)
    if title:
        fig.suptitle(title)
    return fig
