"""Cyclical learning rates (Smith 2017), drop-in for TensorFlow Addons' classes.

The learning rate goes up and down between two bounds along a triangle whose
height is scaled per cycle (or per step) by a *scale function*. The formula is
PyTorch's ``CyclicLR``, which contains Smith's symmetric triangle (and so
TensorFlow Addons' ``CyclicalLearningRate``) as the case
``step_size_down == step_size``.

A scale function is any callable (a lambda, a local function: TF Addons code
works unchanged for training). To save a model whose schedule uses one,
register it by name with ``register_scale_function``: ``model.save`` of an
unregistered function raises a ValueError that says so.
"""

import inspect
import math

import keras
from keras import ops

from kerastools import _checks
from kerastools.schedules import _base
from kerastools.schedules._base import const
from kerastools.schedules._base import nested_schedule
from kerastools.schedules._base import prepare_step
from kerastools.schedules._base import scalar

_SCALE_FUNCTIONS = {}
_MODES = ("triangular", "triangular2", "exp_range")
_SCALE_MODES = ("cycle", "iterations")


def register_scale_function(name):
    """Registers ``fn(x, gamma) -> tensor`` as a cyclical scale function.

    ``x`` is the 1-based cycle number (``scale_mode="cycle"``) or the step
    (``scale_mode="iterations"``), a float tensor; ``gamma`` is the schedule's
    ``gamma`` as a tensor of the same dtype. A one-argument ``fn(x)`` (TF
    Addons' form) works too. Use ``keras.ops`` only.

    Example:

    ```python
    @register_scale_function("half_sine")
    def half_sine(x, gamma):
        return 0.5 * (1.0 + keras.ops.sin(x))

    CyclicalLearningRate(1e-4, 1e-2, 500, scale_fn="half_sine")
    ```
    """

    def decorator(fn):
        if not callable(fn):
            raise ValueError(  # noqa: TRY004 (the project's rule: ValueError)
                f"Argument `fn` must be callable. Received: fn={fn!r}"
            )
        existing = _SCALE_FUNCTIONS.get(name)
        # Re-registering the same function (e.g. a module reloaded) is allowed.
        if existing is not None and getattr(existing, "__qualname__", None) != getattr(
            fn, "__qualname__", None
        ):
            raise ValueError(
                f"Argument `name` is already registered as a scale function. "
                f"Received: name={name!r}"
            )
        _SCALE_FUNCTIONS[name] = fn
        return fn

    return decorator


def get_scale_function(name):
    """The scale function registered under ``name``."""
    if name not in _SCALE_FUNCTIONS:
        raise ValueError(
            f"Argument `scale_fn` must be the name of a registered scale function "
            f"(one of {sorted(_SCALE_FUNCTIONS)}; see register_scale_function). "
            f"Received: scale_fn={name!r}"
        )
    return _SCALE_FUNCTIONS[name]


def _takes_one_argument(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 1 and not any(p.kind == p.VAR_POSITIONAL for p in params)


class UnregisteredScaleFunction:
    """An unregistered scale function inside a schedule's config.

    Calls the function (so ``get_config``/``from_config`` round-trips in
    memory, as TF Addons' did), but refuses Keras' serialization: ``model.save``
    of a schedule holding it raises a ValueError that says how to register it.
    """

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args):
        return self.fn(*args)

    def __repr__(self):
        return f"UnregisteredScaleFunction({self.fn!r})"

    def get_config(self):
        name = getattr(self.fn, "__qualname__", repr(self.fn))
        raise ValueError(
            f"Argument `scale_fn` of the cyclical schedule is an unregistered function ({name}); it "
            "cannot be saved. Register it by name before building the schedule, e.g. "
            '`@kerastools.schedules.register_scale_function("my_scale")` on a module-level '
            "`def my_scale(x, gamma): ...` (or `def my_scale(x)`), and load the model after "
            f"importing that module. Received: scale_fn={self.fn!r}"
        )


def _resolve_scale_fn(scale_fn):
    """``(name or None, callable or None)`` for the ``scale_fn`` argument."""
    if isinstance(scale_fn, UnregisteredScaleFunction):
        scale_fn = scale_fn.fn
    if scale_fn is None:
        return None, None
    if isinstance(scale_fn, str):
        return scale_fn, get_scale_function(scale_fn)
    if not callable(scale_fn):
        raise ValueError(
            "Argument `scale_fn` must be a callable, the name of a registered scale function "
            f"or None. Received: scale_fn={scale_fn!r}"
        )
    for name, fn in _SCALE_FUNCTIONS.items():
        if fn is scale_fn:
            return name, fn
    return None, scale_fn


