"""Stages of the optimizers from the papers: RAdam, AdaBelief, Yogi, QHM/QHAdam, AggMo.

Each is a ``kerastools.optimizers.stages.Stage`` (state in optimizer
variables created in ``build``, a pure ``keras.ops`` update in ``apply``); the
recipes in ``kerastools.optimizers.paper_recipes`` chain them.

These stages compute with the papers' arithmetic: coefficients are exact
Python floats, and the bias corrections ``1 - beta**t`` are formed as
``-expm1(t log(beta))``, accurate in float32 (the Keras form ``1 - beta**t``
in float32 is off by about 1.3e-5 relative for ``beta = 0.999``) and exact to
the last bits in float64. The presets that reproduce Keras built-ins keep
Keras' own rounding instead (``stages.Filter``).
"""

import math

import keras
import numpy as np
from keras import ops

from kerastools._checks import check_bool
from kerastools._checks import check_finite
from kerastools._checks import check_in_range
from kerastools._checks import check_non_negative
from kerastools.filters import ARMAFilter
from kerastools.optimizers.stages import Stage
from kerastools.optimizers.stages import scalar_dtype

# Bernoulli series of 1 - x / expm1(x): x/2 - x**2/12 + x**4/720 - ...
_BERNOULLI = (1.0 / 2.0, -1.0 / 12.0, 0.0, 1.0 / 720.0, 0.0, -1.0 / 30240.0, 0.0,
              1.0 / 1209600.0, 0.0, -1.0 / 47900160.0)
_SERIES_BELOW = {"float32": 1.0, "float64": 0.1}


def bias_correction(beta, t, dtype="float32"):
    """``1 - beta**t`` for the 1-based step ``t`` (a scalar tensor), in ``dtype``.

    Formed as ``-expm1(t log(beta))`` with ``log(beta)`` in float64: no
    cancellation for ``beta`` near 1 (Adam's ``1 - beta_2**t``).
    """
    beta = float(beta)
    if beta == 0.0:
        return ops.ones((), dtype)
    x = ops.multiply(ops.cast(t, dtype), _k(math.log(beta), dtype))
    return ops.negative(ops.expm1(x))


def sma_length(beta_2, t, dtype="float32"):
    """RAdam's length of the approximated SMA, ``rho_t = rho_inf - 2 t beta_2**t / (1 - beta_2**t)``.

    Written as ``rho_t = K + (2 / L) (1 - x / expm1(x))`` with
    ``L = -log(beta_2)``, ``x = t L`` and ``K = rho_inf - 2 / L`` formed in
    float64, the bracket by its Bernoulli series for small ``x``: the direct
    form loses about 11 bits in the subtraction (``rho_t`` is about ``t - 1``
    while ``rho_inf`` is about 2000 for ``beta_2 = 0.999``).
    """
    beta_2 = float(beta_2)
    log_beta = -math.log(beta_2)
    rho_inf = 2.0 / (1.0 - beta_2) - 1.0
    x = ops.multiply(ops.cast(t, dtype), _k(log_beta, dtype))
    direct = ops.subtract(_k(1.0, dtype), ops.divide(x, ops.expm1(x)))
    series = ops.zeros((), dtype)
    for c in reversed(_BERNOULLI):  # Horner
        series = ops.add(ops.multiply(series, x), _k(c, dtype))
    series = ops.multiply(series, x)
    bracket = ops.where(ops.less(x, _k(_SERIES_BELOW[dtype], dtype)), series, direct)
    return ops.add(_k(rho_inf - 2.0 / log_beta, dtype), ops.multiply(_k(2.0 / log_beta, dtype),
                                                                     bracket))


def _k(value, dtype):
    """A Python float as a tensor of ``dtype``.

    Keras' PyTorch backend rounds a Python float through float32 in
    ``ops.add``/``subtract``/``multiply``/``where`` (and TensorFlow does in
    ``ops.cast``); every constant below meets a tensor through this.
    """
    return ops.convert_to_tensor(value, dtype=dtype)


