"""The one-cycle policy (Smith 2018), PyTorch's ``OneCycleLR`` step for step."""

import math

import keras
from keras import ops

from kerastools import _checks
from kerastools.schedules import _base
from kerastools.schedules._base import const
from kerastools.schedules._base import nested_schedule
from kerastools.schedules._base import prepare_step
from kerastools.schedules._base import scalar


def _anneal(start, end, pct, strategy, dtype):
    start = const(start, dtype)
    end = const(end, dtype)
    if strategy == "cos":
        return end + (start - end) / 2.0 * (_base.cos(const(math.pi, dtype) * pct) + 1.0)
    return (end - start) * pct + start


def _one_cycle_phases(total_steps, pct_start, three_phase):
    """End steps of the phases, exactly as PyTorch computes them."""
    if three_phase:
        return [float(pct_start * total_steps) - 1, float(2 * pct_start * total_steps) - 2,
                total_steps - 1]
    return [float(pct_start * total_steps) - 1, total_steps - 1]


def _piecewise(step, ends, values, strategy, dtype):
    """Value of the phase ``step`` falls in; ``values`` = [(start, end), ...]."""
    result = None
    start_step = 0.0
    pieces = []
    for end_step, (v0, v1) in zip(ends, values):
        span = float(end_step) - start_step
        pct = (step - const(start_step, dtype)) / const(span if span != 0 else 1.0, dtype)
        pieces.append(_anneal(v0, v1, pct, strategy, dtype))
        start_step = float(end_step)
    result = pieces[-1]
    for end_step, piece in reversed(list(zip(ends[:-1], pieces[:-1]))):
        result = ops.where(step <= const(float(end_step), dtype), piece, result)
    return result


