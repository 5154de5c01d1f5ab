"""Warmup around any schedule, and schedules chained at step boundaries."""

import math

import keras
from keras import ops

from kerastools import _checks
from kerastools.schedules import _base
from kerastools.schedules._base import const
from kerastools.schedules._base import deserialize_schedule
from kerastools.schedules._base import evaluate
from kerastools.schedules._base import prepare_step
from kerastools.schedules._base import serialize_schedule


def _check_warmup_steps(value):
    """Any positive number of steps (7.5 too), finite, at most 1e15."""
    value = _base.scalar("warmup_steps", value)
    value_f = _checks.check_positive("warmup_steps", value)
    if value_f > _base.MAX_STEPS or value_f < 1e-6:
        raise ValueError(
            f"Argument `warmup_steps` must be in [1e-06, {_base.MAX_STEPS:g}]. "
            f"Received: warmup_steps={value!r}"
        )
    return int(value_f) if value_f.is_integer() else value_f


def _check_schedule(name, schedule):
    schedule = deserialize_schedule(schedule)
    if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        return schedule
    try:
        return _checks.check_non_negative(name, schedule)
    except ValueError:
        raise ValueError(
            f"Argument `{name}` must be a LearningRateSchedule or a learning rate >= 0. "
            f"Received: {name}={schedule!r}"
        ) from None


@keras.saving.register_keras_serializable(package="kerastools")
class Warmup(keras.optimizers.schedules.LearningRateSchedule):
    """A warmup ramp before any schedule.

    Reference: P. Goyal et al., "Accurate, Large Minibatch SGD: Training
    ImageNet in 1 Hour", 2017, [arXiv:1706.02677](https://arxiv.org/abs/1706.02677).

    With ``W = warmup_steps``, ``a = initial_learning_rate``,
    ``b = schedule(0)`` and ``p = t / W``:

    ```
    t < W:   linear       lr = a + (b - a) * p
             cosine       lr = a + (b - a) * (1 - cos(pi * p)) / 2
             exponential  lr = a * (b / a) ** p          (a > 0)
    t >= W:  lr = schedule(t - W)
    ```

    The wrapped schedule starts after the warmup (as in Keras'
    ``CosineDecay(warmup_steps=...)``), so its own boundaries move by ``W``.

    Args:
        schedule: a ``LearningRateSchedule`` or a constant learning rate.
        warmup_steps: length of the ramp, > 0; any positive number of
            steps (``7.5``: steps 0 to 7 ramp, step 8 is ``schedule(0.5)``).
        initial_learning_rate: the rate at step 0, >= 0 (> 0 for
            ``"exponential"``). Defaults to `0.0`.
        shape: ``"linear"``, ``"cosine"`` or ``"exponential"``. Defaults to
            `"linear"`.
        name: Defaults to `"Warmup"`.

    Example:

    ```python
    lr = Warmup(keras.optimizers.schedules.ExponentialDecay(0.1, 1000, 0.5),
                warmup_steps=500)
    ```
    """

    def __init__(self, schedule, warmup_steps, initial_learning_rate=0.0, shape="linear",
                 name="Warmup"):
        super().__init__()
        self.schedule = _check_schedule("schedule", schedule)
        self.warmup_steps = _check_warmup_steps(warmup_steps)
        self.initial_learning_rate = _base.check_rate("initial_learning_rate", initial_learning_rate)
        self.shape = _checks.check_choice("shape", shape, ("linear", "cosine", "exponential"))
        if self.shape == "exponential" and self.initial_learning_rate <= 0:
            raise ValueError(
                "Argument `initial_learning_rate` must be > 0 for shape='exponential'. "
                f"Received: initial_learning_rate={initial_learning_rate!r}"
            )
        self.name = name

    def __call__(self, step):
        with keras.name_scope(self.name or "Warmup"):
            step, dtype = prepare_step(step)
            w = const(float(self.warmup_steps), dtype)
            after = evaluate(self.schedule, _base.nonnegative(step - w), dtype)
            target = evaluate(self.schedule, ops.zeros_like(step), dtype)
            a = const(self.initial_learning_rate, dtype)
            p = ops.clip(step / w, 0.0, 1.0)
            if self.shape == "linear":
                ramp = a + (target - a) * p
            elif self.shape == "cosine":
                ramp = a + (target - a) * 0.5 * (1.0 - _base.cos(const(math.pi, dtype) * p))
            else:
                # a * (b / a)**p in log space: b / a overflows for a tiny a.
                tiny = const(1e-300 if dtype == "float64" else 1e-37, dtype)
                safe_target = ops.where(target > tiny, target, tiny)
                log_a = const(math.log(self.initial_learning_rate), dtype)
                ramp = ops.exp(log_a + (ops.log(safe_target) - log_a) * p)
                ramp = ops.where(target > 0, ramp, a * (1.0 - p))
            return ops.where(step < w, ramp, after)

    def get_config(self):
        return {
            "schedule": serialize_schedule(self.schedule),
            "warmup_steps": self.warmup_steps,
            "initial_learning_rate": self.initial_learning_rate,
            "shape": self.shape,
            "name": self.name,
        }


