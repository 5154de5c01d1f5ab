"""The eight classic optimizers as FilterOptimizer presets, plus Butterworth momentum.

Each preset takes the argument names and defaults of its Keras built-in and
returns a ``FilterOptimizer`` that reproduces it (epsilon placement and
accumulator start values included). Coefficients written as "float or
schedule" also accept a callable of the iteration (e.g. a
``keras.optimizers.schedules.LearningRateSchedule``), evaluated in-graph.
"""

import keras
from keras import ops

from kerastools._checks import check_in_range
from kerastools._checks import check_non_negative
from kerastools._checks import check_positive
from kerastools.filters import ARMAFilter
from kerastools.optimizers.filter_optimizer import FilterOptimizer


def _lr(learning_rate):
    if isinstance(learning_rate, (int, float)) and not isinstance(learning_rate, bool):
        check_non_negative("learning_rate", learning_rate)
    return learning_rate


def _pole(name, value):
    """``(float pole for the design, schedule or None)``."""
    if callable(value):
        return 0.5, value
    return check_in_range(name, value, 0.0, 1.0), None


@keras.saving.register_keras_serializable(package="kerastools")
class NadamMomentum(keras.optimizers.schedules.LearningRateSchedule):
    """Nadam's momentum schedule ``u(i) = beta_1 * (1 - 0.5 * decay**(i + 1))``.

    Reference: Dozat (2016), "Incorporating Nesterov momentum into Adam"; the
    form used by ``keras.optimizers.Nadam`` (``i`` is ``iterations``).

    Args:
        beta_1: float in [0, 1). Defaults to `0.9`.
        decay: float in (0, 1]. Defaults to `0.96`.

    Example:

    >>> opt = FilterOptimizer(gradient_filter=ARMAFilter.ar1(0.9),
    ...                       lookahead=NadamMomentum(0.9), ...)
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
    """Keras ``SGD``: no filter, or momentum / Nesterov when ``momentum > 0``.

    ``momentum`` is a float in [0, 1) or a schedule of the iteration.
    """
    if callable(momentum) or check_in_range("momentum", momentum, 0.0, 1.0) > 0:
        return (nesterov_ if nesterov else momentum_)(learning_rate, momentum, name=name,
                                                      **kwargs)
    return FilterOptimizer(learning_rate=_lr(learning_rate), name=name, **kwargs)


def momentum_(learning_rate=0.01, momentum=0.9, name="momentum", **kwargs):
    """Keras ``SGD(momentum=...)``: AR1 with unit input gain on ``lr * g``.

    ``v = momentum * v + lr * g; w -= v``. ``momentum`` is a float in [0, 1)
    or a schedule (annealed momentum, one-cycle momentum cycling).
    """
    p, schedule = _pole("momentum", momentum)
    return FilterOptimizer(learning_rate=_lr(learning_rate),
                           gradient_filter=ARMAFilter.ar1(p, gain="input"),
                           filter_position="update",
                           gradient_pole=p if schedule is None else schedule, name=name,
                           **kwargs)


def nesterov_(learning_rate=0.01, momentum=0.9, name="nesterov", **kwargs):
    """Keras ``SGD(momentum=..., nesterov=True)``: Bengio-Nesterov ARMA1 on ``lr * g``."""
    p, schedule = _pole("momentum", momentum)
    return FilterOptimizer(learning_rate=_lr(learning_rate),
                           gradient_filter=ARMAFilter.nesterov(p),
                           filter_position="update",
                           gradient_pole=p if schedule is None else schedule, name=name,
                           **kwargs)


def adagrad(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, name="adagrad",
            **kwargs):
    """Keras ``Adagrad``: accumulator of ``g**2`` from 0.1, ``lr g / sqrt(acc + eps)``."""
    return FilterOptimizer(
        learning_rate=_lr(learning_rate),
        normalization_filter=ARMAFilter.accumulator(),
        normalization_initial_value=check_non_negative("initial_accumulator_value",
                                                       initial_accumulator_value),
        epsilon=check_non_negative("epsilon", epsilon), epsilon_placement="inside",
        name=name, **kwargs)


def adadelta(learning_rate=0.001, rho=0.95, epsilon=1e-7, name="adadelta", **kwargs):
    """Keras ``Adadelta``: unit DC gain AR1 of ``g**2`` and the RMS of past updates."""
    p, schedule = _pole("rho", rho)
    return FilterOptimizer(
        learning_rate=_lr(learning_rate), normalization_filter=ARMAFilter.ar1(p),
        normalization_pole=schedule, epsilon=check_non_negative("epsilon", epsilon),
        epsilon_placement="inside", update_rms=True, name=name, **kwargs)


def rmsprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
            name="rmsprop", **kwargs):
    """Keras ``RMSprop``: unit DC gain AR1 of ``g**2``, ``lr g / sqrt(v + eps)``.

    With ``momentum > 0`` the scaled step is filtered by an AR1 with unit
    input gain; ``centered=True`` subtracts the squared AR1 mean gradient.
    """
    p, schedule = _pole("rho", rho)
    gf, m_schedule = None, None
    if callable(momentum) or check_in_range("momentum", momentum, 0.0, 1.0) > 0:
        m, m_schedule = _pole("momentum", momentum)
        gf = ARMAFilter.ar1(m, gain="input")
    return FilterOptimizer(
        learning_rate=_lr(learning_rate), gradient_filter=gf, gradient_pole=m_schedule,
        filter_position="update", normalization_filter=ARMAFilter.ar1(p),
        normalization_pole=schedule, epsilon=check_non_negative("epsilon", epsilon),
        epsilon_placement="inside", centered=centered, name=name, **kwargs)


def adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
         name="adam", **kwargs):
    """Keras ``Adam``: two compensated unit DC gain AR1 (EMA) filters.

    Keras adds epsilon to ``sqrt(v)`` before the compensation of ``v``
    (``epsilon_placement="outside_uncompensated"``).
    """
    p1, s1 = _pole("beta_1", beta_1)
    p2, s2 = _pole("beta_2", beta_2)
    return FilterOptimizer(
        learning_rate=_lr(learning_rate), gradient_filter=ARMAFilter.ema(p1),
        gradient_pole=s1, normalization_filter=ARMAFilter.ema(p2), normalization_pole=s2,
        epsilon=check_non_negative("epsilon", epsilon),
        epsilon_placement="outside_uncompensated", amsgrad=amsgrad, name=name, **kwargs)


def nadam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name="nadam",
          **kwargs):
    """Keras ``Nadam``: an AR1 with Dozat's Nesterov look-ahead, and a compensated EMA of ``g**2``."""
    b1 = check_in_range("beta_1", beta_1, 0.0, 1.0)
    p2, s2 = _pole("beta_2", beta_2)
    # The poles are passed explicitly so that 1 - beta is formed in the
    # variable dtype, as in Keras' Nadam.
    return FilterOptimizer(
        learning_rate=_lr(learning_rate), gradient_filter=ARMAFilter.ar1(b1),
        gradient_pole=b1, lookahead=NadamMomentum(b1),
        normalization_filter=ARMAFilter.ema(p2),
        normalization_pole=p2 if s2 is None else s2, epsilon=check_non_negative("epsilon", epsilon),
        epsilon_placement="outside", name=name, **kwargs)


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
    return FilterOptimizer(learning_rate=_lr(learning_rate), gradient_filter=f,
                           filter_position="update", name=name, **kwargs)


# Public names equal to the (``momentum`` and ``nesterov`` clash with
# argument names inside the functions above, hence the aliases).
momentum = momentum_
nesterov = nesterov_

momentum.__name__ = momentum.__qualname__ = "momentum"
nesterov.__name__ = nesterov.__qualname__ = "nesterov"
