"""Stages: the small, serialisable transformations an optimizer is a chain of.

An optimizer (``ChainOptimizer``) is a learning rate and a chain of stages,
run in order on the update ``u`` (the gradient to begin with), then
``w -= lr * u`` (or ``w -= u`` when a ``ScaleByLearningRate`` stage applied the
learning rate earlier). Each stage creates its named state in
``build(optimizer, variables)`` with the optimizer's public ``add_variable`` /
``add_optimizer_variables`` (so ``model.save`` keeps it) and transforms the
update in ``apply(update, ctx)`` with ``keras.ops``.

Transient compensation (Adam's bias correction) comes from the filter core,
``kerastools.filters.ARMAFilter.compensation``; no stage writes
``1 - beta**t`` itself.

A stage linear in the update also overrides ``apply_scaled(update, factor,
ctx)``: scalar factors (the learning rate, a compensation) then stay beside
the tensor and the chain multiplies the update by their product once, as
Keras' Adam folds ``lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``. A stage that
ends in a division (``Normalize``) also overrides ``apply_divided``: as the
chain's last stage it leaves that division to the chain, which then divides
the fully scaled update, as Keras does (``(m * alpha) / (sqrt(v) + eps)``). The
arithmetic goes through ``kerastools._native`` (``keras.ops`` where the step is
traced; torch's own operators, with in-place state updates, on PyTorch).
"""

import inspect
import sys

import keras
from keras import ops

from kerastools import _native as xp
from kerastools._checks import check_bool
from kerastools._checks import check_choice
from kerastools._checks import check_finite
from kerastools._checks import check_in_range
from kerastools._checks import check_non_negative
from kerastools.filters import ARMAFilter

EPSILON_PLACEMENTS = ("outside", "inside", "outside_uncompensated")


# ----------------------------------------------------------------- helpers
def scalar_dtype(variable):
    """Dtype of scalar state and compensation for ``variable``: float64 or float32.

    Never the variable's float16/bfloat16 (a step response ``1 - p**t`` stalls
    there), and never another variable's dtype (a model may mix dtypes).
    """
    return "float64" if keras.backend.standardize_dtype(variable.dtype) == "float64" else "float32"


def _is_serializable_callable(value):
    """A Keras built-in object, or a class/function registered for serialization."""
    if inspect.isfunction(value) or inspect.isbuiltin(value) or inspect.ismethod(value):
        if getattr(value, "__name__", "") == "<lambda>":
            return False
        name = keras.saving.get_registered_name(value)
        return keras.saving.get_registered_object(name) is value
    cls = type(value)
    if cls.__module__.split(".")[0] == "keras":
        return True
    name = keras.saving.get_registered_name(cls)
    return keras.saving.get_registered_object(name) is cls


@keras.saving.register_keras_serializable(package="kerastools")
class Coefficient:
    """A coefficient held in an optimizer variable, set between steps by a callback.

    Where a preset takes a float or a schedule for ``momentum``/``beta_1``, a
    ``Coefficient(0.95)`` makes the filter read its pole from a scalar
    optimizer variable (named ``<stage>_coefficient``) that
    ``ChainOptimizer.set_coefficient`` assigns, e.g. from
    ``kerastools.callbacks.MomentumScheduler``. A schedule passed directly
    (``momentum=schedule``) costs nothing per batch and is preferred.

    Args:
        value: initial value, a float in [0, 1).

    Example:

    >>> opt = kerastools.optimizers.momentum(0.1, momentum=Coefficient(0.95))
    """

    def __init__(self, value):
        self.value = check_in_range("value", value, 0.0, 1.0)

    def get_config(self):
        return {"value": self.value}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"Coefficient({self.value!r})"


