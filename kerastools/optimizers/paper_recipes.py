"""The optimizers users miss, from the papers, as recipes of stages.

``radam``, ``adabelief``, ``yogi``, ``qhm``, ``qhadam`` and ``aggmo`` return a
``ChainOptimizer`` over the stages of ``kerastools.optimizers.paper_stages``;
each is tested against PyTorch (``torch.optim.RAdam``) or a NumPy
transcription of its paper (``tests/test_optimizers_papers.py``). The base
arguments (``weight_decay`` decoupled as in AdamW, ``clipnorm``, ``use_ema``,
...) work as in every Keras optimizer.
"""

from kerastools._checks import check_in_range
from kerastools._checks import check_non_negative
from kerastools.optimizers.chain import ChainOptimizer
from kerastools.optimizers.paper_stages import AggregatedMomentum
from kerastools.optimizers.paper_stages import BeliefNormalize
from kerastools.optimizers.paper_stages import MovingAverage
from kerastools.optimizers.paper_stages import QuasiHyperbolic
from kerastools.optimizers.paper_stages import QuasiHyperbolicNormalize
from kerastools.optimizers.paper_stages import Rectify
from kerastools.optimizers.paper_stages import YogiNormalize


def _lr(learning_rate):
    if isinstance(learning_rate, (int, float)) and not isinstance(learning_rate, bool):
        check_non_negative("learning_rate", learning_rate)
    return learning_rate


def radam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, sma_threshold=5.0,
          name="radam", **kwargs):
    """RAdam: Adam with its adaptive step rectified; momentum SGD while rho_t <= 5.

    Reference: Liu et al. (2020), "On the Variance of the Adaptive Learning
    Rate and Beyond", Algorithm 2; equal to PyTorch's ``torch.optim.RAdam``
    (with ``decoupled_weight_decay=True`` for ``weight_decay``); TensorFlow
    Addons' ``RectifiedAdam`` names ``sma_threshold``.

    ```
    m = beta_1 m + (1 - beta_1) g;  m^ = m / (1 - beta_1**t)
    v = beta_2 v + (1 - beta_2) g**2
    rho_t = rho_inf - 2 t beta_2**t / (1 - beta_2**t),  rho_inf = 2 / (1 - beta_2) - 1
    if rho_t > sma_threshold:  w -= lr r_t m^ sqrt(1 - beta_2**t) / (sqrt(v) + eps)
    else:                      w -= lr m^
    ```

    Recipe: ``[MovingAverage(beta_1), Rectify(beta_2, epsilon, sma_threshold)]``.

    Args:
        learning_rate: float >= 0 or a ``LearningRateSchedule``.
            Defaults to `0.001`.
        beta_1: float in [0, 1). Defaults to `0.9`.
        beta_2: float in (0, 1). Defaults to `0.999`.
        epsilon: float >= 0. Defaults to `1e-7`.
        sma_threshold: float >= 4. Defaults to `5.0`.
        name: Defaults to `"radam"`.
        **kwargs: base optimizer arguments.

    Example:

    >>> model.compile(optimizer=kerastools.optimizers.radam(1e-3), loss="mse")
    """
    return ChainOptimizer(learning_rate=_lr(learning_rate), stages=[
        MovingAverage(beta_1, name="momentum"),
        Rectify(beta_2, epsilon, sma_threshold, name="velocity"),
    ], name=name, **kwargs)