@keras.saving.register_keras_serializable(package="kerastools")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """One-cycle learning rate: warm up to a peak, then anneal far below the start.

    Reference: L. N. Smith and N. Topin, "Super-Convergence", 2018,
    [arXiv:1708.07120](https://arxiv.org/abs/1708.07120); L. N. Smith,
    [arXiv:1803.09820](https://arxiv.org/abs/1803.09820).

    With ``initial = maximal_learning_rate / div_factor``,
    ``min = initial / final_div_factor`` and ``N = total_steps``, the phases
    end at steps (PyTorch's ``OneCycleLR``, including its ``- 1``):

    ```
    two phases:   e0 = pct_start*N - 1: initial -> maximal
                  e1 = N - 1:           maximal -> min
    three_phase:  e0 = pct_start*N - 1: initial -> maximal
                  e1 = 2*pct_start*N - 2: maximal -> initial
                  e2 = N - 1:           initial -> min
    pct = (t - e_{k-1}) / (e_k - e_{k-1})      (e_{-1} = 0)
    cos:    lr = end + (start - end) / 2 * (1 + cos(pi * pct))
    linear: lr = start + (end - start) * pct
    ```

    Past the last step (``t >= N - 1``) the schedule holds ``min``
    (PyTorch raises an error after ``N`` steps and extrapolates at step
    ``N``; this is the only difference).

    ``momentum_schedule()`` gives the momentum (or ``beta_1``) cycling in
    opposite phase, from ``max_momentum`` down to ``base_momentum`` and back.

    Args:
        maximal_learning_rate: the peak, > 0.
        total_steps: the number of optimizer steps of the cycle, > 0.
        pct_start: fraction of the steps spent rising, in (0, 1). Defaults to
            `0.3`.
        div_factor: ``initial = maximal_learning_rate / div_factor``, > 0.
            Defaults to `25.0`.
        final_div_factor: ``min = initial / final_div_factor``, > 0.
            Defaults to `1e4`.
        anneal_strategy: ``"cos"`` or ``"linear"``. Defaults to `"cos"`.
        three_phase: add a symmetric descent back to ``initial`` before the
            final annealing. Defaults to `False`.
        name: Defaults to `"OneCycle"`.

    Example:

    ```python
    schedule = kerastools.schedules.OneCycle(0.1, total_steps=epochs * steps_per_epoch)
    optimizer = kerastools.optimizers.momentum(
        schedule, momentum=schedule.momentum_schedule())  # the momentum cycles in the step
    ```
    """

    def __init__(
        self,
        maximal_learning_rate,
        total_steps,
        pct_start=0.3,
        div_factor=25.0,
        final_div_factor=1e4,
        anneal_strategy="cos",
        three_phase=False,
        name="OneCycle",
    ):
        super().__init__()
        self.maximal_learning_rate = _base.check_rate(
            "maximal_learning_rate", maximal_learning_rate, positive=True
        )
        self.total_steps = _checks.check_positive_int("total_steps", total_steps)
        self.pct_start = _checks.check_in_range(
            "pct_start", pct_start, 0.0, 1.0, low_closed=False, high_closed=False
        )
        self.div_factor = _checks.check_positive("div_factor", scalar("div_factor", div_factor))
        self.final_div_factor = _checks.check_positive(
            "final_div_factor", scalar("final_div_factor", final_div_factor))
        for arg, value, rate in (("div_factor", div_factor, self.initial_learning_rate),
                                 ("final_div_factor", final_div_factor, self.final_learning_rate)):
            if not rate <= _base.FLOAT32_MAX:  # inf in float32 (or in float64)
                raise ValueError(
                    f"Argument `{arg}` must keep the derived learning rate ({rate!r}) <= "
                    f"{_base.FLOAT32_MAX!r} (the float32 maximum). Received: {arg}={value!r}"
                )
        self.anneal_strategy = _checks.check_choice(
            "anneal_strategy", anneal_strategy, ("cos", "linear")
        )
        if not isinstance(three_phase, bool):
            raise ValueError(  # noqa: TRY004 (the project's rule: ValueError)
                f"Argument `three_phase` must be a bool. Received: three_phase={three_phase!r}"
            )
        self.three_phase = three_phase
        self.name = name

    @property
    def initial_learning_rate(self):
        return self.maximal_learning_rate / self.div_factor

    @property
    def final_learning_rate(self):
        return self.initial_learning_rate / self.final_div_factor

    def phase_ends(self):
        """The steps at which the phases end (PyTorch's ``end_step``)."""
        return _one_cycle_phases(self.total_steps, self.pct_start, self.three_phase)

    def _values(self, low, high, final):
        if self.three_phase:
            return [(low, high), (high, low), (low, final)]
        return [(low, high), (high, final)]

    def _evaluate(self, step, values):
        step, dtype = prepare_step(step)
        last = const(float(self.total_steps - 1), dtype)
        step = ops.where(step < last, step, last)  # ops.minimum is float32 on Keras' torch backend
        return _piecewise(step, self.phase_ends(), values, self.anneal_strategy, dtype)

    def __call__(self, step):
        with keras.name_scope(self.name or "OneCycle"):
            values = self._values(self.initial_learning_rate, self.maximal_learning_rate,
                                  self.final_learning_rate)
            return self._evaluate(step, values)

    @classmethod
    def from_pytorch(cls, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                     pct_start=0.3, anneal_strategy="cos", cycle_momentum=True,
                     base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
                     final_div_factor=1e4, three_phase=False):
        """PyTorch's ``OneCycleLR`` arguments and defaults: returns ``(lr, momentum)``.

        Takes ``torch.optim.lr_scheduler.OneCycleLR``'s keyword arguments (less
        ``optimizer``, ``last_epoch``, ``verbose``): ``total_steps``, or
        ``epochs`` and ``steps_per_epoch`` (``total_steps = epochs *
        steps_per_epoch``; ``total_steps`` wins when both are given, as in
        PyTorch). Returns the ``OneCycle`` schedule and, when
        ``cycle_momentum`` is true, its ``OneCycleMomentum`` (PyTorch's
        momentum, or Adam's ``beta_1``), else `None`.

        Example:

        ```python
        lr, beta_1 = OneCycle.from_pytorch(max_lr=0.01, epochs=10, steps_per_epoch=len(loader))
        optimizer = kerastools.optimizers.adam(lr, beta_1=beta_1)
        ```
        """
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError(
                    "Argument `total_steps` must be given, or both `epochs` and `steps_per_epoch`. "
                    f"Received: total_steps=None, epochs={epochs!r}, steps_per_epoch={steps_per_epoch!r}"
                )
            epochs = _checks.check_positive_int("epochs", epochs)
            steps_per_epoch = _checks.check_positive_int("steps_per_epoch", steps_per_epoch)
            total_steps = epochs * steps_per_epoch
        schedule = cls(max_lr, total_steps, pct_start=pct_start, div_factor=div_factor,
                       final_div_factor=final_div_factor, anneal_strategy=anneal_strategy,
                       three_phase=three_phase)
        if not isinstance(cycle_momentum, bool):
            raise ValueError(  # noqa: TRY004 (the project's rule: ValueError)
                f"Argument `cycle_momentum` must be a bool. Received: cycle_momentum={cycle_momentum!r}"
            )
        momentum = schedule.momentum_schedule(base_momentum, max_momentum) if cycle_momentum else None
        return schedule, momentum

    def momentum_schedule(self, base_momentum=0.85, max_momentum=0.95):
        """The momentum (or ``beta_1``) cycling in opposite phase.

        Returns a ``OneCycleMomentum``: ``max_momentum -> base_momentum`` while
        the learning rate rises, back to ``max_momentum`` while it falls (and
        held there in the third phase), PyTorch's ``cycle_momentum=True``.
        """
        return OneCycleMomentum(self, base_momentum, max_momentum)

    def get_config(self):
        return {
            "maximal_learning_rate": self.maximal_learning_rate,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            "anneal_strategy": self.anneal_strategy,
            "three_phase": self.three_phase,
            "name": self.name,
        }


