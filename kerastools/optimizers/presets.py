"""Recipes: the Keras optimizers (and a few more) as chains of stages.

Each preset takes the argument names and defaults of its Keras built-in and
returns a ``ChainOptimizer`` that reproduces it (epsilon placement,
accumulator start values and Keras' rounding included). Coefficients written
as "float or schedule" also accept a serialisable callable of the iteration
(a ``keras.optimizers.schedules.LearningRateSchedule`` or a registered
function), evaluated in-graph, or a ``Coefficient`` set between steps by
``kerastools.callbacks.MomentumScheduler``.
"""

import keras
from keras import ops

from kerastools._checks import check_in_range
from kerastools._checks import check_non_negative
from kerastools._checks import check_positive
from kerastools.filters import ARMAFilter
from kerastools.optimizers.chain import ChainOptimizer
from kerastools.optimizers.stages import Coefficient
from kerastools.optimizers.stages import Filter
from kerastools.optimizers.stages import InfinityNorm
from kerastools.optimizers.stages import LionFilter
from kerastools.optimizers.stages import NesterovLookahead
from kerastools.optimizers.stages import Normalize
from kerastools.optimizers.stages import ScaleByLearningRate
from kerastools.optimizers.stages import Sign
from kerastools.optimizers.stages import TrustRatio
from kerastools.optimizers.stages import UpdateRMS
from kerastools.optimizers.stages import check_coefficient


def _lr(learning_rate):
    if isinstance(learning_rate, (int, float)) and not isinstance(learning_rate, bool):
        check_non_negative("learning_rate", learning_rate)
    return learning_rate


def _pole(name, value):
    """``(float pole for the filter design, None)`` for a float; ``(0.5, coefficient)`` else."""
    value = check_coefficient(name, value, allow_none=False)
    if isinstance(value, float):
        return value, None
    return 0.5, value


def _is_zero(name, value):
    value = check_coefficient(name, value, allow_none=False)
    return isinstance(value, float) and value == 0.0


@keras.saving.register_keras_serializable(package="kerastools")
class NadamMomentum(keras.optimizers.schedules.LearningRateSchedule):
    """Nadam's momentum schedule ``u(i) = beta_1 * (1 - 0.5 * decay**(i + 1))``.

    Reference: Dozat (2016), "Incorporating Nesterov momentum into Adam"; the
    form used by ``keras.optimizers.Nadam`` (``i`` is ``iterations``).

    Args:
        beta_1: float in [0, 1). Defaults to `0.9`.
        decay: float in (0, 1]. Defaults to `0.96`.

    Example:

    Kept for ``FilterOptimizer(lookahead=...)``; the ``nadam`` recipe uses
    the ``NesterovLookahead`` stage.

    >>> NadamMomentum(0.9)(0)  # beta_1 * (1 - 0.5 * 0.96)
    """

    def __init__(self, beta_1=0.9, decay=0.96):
        self.beta_1 = check_in_range("beta_1", beta_1, 0.0, 1.0)
        self.decay = check_in_range("decay", decay, 0.0, 1.0, low_closed=False,
                                    high_closed=True)

    def __call__(self, step):
        return self.momentum_at(step, keras.config.floatx())

    def momentum_at(self, step, dtype):
        """``u(step)`` computed in ``dtype`` (the optimizer passes the variable's)."""
        t = ops.cast(step, dtype) + 1.0
        beta_1 = ops.cast(self.beta_1, dtype)
        return beta_1 * (1.0 - 0.5 * ops.power(ops.cast(self.decay, dtype), t))

    def product_factors(self, step, dtype):
        """``(beta_1, 1 - 0.5 decay**(step+1))``, Keras' factors of the running product."""
        t = ops.cast(step, dtype) + 1.0
        # Keras' generic Nadam (TensorFlow, JAX) multiplies the product by beta_1, then by
        # 1 - 0.5 * 0.96**t with the Python float 0.96, which TensorFlow rounds through
        # float32 in a float64 run. Keras' PyTorch Nadam (its own torch._foreach code)
        # multiplies by u_t computed in the variable's dtype: (u_t, 1.0) gives that product.
        if keras.backend.backend() == "torch":
            return self.momentum_at(step, dtype), 1.0
        return self.beta_1, 1.0 - 0.5 * ops.power(self.decay, t)

    def get_config(self):
        return {"beta_1": self.beta_1, "decay": self.decay}