def _check_beta(name, value):
    return check_in_range(name, value, 0.0, 1.0)


def _slots(optimizer, variables, name, initializer="zeros"):
    return optimizer.add_optimizer_variables(variables, name, initializer=initializer)


def _full(value):
    """Initializer ``value`` everywhere, exact in the variable dtype.

    (``keras.initializers.Constant`` rounds a Python float through float32 on
    TensorFlow before casting it to float64.)
    """

    def initializer(shape, dtype=None):
        return ops.full(shape, value, dtype=dtype)

    return initializer


def _ema(state, x, beta, ctx):
    """``beta * state + (1 - beta) * x``, assigned to ``state``; returns the new value."""
    new = ops.add(ops.multiply(state, _k(beta, ctx.dtype)),
                  ops.multiply(x, _k(1.0 - beta, ctx.dtype)))
    ctx.optimizer.assign(state, new)
    return new


def _correction(beta, ctx):
    """``1 - beta**t`` in the scalar dtype, cast to the variable dtype."""
    return ops.cast(bias_correction(beta, ctx.step, scalar_dtype(ctx.variable)), ctx.dtype)


def _parallel(filters):
    """The ARMA filter of a sum of ARMA filters (numerators over the common denominator)."""
    poly = np.polynomial.polynomial  # coefficients of z^-k, k ascending
    num, den = np.zeros(1), np.ones(1)
    for f in filters:
        b, a = np.asarray(f.b), np.r_[1.0, f.a]
        num = poly.polyadd(poly.polymul(num, a), poly.polymul(b, den))
        den = poly.polymul(den, a)
    return num, den


# ---------------------------------------------------------------------- stages
@keras.saving.register_keras_serializable(package="kerastools")
class MovingAverage(Stage):
    """Exponential moving average of the update, bias-corrected as in the papers.

    Reference: Kingma & Ba (2015), "Adam", Algorithm 1 (the first moment).

    ```
    m = beta m + (1 - beta) u
    u = m / (1 - beta**t)          (transient_compensation=True)
    u = m                          (transient_compensation=False)
    ```

    Unlike ``stages.Filter(ARMAFilter.ema(beta))`` (Keras' rounding: ``beta``
    rounded to float32 before ``1 - beta**t`` on TensorFlow and PyTorch),
    coefficients are exact and ``1 - beta**t`` is ``bias_correction``.

    Args:
        beta: float in [0, 1). Defaults to `0.9`.
        transient_compensation: divide by ``1 - beta**t``. Defaults to `True`.
        name: prefix of the state variables. Defaults to `"momentum"`.

    Example:

    >>> ChainOptimizer(1e-3, [MovingAverage(0.9), Rectify(0.999)])
    """

    def __init__(self, beta=0.9, transient_compensation=True, name="momentum"):
        super().__init__(name=name)
        self.beta = _check_beta("beta", beta)
        self.transient_compensation = check_bool("transient_compensation",
                                                 transient_compensation)

    def build(self, optimizer, variables):
        self.m = _slots(optimizer, variables, self.name)

    def apply(self, update, ctx):
        m = _ema(self.m[ctx.index], update, self.beta, ctx)
        return ops.divide(m, _correction(self.beta, ctx)) if self.transient_compensation else m

    def as_filter(self):
        """The equivalent ``ARMAFilter`` (for frequency responses)."""
        return ARMAFilter.ema(self.beta, transient_compensation=self.transient_compensation)

    def get_config(self):
        return {"beta": self.beta, "transient_compensation": self.transient_compensation,
                "name": self.name}


