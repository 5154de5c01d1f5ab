"""Search spaces for Keras Tuner: optimizers, schedules, regularisation, architecture.

Each ``choose_*`` function draws one component from a
``keras_tuner.HyperParameters`` object, so that a ``build(hp)`` function reads
like the course's list of what must be searched: the architecture (depth,
units, dense or convolutional), the regularisation (none, L1, L2, L1L2,
dropout; per layer when asked), the optimizer (type and parameters, a
log-uniform learning rate) and the learning-rate schedule.

Every component comes from kerastools or Keras and is registered, so a model
built by a trial saves and reloads with ``safe_mode=True``.

Choice lists are checked when a search space is declared (``check_choices``),
so an unknown name or an empty list fails before any trial starts.
"""

import math

import keras

from kerastools import _checks

OPTIMIZERS = (
    "sgd",
    "momentum",
    "nesterov",
    "adagrad",
    "adadelta",
    "rmsprop",
    "adam",
    "nadam",
    "butterworth",
)
SCHEDULES = ("constant", "step", "exponential", "cyclical", "sgdr", "one_cycle")
REGULARIZERS = ("none", "l1", "l2", "l1l2")
ARCHITECTURES = ("mlp", "cnn")

# Learning-rate ranges (log-uniform) that suit each family on Fashion-MNIST:
# adaptive methods work around 1e-3, plain SGD and momentum an order higher.
_LR_RANGE = {
    "sgd": (1e-3, 3e-1),
    "momentum": (1e-4, 1e-1),
    "nesterov": (1e-4, 1e-1),
    "butterworth": (1e-4, 1e-1),
    "adagrad": (1e-3, 3e-1),
    "adadelta": (1e-2, 3.0),
    "rmsprop": (1e-5, 1e-2),
    "adam": (1e-5, 1e-2),
    "nadam": (1e-5, 1e-2),
}


def check_choices(name, choices, allowed):
    """Returns ``choices`` as a tuple; empty lists and unknown names are errors."""
    if isinstance(choices, str):
        choices = (choices,)
    choices = tuple(choices)
    if not choices:
        raise ValueError(
            f"Argument `{name}` must list at least one choice from {list(allowed)}. "
            f"Received: {name}={list(choices)!r}"
        )
    unknown = [c for c in choices if c not in allowed]
    if unknown:
        raise ValueError(
            f"Argument `{name}` must only hold names from {list(allowed)}; unknown: "
            f"{unknown}. Received: {name}={list(choices)!r}"
        )
    if len(set(choices)) != len(choices):
        raise ValueError(
            f"Argument `{name}` lists a choice twice. Received: {name}={list(choices)!r}"
        )
    return choices


def _choice(hp, name, choices):
    return choices[0] if len(choices) == 1 else hp.Choice(name, list(choices))


def check_learning_rate_range(value):
    """``(low, high)`` as floats with ``0 < low < high < inf``; else ValueError."""
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        low = high = math.nan
    if not (0.0 < low < high < math.inf):
        raise ValueError(
            "Argument `learning_rate_range` must be a pair (low, high) with 0 < low < high. "
            f"Received: learning_rate_range={value!r}"
        )
    return low, high


def choose_optimizer(hp, choices=OPTIMIZERS, learning_rate=None, schedule=None,
                     name="optimizer", learning_rate_range=None):
    """A kerastools ``FilterOptimizer`` preset chosen by hyperparameter ``name``.

    Hyperparameters (conditional on the choice): ``learning_rate`` (log
    uniform), ``momentum`` for momentum/Nesterov, ``beta_1``/``beta_2`` for
    Adam/Nadam, ``rho`` for RMSprop/Adadelta, ``butterworth_order`` and
    ``butterworth_cutoff`` for a Butterworth gradient filter.

    Args:
        hp: a ``keras_tuner.HyperParameters``.
        choices: preset names, a subset of ``OPTIMIZERS``. Defaults to all.
        learning_rate: a fixed learning rate or schedule; when given no
            ``learning_rate`` hyperparameter is drawn. Defaults to `None`.
        schedule: a function ``lr -> float or LearningRateSchedule`` applied to
            the drawn learning rate (e.g. a ``choose_schedule`` call), so that
            the schedule peaks at the learning rate suited to the optimizer.
            Defaults to `None` (constant).
        name: the hyperparameter's name. Defaults to `"optimizer"`.
        learning_rate_range: ``(low, high)`` of the log-uniform learning rate
            for every choice. Defaults to `None`: a range per preset (Adam
            1e-5 to 1e-2, SGD 1e-3 to 0.3, ...).

    Returns:
        A ``kerastools.optimizers.FilterOptimizer``.
    """
    from kerastools import optimizers

    choices = check_choices("choices", choices, OPTIMIZERS)
    if learning_rate_range is not None:
        learning_rate_range = check_learning_rate_range(learning_rate_range)
    kind = _choice(hp, name, choices)
    with hp.conditional_scope(name, [kind]) if len(choices) > 1 else _nullcontext():
        if learning_rate is None:
            low, high = learning_rate_range or _LR_RANGE[kind]
            learning_rate = hp.Float(f"{kind}_learning_rate", low, high, sampling="log")
    if schedule is not None:
        learning_rate = schedule(learning_rate)
    with hp.conditional_scope(name, [kind]) if len(choices) > 1 else _nullcontext():
        if kind == "sgd":
            return optimizers.sgd(learning_rate=learning_rate)
        if kind in ("momentum", "nesterov"):
            m = hp.Float(f"{kind}_momentum", 0.5, 0.99)
            return getattr(optimizers, kind)(learning_rate=learning_rate, momentum=m)
        if kind == "butterworth":
            order = hp.Int("butterworth_order", 1, 4)
            cutoff = hp.Float("butterworth_cutoff", 0.01, 0.3, sampling="log")
            return optimizers.butterworth_momentum(order, cutoff, learning_rate=learning_rate)
        if kind == "adagrad":
            return optimizers.adagrad(learning_rate=learning_rate)
        if kind in ("adadelta", "rmsprop"):
            rho = hp.Float(f"{kind}_rho", 0.8, 0.99)
            return getattr(optimizers, kind)(learning_rate=learning_rate, rho=rho)
        beta_1 = hp.Float(f"{kind}_beta_1", 0.8, 0.95)
        beta_2 = hp.Choice(f"{kind}_beta_2", [0.99, 0.999])
        return getattr(optimizers, kind)(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2)