def sgd(learning_rate=0.01, momentum=0.0, nesterov=False, name="sgd", **kwargs):
    """Keras ``SGD``: no stage, or momentum / Nesterov when ``momentum != 0``.

    ``momentum`` is a float in [0, 1), a schedule or a ``Coefficient``.
    """
    if not _is_zero("momentum", momentum):
        return (nesterov_ if nesterov else momentum_)(learning_rate, momentum, name=name,
                                                      **kwargs)
    return ChainOptimizer(learning_rate=_lr(learning_rate), stages=[], name=name, **kwargs)


def momentum_(learning_rate=0.01, momentum=0.9, name="momentum", **kwargs):
    """Keras ``SGD(momentum=...)``: AR1 with unit input gain on ``lr * g``.

    ``v = momentum * v + lr * g; w -= v``. ``momentum`` is a float in [0, 1),
    a schedule (annealed momentum, one-cycle momentum cycling) or a
    ``Coefficient``.
    """
    p, coef = _pole("momentum", momentum)
    return ChainOptimizer(learning_rate=_lr(learning_rate), stages=[
        ScaleByLearningRate(),
        Filter(ARMAFilter.ar1(p, gain="input"), pole=p if coef is None else coef,
               name="momentum"),
    ], name=name, **kwargs)


def nesterov_(learning_rate=0.01, momentum=0.9, name="nesterov", **kwargs):
    """Keras ``SGD(momentum=..., nesterov=True)``: Bengio-Nesterov ARMA1 on ``lr * g``."""
    p, coef = _pole("momentum", momentum)
    return ChainOptimizer(learning_rate=_lr(learning_rate), stages=[
        ScaleByLearningRate(),
        Filter(ARMAFilter.nesterov(p), pole=p if coef is None else coef, name="momentum"),
    ], name=name, **kwargs)


def adagrad(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, name="adagrad",
            **kwargs):
    """Keras ``Adagrad``: accumulator of ``g**2`` from 0.1, ``lr g / sqrt(acc + eps)``."""
    return ChainOptimizer(learning_rate=_lr(learning_rate), stages=[
        ScaleByLearningRate(),
        Normalize(ARMAFilter.accumulator(), epsilon=check_non_negative("epsilon", epsilon),
                  epsilon_placement="inside",
                  initial_value=check_non_negative("initial_accumulator_value",
                                                   initial_accumulator_value),
                  name="accumulator"),
    ], name=name, **kwargs)


def adadelta(learning_rate=0.001, rho=0.95, epsilon=1e-7, name="adadelta", **kwargs):
    """Keras ``Adadelta``: unit DC gain AR1 of ``g**2`` and the RMS of past updates."""
    p, coef = _pole("rho", rho)
    if isinstance(coef, Coefficient):
        raise ValueError(f"Argument `rho` must be a float or a schedule. Received: rho={rho!r}")
    eps = check_non_negative("epsilon", epsilon)
    return ChainOptimizer(learning_rate=_lr(learning_rate), stages=[
        Normalize(ARMAFilter.ar1(p), pole=coef, epsilon=eps, epsilon_placement="inside",
                  name="accumulated_grad"),
        UpdateRMS(p if coef is None else coef, epsilon=eps, name="accumulated_delta_var"),
    ], name=name, **kwargs)


def rmsprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
            name="rmsprop", **kwargs):
    """Keras ``RMSprop``: unit DC gain AR1 of ``g**2``, ``lr g / sqrt(v + eps)``.

    With ``momentum > 0`` the scaled step is filtered by an AR1 with unit
    input gain; ``centered=True`` subtracts the squared AR1 mean gradient.
    """
    p, coef = _pole("rho", rho)
    stages = [ScaleByLearningRate(),
              Normalize(ARMAFilter.ar1(p), pole=coef,
                        epsilon=check_non_negative("epsilon", epsilon),
                        epsilon_placement="inside", centered=centered, name="velocity")]
    if not _is_zero("momentum", momentum):
        m, m_coef = _pole("momentum", momentum)
        stages.append(Filter(ARMAFilter.ar1(m, gain="input"), pole=m_coef, name="momentum"))
    return ChainOptimizer(learning_rate=_lr(learning_rate), stages=stages, name=name, **kwargs)


def adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
         name="adam", **kwargs):
    """Keras ``Adam``: two compensated unit DC gain AR1 (EMA) filters.

    Keras adds epsilon to ``sqrt(v)`` before the compensation of ``v``
    (``epsilon_placement="outside_uncompensated"``).
    """
    p1, c1 = _pole("beta_1", beta_1)
    p2, c2 = _pole("beta_2", beta_2)
    return ChainOptimizer(learning_rate=_lr(learning_rate), stages=[
        Filter(ARMAFilter.ema(p1), pole=c1, name="momentum"),
        Normalize(ARMAFilter.ema(p2), pole=c2, epsilon=check_non_negative("epsilon", epsilon),
                  epsilon_placement="outside_uncompensated", amsgrad=amsgrad,
                  name="velocity"),
    ], name=name, **kwargs)


