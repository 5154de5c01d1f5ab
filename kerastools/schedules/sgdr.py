"""SGDR: cosine annealing with warm restarts (Loshchilov and Hutter 2016)."""

import math

import keras
import numpy as np
from keras import ops

from kerastools import _checks
from kerastools.schedules import _base
from kerastools.schedules._base import const
from kerastools.schedules._base import prepare_step
from kerastools.schedules._base import scalar

# Cycle boundaries are tabulated (exactly, in float64) up to this many cycles
# or 2**40 steps; past the table, Keras' closed form takes over.
_MAX_TABLE = 4096
_MAX_STEP = 2.0**40


@keras.saving.register_keras_serializable(package="kerastools")
class SGDR(keras.optimizers.schedules.LearningRateSchedule):
    """Cosine annealing with warm restarts, optional warmup and peak decay.

    Reference: I. Loshchilov and F. Hutter, "SGDR: Stochastic Gradient Descent
    with Warm Restarts", ICLR 2017,
    [arXiv:1608.03983](https://arxiv.org/abs/1608.03983).

    Cycle ``i`` (0-based) lasts ``T_i = first_decay_steps * t_mul**i`` steps
    and starts at ``B_i = T_0 + ... + T_{i-1}``. With ``T_cur = t - B_i``,
    ``eta_min = alpha * initial_learning_rate`` and
    ``eta_max_i = eta_min + (1 - alpha) * initial_learning_rate * m_mul**i``:

    ```
    lr = eta_min + (eta_max_i - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2
    ```

    This is Keras' ``CosineDecayRestarts`` formula (same ``alpha`` and
    ``m_mul`` convention) but the restarts fall exactly on the cycle
    boundaries: the cycle index comes from a table of the boundaries (built in
    float64) instead of ``floor(log(...) / log(t_mul))``, which in float32
    is a step off at some boundaries (Keras 3.15: step 16381 instead of 16382
    for ``first_decay_steps=2, t_mul=2``). With ``alpha=0`` and ``m_mul=1`` it equals PyTorch's
    ``CosineAnnealingWarmRestarts(T_0=first_decay_steps, T_mult=t_mul)``
    step for step (PyTorch's ``eta_min`` is absolute; here
    ``alpha = eta_min / initial_learning_rate``).

    Warmup (``warmup_steps > 0``) is a linear ramp from ``eta_min`` to the
    peak:

    - ``warmup_mode="once"``: the first ``warmup_steps`` steps ramp to
      ``initial_learning_rate``, and the cycles above start after them
      (restarts at ``warmup_steps + B_i``).
    - ``warmup_mode="every_restart"``: every cycle begins with the ramp to
      its own peak ``eta_max_i`` over ``warmup_steps`` steps and anneals over
      the remaining ``T_i - warmup_steps`` steps; restarts stay at ``B_i``.
      Requires ``warmup_steps < first_decay_steps``.

    Args:
        initial_learning_rate: the first peak, >= 0.
        first_decay_steps: length of the first cycle in steps, > 0.
        t_mul: cycle length factor, >= 1. Defaults to `2.0`.
        m_mul: factor of the peak (above the floor) per restart, in (0, 1].
            Defaults to `1.0`.
        alpha: the floor as a fraction of ``initial_learning_rate``, in
            [0, 1]. Defaults to `0.0`.
        warmup_steps: length of the linear warmup, >= 0. Defaults to `0`.
        warmup_mode: ``"once"`` or ``"every_restart"``. Defaults to
            `"once"`.
        name: Defaults to `"SGDR"`.

    Example:

    ```python
    lr = kerastools.schedules.SGDR(0.05, first_decay_steps=10 * steps_per_epoch,
                                   t_mul=2.0, m_mul=0.8, warmup_steps=500)
    ```
    """

    def __init__(
        self,
        initial_learning_rate,
        first_decay_steps,
        t_mul=2.0,
        m_mul=1.0,
        alpha=0.0,
        warmup_steps=0,
        warmup_mode="once",
        name="SGDR",
    ):
        super().__init__()
        self.initial_learning_rate = _base.check_rate("initial_learning_rate", initial_learning_rate)
        self.first_decay_steps = _base.check_steps("first_decay_steps", first_decay_steps)
        self.t_mul = _checks.check_finite("t_mul", scalar("t_mul", t_mul))
        if self.t_mul < 1.0:
            raise ValueError(f"Argument `t_mul` must be >= 1. Received: t_mul={t_mul!r}")
        # A peak that grows at every restart (m_mul > 1) overflows to inf after
        # enough restarts (found by tests/test_fuzz.py): SGDR decays its peak.
        self.m_mul = _checks.check_in_range("m_mul", scalar("m_mul", m_mul), 0.0, 1.0,
                                            low_closed=False, high_closed=True)
        self.alpha = _checks.check_in_range("alpha", scalar("alpha", alpha), 0.0, 1.0,
                                            high_closed=True)
        self.warmup_steps = _checks.check_positive_int("warmup_steps", warmup_steps, allow_zero=True)
        self.warmup_mode = _checks.check_choice("warmup_mode", warmup_mode, ("once", "every_restart"))
        if self.warmup_mode == "every_restart" and self.warmup_steps >= self.first_decay_steps:
            raise ValueError(
                "Argument `warmup_steps` must be < first_decay_steps "
                f"({self.first_decay_steps!r}) when warmup_mode='every_restart'. "
                f"Received: warmup_steps={warmup_steps!r}"
            )
        self.name = name
        self._starts, self._lengths = self._table()

    def _table(self):
        if self.t_mul == 1.0:
            return None, None
        starts, lengths = [0.0], []
        while len(lengths) < _MAX_TABLE:
            length = self.first_decay_steps * self.t_mul ** len(lengths)
            lengths.append(length)
            starts.append(starts[-1] + length)
            if starts[-1] > _MAX_STEP:
                break
        return np.array(starts), np.array(lengths)

    def cycle_boundaries(self, n):
        """The steps at which the first ``n`` restarts happen (NumPy, float64)."""
        offset = self.warmup_steps if self.warmup_mode == "once" else 0
        lengths = self.first_decay_steps * self.t_mul ** np.arange(n)
        return offset + np.cumsum(lengths)

    def _cycle(self, t, dtype):
        """(cycle index i, T_cur, T_i) for a cycle-time ``t >= 0``."""
        d = const(self.first_decay_steps, dtype)
        if self.t_mul == 1.0:
            i = _base.floor(t / d)
            # Exact boundaries: correct a quotient rounded across an integer.
            i = ops.where(i * d > t, i - 1.0, i)
            i = ops.where((i + 1.0) * d <= t, i + 1.0, i)
            return i, t - i * d, d * ops.ones_like(t)
        # Boundaries as hi + lo pairs in `dtype` (lo = 0 in float64): a float32
        # boundary such as 12345.678 is off by ulp/2, which moved the cosine by
        # 1e-4 of the peak; t - hi is exact near the boundary, then - lo.
        hi_np = np.asarray(self._starts, dtype=dtype).astype("float64")
        starts_hi = const(hi_np, dtype)
        starts_lo = const(self._starts - hi_np, dtype)
        lengths = const(self._lengths, dtype)
        n = len(self._lengths)
        offsets = (ops.expand_dims(t, -1) - starts_hi[1:n]) - starts_lo[1:n]
        idx = ops.sum(ops.cast(offsets >= 0.0, "int32"), axis=-1)
        idx = ops.minimum(idx, n - 1)
        start_hi = ops.take(starts_hi, idx)
        start_lo = ops.take(starts_lo, idx)
        length = ops.take(lengths, idx)
        i = ops.cast(idx, dtype)
        if float(self._starts[-1]) <= _MAX_STEP:
            # Table ended before 2**40 steps (t_mul very close to 1): closed form beyond,
            # with log1p/expm1 of (t_mul - 1) taken in float64 (log(t_mul) in float32
            # is 0 for t_mul = 1 + 1e-9, which gave NaN).
            r = self.t_mul - 1.0
            log_t_mul = const(math.log1p(r), dtype)
            frac = t / d
            i_far = _base.floor(ops.log1p(frac * const(r, dtype)) / log_t_mul)
            start_far = d * ops.expm1(i_far * log_t_mul) / const(r, dtype)
            length_far = d * ops.exp(i_far * log_t_mul)
            beyond = t >= const(self._starts[-1], dtype)
            i = ops.where(beyond, i_far, i)
            start_hi = ops.where(beyond, start_far, start_hi)
            start_lo = ops.where(beyond, ops.zeros_like(start_lo), start_lo)
            length = ops.where(beyond, length_far, length)
        return i, (t - start_hi) - start_lo, length

    def __call__(self, step):
        with keras.name_scope(self.name or "SGDR"):
            step, dtype = prepare_step(step)
            lr0 = const(self.initial_learning_rate, dtype)
            floor_lr = const(self.alpha, dtype) * lr0
            span0 = const(1.0 - self.alpha, dtype) * lr0
            w = const(float(self.warmup_steps), dtype)
            pi = const(math.pi, dtype)
            if self.warmup_mode == "once" and self.warmup_steps > 0:
                t = _base.nonnegative(step - w)
            else:
                t = _base.nonnegative(step)
            i, t_cur, length = self._cycle(t, dtype)
            span = span0 * ops.power(const(self.m_mul, dtype), i)
            if self.warmup_mode == "every_restart" and self.warmup_steps > 0:
                anneal = floor_lr + span * 0.5 * (1.0 + _base.cos(pi * (t_cur - w) / (length - w)))
                ramp = floor_lr + span * t_cur / w
                return ops.where(t_cur < w, ramp, anneal)
            lr = floor_lr + span * 0.5 * (1.0 + _base.cos(pi * t_cur / length))
            if self.warmup_mode == "once" and self.warmup_steps > 0:
                ramp = floor_lr + span0 * step / w
                lr = ops.where(step < w, ramp, lr)
            return lr

    @classmethod
    def from_pytorch(cls, lr, T_0, T_mult=1, eta_min=0.0):  # noqa: N803 (PyTorch's names)
        """PyTorch's ``CosineAnnealingWarmRestarts``: returns ``(lr_schedule, None)``.

        ``lr`` is the optimizer's learning rate (PyTorch reads it from the
        optimizer); ``T_0``, ``T_mult`` and ``eta_min`` (absolute) are
        PyTorch's arguments with its defaults (``T_mult=1``: no lengthening;
        the constructor's ``t_mul`` defaults to 2 and its ``alpha`` is
        relative: ``alpha = eta_min / lr``). The second element is `None`
        (PyTorch does not cycle momentum here): the same ``(lr, momentum)``
        pair as the other ``from_pytorch`` constructors.

        Example:

        ```python
        lr, _ = SGDR.from_pytorch(lr=0.1, T_0=10 * steps_per_epoch, T_mult=2, eta_min=1e-4)
        ```
        """
        lr = _base.check_rate("lr", lr)
        eta_min = _base.check_rate("eta_min", eta_min)
        if eta_min > lr:
            raise ValueError(
                f"Argument `eta_min` must be <= lr ({lr!r}). Received: eta_min={eta_min!r}"
            )
        alpha = eta_min / lr if lr > 0 else 0.0
        return cls(lr, T_0, t_mul=T_mult, m_mul=1.0, alpha=alpha), None

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "warmup_steps": self.warmup_steps,
            "warmup_mode": self.warmup_mode,
            "name": self.name,
        }