def choose_schedule(hp, learning_rate, epochs, steps_per_epoch, choices=SCHEDULES,
                    name="schedule"):
    """A learning-rate schedule around ``learning_rate`` chosen by ``name``.

    ``constant`` returns ``learning_rate``; ``step`` multiplies by 0.2 at 50%
    and 75% of the epochs (the course's step decay); ``exponential`` decays by
    ``schedule_decay_rate`` per epoch; ``cyclical`` is a triangular(2)
    ``CyclicalLearningRate`` between ``learning_rate / 10`` and ``learning_rate``
    with half-cycles of ``cyclical_epochs_per_half_cycle`` epochs; ``sgdr`` a
    warm-restart cosine whose first cycle lasts ``sgdr_first_cycle_epochs``;
    ``one_cycle`` a one-cycle policy peaking at ``learning_rate`` over the run.

    Args:
        hp: a ``keras_tuner.HyperParameters``.
        learning_rate: the base (peak) learning rate, a float.
        epochs: epochs of the run (the schedule's horizon).
        steps_per_epoch: optimizer steps per epoch.
        choices: a subset of ``SCHEDULES``. Defaults to all.
        name: the hyperparameter's name. Defaults to `"schedule"`.

    Returns:
        A float or a ``LearningRateSchedule``.
    """
    from kerastools import schedules

    choices = check_choices("choices", choices, SCHEDULES)
    epochs = _checks.check_positive_int("epochs", epochs)
    steps_per_epoch = _checks.check_positive_int("steps_per_epoch", steps_per_epoch)
    kind = _choice(hp, name, choices)
    total = epochs * steps_per_epoch
    with hp.conditional_scope(name, [kind]) if len(choices) > 1 else _nullcontext():
        if kind == "constant":
            return learning_rate
        if kind == "step":
            return schedules.milestone_decay(
                learning_rate, epochs, steps_per_epoch, milestones=(0.5, 0.75), factor=0.2)
        if kind == "exponential":
            rate = hp.Float("schedule_decay_rate", 0.8, 0.99)
            return schedules.exponential_decay(learning_rate, rate, steps_per_epoch)
        if kind == "cyclical":
            half = hp.Int("cyclical_epochs_per_half_cycle", 1, max(1, epochs // 2))
            mode = hp.Choice("cyclical_mode", ["triangular", "triangular2"])
            return schedules.CyclicalLearningRate(
                learning_rate / 10.0, learning_rate, half * steps_per_epoch, mode=mode)
        if kind == "sgdr":
            first = hp.Int("sgdr_first_cycle_epochs", 1, max(1, epochs // 2))
            t_mul = hp.Choice("sgdr_t_mul", [1.0, 2.0])
            return schedules.SGDR(learning_rate, first * steps_per_epoch, t_mul=t_mul)
        pct = hp.Float("one_cycle_pct_start", 0.2, 0.5)
        return schedules.OneCycle(learning_rate, total, pct_start=pct)


def choose_regularizer(hp, name, choices=REGULARIZERS, strength=(1e-6, 1e-2)):
    """A Keras regularizer (or None) chosen by hyperparameter ``name``.

    The strengths are log-uniform hyperparameters ``{name}_l1`` / ``{name}_l2``.
    Use one name per layer and per weight kind for per-layer searches
    (``"hidden_0_kernel"``, ``"hidden_0_bias"``), or share one name.
    """
    choices = check_choices("choices", choices, REGULARIZERS)
    kind = _choice(hp, name, choices)
    if kind == "none":
        return None
    low, high = strength

    def strength_of(suffix, users):
        # One hyperparameter per strength, active for every choice that uses it
        # (``{name}_l2`` serves both "l2" and "l1l2").
        users = [c for c in choices if c in users]
        scope = hp.conditional_scope(name, users) if len(choices) > 1 else _nullcontext()
        with scope:
            return hp.Float(f"{name}_{suffix}", low, high, sampling="log")

    l1 = strength_of("l1", ("l1", "l1l2")) if kind in ("l1", "l1l2") else 0.0
    l2 = strength_of("l2", ("l2", "l1l2")) if kind in ("l2", "l1l2") else 0.0
    if kind == "l1":
        return keras.regularizers.L1(l1)
    if kind == "l2":
        return keras.regularizers.L2(l2)
    return keras.regularizers.L1L2(l1=l1, l2=l2)


def choose_dropout(hp, name, max_rate=0.6):
    """A dropout rate in [0, ``max_rate``] in steps of 0.05."""
    _checks.check_in_range("max_rate", max_rate, 0.0, 1.0)
    return hp.Float(name, 0.0, max_rate, step=0.05)


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