@keras.saving.register_keras_serializable(package="kerastools")
class OneCycleMomentum(keras.optimizers.schedules.LearningRateSchedule):
    """The momentum of a one-cycle policy, in opposite phase to its learning rate.

    Reference: L. N. Smith, [arXiv:1803.09820](https://arxiv.org/abs/1803.09820);
    PyTorch's ``OneCycleLR(cycle_momentum=True)``.

    Same phases and annealing as the ``OneCycle`` it mirrors, with
    ``max_momentum -> base_momentum``, ``base_momentum -> max_momentum`` (and
    ``max_momentum`` held in a third phase).

    Args:
        schedule: the ``OneCycle`` schedule.
        base_momentum: the momentum at the learning-rate peak, in [0, 1).
            Defaults to `0.85`.
        max_momentum: the momentum at the ends, in [base_momentum, 1).
            Defaults to `0.95`.
        name: Defaults to `"OneCycleMomentum"`.

    Example:

    ```python
    schedule = OneCycle(0.1, total_steps=1000)
    beta_1 = schedule.momentum_schedule(0.85, 0.95)
    ```
    """

    def __init__(self, schedule, base_momentum=0.85, max_momentum=0.95,
                 name="OneCycleMomentum"):
        super().__init__()
        self.schedule = nested_schedule("schedule", schedule, OneCycle)
        self.base_momentum, self.max_momentum = _checks.check_momentum_bounds(
            scalar("base_momentum", base_momentum), scalar("max_momentum", max_momentum))
        self.name = name

    def __call__(self, step):
        with keras.name_scope(self.name or "OneCycleMomentum"):
            lo, hi = self.base_momentum, self.max_momentum
            values = [(hi, lo), (lo, hi), (hi, hi)] if self.schedule.three_phase else [(hi, lo), (lo, hi)]
            return self.schedule._evaluate(step, values)

    def get_config(self):
        return {
            "schedule": keras.saving.serialize_keras_object(self.schedule),
            "base_momentum": self.base_momentum,
            "max_momentum": self.max_momentum,
            "name": self.name,
        }