def adabelief(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-16, name="adabelief",
              **kwargs):
    """AdaBelief: Adam whose denominator is the spread of the gradient around its EMA.

    Reference: Zhuang et al. (2020), "AdaBelief Optimizer: Adapting Stepsizes
    by the Belief in Observed Gradients", Algorithm 2 (epsilon added to
    ``s_t`` at every step, as the authors' implementation does; their default
    ``epsilon=1e-16``).

    ```
    m = beta_1 m + (1 - beta_1) g
    s = beta_2 s + (1 - beta_2) (g - m)**2 + eps
    w -= lr (m / (1 - beta_1**t)) / (sqrt(s / (1 - beta_2**t)) + eps)
    ```

    Recipe: ``[MovingAverage(beta_1, transient_compensation=False),
    BeliefNormalize(beta_1, beta_2, epsilon)]``.

    Args:
        learning_rate: float >= 0 or a ``LearningRateSchedule``.
            Defaults to `0.001`.
        beta_1: float in [0, 1). Defaults to `0.9`.
        beta_2: float in [0, 1). Defaults to `0.999`.
        epsilon: float >= 0. Defaults to `1e-16`.
        name: Defaults to `"adabelief"`.
        **kwargs: base optimizer arguments (`weight_decay` is decoupled, the
            paper's ``weight_decouple=True``).

    Example:

    >>> model.compile(optimizer=kerastools.optimizers.adabelief(1e-3), loss="mse")
    """
    b1 = check_in_range("beta_1", beta_1, 0.0, 1.0)
    return ChainOptimizer(learning_rate=_lr(learning_rate), stages=[
        MovingAverage(b1, transient_compensation=False, name="momentum"),
        BeliefNormalize(b1, beta_2, epsilon, name="belief"),
    ], name=name, **kwargs)


def yogi(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-3,
         initial_accumulator_value=1e-6, name="yogi", **kwargs):
    """Yogi: Adam with an additive second moment that cannot grow the step suddenly.

    Reference: Zaheer et al. (2018), "Adaptive Methods for Nonconvex
    Optimization", Algorithm 2; the bias correction, defaults and
    ``initial_accumulator_value`` of TensorFlow Addons' ``Yogi``.

    ```
    m = beta_1 m + (1 - beta_1) g
    v = v - (1 - beta_2) sign(v - g**2) g**2        (v_0 = initial_accumulator_value)
    w -= lr sqrt(1 - beta_2**t) / (1 - beta_1**t) m / (sqrt(v) + eps)
    ```

    Recipe: ``[MovingAverage(beta_1), YogiNormalize(beta_2, epsilon,
    initial_accumulator_value)]``.

    Args:
        learning_rate: float >= 0 or a ``LearningRateSchedule``.
            Defaults to `0.01`.
        beta_1: float in [0, 1). Defaults to `0.9`.
        beta_2: float in [0, 1). Defaults to `0.999`.
        epsilon: float >= 0. Defaults to `1e-3`.
        initial_accumulator_value: float >= 0. Defaults to `1e-6`.
        name: Defaults to `"yogi"`.
        **kwargs: base optimizer arguments.

    Example:

    >>> model.compile(optimizer=kerastools.optimizers.yogi(1e-2), loss="mse")
    """
    return ChainOptimizer(learning_rate=_lr(learning_rate), stages=[
        MovingAverage(beta_1, name="momentum"),
        YogiNormalize(beta_2, epsilon, initial_accumulator_value, name="velocity"),
    ], name=name, **kwargs)


def qhm(learning_rate=0.01, momentum=0.999, nu=0.7, name="qhm", **kwargs):
    """QHM: quasi-hyperbolic momentum, a ``nu``-mix of the gradient and its EMA.

    Reference: Ma & Yarats (2019), "Quasi-hyperbolic momentum and Adam for
    deep learning", section 3 (their suggested ``nu = 0.7``,
    ``beta = 0.999``); the gradient filter has unit DC gain, so the learning
    rate is on the scale of plain SGD's.

    ```
    m = momentum m + (1 - momentum) g
    w -= lr ((1 - nu) g + nu m)
    ```

    Recipe: ``[QuasiHyperbolic(momentum, nu)]``.

    Args:
        learning_rate: float >= 0 or a ``LearningRateSchedule``.
            Defaults to `0.01`.
        momentum: float in [0, 1). Defaults to `0.999`.
        nu: float in [0, 1]. Defaults to `0.7`.
        name: Defaults to `"qhm"`.
        **kwargs: base optimizer arguments.

    Example:

    >>> model.compile(optimizer=kerastools.optimizers.qhm(0.1), loss="mse")
    """
    return ChainOptimizer(learning_rate=_lr(learning_rate), stages=[
        QuasiHyperbolic(momentum, nu, transient_compensation=False, name="momentum"),
    ], name=name, **kwargs)