@register_scale_function("triangular")
def _triangular(x, gamma):
    return ops.ones_like(x)


@register_scale_function("triangular2")
def _triangular2(x, gamma):
    return 1.0 / ops.power(ops.cast(2.0, x.dtype), x - 1.0)


@register_scale_function("exp_range")
def _exp_range(x, gamma):
    return ops.power(gamma, x)  # the schedule computes exp(x * log(gamma)) (see _shape)


_MODE_SCALE_MODE = {"triangular": "cycle", "triangular2": "cycle", "exp_range": "iterations"}


def _triangle(step, step_size, step_size_down, dtype):
    """(1-based cycle, scale factor in [0, 1]) of PyTorch's CyclicLR.

    The position in the cycle is ``step - (cycle - 1) * T``, exact in float32
    for integer cycle lengths (PyTorch's ``1 + t / T - cycle`` loses
    ``t / T * eps`` in float32, 1e-4 of the peak after 10^5 steps).
    """
    up = float(step_size)
    total = up + float(step_size_down)
    t_len = const(total, dtype)
    i = _base.floor(step / t_len)
    # Exact boundaries: correct a quotient rounded across an integer.
    i = ops.where(i * t_len > step, i - 1.0, i)
    i = ops.where((i + 1.0) * t_len <= step, i + 1.0, i)
    pos = step - i * t_len
    rising = pos / const(up, dtype)
    falling = (t_len - pos) / const(float(step_size_down), dtype)
    return i + 1.0, ops.where(pos <= const(up, dtype), rising, falling)