@keras.saving.register_keras_serializable(package="kerastools")
class Rectify(Stage):
    """RAdam's rectified normalisation: Adam's, switched on once its variance is tractable.

    Reference: Liu et al. (2020), "On the Variance of the Adaptive Learning
    Rate and Beyond", Algorithm 2; PyTorch's ``torch.optim.RAdam`` (threshold
    ``rho_t > 5``, epsilon added to the uncompensated root). Follows the
    compensated first moment ``MovingAverage(beta_1)``.

    ```
    v = beta_2 v + (1 - beta_2) g**2
    rho_inf = 2 / (1 - beta_2) - 1;  rho_t = rho_inf - 2 t beta_2**t / (1 - beta_2**t)
    if rho_t > sma_threshold:
        r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        u = r u sqrt(1 - beta_2**t) / (sqrt(v) + eps)
    else:
        u = u                              (SGD with the compensated momentum)
    ```

    ``rho_t`` is computed without cancellation (``sma_length``).

    Args:
        beta_2: float in (0, 1). Defaults to `0.999`.
        epsilon: float >= 0. Defaults to `1e-7`.
        sma_threshold: float >= 4 (``r`` needs ``rho_t > 4``).
            Defaults to `5.0`.
        name: prefix of the state variables. Defaults to `"velocity"`.

    Example:

    >>> ChainOptimizer(1e-3, [MovingAverage(0.9), Rectify(0.999)])
    """

    def __init__(self, beta_2=0.999, epsilon=1e-7, sma_threshold=5.0, name="velocity"):
        super().__init__(name=name)
        self.beta_2 = check_in_range("beta_2", beta_2, 0.0, 1.0, low_closed=False)
        self.epsilon = check_non_negative("epsilon", epsilon)
        self.sma_threshold = check_finite("sma_threshold", sma_threshold)
        if self.sma_threshold < 4.0:
            raise ValueError("Argument `sma_threshold` must be >= 4 (the rectification term "
                             f"needs rho_t > 4). Received: sma_threshold={sma_threshold!r}")

    def rho_inf(self):
        return 2.0 / (1.0 - self.beta_2) - 1.0

    def build(self, optimizer, variables):
        self.v = _slots(optimizer, variables, self.name)

    def apply(self, update, ctx):
        v = _ema(self.v[ctx.index], ops.square(ctx.gradient), self.beta_2, ctx)
        rho_inf = self.rho_inf()
        if rho_inf <= self.sma_threshold:  # never rectified (v kept for a later change)
            return update
        sdtype = scalar_dtype(ctx.variable)
        rho_t = sma_length(self.beta_2, ctx.step, sdtype)
        rectified = ops.greater(rho_t, _k(self.sma_threshold, sdtype))
        ratio = ops.divide(
            ops.multiply(ops.subtract(rho_t, _k(4.0, sdtype)), ops.subtract(rho_t, _k(2.0, sdtype))),
            ops.multiply(rho_t, _k((rho_inf - 4.0) * (rho_inf - 2.0) / rho_inf, sdtype)))
        # r * sqrt(1 - beta_2**t); 0 where not rectified (ratio < 0 there).
        # (relu, not ops.maximum: Keras' PyTorch maximum rounds float64 through float32.)
        factor = ops.sqrt(ops.multiply(ops.relu(ratio),
                                       bias_correction(self.beta_2, ctx.step, sdtype)))
        factor = ops.cast(factor, ctx.dtype)
        adapted = ops.divide(ops.multiply(update, factor),
                             ops.add(ops.sqrt(v), _k(self.epsilon, ctx.dtype)))
        return ops.where(rectified, adapted, update)

    def get_config(self):
        return {"beta_2": self.beta_2, "epsilon": self.epsilon,
                "sma_threshold": self.sma_threshold, "name": self.name}