def adamw(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
          amsgrad=False, name="adamw", **kwargs):
    """Keras ``AdamW``: ``adam`` with decoupled weight decay ``w -= lr * wd * w``.

    The decay is Keras' own ``weight_decay`` (applied before the step, with
    ``exclude_from_weight_decay``), as in ``keras.optimizers.AdamW``.
    """
    wd = check_non_negative("weight_decay", weight_decay)
    return adam(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
                name=name, weight_decay=wd, **kwargs)


def adamax(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name="adamax",
           **kwargs):
    """Keras ``Adamax``: compensated EMA over the decaying infinity norm ``max(beta_2 u, |g|)``."""
    p1, c1 = _pole("beta_1", beta_1)
    return ChainOptimizer(learning_rate=_lr(learning_rate), stages=[
        Filter(ARMAFilter.ema(p1), pole=c1, name="m"),
        InfinityNorm(beta_2, epsilon=check_non_negative("epsilon", epsilon), name="u"),
    ], name=name, **kwargs)


def nadam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name="nadam",
          **kwargs):
    """Keras ``Nadam``: an AR1 with Dozat's Nesterov look-ahead, and a compensated EMA of ``g**2``."""
    b1 = check_in_range("beta_1", beta_1, 0.0, 1.0)
    p2, c2 = _pole("beta_2", beta_2)
    # Explicit poles: 1 - beta is formed in the variable dtype, as in Keras' Nadam.
    return ChainOptimizer(learning_rate=_lr(learning_rate), stages=[
        Filter(ARMAFilter.ar1(b1), pole=b1, incremental=True, name="momentum"),
        NesterovLookahead(b1),
        Normalize(ARMAFilter.ema(p2), pole=p2 if c2 is None else c2,
                  epsilon=check_non_negative("epsilon", epsilon), epsilon_placement="outside",
                  name="velocity"),
    ], name=name, **kwargs)


def lion(learning_rate=0.001, beta_1=0.9, beta_2=0.99, name="lion", **kwargs):
    """Keras ``Lion``: ``sign`` of an interpolated momentum (ARMA(1, 1) filter)."""
    return ChainOptimizer(learning_rate=_lr(learning_rate), stages=[
        LionFilter(beta_1, beta_2, name="momentum"),
        Sign(),
    ], name=name, **kwargs)


def lamb(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name="lamb", **kwargs):
    """Keras ``Lamb``: Adam's compensated ``m / (sqrt(v^) + eps)`` times the trust ratio."""
    p1, c1 = _pole("beta_1", beta_1)
    p2, c2 = _pole("beta_2", beta_2)
    return ChainOptimizer(learning_rate=_lr(learning_rate), stages=[
        Filter(ARMAFilter.ema(p1), pole=c1, incremental=True, name="momentum"),
        Normalize(ARMAFilter.ema(p2), pole=c2, incremental=True,
                  epsilon=check_non_negative("epsilon", epsilon),
                  epsilon_placement="outside", name="velocity"),
        TrustRatio(),
    ], name=name, **kwargs)


def butterworth_momentum(order=2, cutoff=0.05, learning_rate=0.01, dc_gain=1.0,
                         transient_compensation=False, name="butterworth_momentum",
                         **kwargs):
    """Momentum with a Butterworth low-pass gradient filter (a design no library has).

    ``w -= B(lr * g)`` with ``B`` the order-``order`` Butterworth low-pass of
    cutoff ``cutoff`` cycles per step, scaled to DC gain ``dc_gain`` (classic
    momentum ``p`` has DC gain ``1 / (1 - p)``).
    """
    gain = check_positive("dc_gain", dc_gain)
    base = ARMAFilter.butterworth(order, cutoff)
    f = ARMAFilter([gain * c for c in base.b], base.a,
                   transient_compensation=transient_compensation,
                   name=f"Butterworth({order}, {float(cutoff):g})")
    return ChainOptimizer(learning_rate=_lr(learning_rate),
                          stages=[ScaleByLearningRate(), Filter(f, name="momentum")],
                          name=name, **kwargs)


# Public names equal to the (``momentum`` and ``nesterov`` clash with
# argument names inside the functions above, hence the aliases).
momentum = momentum_
nesterov = nesterov_

momentum.__name__ = momentum.__qualname__ = "momentum"
nesterov.__name__ = nesterov.__qualname__ = "nesterov"
