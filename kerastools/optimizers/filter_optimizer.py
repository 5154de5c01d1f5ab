"""FilterOptimizer: the 0.x flag-style constructor, kept as a mapping onto stages.

Deprecated: write a ``ChainOptimizer`` of stages (or use a preset) instead.
Models saved with a ``FilterOptimizer`` load into this class.
"""

import types

import keras

from kerastools._checks import check_choice
from kerastools._checks import check_non_negative
from kerastools.filters import ARMAFilter
from kerastools.optimizers.chain import ChainOptimizer
from kerastools.optimizers.stages import Filter
from kerastools.optimizers.stages import NesterovLookahead
from kerastools.optimizers.stages import Normalize
from kerastools.optimizers.stages import ScaleByLearningRate
from kerastools.optimizers.stages import UpdateRMS
from kerastools.optimizers.stages import check_coefficient

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
    return check_coefficient(name, value, low, high)


def _serialize(value):
    if value is None or isinstance(value, (int, float)):
        return value
    return keras.saving.serialize_keras_object(value)


def _stages_from_flags(f):
    gf, nf = f.gradient_filter, f.normalization_filter
    front, filt, back = [], [], []
    if gf is not None:
        filt.append(Filter(gf, pole=f.gradient_pole,
                           incremental=(gf.family() == "ar1_dc" and (
                               gf.transient_compensation or f.lookahead is not None)),
                           name="gradient_filter"))
    if f.lookahead is not None:
        filt.append(NesterovLookahead(f.lookahead.beta_1, f.lookahead.decay,
                                      name="lookahead_product"))
    if nf is not None:
        back.append(Normalize(nf, epsilon=f.epsilon,
                              epsilon_placement=f.epsilon_placement,
                              pole=f.normalization_pole,
                              initial_value=f.normalization_initial_value,
                              centered=f.centered, amsgrad=f.amsgrad,
                              name="normalization"))
        if f.update_rms:
            rho = f.normalization_pole
            back.append(UpdateRMS(-nf.a[0] if rho is None else rho, epsilon=f.epsilon,
                                  name="update_rms"))
    if f.filter_position == "update":
        return [ScaleByLearningRate(), *back, *filt]
    return filt + back + front



@keras.saving.register_keras_serializable(package="kerastools")
class FilterOptimizer(ChainOptimizer):
    """Deprecated flag-style constructor of a ``ChainOptimizer`` (gradient filter + normaliser).

    Each flag maps onto a stage: ``gradient_filter`` -> ``Filter``,
    ``normalization_filter``/``epsilon_placement``/``centered``/``amsgrad``
    -> ``Normalize``, ``update_rms`` -> ``UpdateRMS``, ``lookahead`` (a
    ``NadamMomentum``) -> ``NesterovLookahead``, ``filter_position="update"``
    -> a ``ScaleByLearningRate`` stage first. Use ``ChainOptimizer`` and the
    stages directly in new code.

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
        f = types.SimpleNamespace()  # the flags, checked before super().__init__
        f.gradient_filter = _check_filter("gradient_filter", gradient_filter)
        f.normalization_filter = _check_filter("normalization_filter", normalization_filter)
        f.epsilon = check_non_negative("epsilon", epsilon)
        f.epsilon_placement = check_choice("epsilon_placement", epsilon_placement,
                                              EPSILON_PLACEMENTS)
        f.filter_position = check_choice("filter_position", filter_position, FILTER_POSITIONS)
        f.gradient_pole = _check_coefficient("gradient_pole", gradient_pole)
        f.normalization_pole = _check_coefficient("normalization_pole", normalization_pole)
        f.normalization_initial_value = check_non_negative(
            "normalization_initial_value", normalization_initial_value)
        f.centered = bool(centered)
        f.update_rms = bool(update_rms)
        f.lookahead = _check_coefficient("lookahead", lookahead)
        f.amsgrad = bool(amsgrad)
        nf = f.normalization_filter
        if (centered or update_rms or amsgrad or normalization_initial_value) and nf is None:
            raise ValueError(
                "Arguments `centered`, `update_rms`, `amsgrad` and `normalization_initial_value` "
                "need a `normalization_filter`. Received: normalization_filter=None"
            )
        for arg, filt in (("gradient_pole", f.gradient_filter),
                          ("normalization_pole", nf)):
            pole = getattr(f, arg)
            if pole is not None:
                if filt is None:
                    raise ValueError(f"Argument `{arg}` needs a filter to act on. "
                                     f"Received: {arg}={pole!r}")
                filt.with_pole(0.5)  # raises for a filter without a pole family
        if f.lookahead is not None:
            g = f.gradient_filter
            if g is None or g.family() != "ar1_dc" or g.transient_compensation:
                raise ValueError(
                    "Argument `lookahead` needs an uncompensated unit DC gain AR1 "
                    f"`gradient_filter` (ARMAFilter.ar1(beta)). Received: gradient_filter={g!r}"
                )
            from kerastools.optimizers.presets import NadamMomentum

            if not isinstance(f.lookahead, NadamMomentum):
                raise ValueError(
                    "Argument `lookahead` must be a NadamMomentum (other look-ahead schedules: "
                    f"write a Stage). Received: lookahead={f.lookahead!r}")
        if f.update_rms and nf.family() != "ar1_dc":
            raise ValueError("Argument `update_rms` needs a unit DC gain AR1 "
                             f"`normalization_filter`. Received: normalization_filter={nf!r}")
        super().__init__(learning_rate=learning_rate, stages=_stages_from_flags(f),
                         name=name, **kwargs)
        for key, value in vars(f).items():
            setattr(self, key, value)

    # ---------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.pop("stages")
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
        if "learning_rate" in config and isinstance(config["learning_rate"], dict):
            config["learning_rate"] = keras.saving.deserialize_keras_object(
                config["learning_rate"], custom_objects=custom_objects)
        return cls(**config)