@keras.saving.register_keras_serializable(package="kerastools")
class BeliefNormalize(Stage):
    """AdaBelief's normaliser: the EMA of the squared prediction error ``(g - m)**2``.

    Reference: Zhuang et al. (2020), "AdaBelief Optimizer: Adapting Stepsizes
    by the Belief in Observed Gradients", Algorithm 2 and the authors'
    implementation (epsilon added to ``s_t`` at every step). Follows the
    uncompensated first moment ``MovingAverage(beta_1,
    transient_compensation=False)``, the prediction ``m``, and compensates it.

    ```
    s = beta_2 s + (1 - beta_2) (g - m)**2 + eps
    u = (m / (1 - beta_1**t)) / (sqrt(s / (1 - beta_2**t)) + eps)
    ```

    Args:
        beta_1: float in [0, 1), the prediction's decay. Defaults to `0.9`.
        beta_2: float in [0, 1). Defaults to `0.999`.
        epsilon: float >= 0. Defaults to `1e-16`.
        name: prefix of the state variables. Defaults to `"belief"`.

    Example:

    >>> ChainOptimizer(1e-3, [MovingAverage(0.9, transient_compensation=False),
    ...                       BeliefNormalize(0.9, 0.999)])
    """

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-16, name="belief"):
        super().__init__(name=name)
        self.beta_1 = _check_beta("beta_1", beta_1)
        self.beta_2 = _check_beta("beta_2", beta_2)
        self.epsilon = check_non_negative("epsilon", epsilon)

    def build(self, optimizer, variables):
        self.s = _slots(optimizer, variables, self.name)

    def apply(self, update, ctx):
        s_var = self.s[ctx.index]
        residual = ops.subtract(ctx.gradient, update)
        dtype = ctx.dtype
        s = ops.add(ops.add(ops.multiply(s_var, _k(self.beta_2, dtype)),
                            ops.multiply(ops.square(residual), _k(1.0 - self.beta_2, dtype))),
                    _k(self.epsilon, dtype))
        ctx.optimizer.assign(s_var, s)
        den = ops.add(ops.sqrt(ops.divide(s, _correction(self.beta_2, ctx))),
                      _k(self.epsilon, dtype))
        return ops.divide(ops.divide(update, _correction(self.beta_1, ctx)), den)

    def as_filter(self):
        """The gradient filter of the chain up to here: the compensated EMA of ``beta_1``."""
        return ARMAFilter.ema(self.beta_1, name=f"AdaBelief EMA({self.beta_1:g})")

    def get_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "name": self.name}


@keras.saving.register_keras_serializable(package="kerastools")
class YogiNormalize(Stage):
    """Yogi's additive second moment: ``v`` moves by ``(1 - beta_2) g**2`` towards ``g**2``.

    Reference: Zaheer et al. (2018), "Adaptive Methods for Nonconvex
    Optimization", Algorithm 2; bias correction and ``v_0`` of TensorFlow
    Addons' ``Yogi`` (epsilon added to the uncompensated root).

    ```
    v = v - (1 - beta_2) sign(v - g**2) g**2           (v starts at initial_value)
    u = u sqrt(1 - beta_2**t) / (sqrt(v) + eps)
    ```

    Args:
        beta_2: float in [0, 1). Defaults to `0.999`.
        epsilon: float >= 0. Defaults to `1e-3`.
        initial_value: float >= 0, ``v_0``. Defaults to `1e-6`.
        name: prefix of the state variables. Defaults to `"velocity"`.

    Example:

    >>> ChainOptimizer(1e-2, [MovingAverage(0.9), YogiNormalize(0.999)])
    """

    def __init__(self, beta_2=0.999, epsilon=1e-3, initial_value=1e-6, name="velocity"):
        super().__init__(name=name)
        self.beta_2 = _check_beta("beta_2", beta_2)
        self.epsilon = check_non_negative("epsilon", epsilon)
        self.initial_value = check_non_negative("initial_value", initial_value)

    def build(self, optimizer, variables):
        self.v = _slots(optimizer, variables, self.name, _full(self.initial_value))

    def apply(self, update, ctx):
        v_var = self.v[ctx.index]
        g2 = ops.square(ctx.gradient)
        v = ops.subtract(v_var, ops.multiply(ops.multiply(ops.sign(ops.subtract(v_var, g2)), g2),
                                             _k(1.0 - self.beta_2, ctx.dtype)))
        ctx.optimizer.assign(v_var, v)
        scale = ops.sqrt(_correction(self.beta_2, ctx))
        return ops.divide(ops.multiply(update, scale),
                          ops.add(ops.sqrt(v), _k(self.epsilon, ctx.dtype)))

    def get_config(self):
        return {"beta_2": self.beta_2, "epsilon": self.epsilon,
                "initial_value": self.initial_value, "name": self.name}


