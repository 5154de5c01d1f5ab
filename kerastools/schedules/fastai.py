"""fastai's one-cycle schedule: ``combined_cos``, cosine in both phases, position ``i / N``."""

import math

import keras
from keras import ops

from kerastools import _checks
from kerastools.schedules import _base
from kerastools.schedules._base import check_rate
from kerastools.schedules._base import const
from kerastools.schedules._base import prepare_step
from kerastools.schedules._base import scalar


@keras.saving.register_keras_serializable(package="kerastools")
class CombinedCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Two cosine half-waves: ``start -> middle`` then ``middle -> end`` (fastai's ``combined_cos``).

    Reference: fastai's ``combined_cos(pct, start, middle, end)`` and
    ``SchedCos`` (``fastai.callback.schedule``), used by ``fit_one_cycle`` for
    the learning rate (``lr_max / div -> lr_max -> lr_max / div_final``) and
    the momentum (``0.95 -> 0.85 -> 0.95``); Smith's one-cycle policy with
    cosine annealing in both phases.

    With ``N = total_steps``, the position of step ``t`` is ``pos = t / N``
    (fastai's ``pct_train``; held at 1 past the end) and
    ``cos_anneal(a, b, p) = a + (1 - cos(pi * p)) / 2 * (b - a)``:

    ```
    pos <  pct_start:  cos_anneal(start, middle, pos / pct_start)
    pos >= pct_start:  cos_anneal(middle, end, (pos - pct_start) / (1 - pct_start))
    ```

    Any ``pct_start * N`` works (a whole number of steps or not), unlike
    ``OneCycle`` whose phase ends are PyTorch's ``pct_start * N - 1``.

    Args:
        start: the value at step 0, >= 0.
        middle: the value at ``pos = pct_start``, >= 0.
        end: the value at ``pos = 1``, >= 0.
        total_steps: ``N``, the number of optimizer steps of the cycle, > 0.
        pct_start: fraction of the cycle spent going from ``start`` to
            ``middle``, in (0, 1). Defaults to `0.25` (fastai's).
        name: Defaults to `"CombinedCosine"`.

    Example:

    ```python
    lr = CombinedCosine(1e-3 / 25, 1e-3, 1e-3 / 1e5, total_steps=epochs * steps_per_epoch)
    ```
    """

    def __init__(self, start, middle, end, total_steps, pct_start=0.25, name="CombinedCosine"):
        super().__init__()
        self.start = check_rate("start", start)
        self.middle = check_rate("middle", middle)
        self.end = check_rate("end", end)
        self.total_steps = _checks.check_positive_int("total_steps", total_steps)
        self.pct_start = _checks.check_in_range("pct_start", scalar("pct_start", pct_start), 0.0, 1.0,
                                                low_closed=False, high_closed=False)
        self.name = name

    def __call__(self, step):
        with keras.name_scope(self.name or "CombinedCosine"):
            step, dtype = prepare_step(step)
            pos = ops.clip(step / const(float(self.total_steps), dtype), 0.0, 1.0)
            pct = const(self.pct_start, dtype)
            pi = const(math.pi, dtype)
            p0 = pos / pct
            p1 = (pos - pct) / const(1.0 - self.pct_start, dtype)
            start, middle, end = (const(v, dtype) for v in (self.start, self.middle, self.end))
            first = start + (middle - start) * 0.5 * (1.0 - _base.cos(pi * p0))
            second = end + (middle - end) * 0.5 * (1.0 + _base.cos(pi * p1))  # exactly `end` at 1
            return ops.where(pos < pct, first, second)

    def get_config(self):
        return {
            "start": self.start,
            "middle": self.middle,
            "end": self.end,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "name": self.name,
        }


def fastai_one_cycle(lr_max, total_steps, div=25.0, div_final=1e5, pct_start=0.25,
                     moms=(0.95, 0.85, 0.95)):
    """fastai's ``fit_one_cycle`` schedules: returns ``(lr, momentum)``.

    ``lr = CombinedCosine(lr_max / div, lr_max, lr_max / div_final)`` and
    ``momentum = CombinedCosine(*moms)`` (`None` when ``moms`` is `None`),
    both over ``total_steps`` with ``pct_start``; fastai's argument names and
    defaults. Pass the momentum as ``beta_1=`` of ``kerastools.optimizers.adam``
    (fastai's default optimizer) or ``momentum=`` of ``kerastools.optimizers.sgd``.

    Example:

    ```python
    lr, beta_1 = fastai_one_cycle(1e-3, total_steps=epochs * steps_per_epoch)
    optimizer = kerastools.optimizers.adam(lr, beta_1=beta_1)
    ```
    """
    lr_max = check_rate("lr_max", lr_max)
    div = _checks.check_positive("div", scalar("div", div))
    div_final = _checks.check_positive("div_final", scalar("div_final", div_final))
    for arg, factor in (("div", div), ("div_final", div_final)):
        if not lr_max / factor <= _base.FLOAT32_MAX:
            raise ValueError(
                f"Argument `{arg}` must keep lr_max / {arg} <= {_base.FLOAT32_MAX!r}. "
                f"Received: {arg}={factor!r}"
            )
    lr = CombinedCosine(lr_max / div, lr_max, lr_max / div_final, total_steps, pct_start,
                        name="fastai_one_cycle_lr")
    if moms is None:
        return lr, None
    if not isinstance(moms, (list, tuple)) or len(moms) != 3:
        raise ValueError(
            f"Argument `moms` must be a tuple of 3 momenta or None. Received: moms={moms!r}"
        )
    for m in moms:
        _checks.check_in_range("moms", scalar("moms", m), 0.0, 1.0)
    momentum = CombinedCosine(*moms, total_steps=total_steps, pct_start=pct_start,
                              name="fastai_one_cycle_momentum")
    return lr, momentum
