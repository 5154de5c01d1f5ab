"""Training records as plain dicts, and a text summary of them (current, min, max)."""

import math


def history_dict(history):
    """``{key: [value per epoch]}`` from a ``keras.callbacks.History``, a callback with a
    ``history`` dict (``LearningCurves``, ``WeightNormTracker``, ...) or a dict of lists."""
    record = getattr(history, "history", history)
    if isinstance(record, dict):
        return {k: list(v) for k, v in record.items()}
    raise ValueError(
        "Argument `history` must be a keras History, a kerastools monitor or a dict of lists. "
        f"Received: history={type(history).__name__}"
    )


def base_metrics(logs):
    """Names that have a training curve (``loss``, ``accuracy``, ...): not ``val_``,
    not a monitor's ``a/b`` key, not ``learning_rate``; ``loss`` first."""
    names = [k for k in logs if not k.startswith("val_") and "/" not in k and k != "learning_rate"]
    return sorted(names, key=lambda k: k != "loss")


def _finite(values):
    out = []
    for v in values:
        try:
            v = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(v):
            out.append(v)
    return out


def metric_summary(history, metrics=None):
    """A text table of each metric's current, minimum and maximum value (livelossplot's
    ``print`` output): one block per metric, a ``training`` and a ``validation`` line.

    NaN (an epoch without a measurement) is skipped; ``current`` is the last
    measured value.

    Args:
        history: a ``History``, a monitor with a ``history`` dict, or a dict of lists.
        metrics: names without ``val_``. Defaults to `None` (every metric with a
            training curve).

    Returns:
        The table as a string.

    Example:

    >>> print(metric_summary({"loss": [0.9, 0.5], "val_loss": [0.8, 0.6]}))
    loss
        training   (min:    0.500, max:    0.900, cur:    0.500)
        validation (min:    0.600, max:    0.800, cur:    0.600)
    """
    logs = history_dict(history)
    names = base_metrics(logs) if metrics is None else list(metrics)
    lines = []
    for name in names:
        if name not in logs and "val_" + name not in logs:
            raise ValueError(
                f"Argument `metrics` names {name!r}, which is not in the history "
                f"({sorted(logs)}). Received: metrics={names!r}")
        lines.append(name)
        for label, key in (("training", name), ("validation", "val_" + name)):
            values = _finite(logs.get(key, []))
            if values:
                lines.append(f"    {label:<10} (min: {min(values):8.3f}, max: {max(values):8.3f}, "
                             f"cur: {values[-1]:8.3f})")
    return "\n".join(lines)