@keras.saving.register_keras_serializable(package="kerastools")
class CyclicalLearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """Cyclical learning rate (CLR) between two bounds.

    Reference: L. N. Smith, "Cyclical Learning Rates for Training Neural
    Networks", WACV 2017, [arXiv:1506.01186](https://arxiv.org/abs/1506.01186).

    With ``t`` the optimizer step (0-based), ``up = step_size``,
    ``down = step_size_down`` and ``T = up + down``:

    ```
    cycle = floor(1 + t / T)              # 1-based cycle number
    x = 1 + t / T - cycle                 # position in the cycle, [0, 1)
    f = x / (up / T)                   if x <= up / T   # rising edge
        (x - 1) / (up / T - 1)         otherwise        # falling edge
    lr = initial + (maximal - initial) * f * scale_fn(cycle or t)
    ```

    which is PyTorch's ``CyclicLR`` and, for ``step_size_down == step_size``,
    Smith's ``max(0, 1 - |t / step_size - 2 cycle + 1|)`` triangle used by
    TensorFlow Addons. Scale functions: ``"triangular"`` (1),
    ``"triangular2"`` (``1 / 2**(cycle - 1)``), ``"exp_range"``
    (``gamma**t``) or any name registered with ``register_scale_function``.

    Conventions: when ``scale_fn`` is `None`, the mode fixes ``scale_mode``
    (``"cycle"`` for the triangles, ``"iterations"`` for ``"exp_range"``), as
    PyTorch does; an explicit ``scale_mode`` overrides it. TF Addons code runs
    unchanged: ``scale_fn`` may be any callable (a lambda too) and the bounds
    tensors, NumPy scalars or ``keras.Variable`` (read once, at construction).
    To save the model, register the function (``register_scale_function``):
    ``model.save`` raises a ValueError for an unregistered one. PyTorch code:
    ``CyclicalLearningRate.from_pytorch(base_lr=..., ...)``.

    Args:
        initial_learning_rate: the lower bound (``base_lr``), >= 0.
        maximal_learning_rate: the upper bound (``max_lr``), >=
            ``initial_learning_rate``.
        step_size: steps of the rising half-cycle (PyTorch's
            ``step_size_up``), in [1, 1e15] (need not be an integer).
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``, used
            when ``scale_fn`` is `None`. Defaults to `"triangular"`.
        gamma: the base of ``"exp_range"``, in (0, 1]. Defaults to `1.0`.
        scale_fn: a callable ``fn(x)`` or ``fn(x, gamma)`` written with
            ``keras.ops`` (or tensor operators), or the name of a registered
            one; overrides ``mode``. Only registered functions can be saved.
            Defaults to `None`.
        scale_mode: ``"cycle"`` or ``"iterations"``: what ``scale_fn``
            receives. Defaults to `None` (the mode's own; ``"cycle"`` for a
            custom ``scale_fn``).
        step_size_down: steps of the falling half-cycle. Defaults to `None`
            (equal to ``step_size``).
        name: name of the schedule. Defaults to `"CyclicalLearningRate"`.

    Example:

    ```python
    lr = kerastools.schedules.CyclicalLearningRate(
        1e-4, 1e-2, step_size=4 * steps_per_epoch, mode="triangular2")
    model.compile(optimizer=keras.optimizers.SGD(lr, momentum=0.9), ...)
    ```
    """

    def __init__(
        self,
        initial_learning_rate,
        maximal_learning_rate,
        step_size,
        mode="triangular",
        gamma=1.0,
        scale_fn=None,
        scale_mode=None,
        step_size_down=None,
        name="CyclicalLearningRate",
    ):
        super().__init__()
        if callable(mode) and scale_fn is None:
            # TF Addons' positional order: (..., step_size, scale_fn, scale_mode).
            if isinstance(gamma, str) and scale_mode is None:
                scale_mode, gamma = gamma, 1.0
            mode, scale_fn = "triangular", mode
        self.initial_learning_rate = _base.check_rate("initial_learning_rate", initial_learning_rate)
        self.maximal_learning_rate = _base.check_rate("maximal_learning_rate", maximal_learning_rate)
        if self.maximal_learning_rate < self.initial_learning_rate:
            raise ValueError(
                "Argument `maximal_learning_rate` must be >= initial_learning_rate "
                f"({self.initial_learning_rate!r}). "
                f"Received: maximal_learning_rate={maximal_learning_rate!r}"
            )
        self.step_size = _base.check_steps("step_size", step_size)
        self.step_size_down = (
            None if step_size_down is None else _base.check_steps("step_size_down", step_size_down)
        )
        self.mode = _checks.check_choice("mode", mode, _MODES)
        self.gamma = _checks.check_positive("gamma", scalar("gamma", gamma))
        name_or_none, self._scale_callable = _resolve_scale_fn(scale_fn)
        # A registered function is stored by name (JSON-safe); an unregistered
        # callable is kept, and refuses serialization (see UnregisteredScaleFunction).
        self.scale_fn = (
            name_or_none if name_or_none is not None or self._scale_callable is None
            else UnregisteredScaleFunction(self._scale_callable)
        )
        if self.mode == "exp_range" and self._scale_callable is None and self.gamma > 1:
            # gamma**t would grow the cycle past maximal_learning_rate and
            # overflow to inf (found by tests/test_fuzz.py).
            raise ValueError(
                "Argument `gamma` must be in (0, 1] for mode='exp_range'. "
                f"Received: gamma={gamma!r}"
            )
        if scale_mode is not None:
            _checks.check_choice("scale_mode", scale_mode, _SCALE_MODES)
        self.scale_mode = scale_mode
        self.name = name

    @property
    def resolved_scale_fn(self):
        """The scale function's registered name, or the unregistered callable."""
        if self._scale_callable is None:
            return self.mode
        return self.scale_fn

    @property
    def resolved_scale_mode(self):
        if self.scale_mode is not None:
            return self.scale_mode
        if self._scale_callable is not None:
            return "cycle"
        return _MODE_SCALE_MODE[self.mode]

    def _down(self):
        return self.step_size if self.step_size_down is None else self.step_size_down

    def _shape(self, step, dtype):
        """``f * scale`` in [0, 1] (before the scale function: f)."""
        cycle, f = _triangle(step, self.step_size, self._down(), dtype)
        x = cycle if self.resolved_scale_mode == "cycle" else step
        if self._scale_callable is None and self.mode == "exp_range":
            # gamma**x as exp(x * log(gamma)) with log(gamma) from float64: a
            # float32 gamma is off by 3e-8 relative, and gamma**x by x times that.
            scale = ops.exp(x * const(math.log(self.gamma), dtype))
        else:
            fn = self._scale_callable or get_scale_function(self.mode)
            if _takes_one_argument(fn):  # TF Addons' form: scale_fn(x)
                scale = fn(x)
            else:
                scale = fn(x, const(self.gamma, dtype))
        return f * ops.cast(scale, dtype)

    def __call__(self, step):
        with keras.name_scope(self.name or "CyclicalLearningRate"):
            step, dtype = prepare_step(step)
            low = const(self.initial_learning_rate, dtype)
            high = const(self.maximal_learning_rate, dtype)
            return low + (high - low) * self._shape(step, dtype)

    @classmethod
    def from_pytorch(cls, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                     mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle",
                     cycle_momentum=True, base_momentum=0.8, max_momentum=0.9):
        """PyTorch's ``CyclicLR`` arguments and defaults: returns ``(lr, momentum)``.

        Takes ``torch.optim.lr_scheduler.CyclicLR``'s keyword arguments (less
        ``optimizer``, ``last_epoch``, ``verbose``) and returns the learning-rate
        schedule and, when ``cycle_momentum`` is true, the ``CyclicalMomentum``
        that PyTorch writes into the optimizer's momentum (else `None`). As in
        PyTorch, ``scale_mode`` is used only with a custom ``scale_fn`` (any
        callable of one argument); ``mode`` fixes it otherwise.

        Differences: one group only (no per-group lists); ``max_lr >= base_lr``
        and, for ``"exp_range"``, ``gamma <= 1`` are required.

        Example:

        ```python
        lr, momentum = CyclicalLearningRate.from_pytorch(
            base_lr=1e-3, max_lr=1e-2, step_size_up=2000, mode="triangular2")
        optimizer = kerastools.optimizers.sgd(lr, momentum=momentum)
        ```
        """
        if scale_fn is None:
            schedule = cls(base_lr, max_lr, step_size_up, mode=mode, gamma=gamma,
                           step_size_down=step_size_down)
        else:
            _checks.check_choice("mode", mode, _MODES)
            schedule = cls(base_lr, max_lr, step_size_up, gamma=gamma, scale_fn=scale_fn,
                           scale_mode=scale_mode, step_size_down=step_size_down)
        if not isinstance(cycle_momentum, bool):
            raise ValueError(  # noqa: TRY004 (the project's rule: ValueError)
                f"Argument `cycle_momentum` must be a bool. Received: cycle_momentum={cycle_momentum!r}"
            )
        momentum = schedule.momentum_schedule(base_momentum, max_momentum) if cycle_momentum else None
        return schedule, momentum

    def momentum_schedule(self, base_momentum=0.8, max_momentum=0.9):
        """The momentum cycling in opposite phase (PyTorch's ``cycle_momentum``).

        ``momentum = max_momentum - (max_momentum - base_momentum) * f * scale``.
        Returns a ``CyclicalMomentum`` schedule for ``FilterOptimizer``'s
        momentum or ``beta_1`` (or ``kerastools.callbacks.MomentumScheduler``).
        """
        return CyclicalMomentum(self, base_momentum, max_momentum)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "maximal_learning_rate": self.maximal_learning_rate,
            "step_size": self.step_size,
            "mode": self.mode,
            "gamma": self.gamma,
            "scale_fn": self.scale_fn,
            "scale_mode": self.scale_mode,
            "step_size_down": self.step_size_down,
            "name": self.name,
        }