def qhadam(learning_rate=0.001, beta_1=0.995, beta_2=0.999, nu_1=0.7, nu_2=1.0, epsilon=1e-8,
           name="qhadam", **kwargs):
    """QHAdam: Adam with quasi-hyperbolic mixes in its numerator and denominator.

    Reference: Ma & Yarats (2019), section 4 (their suggested
    ``nu = (0.7, 1.0)``, ``beta = (0.995, 0.999)``; ``epsilon`` as their
    ``qhoptim``).

    ```
    m = beta_1 m + (1 - beta_1) g;      s = beta_2 s + (1 - beta_2) g**2
    num = (1 - nu_1) g + nu_1 m / (1 - beta_1**t)
    den = sqrt((1 - nu_2) g**2 + nu_2 s / (1 - beta_2**t)) + eps
    w -= lr num / den
    ```

    Recipe: ``[QuasiHyperbolic(beta_1, nu_1, transient_compensation=True),
    QuasiHyperbolicNormalize(beta_2, nu_2, epsilon)]``.

    Args:
        learning_rate: float >= 0 or a ``LearningRateSchedule``.
            Defaults to `0.001`.
        beta_1: float in [0, 1). Defaults to `0.995`.
        beta_2: float in [0, 1). Defaults to `0.999`.
        nu_1: float in [0, 1]. Defaults to `0.7`.
        nu_2: float in [0, 1]. Defaults to `1.0`.
        epsilon: float >= 0. Defaults to `1e-8`.
        name: Defaults to `"qhadam"`.
        **kwargs: base optimizer arguments.

    Example:

    >>> model.compile(optimizer=kerastools.optimizers.qhadam(1e-3), loss="mse")
    """
    return ChainOptimizer(learning_rate=_lr(learning_rate), stages=[
        QuasiHyperbolic(beta_1, nu_1, transient_compensation=True, name="momentum"),
        QuasiHyperbolicNormalize(beta_2, nu_2, epsilon, name="velocity"),
    ], name=name, **kwargs)


def aggmo(learning_rate=0.01, betas=(0.0, 0.9, 0.99), name="aggmo", **kwargs):
    """AggMo: aggregated momentum, the mean of K momentum velocities (a sum of AR1 filters).

    Reference: Lucas, Sun, Zemel & Grosse (2019), "Aggregated Momentum:
    Stability Through Passive Damping", Algorithm 1 (default
    ``betas = [0, 0.9, 0.99]``; the learning rate multiplies the mean).

    ```
    v_i = beta_i v_i + g     (i = 1..K)
    w -= lr (v_1 + ... + v_K) / K
    ```

    Its DC gain is ``(1/K) sum 1 / (1 - beta_i)`` (37 for the defaults).

    Recipe: ``[AggregatedMomentum(betas)]``.

    Args:
        learning_rate: float >= 0 or a ``LearningRateSchedule``.
            Defaults to `0.01`.
        betas: non-empty sequence of floats in [0, 1).
            Defaults to `(0.0, 0.9, 0.99)`.
        name: Defaults to `"aggmo"`.
        **kwargs: base optimizer arguments.

    Example:

    >>> model.compile(optimizer=kerastools.optimizers.aggmo(0.01), loss="mse")
    """
    return ChainOptimizer(learning_rate=_lr(learning_rate), stages=[
        AggregatedMomentum(betas, name="momentum"),
    ], name=name, **kwargs)