@keras.saving.register_keras_serializable(package="kerastools")
class QuasiHyperbolic(Stage):
    """Quasi-hyperbolic momentum: a ``nu``-weighted mix of the update and its EMA.

    Reference: Ma & Yarats (2019), "Quasi-hyperbolic momentum and Adam for
    deep learning", QHM (section 3) and QHAdam's numerator (section 4).

    ```
    m = beta m + (1 - beta) u
    u = (1 - nu) u + nu m / (1 - beta**t)   (transient_compensation=True, QHAdam)
    u = (1 - nu) u + nu m                   (transient_compensation=False, QHM)
    ```

    As a filter: ``H(z) = (1 - nu) + nu (1 - beta) / (1 - beta z^-1)``, unit
    DC gain, ``(1 - nu) + nu (1 - beta) / (1 + beta)`` at Nyquist; ``nu = 1``
    is the EMA, ``nu = 0`` plain SGD.

    Args:
        beta: float in [0, 1). Defaults to `0.999`.
        nu: float in [0, 1]. Defaults to `0.7`.
        transient_compensation: compensate the EMA. Defaults to `False`.
        name: prefix of the state variables. Defaults to `"momentum"`.

    Example:

    >>> ChainOptimizer(1.0, [QuasiHyperbolic(0.999, 0.7)])
    """

    def __init__(self, beta=0.999, nu=0.7, transient_compensation=False, name="momentum"):
        super().__init__(name=name)
        self.beta = _check_beta("beta", beta)
        self.nu = check_in_range("nu", nu, 0.0, 1.0, high_closed=True)
        self.transient_compensation = check_bool("transient_compensation",
                                                 transient_compensation)

    def build(self, optimizer, variables):
        self.m = _slots(optimizer, variables, self.name)

    def apply(self, update, ctx):
        m = _ema(self.m[ctx.index], update, self.beta, ctx)
        if self.transient_compensation:
            m = ops.divide(m, _correction(self.beta, ctx))
        return ops.add(ops.multiply(update, _k(1.0 - self.nu, ctx.dtype)),
                       ops.multiply(m, _k(self.nu, ctx.dtype)))

    def as_filter(self):
        """The equivalent ``ARMAFilter``: ``b = [1 - nu beta, -(1 - nu) beta]``, ``a = [-beta]``."""
        p, nu = self.beta, self.nu
        return ARMAFilter([1.0 - nu * p, -(1.0 - nu) * p], [-p],
                          transient_compensation=self.transient_compensation,
                          name=f"QH({p:g}, nu={nu:g})")

    def get_config(self):
        return {"beta": self.beta, "nu": self.nu,
                "transient_compensation": self.transient_compensation, "name": self.name}