@keras.saving.register_keras_serializable(package="kerastools")
class TriangularCyclicalLearningRate(CyclicalLearningRate):
    """``CyclicalLearningRate`` with a constant height (TF Addons' class).

    Args:
        initial_learning_rate: the lower bound, >= 0.
        maximal_learning_rate: the upper bound, >= ``initial_learning_rate``.
        step_size: steps of a half-cycle, > 0.
        scale_mode: ``"cycle"`` or ``"iterations"``. Defaults to `"cycle"`.
        name: Defaults to `"TriangularCyclicalLearningRate"`.

    Example:

    ```python
    lr = TriangularCyclicalLearningRate(1e-4, 1e-2, step_size=2000)
    ```
    """

    def __init__(self, initial_learning_rate, maximal_learning_rate, step_size,
                 scale_mode="cycle", name="TriangularCyclicalLearningRate"):
        super().__init__(initial_learning_rate, maximal_learning_rate, step_size,
                         mode="triangular", scale_mode=scale_mode, name=name)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "maximal_learning_rate": self.maximal_learning_rate,
            "step_size": self.step_size,
            "scale_mode": self.scale_mode,
            "name": self.name,
        }


@keras.saving.register_keras_serializable(package="kerastools")
class Triangular2CyclicalLearningRate(CyclicalLearningRate):
    """``CyclicalLearningRate`` whose height halves every cycle (TF Addons' class).

    Args:
        initial_learning_rate: the lower bound, >= 0.
        maximal_learning_rate: the upper bound, >= ``initial_learning_rate``.
        step_size: steps of a half-cycle, > 0.
        scale_mode: ``"cycle"`` or ``"iterations"``. Defaults to `"cycle"`.
        name: Defaults to `"Triangular2CyclicalLearningRate"`.

    Example:

    ```python
    lr = Triangular2CyclicalLearningRate(1e-4, 1e-2, step_size=2000)
    ```
    """

    def __init__(self, initial_learning_rate, maximal_learning_rate, step_size,
                 scale_mode="cycle", name="Triangular2CyclicalLearningRate"):
        super().__init__(initial_learning_rate, maximal_learning_rate, step_size,
                         mode="triangular2", scale_mode=scale_mode, name=name)

    def get_config(self):
        return TriangularCyclicalLearningRate.get_config(self)


