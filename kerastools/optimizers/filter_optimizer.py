"""FilterOptimizer: an optimizer as gradient filter + normalisation + LR schedule."""

import keras
from keras import ops

from kerastools._checks import check_choice
from kerastools._checks import check_finite
from kerastools._checks import check_non_negative
from kerastools.filters import ARMAFilter

EPSILON_PLACEMENTS = ("outside", "inside", "outside_uncompensated")
FILTER_POSITIONS = ("gradient", "update")


def _check_filter(name, value):
    if value is None or isinstance(value, ARMAFilter):
        return value
    if isinstance(value, dict):
        value = keras.saving.deserialize_keras_object(value)
        if isinstance(value, ARMAFilter):
            return value
    raise ValueError(
        f"Argument `{name}` must be a kerastools.filters.ARMAFilter or None. "
        f"Received: {name}={value!r}"
    )


def _check_coefficient(name, value, low=0.0, high=1.0):
    """A float in ``[low, high)``, a schedule (callable of the iteration) or None."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = keras.saving.deserialize_keras_object(value)
    if callable(value):
        return value
    v = check_finite(name, value)
    if not low <= v < high:
        raise ValueError(f"Argument `{name}` must be in [{low}, {high}). Received: {name}={value!r}")
    return v


def _serialize(value):
    if value is None or isinstance(value, (int, float)):
        return value
    return keras.saving.serialize_keras_object(value)


@keras.saving.register_keras_serializable(package="kerastools")
class FilterOptimizer(keras.optimizers.Optimizer):
    """Optimizer built from an ARMA gradient filter and a normaliser.

    Reference: the course's "optimizers as ARMA filters" table; Kingma & Ba
    (2015) "Adam"; Dozat (2016) "Incorporating Nesterov momentum into Adam".

    Update rule, at step ``t = iterations + 1`` (``G`` the gradient filter,
    ``N`` the normalisation filter applied to ``g**2``, compensated outputs
    marked ``^``):

    ```
    n = N(g**2)                                    # e.g. Adam's v
    d = sqrt(n^) + eps          (epsilon_placement="outside")
        sqrt(n^ + eps)          ("inside": RMSprop, Adagrad, Adadelta)
        (sqrt(n) + eps) / sqrt(s_N)  ("outside_uncompensated": Keras' Adam)
    filter_position="gradient":  w -= lr * G(g)^ / d
    filter_position="update":    w -= G(lr * g / d)   (Keras' SGD momentum,
                                                       RMSprop momentum)
    ```

    ``centered=True`` subtracts the square of ``N(g)`` from ``n`` (centred
    RMSprop); ``update_rms=True`` multiplies by ``sqrt(N(delta**2) + eps)``, the
    RMS of past updates (Adadelta). A normalisation filter that is not an AR1
    or the accumulator (e.g. a Butterworth) can undershoot below zero; its
    output is clipped at zero. ``lookahead`` turns the unit DC gain AR1
    ``m = G(g)`` into Dozat's Nesterov output with per-step momentum ``u_t``:
    ``u_{t+1} m / (1 - prod_{k<=t+1} u_k) + (1 - u_t) g / (1 - prod_{k<=t} u_k)``.

    Coefficients may follow a schedule in time: ``gradient_pole`` and
    ``normalization_pole`` accept a float or a callable of the iteration (a
    ``keras.optimizers.schedules.LearningRateSchedule`` such as
    ``PolynomialDecay(0.5, 1000, 0.9)`` for annealed momentum, or a one-cycle
    momentum schedule), evaluated in-graph at every step; they replace the pole
    of an AR1 or Nesterov filter. Transient compensation of a scheduled filter
    runs the same time-varying recursion on a unit step.

    All state lives in optimizer variables, so ``model.save`` keeps it. The
    base arguments (``weight_decay``, ``clipnorm``, ``global_clipnorm``,
    ``use_ema``, ``gradient_accumulation_steps``, loss scaling) work as in
    every Keras optimizer.

    Args:
        learning_rate: float >= 0 or a ``LearningRateSchedule``.
            Defaults to `0.001`.
        gradient_filter: ``ARMAFilter`` applied to the gradient, or `None`
            (no filtering). Defaults to `None`.
        normalization_filter: ``ARMAFilter`` applied to ``g**2``, or `None`
            (no normalisation). Defaults to `None`.
        epsilon: float >= 0 added to the denominator. Defaults to `1e-7`.
        epsilon_placement: `"outside"`, `"inside"` or
            `"outside_uncompensated"` (see above). Defaults to `"outside"`.
        filter_position: `"gradient"` or `"update"`. Defaults to `"gradient"`.
        gradient_pole: `None`, a float in [0, 1) or a schedule for the pole of
            the gradient filter. Defaults to `None`.
        normalization_pole: same for the normalisation filter.
            Defaults to `None`.
        normalization_initial_value: initial output of the normalisation
            filter (Adagrad's `initial_accumulator_value`). Defaults to `0.0`.
        centered: centred normalisation. Defaults to `False`.
        update_rms: multiply by the RMS of past updates (Adadelta).
            Defaults to `False`.
        lookahead: `None`, a float or a schedule ``u(iteration)`` of Nesterov
            momentum (see ``NadamMomentum``). Defaults to `None`.
        amsgrad: divide by the running maximum of the (uncompensated)
            normalisation output (Reddi et al., 2018). Defaults to `False`.
        name: optimizer name. Defaults to `"filter_optimizer"`.
        **kwargs: base optimizer arguments (`weight_decay`, `clipnorm`,
            `clipvalue`, `global_clipnorm`, `use_ema`, `ema_momentum`,
            `ema_overwrite_frequency`, `loss_scale_factor`,
            `gradient_accumulation_steps`).

    Example:

    >>> opt = FilterOptimizer(
    ...     learning_rate=1e-3,
    ...     gradient_filter=ARMAFilter.butterworth(2, 0.05,
    ...                                            transient_compensation=True),
    ...     normalization_filter=ARMAFilter.ema(0.999))
    >>> model.compile(optimizer=opt, loss="mse")
    """

    def __init__(
        self,
        learning_rate=0.001,
        gradient_filter=None,
        normalization_filter=None,
        epsilon=1e-7,
        epsilon_placement="outside",
        filter_position="gradient",
        gradient_pole=None,
        normalization_pole=None,
        normalization_initial_value=0.0,
        centered=False,
        update_rms=False,
        lookahead=None,
        amsgrad=False,
        name="filter_optimizer",
        **kwargs,
    ):
        if isinstance(learning_rate, (int, float)) and not isinstance(learning_rate, bool):
            check_non_negative("learning_rate", learning_rate)
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.gradient_filter = _check_filter("gradient_filter", gradient_filter)
        self.normalization_filter = _check_filter("normalization_filter", normalization_filter)
        self.epsilon = check_non_negative("epsilon", epsilon)
        self.epsilon_placement = check_choice("epsilon_placement", epsilon_placement,
                                              EPSILON_PLACEMENTS)
        self.filter_position = check_choice("filter_position", filter_position, FILTER_POSITIONS)
        self.gradient_pole = _check_coefficient("gradient_pole", gradient_pole)
        self.normalization_pole = _check_coefficient("normalization_pole", normalization_pole)
        self.normalization_initial_value = check_non_negative(
            "normalization_initial_value", normalization_initial_value)
        self.centered = bool(centered)
        self.update_rms = bool(update_rms)
        self.lookahead = _check_coefficient("lookahead", lookahead)
        self.amsgrad = bool(amsgrad)
        nf = self.normalization_filter
        if (centered or update_rms or amsgrad or normalization_initial_value) and nf is None:
            raise ValueError(
                "Arguments `centered`, `update_rms`, `amsgrad` and `normalization_initial_value` "
                "need a `normalization_filter`. Received: normalization_filter=None"
            )
        for arg, filt in (("gradient_pole", self.gradient_filter),
                          ("normalization_pole", nf)):
            pole = getattr(self, arg)
            if pole is not None:
                if filt is None:
                    raise ValueError(f"Argument `{arg}` needs a filter to act on. "
                                     f"Received: {arg}={pole!r}")
                filt.with_pole(0.5)  # raises for a filter without a pole family
        if self.lookahead is not None:
            g = self.gradient_filter
            if g is None or g.family() != "ar1_dc" or g.transient_compensation:
                raise ValueError(
                    "Argument `lookahead` needs an uncompensated unit DC gain AR1 "
                    f"`gradient_filter` (ARMAFilter.ar1(beta)). Received: gradient_filter={g!r}"
                )

    # ------------------------------------------------------------------ build
    def _filter_plan(self, filt, pole):
        """(per-element count, scalar-state count, closed_form_offset or None)."""
        k = filt.order
        if not filt.transient_compensation:
            return k, 0, None
        if not callable(pole) and filt.family() in ("ar1_dc", "ar1_input"):
            return k, 0, 0
        if not callable(pole) and filt.family() == "nesterov":
            return k, 0, 1
        return k, k, None

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._slots = {}
        self._plans = {}
        dtype = var_list[0].dtype if var_list else keras.config.floatx()

        def per_element(prefix, count, initializer="zeros"):
            return [self.add_optimizer_variables(var_list, f"{prefix}_{i}",
                                                 initializer=initializer)
                    for i in range(count)]

        def scalars(prefix, count, value=0.0):
            return [[self.add_variable((), initializer=keras.initializers.Constant(value),
                                       dtype=dtype, name=f"{prefix}_{i}_{j}")
                     for j in range(len(var_list))] for i in range(count)]

        if self.gradient_filter is not None:
            plan = self._filter_plan(self.gradient_filter, self.gradient_pole)
            self._plans["g"] = plan
            self._slots["g"] = per_element("gradient_filter", plan[0])
            self._slots["g_s"] = scalars("gradient_filter_step", plan[1])
        if self.lookahead is not None:
            self._slots["u_prod"] = scalars("lookahead_product", 1, 1.0)
        nf = self.normalization_filter
        if nf is not None:
            plan = self._filter_plan(nf, self.normalization_pole)
            self._plans["n"] = plan
            init = keras.initializers.Constant(self.normalization_initial_value)
            self._slots["n"] = per_element("normalization", plan[0], init)
            self._slots["n_s"] = scalars("normalization_step", plan[1])
            if self.centered:
                self._slots["c"] = per_element("mean_gradient", plan[0])
            if self.update_rms:
                self._slots["d"] = per_element("update_rms", plan[0])
            if self.amsgrad:
                self._slots["n_max"] = per_element("normalization_max", 1)

    # ----------------------------------------------------------------- update
    def _coefficients(self, filt, pole, dtype):
        if pole is None:
            return filt.b, filt.a, None
        # A pole given explicitly is cast to the variable dtype before the
        # coefficients (1 - p, ...) are formed, as Keras' Nadam does.
        p = ops.cast(pole(self.iterations) if callable(pole) else pole, dtype)
        b, a = filt.with_pole(p)
        return b, a, p

    def _run(self, key, filt, pole, x, index, dtype, slot=None):
        """Runs ``filt`` on ``x`` with its state in slot ``slot or key``.

        Returns ``(y_raw, scale)``; assigns the new state.
        """
        b, a, p = self._coefficients(filt, pole, dtype)
        state = [s[index] for s in self._slots[slot or key]]
        incremental = filt.family() == "ar1_dc" and (
            filt.transient_compensation or self.lookahead is not None)
        y, new = filt.recursion(x, state, b, a, incremental=incremental)
        for var, value in zip(state, new):
            self.assign(var, value)
        if not filt.transient_compensation or slot is not None and slot != key:
            return y, None
        k, n_scalar, offset = self._plans[key]
        if offset is not None:
            pole_value = -filt.a[0] if p is None else p
            t = ops.cast(self.iterations + (1 + offset), dtype)
            return y, 1.0 - ops.power(ops.cast(pole_value, dtype), t)
        s_state = [s[index] for s in self._slots[key + "_s"]]
        s, new_s = filt.recursion(1.0, s_state, b, a)
        for var, value in zip(s_state, new_s):
            self.assign(var, value)
        dc = filt._dc(tuple(b), tuple(a))
        return y, (s if isinstance(dc, float) and dc == 1.0 else s / dc)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        g = ops.cast(gradient, dtype)
        index = self._get_variable_index(variable)
        eps = self.epsilon

        numerator_scale = None  # scalar factor applied to the update
        denominator = None
        rms_update = None
        nf = self.normalization_filter
        if nf is not None:
            n, n_scale = self._run("n", nf, self.normalization_pole, ops.square(g), index, dtype)
            if nf.family() is None:
                # A general low-pass (e.g. Butterworth) can undershoot below zero.
                n = ops.maximum(n, 0.0)
            if self.centered:
                c, _ = self._run("n", nf, self.normalization_pole, g, index, dtype, slot="c")
                n = n - (ops.square(c) if n_scale is None else ops.square(c) / n_scale)
            if self.amsgrad:
                n_max = self._slots["n_max"][0][index]
                n = ops.maximum(n_max, n)
                self.assign(n_max, n)
            if self.update_rms:
                d_state = self._slots["d"][0][index]
                rms_update = ops.sqrt(d_state + eps)
            if self.epsilon_placement == "outside_uncompensated":
                denominator = ops.sqrt(n) + eps
                if n_scale is not None:
                    numerator_scale = ops.sqrt(n_scale)
            else:
                if n_scale is not None:
                    n = n / n_scale
                denominator = ops.sqrt(n + eps) if self.epsilon_placement == "inside" \
                    else ops.sqrt(n) + eps

        gf = self.gradient_filter
        if self.filter_position == "gradient":
            u = g
            if gf is not None:
                u, g_scale = self._run("g", gf, self.gradient_pole, g, index, dtype)
                if self.lookahead is not None:
                    u = self._lookahead(u, g, index, dtype)
                elif g_scale is not None:
                    numerator_scale = (1.0 / g_scale if numerator_scale is None
                                       else numerator_scale / g_scale)
            coef = lr if numerator_scale is None else lr * numerator_scale
            if rms_update is not None:
                u = rms_update * u
            step = u * coef if denominator is None else (u * coef) / denominator
        else:
            step = lr * g
            if rms_update is not None:
                step = rms_update * step
            if denominator is not None:
                step = step / denominator
            if numerator_scale is not None:
                step = step * numerator_scale
            if gf is not None:
                step, g_scale = self._run("g", gf, self.gradient_pole, step, index, dtype)
                if g_scale is not None:
                    step = step / g_scale
        if self.update_rms:
            delta = (rms_update * g) / denominator  # Adadelta's update before the LR
            self._run("n", nf, self.normalization_pole, ops.square(delta), index, dtype,
                      slot="d")
        self.assign_sub(variable, step)

    def _lookahead(self, m, g, index, dtype):
        u_sched = self.lookahead
        at = getattr(u_sched, "momentum_at", None)
        if at is not None:  # computed in the variable dtype
            u_t, u_next = at(self.iterations, dtype), at(self.iterations + 1, dtype)
        elif callable(u_sched):
            u_t = ops.cast(u_sched(self.iterations), dtype)
            u_next = ops.cast(u_sched(self.iterations + 1), dtype)
        else:
            u_t = u_next = u_sched
        prod_var = self._slots["u_prod"][0][index]
        factors = getattr(u_sched, "product_factors", None)
        if factors is not None:  # Keras' rounding: (prod * beta_1) * (1 - 0.5 decay**t)
            f1, f2 = factors(self.iterations, dtype)
            prod_t = (prod_var * f1) * f2
        else:
            prod_t = prod_var * u_t
        self.assign(prod_var, prod_t)
        prod_next = prod_t * u_next
        return (u_next * m) / (1.0 - prod_next) + ((1.0 - u_t) * g) / (1.0 - prod_t)

    # ---------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.update({
            "gradient_filter": _serialize(self.gradient_filter),
            "normalization_filter": _serialize(self.normalization_filter),
            "epsilon": self.epsilon,
            "epsilon_placement": self.epsilon_placement,
            "filter_position": self.filter_position,
            "gradient_pole": _serialize(self.gradient_pole),
            "normalization_pole": _serialize(self.normalization_pole),
            "normalization_initial_value": self.normalization_initial_value,
            "centered": self.centered,
            "update_rms": self.update_rms,
            "lookahead": _serialize(self.lookahead),
            "amsgrad": self.amsgrad,
        })
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for key in ("gradient_filter", "normalization_filter", "gradient_pole",
                    "normalization_pole", "lookahead"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(
                    config[key], custom_objects=custom_objects)
        return super().from_config(config, custom_objects=custom_objects)
