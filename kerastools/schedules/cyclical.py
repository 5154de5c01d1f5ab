"""Cyclical learning rates (Smith 2017), drop-in for TensorFlow Addons' classes.

The learning rate goes up and down between two bounds along a triangle whose
height is scaled per cycle (or per step) by a *scale function*. The formula is
PyTorch's ``CyclicLR``, which contains Smith's symmetric triangle (and so
TensorFlow Addons' ``CyclicalLearningRate``) as the case
``step_size_down == step_size``.

Scale functions are given by name, never as a lambda, so that ``get_config`` is
JSON-safe and ``model.save`` works (TF Addons' class stored a lambda and could
not be saved). Register your own with ``register_scale_function``.
"""

import inspect

import keras
from keras import ops

from kerastools import _checks
from kerastools.schedules import _base
from kerastools.schedules._base import const
from kerastools.schedules._base import nested_schedule
from kerastools.schedules._base import prepare_step

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


def _scale_fn_name(scale_fn):
    if scale_fn is None or isinstance(scale_fn, str):
        if isinstance(scale_fn, str):
            get_scale_function(scale_fn)
        return scale_fn
    for name, fn in _SCALE_FUNCTIONS.items():
        if fn is scale_fn:
            return name
    raise ValueError(
        "Argument `scale_fn` must be the name of a registered scale function "
        "(a lambda cannot be saved; decorate it with "
        "kerastools.schedules.register_scale_function(name)). "
        f"Received: scale_fn={scale_fn!r}"
    )


@register_scale_function("triangular")
def _triangular(x, gamma):
    return ops.ones_like(x)


@register_scale_function("triangular2")
def _triangular2(x, gamma):
    return 1.0 / ops.power(ops.cast(2.0, x.dtype), x - 1.0)


@register_scale_function("exp_range")
def _exp_range(x, gamma):
    return ops.power(gamma, x)


_MODE_SCALE_MODE = {"triangular": "cycle", "triangular2": "cycle", "exp_range": "iterations"}


def _triangle(step, step_size, step_size_down, dtype):
    """(cycle, scale factor in [0, 1]) of PyTorch's CyclicLR."""
    total = float(step_size) + float(step_size_down)
    ratio = float(step_size) / total
    cycle = _base.floor(1.0 + step / const(total, dtype))
    x = 1.0 + step / const(total, dtype) - cycle
    up = x / const(ratio, dtype)
    down = (x - 1.0) / const(ratio - 1.0, dtype)
    return cycle, ops.where(x <= const(ratio, dtype), up, down)


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
    PyTorch does; an explicit ``scale_mode`` overrides it. TF Addons users:
    pass the function's registered *name* as ``scale_fn`` (a lambda cannot be
    saved), or use the ``Triangular*``/``Exponential*`` subclasses unchanged.

    Args:
        initial_learning_rate: the lower bound (``base_lr``), >= 0.
        maximal_learning_rate: the upper bound (``max_lr``), >=
            ``initial_learning_rate``.
        step_size: steps of the rising half-cycle (PyTorch's
            ``step_size_up``), > 0.
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``, used
            when ``scale_fn`` is `None`. Defaults to `"triangular"`.
        gamma: the base of ``"exp_range"``, in (0, 1]. Defaults to `1.0`.
        scale_fn: name of a registered scale function, or such a registered
            function; overrides ``mode``. Defaults to `None`.
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
        self.initial_learning_rate = _checks.check_non_negative(
            "initial_learning_rate", initial_learning_rate
        )
        self.maximal_learning_rate = _checks.check_non_negative(
            "maximal_learning_rate", maximal_learning_rate
        )
        if self.maximal_learning_rate < self.initial_learning_rate:
            raise ValueError(
                "Argument `maximal_learning_rate` must be >= initial_learning_rate "
                f"({self.initial_learning_rate!r}). "
                f"Received: maximal_learning_rate={maximal_learning_rate!r}"
            )
        self.step_size = _checks.check_positive("step_size", step_size)
        self.step_size_down = (
            None
            if step_size_down is None
            else _checks.check_positive("step_size_down", step_size_down)
        )
        self.mode = _checks.check_choice("mode", mode, _MODES)
        self.gamma = _checks.check_positive("gamma", gamma)
        self.scale_fn = _scale_fn_name(scale_fn)
        if self.mode == "exp_range" and self.scale_fn is None and self.gamma > 1:
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
        return self.scale_fn if self.scale_fn is not None else self.mode

    @property
    def resolved_scale_mode(self):
        if self.scale_mode is not None:
            return self.scale_mode
        if self.scale_fn is not None:
            return "cycle"
        return _MODE_SCALE_MODE[self.mode]

    def _down(self):
        return self.step_size if self.step_size_down is None else self.step_size_down

    def _shape(self, step, dtype):
        """``f * scale`` in [0, 1] (before the scale function: f)."""
        cycle, f = _triangle(step, self.step_size, self._down(), dtype)
        x = cycle if self.resolved_scale_mode == "cycle" else step
        fn = get_scale_function(self.resolved_scale_fn)
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
            base_momentum, max_momentum)
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