@keras.saving.register_keras_serializable(package="kerastools")
class SequentialSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Schedules run one after another, each restarted at its boundary.

    Reference: PyTorch's ``SequentialLR``.

    With boundaries ``b_1 < ... < b_{n-1}`` (``b_0 = 0``), steps
    ``b_{k} <= t < b_{k+1}`` use ``schedules[k](t - b_k)``; the last schedule
    runs from ``b_{n-1}`` on.

    Args:
        schedules: a list of ``LearningRateSchedule`` objects or constant
            learning rates (at least one).
        boundaries: ``len(schedules) - 1`` strictly increasing positive step
            counts.
        name: Defaults to `"SequentialSchedule"`.

    Example:

    ```python
    lr = SequentialSchedule(
        [Warmup(0.1, 500), SGDR(0.1, 2000), 1e-4], boundaries=[500, 6500])
    ```
    """

    def __init__(self, schedules, boundaries, name="SequentialSchedule"):
        super().__init__()
        if not isinstance(schedules, (list, tuple)) or not schedules:
            raise ValueError(
                "Argument `schedules` must be a non-empty list of schedules. "
                f"Received: schedules={schedules!r}"
            )
        self.schedules = [_check_schedule(f"schedules[{i}]", s) for i, s in enumerate(schedules)]
        if not isinstance(boundaries, (list, tuple)):
            raise ValueError(  # noqa: TRY004 (the project's rule: ValueError)
                "Argument `boundaries` must be a list of len(schedules) - 1 step counts. "
                f"Received: boundaries={boundaries!r}"
            )
        boundaries = list(boundaries)
        if len(boundaries) != len(self.schedules) - 1:
            raise ValueError(
                f"Argument `boundaries` must have len(schedules) - 1 = {len(self.schedules) - 1} "
                f"entries. Received: boundaries={boundaries!r}"
            )
        self.boundaries = [_checks.check_positive_int("boundaries", b) for b in boundaries]
        if any(b1 <= b0 for b0, b1 in zip(self.boundaries, self.boundaries[1:])):
            raise ValueError(
                "Argument `boundaries` must be strictly increasing. "
                f"Received: boundaries={boundaries!r}"
            )
        self.name = name

    def __call__(self, step):
        with keras.name_scope(self.name or "SequentialSchedule"):
            step, dtype = prepare_step(step)
            starts = [0] + self.boundaries
            result = evaluate(
                self.schedules[-1], _base.nonnegative(step - const(float(starts[-1]), dtype)), dtype
            )
            for k in range(len(self.schedules) - 2, -1, -1):
                local = _base.nonnegative(step - const(float(starts[k]), dtype))
                value = evaluate(self.schedules[k], local, dtype)
                result = ops.where(step < const(float(starts[k + 1]), dtype), value, result)
            return result

    def get_config(self):
        return {
            "schedules": [serialize_schedule(s) for s in self.schedules],
            "boundaries": list(self.boundaries),
            "name": self.name,
        }