@keras.saving.register_keras_serializable(package="kerastools")
class QuasiHyperbolicNormalize(Stage):
    """QHAdam's denominator: the root of a ``nu``-mix of ``g**2`` and its compensated EMA.

    Reference: Ma & Yarats (2019), QHAdam (section 4).

    ```
    s = beta s + (1 - beta) g**2
    u = u / (sqrt((1 - nu) g**2 + nu s / (1 - beta**t)) + eps)
    ```

    Args:
        beta: float in [0, 1). Defaults to `0.999`.
        nu: float in [0, 1]. Defaults to `1.0`.
        epsilon: float >= 0. Defaults to `1e-8`.
        name: prefix of the state variables. Defaults to `"velocity"`.

    Example:

    >>> ChainOptimizer(1e-3, [QuasiHyperbolic(0.995, 0.7, transient_compensation=True),
    ...                       QuasiHyperbolicNormalize(0.999, 1.0)])
    """

    def __init__(self, beta=0.999, nu=1.0, epsilon=1e-8, name="velocity"):
        super().__init__(name=name)
        self.beta = _check_beta("beta", beta)
        self.nu = check_in_range("nu", nu, 0.0, 1.0, high_closed=True)
        self.epsilon = check_non_negative("epsilon", epsilon)

    def build(self, optimizer, variables):
        self.s = _slots(optimizer, variables, self.name)

    def apply(self, update, ctx):
        g2 = ops.square(ctx.gradient)
        s = _ema(self.s[ctx.index], g2, self.beta, ctx)
        s_hat = ops.divide(s, _correction(self.beta, ctx))
        dtype = ctx.dtype
        mix = ops.add(ops.multiply(g2, _k(1.0 - self.nu, dtype)), ops.multiply(s_hat, _k(self.nu, dtype)))
        return ops.divide(update, ops.add(ops.sqrt(mix), _k(self.epsilon, dtype)))

    def get_config(self):
        return {"beta": self.beta, "nu": self.nu, "epsilon": self.epsilon, "name": self.name}


@keras.saving.register_keras_serializable(package="kerastools")
class AggregatedMomentum(Stage):
    """AggMo: the mean of K classic momentum velocities (a sum of AR1 filters).

    Reference: Lucas, Sun, Zemel & Grosse (2019), "Aggregated Momentum:
    Stability Through Passive Damping", Algorithm 1.

    ```
    v_i = beta_i v_i + u        (i = 1..K; no state for beta_i = 0)
    u = (v_1 + ... + v_K) / K
    ```

    As a filter: ``H(z) = (1/K) sum_i 1 / (1 - beta_i z^-1)``, DC gain
    ``(1/K) sum_i 1 / (1 - beta_i)``; the small ``beta_i`` damp the
    oscillations of the large ones.

    Args:
        betas: a non-empty sequence of floats in [0, 1). Defaults to
            `(0.0, 0.9, 0.99)`.
        name: prefix of the state variables. Defaults to `"momentum"`.

    Example:

    >>> ChainOptimizer(0.01, [AggregatedMomentum((0.0, 0.9, 0.99))])
    """

    def __init__(self, betas=(0.0, 0.9, 0.99), name="momentum"):
        super().__init__(name=name)
        if isinstance(betas, (str, bytes)) or not isinstance(betas, (list, tuple)) or not betas:
            raise ValueError("Argument `betas` must be a non-empty list of floats in [0, 1). "
                             f"Received: betas={betas!r}")
        self.betas = tuple(_check_beta("betas", b) for b in betas)

    def build(self, optimizer, variables):
        self.v = [_slots(optimizer, variables, f"{self.name}_{i}") if beta else None
                  for i, beta in enumerate(self.betas)]

    def apply(self, update, ctx):
        total = None
        for beta, slots in zip(self.betas, self.v):
            if slots is None:
                v = update
            else:
                v = ops.add(ops.multiply(slots[ctx.index], _k(beta, ctx.dtype)), update)
                ctx.optimizer.assign(slots[ctx.index], v)
            total = v if total is None else ops.add(total, v)
        return ops.divide(total, _k(float(len(self.betas)), ctx.dtype))

    def as_filter(self):
        """The equivalent ``ARMAFilter`` (the parallel connection of the K AR1 filters)."""
        k = len(self.betas)
        parts = [ARMAFilter([1.0 / k], [-b]) if b else ARMAFilter([1.0 / k]) for b in self.betas]
        num, den = _parallel(parts)
        return ARMAFilter(num.tolist(), den[1:].tolist(),
                          name="AggMo(" + ", ".join(f"{b:g}" for b in self.betas) + ")")

    def get_config(self):
        return {"betas": list(self.betas), "name": self.name}