def check_coefficient(name, value, low=0.0, high=1.0, allow_none=True):
    """A float in ``[low, high)``, a serialisable schedule of the iteration, or None.

    Schedules must survive ``model.save``/``load_model``: a Keras built-in
    ``LearningRateSchedule``, or a class or function registered with
    ``keras.saving.register_keras_serializable``. Lambdas and unregistered
    callables are refused here rather than at load time.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, dict):
        value = keras.saving.deserialize_keras_object(value)
    if isinstance(value, Coefficient):
        return value
    if callable(value) and not isinstance(value, keras.Variable):
        if not _is_serializable_callable(value):
            raise ValueError(
                f"Argument `{name}` must be a float or a serialisable schedule: a "
                "keras.optimizers.schedules.LearningRateSchedule, or a class or function "
                "decorated with @keras.saving.register_keras_serializable(package=...) so "
                "that a saved model can be loaded. A lambda or an unregistered function "
                f"cannot be saved. Received: {name}={value!r}"
            )
        return value
    v = check_finite(name, value)
    if not low <= v < high:
        raise ValueError(f"Argument `{name}` must be in [{low}, {high}). Received: {name}={value!r}")
    return v


def serialize_coefficient(value):
    """JSON-safe form of a float, None or schedule coefficient."""
    if value is None or isinstance(value, (int, float)):
        return value
    return keras.saving.serialize_keras_object(value)


def coefficient_value(value, ctx, dtype=None, offset=0):
    """A coefficient at step ``iterations + offset``, cast to ``dtype`` (default the variable's).

    A ``Coefficient`` is read from the optimizer variable its stage created
    (``ctx.optimizer.coefficient_variable(stage_name)``) by the stage itself.
    """
    dtype = dtype or ctx.dtype
    if isinstance(value, keras.Variable):
        return xp.cast(value, dtype)
    if callable(value):
        value = value(ctx.iterations + offset if offset else ctx.iterations)
    return xp.cast(value, dtype)


def check_filter(name, value):
    """An ``ARMAFilter`` (or its serialised form)."""
    if isinstance(value, dict):
        value = keras.saving.deserialize_keras_object(value)
    if not isinstance(value, ARMAFilter):
        raise ValueError(
            f"Argument `{name}` must be a kerastools.filters.ARMAFilter. Received: {name}={value!r}"
        )
    return value


def _check_name(name):
    if not isinstance(name, str) or not name:
        raise ValueError(f"Argument `name` must be a non-empty string. Received: name={name!r}")
    return name


def dense(gradient, variable):
    """A gradient as a dense tensor: TensorFlow's ``IndexedSlices`` (an
    ``Embedding``'s sparse gradient) is scattered into zeros, as Keras'
    optimizers do through their sparse ``ops``."""
    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(gradient, tf.IndexedSlices):
        return ops.add(ops.zeros(variable.shape, gradient.dtype), gradient)
    return gradient


class StepContext:
    """What a stage sees at one ``update_step`` (read-only by convention).

    Attributes:
        optimizer: the ``ChainOptimizer`` (use its ``assign``/``assign_add``).
        variable: the model variable being updated.
        index: its position in the optimizer's variable list (picks the slot).
        gradient: the dense gradient, cast to the variable dtype.
        dtype: the variable dtype (a string).
        iterations: ``optimizer.iterations`` (steps taken before this one).
        learning_rate: the learning rate cast to ``dtype``.
        is_first: True for the first variable updated in this ``apply`` call
            (update once-per-step scalar state then).

    ``cached(key, compute)`` shares a per-step value (a closed-form bias
    correction) between the variables of one ``apply`` call.
    """

    def __init__(self, optimizer, variable, index, gradient, learning_rate, is_first,
                 cache=None):
        self.optimizer = optimizer
        self._cache = {} if cache is None else cache
        self.variable = variable
        self.index = index
        self.dtype = keras.backend.standardize_dtype(variable.dtype)
        self.gradient = gradient
        self.iterations = optimizer.iterations
        self.learning_rate = learning_rate
        self.is_first = is_first
        self._step = None

    def cached(self, key, compute):
        """``compute()`` once per ``apply`` call and ``key`` (e.g. a bias correction
        that depends only on the step and the dtype), shared by all variables."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    @property
    def step(self):
        """``iterations + 1`` as a float in ``scalar_dtype(variable)`` (1-based step)."""
        if self._step is None:
            self._step = xp.cast(xp.read(self.iterations), scalar_dtype(self.variable)) + 1.0
        return self._step


# ------------------------------------------------------------------- stages
@keras.saving.register_keras_serializable(package="kerastools")
class Stage:
    """Base class of optimizer stages: ``build`` creates state, ``apply`` transforms the update.

    Subclasses set their state in ``build(optimizer, variables)`` with the
    optimizer's public variable factories, and return the transformed update
    from ``apply(update, ctx)`` (a ``StepContext``). ``get_config`` returns
    every constructor argument (JSON-safe); ``name`` prefixes the names of the
    stage's optimizer variables.

    Args:
        name: prefix of the stage's variable names. Defaults to `"stage"`.
    """

    pole = None  # a Filter/Normalize pole; a Coefficient makes it settable between steps

    def __init__(self, name="stage"):
        self.name = _check_name(name)

    def coefficient_variable(self):
        """The optimizer variable of a ``Coefficient`` pole, else None."""
        return None

    def as_filter(self):
        """The ``ARMAFilter`` this stage applies to the update (for frequency
        responses), or None for a stage that is not a linear filter of it."""
        return None

    def build(self, optimizer, variables):
        """Creates the stage's state (optimizer variables). Default: none."""

    def apply(self, update, ctx):
        """Returns the transformed update. Default: unchanged."""
        return update

    def apply_scaled(self, update, factor, ctx):
        """``apply`` to ``factor * update``, as ``(new_update, new_factor)``.

        ``factor`` is None for 1, a scalar (a 0-d tensor in the variable dtype)
        or a ``(numerator, denominator)`` pair whose division waits (combine
        factors with ``times`` and ``over``; ``value(factor)`` gives the
        scalar); the result stands for ``new_factor * new_update``. Stages
        linear in the update (a learning rate, a filter, a normalisation)
        override this to carry the scalar beside the tensor, so that a chain
        multiplies its scalars together and the update by their product once,
        as Keras' optimizers fold ``lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``.
        Default: multiply first, then ``apply``.
        """
        if factor is not None:
            update = update * value(factor)
        return self.apply(update, ctx), None

    def apply_divided(self, update, factor, ctx):
        """``apply_scaled`` with its last division left out, as
        ``(new_update, new_factor, divisor)`` standing for
        ``new_factor * new_update / divisor`` (``divisor``: a tensor, or None).

        The chain calls it on its last stage and divides once it has multiplied
        the update by every scalar, the learning rate included.
        Default: ``apply_scaled``, no divisor.
        """
        return (*self.apply_scaled(update, factor, ctx), None)

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def times(a, b):
    """``a * b`` for scalar factors: None stands for 1, a ``(numerator,
    denominator)`` tuple for a quotient whose division waits for ``value``."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, tuple) or isinstance(b, tuple):
        (na, da), (nb, db) = _ratio(a), _ratio(b)
        return times(na, nb), times(da, db)
    return a * b


def over(a, d):
    """The factor ``a / d`` (``a`` a factor, ``d`` a scalar), divided in ``value``."""
    numerator, denominator = _ratio(a)
    return numerator, times(denominator, d)


def value(factor):
    """A factor as one scalar (None for 1): a quotient is divided now, once."""
    if not isinstance(factor, tuple):
        return factor
    numerator, denominator = factor
    if denominator is None:
        return numerator
    return 1.0 / denominator if numerator is None else numerator / denominator


def _ratio(factor):
    return factor if isinstance(factor, tuple) else (factor, None)


def _unscaled(result):
    update, factor = result
    return update if factor is None else update * value(factor)


def _per_variable(optimizer, variables, names, initializer="zeros"):
    """Per-parameter slots: a list (one per variable) of tuples (one per name)."""
    if not names:
        return [() for _ in variables]
    lists = optimizer.add_optimizer_variables(variables, list(names), initializer=initializer)
    return [tuple(lst[i] for lst in lists) for i in range(len(variables))]


def _scalars(optimizer, variables, names, value=0.0):
    """Per-variable scalar slots in ``scalar_dtype`` of each variable."""
    out = []
    for v in variables:
        prefix = v.path.replace("/", "_") if hasattr(v, "path") else str(v.name)
        out.append(tuple(
            optimizer.add_variable((), initializer=keras.initializers.Constant(value),
                                   dtype=scalar_dtype(v), name=f"{prefix}_{n}")
            for n in names))
    return out


def _slot_names(name, count):
    return [name] if count == 1 else [f"{name}_{i}" for i in range(count)]


class _FilterRunner:
    """Runs an ``ARMAFilter`` with a fixed or scheduled pole on per-variable state.

    Shared by ``Filter`` and ``Normalize`` (not a stage itself).
    """

    def __init__(self, filt, pole, incremental):
        self.filter = filt
        self.pole = pole
        self.incremental = incremental
        self.coefficient = None
        self._fixed = {}  # dtype -> coefficients of a fixed explicit pole

    def build(self, optimizer, variables, name, initializer="zeros"):
        f = self.filter
        self.coefficient = None
        if isinstance(self.pole, Coefficient):
            dtype = "float64" if any(scalar_dtype(v) == "float64" for v in variables) else "float32"
            self.coefficient = optimizer.add_variable(
                (), initializer=keras.initializers.Constant(self.pole.value), dtype=dtype,
                name=f"{name}_coefficient")
        self.state = _per_variable(optimizer, variables, _slot_names(name, f.order), initializer)
        n = (f.compensation_state_size(scheduled=self.pole is not None and not isinstance(
            self.pole, float))
             if f.transient_compensation else 0)
        self.step_state = _scalars(optimizer, variables, _slot_names(f"{name}_step_response", n))

    def coefficients(self, ctx, dtype):
        if self.pole is None:
            return self.filter.b, self.filter.a
        # An explicit pole is cast before 1 - p is formed (Keras' Nadam does so).
        if isinstance(self.pole, float) and not xp.compiling():  # the same at every step
            if dtype not in self._fixed:
                self._fixed[dtype] = self.filter.with_pole(coefficient_value(self.pole, ctx, dtype))
            return self._fixed[dtype]
        pole = self.coefficient if self.coefficient is not None else self.pole
        return self.filter.with_pole(coefficient_value(pole, ctx, dtype))

    def takes_gain(self):
        """Whether ``run(gain=k)`` can filter ``k * x`` by scaling ``b`` (not the
        incremental AR1 form, nor the Nesterov form, which do not use ``b``)."""
        return not self.incremental and self.filter.family() != "nesterov"

    def run(self, x, ctx, state=None, gain=None):
        """``(y_raw, scale or None)`` of ``gain * x``; assigns the new state (``state``
        overrides the slots). ``gain`` (a scalar, see ``takes_gain``) scales ``b``."""
        f = self.filter
        b, a = self.coefficients(ctx, ctx.dtype)
        bx = b if gain is None else tuple(gain if _is_unit(c) else c * gain for c in b)
        state = self.state[ctx.index] if state is None else state
        current = [xp.read(v) for v in state]
        if xp.EAGER:  # no copy of the state, fewer temporaries
            y = f.recursion_in_place(x, current, bx, a, incremental=self.incremental)
        else:
            y, new = f.recursion(x, current, bx, a, incremental=self.incremental)
            for var, value in zip(state, new):
                xp.assign(ctx.optimizer, var, value)
        if not f.transient_compensation:
            return y, None
        sdtype = scalar_dtype(ctx.variable)
        step_state = self.step_state[ctx.index]
        if not step_state and (self.pole is None or isinstance(self.pole, float)):
            # Closed form of a fixed pole: one value per step and dtype for all variables.
            def closed_form():
                cb, ca = self.coefficients(ctx, sdtype) if self.pole is not None else (b, a)
                return xp.cast(f.compensation(ctx.step, (), cb, ca, dtype=sdtype)[0], ctx.dtype)

            return y, ctx.cached((id(self), ctx.dtype), closed_form)
        if step_state or self.pole is not None:
            b, a = self.coefficients(ctx, sdtype)
        current = [xp.read(v) for v in step_state]
        scale, new_s = f.compensation(ctx.step, current, b, a, dtype=sdtype)
        for var, value, now in zip(step_state, new_s, current):
            xp.assign(ctx.optimizer, var, value, now)
        return y, xp.cast(scale, ctx.dtype)


def _keras_incremental(filt):
    """The default of ``incremental``: Keras' rounding of a compensated EMA.

    Keras' generic optimizers (TensorFlow, JAX) write ``m += (g - m)(1 - p)``;
    its PyTorch ones ``m = p m + (1 - p) g`` (``torch._foreach_mul_``, then
    ``_foreach_add_``), which is the plain recursion.
    """
    return (filt.family() == "ar1_dc" and filt.transient_compensation
            and keras.backend.backend() != "torch")


def _is_unit(c):
    return isinstance(c, float) and c == 1.0


def _check_pole_family(name, filt, pole):
    if pole is not None:
        try:
            filt.with_pole(0.5)
        except ValueError:
            raise ValueError(
                f"Argument `{name}` can only replace the pole of an AR1 or Nesterov filter; "
                f"the filter is {filt!r}. Received: {name}={pole!r}"
            ) from None


@keras.saving.register_keras_serializable(package="kerastools")
class ScaleByLearningRate(Stage):
    """Multiplies the update by the learning rate at this point of the chain.

    ``u = lr * u``. Keras' ``SGD(momentum=...)`` filters ``lr * g`` (so a
    learning-rate schedule enters the momentum state); a chain without this
    stage multiplies by the learning rate after its last stage.

    Args:
        name: Defaults to `"learning_rate"`.
    """

    def __init__(self, name="learning_rate"):
        super().__init__(name=name)

    def apply(self, update, ctx):
        return update * ctx.learning_rate

    def apply_scaled(self, update, factor, ctx):
        return update, times(factor, ctx.learning_rate)


@keras.saving.register_keras_serializable(package="kerastools")
class Filter(Stage):
    """ARMA filter of the update, transient-compensated when the filter is.

    Reference: the course's optimizers-as-ARMA-filters table; Kingma & Ba
    (2015), section 3 (bias correction = compensation of an EMA).

    ```
    u = G(u) / s_G(t)     # s_G: DC-normalised step response (1 if uncompensated)
    ```

    Args:
        filter: a ``kerastools.filters.ARMAFilter``.
        pole: `None` (the filter's own), a float in [0, 1) or a schedule of
            the iteration replacing the pole of an AR1/Nesterov filter; an
            explicit pole is cast to the variable dtype before ``1 - p``.
            Defaults to `None`.
        incremental: write a unit-DC-gain AR1 as ``y + (x - y)(1 - p)``
            (the rounding of Keras' Adam on TensorFlow and JAX); `None`: when
            the filter is a compensated unit-DC-gain AR1 and the backend is
            not PyTorch (Keras' PyTorch Adam writes ``p y + (1 - p) x``).
            Defaults to `None`.
        name: prefix of the state variables. Defaults to `"momentum"`.

    Example:

    >>> Filter(ARMAFilter.butterworth(2, 0.05, transient_compensation=True))
    """

    def __init__(self, filter, pole=None, incremental=None, name="momentum"):  # noqa: A002
        super().__init__(name=name)
        self.filter = check_filter("filter", filter)
        self.pole = check_coefficient("pole", pole)
        _check_pole_family("pole", self.filter, self.pole)
        self.incremental = check_bool("incremental", incremental, allow_none=True)
        auto = _keras_incremental(self.filter)
        self._runner = _FilterRunner(self.filter, self.pole,
                                     auto if incremental is None else incremental)

    def build(self, optimizer, variables):
        self._runner.build(optimizer, variables, self.name)

    def apply(self, update, ctx):
        return _unscaled(self.apply_scaled(update, None, ctx))

    def apply_scaled(self, update, factor, ctx):
        if factor is not None and not self._runner.takes_gain():
            update, factor = update * value(factor), None
        y, scale = self._runner.run(update, ctx, gain=value(factor))
        return y, (None if scale is None else over(None, scale))

    def coefficient_variable(self):
        return self._runner.coefficient

    def as_filter(self):
        return self.current_filter()

    def current_filter(self, step=None):
        """The ``ARMAFilter`` in use (the pole at ``step`` for a schedule; 0 if None)."""
        f = self.filter
        if self.pole is None:
            return f
        if isinstance(self.pole, Coefficient):
            p = self.pole.value
        elif callable(self.pole):
            p = self.pole(0 if step is None else step)
        else:
            p = self.pole
        b, a = f.with_pole(float(keras.ops.convert_to_numpy(p)))
        return ARMAFilter(b, a, f.transient_compensation, name=f.name)

    def get_config(self):
        return {"filter": keras.saving.serialize_keras_object(self.filter),
                "pole": serialize_coefficient(self.pole), "incremental": self.incremental,
                "name": self.name}


@keras.saving.register_keras_serializable(package="kerastools")
class Normalize(Stage):
    """Divides the update by the root of a filter of ``g**2`` (the raw gradient).

    Reference: Tieleman & Hinton (2012) RMSprop; Duchi et al. (2011) Adagrad;
    Kingma & Ba (2015) Adam; Reddi et al. (2018) AMSGrad; Graves (2013)
    centred RMSprop.

    ```
    n = N(g**2)                         (initial output initial_value)
    n = max(n, 0)                       for a filter that can undershoot
    n = n - C(g)**2 / s_N               centered: C = N's recursion on g
    n = n_max = max(n_max, n)           amsgrad
    u = u / (sqrt(n / s_N) + eps)       epsilon_placement="outside"
    u = u / sqrt(n / s_N + eps)         "inside" (RMSprop, Adagrad, Adadelta)
    u = u * sqrt(s_N) / (sqrt(n) + eps) "outside_uncompensated" (Keras' Adam)
    ```

    Args:
        filter: ``ARMAFilter`` of ``g**2``.
        epsilon: float >= 0. Defaults to `1e-7`.
        epsilon_placement: see above. Defaults to `"outside"`.
        pole: `None`, float or schedule replacing the filter's pole.
            Defaults to `None`.
        initial_value: initial filter output (Adagrad's
            ``initial_accumulator_value``; AR1 forms only). Defaults to `0.0`.
        centered: subtract the square of the filtered gradient.
            Defaults to `False`.
        amsgrad: divide by the running maximum of ``n``. Defaults to `False`.
        incremental: as in ``Filter``. Defaults to `None`.
        name: prefix of the state variables. Defaults to `"velocity"`.

    Example:

    >>> Normalize(ARMAFilter.ema(0.999), epsilon=1e-7,
    ...           epsilon_placement="outside_uncompensated")
    """

    def __init__(self, filter, epsilon=1e-7, epsilon_placement="outside", pole=None,  # noqa: A002
                 initial_value=0.0, centered=False, amsgrad=False, incremental=None,
                 name="velocity"):
        super().__init__(name=name)
        self.filter = check_filter("filter", filter)
        self.epsilon = check_non_negative("epsilon", epsilon)
        self.epsilon_placement = check_choice("epsilon_placement", epsilon_placement,
                                              EPSILON_PLACEMENTS)
        self.pole = check_coefficient("pole", pole)
        _check_pole_family("pole", self.filter, self.pole)
        self.initial_value = check_non_negative("initial_value", initial_value)
        if self.initial_value and self.filter.order != 1:
            raise ValueError("Argument `initial_value` needs a first-order filter. "
                             f"Received: initial_value={initial_value!r}")
        self.centered = check_bool("centered", centered)
        self.amsgrad = check_bool("amsgrad", amsgrad)
        self.incremental = check_bool("incremental", incremental, allow_none=True)
        auto = _keras_incremental(self.filter)
        self._runner = _FilterRunner(self.filter, self.pole,
                                     auto if incremental is None else incremental)
        self._clip = self.filter.family() is None

    def build(self, optimizer, variables):
        init = keras.initializers.Constant(self.initial_value) if self.initial_value else "zeros"
        self._runner.build(optimizer, variables, self.name, init)
        order = self.filter.order
        self.mean = (_per_variable(optimizer, variables, _slot_names(f"{self.name}_mean", order))
                     if self.centered else None)
        self.maximum = (_per_variable(optimizer, variables, [f"{self.name}_max"])
                        if self.amsgrad else None)

    def apply(self, update, ctx):
        return _unscaled(self.apply_scaled(update, None, ctx))

    def apply_scaled(self, update, factor, ctx):
        update, factor, divisor = self.apply_divided(update, factor, ctx)
        return update / divisor, factor

    def apply_divided(self, update, factor, ctx):
        g = ctx.gradient
        n, scale = self._runner.run(xp.square(g), ctx)
        if self._clip:
            n = xp.maximum(n, 0.0)
        if self.centered:
            c, _ = self._runner.run(g, ctx, state=self.mean[ctx.index])
            c2 = xp.square(c)
            n = n - (c2 if scale is None else c2 / scale)
        if self.amsgrad:
            (n_max,) = self.maximum[ctx.index]
            if xp.EAGER:
                n = xp.maximum_(xp.read(n_max), n)
            else:
                n = xp.maximum(n_max, n)
                xp.assign(ctx.optimizer, n_max, n)
        eps = self.epsilon
        if self.epsilon_placement == "outside_uncompensated":
            factor = factor if scale is None else times(factor, xp.sqrt(scale))
            return update, factor, xp.sqrt(n) + eps
        if scale is not None:
            n = n / scale
        if self.epsilon_placement == "inside":
            return update, factor, xp.sqrt(n + eps)
        return update, factor, xp.sqrt(n) + eps

    def coefficient_variable(self):
        return self._runner.coefficient

    def current_filter(self):
        return self.filter

    def get_config(self):
        return {"filter": keras.saving.serialize_keras_object(self.filter),
                "epsilon": self.epsilon, "epsilon_placement": self.epsilon_placement,
                "pole": serialize_coefficient(self.pole), "initial_value": self.initial_value,
                "centered": self.centered, "amsgrad": self.amsgrad,
                "incremental": self.incremental, "name": self.name}


@keras.saving.register_keras_serializable(package="kerastools")
class UpdateRMS(Stage):
    """Multiplies by the RMS of past updates (Adadelta's units correction).

    Reference: Zeiler (2012), "ADADELTA", Algorithm 1.

    ```
    u = sqrt(D + eps) * u
    D = rho * D + (1 - rho) * u**2
    ```

    Args:
        rho: float in [0, 1) or schedule. Defaults to `0.95`.
        epsilon: float >= 0. Defaults to `1e-7`.
        name: Defaults to `"delta"`.
    """

    def __init__(self, rho=0.95, epsilon=1e-7, name="delta"):
        super().__init__(name=name)
        self.rho = check_coefficient("rho", rho, allow_none=False)
        if isinstance(self.rho, Coefficient):
            raise ValueError(f"Argument `rho` must be a float or a schedule. Received: rho={rho!r}")
        self.epsilon = check_non_negative("epsilon", epsilon)
        p = 0.5 if callable(self.rho) else self.rho
        self._runner = _FilterRunner(ARMAFilter.ar1(p), self.rho if callable(self.rho) else None,
                                     False)

    def build(self, optimizer, variables):
        self._runner.build(optimizer, variables, self.name)

    def apply(self, update, ctx):
        (d,) = self._runner.state[ctx.index]
        out = xp.sqrt(xp.read(d) + self.epsilon) * update
        self._runner.run(xp.square(out), ctx)
        return out

    def get_config(self):
        return {"rho": serialize_coefficient(self.rho), "epsilon": self.epsilon,
                "name": self.name}


@keras.saving.register_keras_serializable(package="kerastools")
class NesterovLookahead(Stage):
    """Dozat's Nesterov look-ahead of an uncompensated EMA ``m`` (Keras' Nadam).

    Reference: Dozat (2016), "Incorporating Nesterov momentum into Adam".
    Comes right after ``Filter(ARMAFilter.ar1(beta_1), pole=beta_1)``.

    ```
    u_t = beta_1 (1 - 0.5 decay**t);  P_t = prod_{k<=t} u_k (a scalar per variable)
    u = u_{t+1} m / (1 - P_{t+1}) + (1 - u_t) g / (1 - P_t)
    ```

    Args:
        beta_1: float in [0, 1). Defaults to `0.9`.
        decay: float in (0, 1]. Defaults to `0.96`.
        name: Defaults to `"u_product"`.
    """

    def __init__(self, beta_1=0.9, decay=0.96, name="u_product"):
        super().__init__(name=name)
        self.beta_1 = check_in_range("beta_1", beta_1, 0.0, 1.0)
        self.decay = check_in_range("decay", decay, 0.0, 1.0, low_closed=False, high_closed=True)

    def build(self, optimizer, variables):
        # One product per variable (in its scalar dtype): a single shared scalar, as
        # Keras keeps, is not safely assigned inside MirroredStrategy's per-variable update.
        self.products = _scalars(optimizer, variables, [self.name], value=1.0)

    def momentum_at(self, t, dtype):
        """``u_t = beta_1 (1 - 0.5 decay**t)`` for the 1-based step ``t``, in ``dtype``."""
        t = xp.cast(t, dtype)
        return xp.cast(self.beta_1, dtype) * (
            1.0 - 0.5 * xp.power(xp.cast(self.decay, dtype), t))

    def apply(self, update, ctx):
        return _unscaled(self.apply_scaled(update, None, ctx))

    def apply_scaled(self, update, factor, ctx):
        dtype = ctx.dtype
        t = xp.read(ctx.iterations) + 1
        # u_t and u_{t+1}: once per step and dtype, shared by the variables.
        u_t, u_next = ctx.cached((id(self), dtype), lambda: (
            self.momentum_at(t, dtype), self.momentum_at(t + 1, dtype)))
        (product,) = self.products[ctx.index]
        p = xp.read(product)
        pdtype = keras.backend.standardize_dtype(product.dtype)
        if keras.backend.backend() == "torch":
            # Keras' PyTorch Nadam multiplies by u_t computed in the dtype.
            new = p * (u_t if pdtype == dtype else self.momentum_at(t, pdtype))
        else:
            # Keras' generic Nadam: (P * beta_1) * (1 - 0.5 * decay**t).
            new = (p * self.beta_1) * (
                1.0 - 0.5 * xp.power(self.decay, xp.cast(t, pdtype)))
        xp.assign(ctx.optimizer, product, new)
        prod_t = xp.cast(new, dtype)
        prod_next = prod_t * u_next
        if factor is None:  # Keras' Nadam, rounding included
            return (u_next * update) / (1.0 - prod_next) + ((1.0 - u_t) * ctx.gradient) / (
                1.0 - prod_t), None
        # A scalar factor joins u_{t+1} / (1 - P_{t+1}): one multiply on the tensor.
        c_m = value(factor) * (u_next / (1.0 - prod_next))
        return xp.axpy(c_m, update, ((1.0 - u_t) * ctx.gradient) / (1.0 - prod_t)), None

    def get_config(self):
        return {"beta_1": self.beta_1, "decay": self.decay, "name": self.name}


@keras.saving.register_keras_serializable(package="kerastools")
class Sign(Stage):
    """``u = sign(u)`` (Lion). Reference: Chen et al. (2023), "Symbolic Discovery of
    Optimization Algorithms".

    Args:
        name: Defaults to `"sign"`.
    """

    def __init__(self, name="sign"):
        super().__init__(name=name)

    def apply(self, update, ctx):
        return xp.sign(update)


@keras.saving.register_keras_serializable(package="kerastools")
class LionFilter(Stage):
    """Lion's interpolated momentum: the ARMA(1, 1) filter ``b = [1-b1, b1-b2]``, ``a = [-b2]``.

    Reference: Chen et al. (2023), Algorithm 2 (Keras' ``Lion``). Written in
    Keras' state form (the state is the EMA ``m`` of ``g`` with ``beta_2``):

    ```
    u = beta_1 m + (1 - beta_1) g
    m = beta_2 m + (1 - beta_2) g
    ```

    Args:
        beta_1: float in [0, 1). Defaults to `0.9`.
        beta_2: float in [0, 1). Defaults to `0.99`.
        name: Defaults to `"momentum"`.
    """

    def __init__(self, beta_1=0.9, beta_2=0.99, name="momentum"):
        super().__init__(name=name)
        self.beta_1 = check_in_range("beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = check_in_range("beta_2", beta_2, 0.0, 1.0)

    def as_filter(self):
        """The equivalent ``ARMAFilter`` (for frequency responses)."""
        b1, b2 = self.beta_1, self.beta_2
        return ARMAFilter([1.0 - b1, b1 - b2], [-b2], name=f"Lion({b1:g}, {b2:g})")

    def build(self, optimizer, variables):
        self.m = _per_variable(optimizer, variables, [self.name])

    def apply(self, update, ctx):
        (m_var,) = self.m[ctx.index]
        m = xp.read(m_var)
        if xp.EAGER:  # in place, as Keras' PyTorch Lion
            out = xp.axpy_(m * self.beta_1, 1.0 - self.beta_1, update)
            xp.axpy_(xp.scale_(m, self.beta_2), 1.0 - self.beta_2, update)
            return out
        b1 = xp.cast(self.beta_1, ctx.dtype)
        b2 = xp.cast(self.beta_2, ctx.dtype)
        out = m * b1 + update * (1.0 - b1)
        xp.assign(ctx.optimizer, m_var, m * b2 + update * (1.0 - b2))
        return out

    def get_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "name": self.name}


@keras.saving.register_keras_serializable(package="kerastools")
class TrustRatio(Stage):
    """Layer-wise trust ratio ``||w|| / ||u||`` (1 where either norm is 0), LAMB.

    Reference: You et al. (2020), "Large Batch Optimization for Deep Learning:
    Training BERT in 76 minutes", Algorithm 2 (Keras' ``Lamb``).

    Args:
        name: Defaults to `"trust_ratio"`.
    """

    def __init__(self, name="trust_ratio"):
        super().__init__(name=name)

    def apply(self, update, ctx):
        w_norm = xp.sqrt(xp.sum(xp.square(xp.read(ctx.variable))))
        u_norm = xp.sqrt(xp.sum(xp.square(update)))
        ratio = xp.where(w_norm > 0, xp.where(u_norm > 0, w_norm / u_norm, 1.0), 1.0)
        return ratio * update


@keras.saving.register_keras_serializable(package="kerastools")
class InfinityNorm(Stage):
    """Divides by the exponentially weighted infinity norm of the gradient (Adamax).

    Reference: Kingma & Ba (2015), section 7.1.

    ```
    r = max(beta_2 r, |g|);   u = u / (r + eps)
    ```

    Args:
        beta_2: float in [0, 1). Defaults to `0.999`.
        epsilon: float >= 0. Defaults to `1e-7`.
        name: Defaults to `"norm"`.
    """

    def __init__(self, beta_2=0.999, epsilon=1e-7, name="norm"):
        super().__init__(name=name)
        self.beta_2 = check_in_range("beta_2", beta_2, 0.0, 1.0)
        self.epsilon = check_non_negative("epsilon", epsilon)

    def build(self, optimizer, variables):
        self.r = _per_variable(optimizer, variables, [self.name])

    def apply(self, update, ctx):
        (r,) = self.r[ctx.index]
        r_new = xp.maximum(xp.read(r) * self.beta_2, xp.absolute(ctx.gradient))
        xp.assign(ctx.optimizer, r, r_new)
        return update / (r_new + self.epsilon)

    def apply_scaled(self, update, factor, ctx):
        return self.apply(update, ctx), factor  # linear in the update

    def get_config(self):
        return {"beta_2": self.beta_2, "epsilon": self.epsilon, "name": self.name}


@keras.saving.register_keras_serializable(package="kerastools")
class WeightDecay(Stage):
    """Decoupled weight decay as a stage: ``u = u + rate * w``.

    Reference: Loshchilov & Hutter (2019), "Decoupled Weight Decay
    Regularization". Placed before the (final) learning rate it gives
    ``w -= lr * (u + rate * w)``, AdamW's decay. The presets use Keras' own
    ``weight_decay=`` argument instead (same update, plus
    ``exclude_from_weight_decay``); this stage places decay anywhere in a chain
    (e.g. before a ``TrustRatio``, as LAMB's paper does).

    Args:
        rate: float >= 0. Defaults to `0.004`.
        name: Defaults to `"weight_decay"`.
    """

    def __init__(self, rate=0.004, name="weight_decay"):
        super().__init__(name=name)
        self.rate = check_non_negative("rate", rate)

    def apply(self, update, ctx):
        return update + xp.cast(self.rate, ctx.dtype) * xp.read(ctx.variable)

    def get_config(self):
        return {"rate": self.rate, "name": self.name}


__all__ = [
    "EPSILON_PLACEMENTS",
    "Coefficient",
    "Filter",
    "InfinityNorm",
    "LionFilter",
    "NesterovLookahead",
    "Normalize",
    "ScaleByLearningRate",
    "Sign",
    "Stage",
    "StepContext",
    "TrustRatio",
    "UpdateRMS",
    "WeightDecay",
    "check_coefficient",
    "check_filter",
    "coefficient_value",
    "dense",
    "over",
    "scalar_dtype",
    "serialize_coefficient",
    "times",
    "value",
]