@keras.saving.register_keras_serializable(package="kerastools")
class ExponentialCyclicalLearningRate(CyclicalLearningRate):
    """``CyclicalLearningRate`` whose height decays as ``gamma**t`` (TF Addons' class).

    Args:
        initial_learning_rate: the lower bound, >= 0.
        maximal_learning_rate: the upper bound, >= ``initial_learning_rate``.
        step_size: steps of a half-cycle, > 0.
        scale_mode: ``"cycle"`` or ``"iterations"``. Defaults to
            `"iterations"`.
        gamma: the decay base, in (0, 1]. Defaults to `1.0`.
        name: Defaults to `"ExponentialCyclicalLearningRate"`.

    Example:

    ```python
    lr = ExponentialCyclicalLearningRate(1e-4, 1e-2, step_size=2000, gamma=0.9995)
    ```
    """

    def __init__(self, initial_learning_rate, maximal_learning_rate, step_size,
                 scale_mode="iterations", gamma=1.0,
                 name="ExponentialCyclicalLearningRate"):
        super().__init__(initial_learning_rate, maximal_learning_rate, step_size,
                         mode="exp_range", gamma=gamma, scale_mode=scale_mode, name=name)

    def get_config(self):
        config = TriangularCyclicalLearningRate.get_config(self)
        config["gamma"] = self.gamma
        return config


@keras.saving.register_keras_serializable(package="kerastools")
class CyclicalMomentum(keras.optimizers.schedules.LearningRateSchedule):
    """Momentum (or ``beta_1``) cycling opposite to a ``CyclicalLearningRate``.

    Reference: PyTorch's ``CyclicLR(cycle_momentum=True)``; Smith 2018,
    [arXiv:1803.09820](https://arxiv.org/abs/1803.09820).

    ```
    momentum = max_momentum - (max_momentum - base_momentum) * f * scale
    ```

    with ``f * scale`` the learning-rate schedule's normalised shape, so the
    momentum is lowest where the learning rate is highest.

    Args:
        schedule: the ``CyclicalLearningRate`` it mirrors.
        base_momentum: the lowest momentum, in [0, 1). Defaults to `0.8`.
        max_momentum: the highest momentum, in [base_momentum, 1). Defaults
            to `0.9`.
        name: Defaults to `"CyclicalMomentum"`.

    Example:

    ```python
    lr = CyclicalLearningRate(1e-4, 1e-2, 500)
    momentum = lr.momentum_schedule(0.8, 0.9)
    ```
    """

    def __init__(self, schedule, base_momentum=0.8, max_momentum=0.9,
                 name="CyclicalMomentum"):
        super().__init__()
        self.schedule = nested_schedule("schedule", schedule, CyclicalLearningRate)
        self.base_momentum, self.max_momentum = _checks.check_momentum_bounds(
            scalar("base_momentum", base_momentum), scalar("max_momentum", max_momentum))
        self.name = name

    def __call__(self, step):
        step, dtype = prepare_step(step)
        high = const(self.max_momentum, dtype)
        return high - (high - const(self.base_momentum, dtype)) * self.schedule._shape(step, dtype)

    def get_config(self):
        return {
            "schedule": keras.saving.serialize_keras_object(self.schedule),
            "base_momentum": self.base_momentum,
            "max_momentum": self.max_momentum,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

