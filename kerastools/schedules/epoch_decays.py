"""The course's per-epoch decays, as Keras' own schedules counted in steps.

Epoch ``i`` (0-based) covers steps ``i * steps_per_epoch ... (i + 1) *
steps_per_epoch - 1``. With ``staircase=True`` (the default) the rate is
constant within an epoch and equals the course's formula at ``i``, as Keras'
``LearningRateScheduler`` would give; with ``staircase=False`` the formula is
evaluated at the fractional epoch ``t / steps_per_epoch``.

Each function returns an instance of a Keras built-in
(``ExponentialDecay``, ``PolynomialDecay``, ``InverseTimeDecay``,
``PiecewiseConstantDecay``), so it saves and loads with Keras alone.
"""

import itertools

import keras

from kerastools import _checks

_S = keras.optimizers.schedules


def exponential_decay(initial_learning_rate, decay_rate, steps_per_epoch, staircase=True):
    """``eta_i = eta_0 * rho**i``: Keras' ``ExponentialDecay`` per epoch.

    Args:
        initial_learning_rate: ``eta_0``, > 0.
        decay_rate: ``rho``, in (0, 1].
        steps_per_epoch: optimizer steps per epoch, > 0.
        staircase: constant within an epoch. Defaults to `True`.

    Example:

    ```python
    lr = exponential_decay(0.01, 0.9, steps_per_epoch=len(x) // 32)
    ```
    """
    eta0 = _checks.check_positive("initial_learning_rate", initial_learning_rate)
    rho = _checks.check_in_range("decay_rate", decay_rate, 0.0, 1.0, low_closed=False,
                                 high_closed=True)
    spe = _checks.check_positive_int("steps_per_epoch", steps_per_epoch)
    return _S.ExponentialDecay(eta0, decay_steps=spe, decay_rate=rho, staircase=staircase)


def step_decay(initial_learning_rate, decay_rate, period, steps_per_epoch):
    """``eta_i = eta_0 * rho**floor(i / P)``: ``ExponentialDecay`` with a staircase.

    Args:
        initial_learning_rate: ``eta_0``, > 0.
        decay_rate: ``rho``, in (0, 1].
        period: ``P``, epochs between drops, > 0.
        steps_per_epoch: optimizer steps per epoch, > 0.

    Example:

    ```python
    lr = step_decay(0.01, 0.5, period=10, steps_per_epoch=1688)
    ```
    """
    eta0 = _checks.check_positive("initial_learning_rate", initial_learning_rate)
    rho = _checks.check_in_range("decay_rate", decay_rate, 0.0, 1.0, low_closed=False,
                                 high_closed=True)
    period = _checks.check_positive_int("period", period)
    spe = _checks.check_positive_int("steps_per_epoch", steps_per_epoch)
    return _S.ExponentialDecay(eta0, decay_steps=period * spe, decay_rate=rho, staircase=True)


def linear_decay(initial_learning_rate, epochs, steps_per_epoch, staircase=True):
    """``eta_i = eta_0 * (1 - i / N)``.

    ``staircase=True``: Keras' ``PiecewiseConstantDecay`` with one value per
    epoch; ``staircase=False``: ``PolynomialDecay(power=1)`` down to 0 at
    step ``N * steps_per_epoch``.

    Args:
        initial_learning_rate: ``eta_0``, > 0.
        epochs: ``N``, > 0.
        steps_per_epoch: optimizer steps per epoch, > 0.
        staircase: constant within an epoch. Defaults to `True`.

    Example:

    ```python
    lr = linear_decay(0.01, epochs=40, steps_per_epoch=1688)
    ```
    """
    eta0 = _checks.check_positive("initial_learning_rate", initial_learning_rate)
    n = _checks.check_positive_int("epochs", epochs)
    spe = _checks.check_positive_int("steps_per_epoch", steps_per_epoch)
    if not staircase:
        return _S.PolynomialDecay(eta0, decay_steps=n * spe, end_learning_rate=0.0, power=1.0)
    if n == 1:
        return _S.PiecewiseConstantDecay([spe - 1], [eta0, 0.0])
    boundaries = [i * spe - 1 for i in range(1, n + 1)]
    values = [eta0 * (1.0 - i / n) for i in range(n + 1)]
    return _S.PiecewiseConstantDecay(boundaries, values)


def fractional_decay(initial_learning_rate, kappa, steps_per_epoch, staircase=True):
    """``eta_i = eta_0 / (1 + kappa * i)``: Keras' ``InverseTimeDecay`` per epoch.

    Args:
        initial_learning_rate: ``eta_0``, > 0.
        kappa: ``kappa``, > 0.
        steps_per_epoch: optimizer steps per epoch, > 0.
        staircase: constant within an epoch. Defaults to `True`.

    Example:

    ```python
    lr = fractional_decay(0.01, kappa=0.1, steps_per_epoch=1688)
    ```
    """
    eta0 = _checks.check_positive("initial_learning_rate", initial_learning_rate)
    kappa = _checks.check_positive("kappa", kappa)
    spe = _checks.check_positive_int("steps_per_epoch", steps_per_epoch)
    return _S.InverseTimeDecay(eta0, decay_steps=spe, decay_rate=kappa, staircase=staircase)


def milestone_decay(initial_learning_rate, epochs, steps_per_epoch, milestones=(0.5, 0.75),
                    factor=0.2):
    """``lr <- lr * factor`` at fractions of the epochs: ``PiecewiseConstantDecay``.

    The course's "x0.2 at 50% and 75% of the epochs". A drop at fraction
    ``f`` happens at step ``round(f * epochs * steps_per_epoch)``: the start of
    epoch ``f * epochs`` when that is a whole number (within the epoch
    otherwise, so that short runs keep both drops).

    Args:
        initial_learning_rate: > 0.
        epochs: total epochs, > 0.
        steps_per_epoch: optimizer steps per epoch, > 0.
        milestones: increasing fractions in (0, 1). Defaults to `(0.5, 0.75)`.
        factor: multiplier at each milestone, in (0, 1]. Defaults to `0.2`.

    Example:

    ```python
    lr = milestone_decay(0.01, epochs=40, steps_per_epoch=1688)
    ```
    """
    eta0 = _checks.check_positive("initial_learning_rate", initial_learning_rate)
    n = _checks.check_positive_int("epochs", epochs)
    spe = _checks.check_positive_int("steps_per_epoch", steps_per_epoch)
    factor = _checks.check_in_range("factor", factor, 0.0, 1.0, low_closed=False, high_closed=True)
    if not isinstance(milestones, (list, tuple)):
        raise ValueError(  # noqa: TRY004 (the project's rule: ValueError)
            "Argument `milestones` must be a list or tuple of fractions in (0, 1). "
            f"Received: milestones={milestones!r}"
        )
    fracs = [_checks.check_in_range("milestones", f, 0.0, 1.0, low_closed=False) for f in milestones]
    drop_steps = [round(f * n * spe) for f in fracs]
    if any(s1 <= s0 for s0, s1 in itertools.pairwise(drop_steps)) or (
        drop_steps and drop_steps[0] < 1
    ):
        raise ValueError(
            "Argument `milestones` must give strictly increasing steps >= 1 "
            f"(here {drop_steps} of {n * spe}). Received: milestones={tuple(milestones)!r}"
        )
    if not drop_steps:
        return _S.PiecewiseConstantDecay([n * spe], [eta0, eta0])
    boundaries = [s - 1 for s in drop_steps]
    values = [eta0 * factor**k for k in range(len(drop_steps) + 1)]
    return _S.PiecewiseConstantDecay(boundaries, values)
