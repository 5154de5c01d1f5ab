"""Search spaces for Keras Tuner: optimizers, schedules, regularisation, dropout.

Each ``choose_*`` function draws one component from a
``keras_tuner.HyperParameters`` object, so that a ``build(hp)`` function reads
like the course's list of what must be searched: the regularisation (none,
L1, L2, L1L2, dropout; per layer when asked), the optimizer (type and
parameters, a log-uniform learning rate) and the learning-rate schedule.

Two rules make every trial worth its time:

- Every hyperparameter has a default that is a good value on its own (Adam's
  learning rate 1e-3 and betas 0.9 and 0.999, no regularisation, no dropout,
  a cosine decay of the learning rate over the run). ``default_values`` collects them: it is the
  first trial of the kerastools tuners (``kerastools.tuning.RandomSearch``...).
- Every branch of a choice declares its hyperparameters, inside the choice's
  ``conditional_scope``, on every call (Keras Tuner's documented pattern):
  Keras Tuner then knows the whole space before the first trial and samples
  every hyperparameter from its range. A hyperparameter first met during a
  trial would take its default instead (the bottom of its range when it has
  none), which is how trials used to train at a learning rate of 1e-5.

Every component comes from kerastools or Keras and is registered, so a model
built by a trial saves and reloads with ``safe_mode=True``. Choice lists and
ranges are checked when a search space is declared (``check_choices``,
``check_range``), so an empty list, an unknown name or an inverted range fails
before any trial starts.
"""

import contextlib
import math
import numbers

import keras
import keras_tuner

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
SCHEDULES = ("constant", "cosine", "step", "exponential", "cyclical", "sgdr", "one_cycle")
REGULARIZERS = ("none", "l1", "l2", "l1l2")

# The default of each choice when it is offered (else the first choice offered).
DEFAULT_OPTIMIZER = "adam"
DEFAULT_SCHEDULE = "cosine"
DEFAULT_REGULARIZER = "none"

# Learning rates, log-uniform (low, high, default), each default a good value on
# its own for a small network: the Keras default where that is one (Adam,
# Nadam, RMSprop 1e-3), the usual value otherwise (SGD 0.05, momentum 0.01 with
# momentum 0.9, Adagrad 0.01, Adadelta 1.0 as in Zeiler's paper). The
# Butterworth preset has unit DC gain: its steady step is ``lr * g``, as SGD's.
LEARNING_RATES = {
    "sgd": (1e-2, 3e-1, 5e-2),
    "momentum": (1e-3, 1e-1, 1e-2),
    "nesterov": (1e-3, 1e-1, 1e-2),
    "butterworth": (1e-2, 3e-1, 5e-2),
    "adagrad": (1e-3, 3e-1, 1e-2),
    "adadelta": (1e-1, 3.0, 1.0),
    "rmsprop": (1e-4, 1e-2, 1e-3),
    "adam": (1e-4, 1e-2, 1e-3),
    "nadam": (1e-4, 1e-2, 1e-3),
}


# -- checks ------------------------------------------------------------------
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


def check_range(name, value, integer=False, positive=True):
    """``(low, high)`` with ``low <= high`` (``low < high`` for floats); else ValueError.

    Integers (``integer=True``) must be whole numbers; ``positive`` asks for
    ``low > 0``, else ``low >= 0``.
    """
    try:
        low, high = value
        ok = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in (low, high))
    except (TypeError, ValueError):
        ok = False
    if ok and integer:
        ok = all(float(v).is_integer() for v in (low, high))
    if ok:
        low, high = (int(v) for v in (low, high)) if integer else (float(v) for v in (low, high))
        ok = (math.isfinite(low) and math.isfinite(high) and (low > 0 if positive else low >= 0)
              and (low <= high if integer else low < high))
    if not ok:
        kind = "integers" if integer else "numbers"
        order = "low <= high" if integer else "low < high"
        bound = "0 < low" if positive else "0 <= low"
        raise ValueError(
            f"Argument `{name}` must be a pair (low, high) of {kind} with {bound} and {order}. "
            f"Received: {name}={value!r}"
        )
    return low, high


def check_learning_rate_range(value):
    """``(low, high)`` as floats with ``0 < low < high < inf``; else ValueError.

    Strings that parse as numbers (``"3e-4"``, from a command line) are accepted.
    """
    try:
        pair = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        pair = value
    try:
        return check_range("learning_rate_range", pair)
    except ValueError:
        raise ValueError(
            "Argument `learning_rate_range` must be a pair (low, high) with 0 < low < high. "
            f"Received: learning_rate_range={value!r}"
        ) from None


def preferred(choices, default):
    """``default`` when it is among ``choices``, else the first choice."""
    return default if default in choices else choices[0]


# -- helpers -----------------------------------------------------------------
def _choice(hp, name, choices, default):
    if len(choices) == 1:
        return choices[0]
    return hp.Choice(name, list(choices), default=preferred(choices, default))


def _scope(hp, name, values, choices):
    """``hp.conditional_scope(name, values)``, or nothing when the choice is fixed."""
    if len(choices) == 1:
        return contextlib.nullcontext()
    return hp.conditional_scope(name, list(values))


def _log_float(hp, name, low, high, default):
    return hp.Float(name, low, high, sampling="log", default=min(max(default, low), high))


def default_values(hyperparameters):
    """The default of every hyperparameter active when the others take theirs.

    Args:
        hyperparameters: a ``keras_tuner.HyperParameters`` holding the search
            space (``tuner.oracle.get_space()``).

    Returns:
        A dict ``{name: default}`` of the active hyperparameters, as a trial's
        ``hyperparameters.values``.
    """
    hps = keras_tuner.HyperParameters()
    hps.merge(hyperparameters.space)  # registers each in order; active ones take their default
    return dict(hps.values)


# -- optimizers --------------------------------------------------------------
def _optimizer_hyperparameters(hp, kind, learning_rate_range, draw_learning_rate):
    """Declares the hyperparameters of preset ``kind``; returns their values (None if inactive)."""
    values = {}
    if draw_learning_rate:
        low, high, default = LEARNING_RATES[kind]
        if learning_rate_range is not None:
            low, high = learning_rate_range
        values["learning_rate"] = _log_float(hp, f"{kind}_learning_rate", low, high, default)
    if kind in ("momentum", "nesterov"):
        values["momentum"] = hp.Float(f"{kind}_momentum", 0.8, 0.99, default=0.9)
    elif kind == "butterworth":
        values["order"] = hp.Int("butterworth_order", 1, 4, default=2)
        values["cutoff"] = _log_float(hp, "butterworth_cutoff", 0.01, 0.3, 0.05)
    elif kind in ("adadelta", "rmsprop"):
        values["rho"] = hp.Float(f"{kind}_rho", 0.8, 0.99, default=0.95 if kind == "adadelta" else 0.9)
    elif kind in ("adam", "nadam"):
        values["beta_1"] = hp.Float(f"{kind}_beta_1", 0.8, 0.95, default=0.9)
        values["beta_2"] = hp.Choice(f"{kind}_beta_2", [0.99, 0.999], default=0.999)
    return values


def choose_optimizer(hp, choices=OPTIMIZERS, learning_rate=None, schedule=None,
                     name="optimizer", learning_rate_range=None):
    """A kerastools optimizer preset chosen by hyperparameter ``name``.

    Hyperparameters (each conditional on its preset, each with a default that
    is a good value alone): ``{preset}_learning_rate`` (log-uniform, ranges
    and defaults in ``LEARNING_RATES``: Adam 1e-4 to 1e-2, default 1e-3),
    ``{preset}_momentum`` for momentum/Nesterov (0.8 to 0.99, default 0.9),
    ``{preset}_beta_1`` (0.8 to 0.95, default 0.9) and ``{preset}_beta_2``
    (0.99 or 0.999, default 0.999) for Adam/Nadam, ``{preset}_rho`` for
    RMSprop (default 0.9) and Adadelta (default 0.95), ``butterworth_order``
    (1 to 4, default 2) and ``butterworth_cutoff`` (0.01 to 0.3, default 0.05)
    for a Butterworth gradient filter. The preset defaults to `"adam"` when
    offered. The hyperparameters of every preset offered are declared on each
    call, so that Keras Tuner samples each from its range.

    Args:
        hp: a ``keras_tuner.HyperParameters``.
        choices: preset names, a subset of ``OPTIMIZERS``. Defaults to all.
        learning_rate: a fixed learning rate or schedule; when given no
            learning-rate hyperparameter is drawn. Defaults to `None`.
        schedule: a function ``lr -> float or LearningRateSchedule`` applied to
            the drawn learning rate (e.g. a ``choose_schedule`` call), so that
            the schedule peaks at the learning rate suited to the optimizer.
            Defaults to `None` (constant).
        name: the hyperparameter's name. Defaults to `"optimizer"`.
        learning_rate_range: ``(low, high)`` of the log-uniform learning rate
            for every choice (each default clipped into it). Defaults to
            `None`: the range of each preset in ``LEARNING_RATES``.

    Returns:
        A kerastools optimizer (``kerastools.optimizers.adam(...)``, ...).

    Example:

    ```python
    hp = keras_tuner.HyperParameters()
    optimizer = choose_optimizer(hp, ["adam", "nesterov"])  # adam, lr 1e-3
    ```
    """
    from kerastools import optimizers

    choices = check_choices("choices", choices, OPTIMIZERS)
    if learning_rate_range is not None:
        learning_rate_range = check_learning_rate_range(learning_rate_range)
    kind = _choice(hp, name, choices, DEFAULT_OPTIMIZER)
    params = {}
    for option in choices:
        with _scope(hp, name, [option], choices):
            values = _optimizer_hyperparameters(hp, option, learning_rate_range,
                                                learning_rate is None)
        if option == kind:
            params = values
    learning_rate = params.pop("learning_rate", learning_rate)
    if schedule is not None:
        learning_rate = schedule(learning_rate)
    if kind == "sgd":
        return optimizers.sgd(learning_rate=learning_rate)
    if kind in ("momentum", "nesterov"):
        m = params["momentum"]
        return getattr(optimizers, kind)(learning_rate=learning_rate, momentum=m)
    if kind == "butterworth":
        order, cutoff = params["order"], params["cutoff"]
        return optimizers.butterworth_momentum(order, cutoff, learning_rate=learning_rate)
    if kind == "adagrad":
        return optimizers.adagrad(learning_rate=learning_rate)
    if kind in ("adadelta", "rmsprop"):
        rho = params["rho"]
        return getattr(optimizers, kind)(learning_rate=learning_rate, rho=rho)
    beta_1, beta_2 = params["beta_1"], params["beta_2"]
    return getattr(optimizers, kind)(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2)


# -- schedules ---------------------------------------------------------------
def _schedule_hyperparameters(hp, kind):
    if kind == "exponential":
        return {"rate": hp.Float("schedule_decay_rate", 0.8, 0.99, default=0.9)}
    if kind == "cyclical":
        return {"cycles": hp.Int("cyclical_cycles", 1, 4, default=2),
                "mode": hp.Choice("cyclical_mode", ["triangular", "triangular2"],
                                  default="triangular")}
    if kind == "sgdr":
        return {"cycles": hp.Int("sgdr_cycles", 1, 4, default=3),
                "t_mul": hp.Choice("sgdr_t_mul", [1.0, 2.0], default=2.0)}
    if kind == "one_cycle":
        return {"pct": hp.Float("one_cycle_pct_start", 0.1, 0.5, default=0.3)}
    return {}


def schedule_of(hp, choices=SCHEDULES, name="schedule"):
    """The schedule name ``hp`` holds (the only choice, or the drawn one)."""
    choices = check_choices("choices", choices, SCHEDULES)
    return _choice(hp, name, choices, DEFAULT_SCHEDULE)


def choose_schedule(hp, learning_rate, epochs, steps_per_epoch, choices=SCHEDULES,
                    name="schedule"):
    """A learning-rate schedule around ``learning_rate`` chosen by ``name``.

    Every shape is set in fractions of the run, so the search space does not
    depend on its length: ``constant`` returns ``learning_rate``; ``cosine``
    (the default) decays it to 0 along a half cosine over the run (Keras'
    ``CosineDecay``, Loshchilov & Hutter's SGDR without restarts); ``step``
    multiplies by 0.2 at 50% and 75% of the run (the course's step decay;
    constant in a run of under 4 steps); ``exponential`` decays by
    ``schedule_decay_rate`` per epoch (0.8 to 0.99, default 0.9); ``cyclical``
    is a ``CyclicalLearningRate`` between ``learning_rate / 10`` and
    ``learning_rate`` making ``cyclical_cycles`` full cycles over the run (1
    to 4, default 2; ``cyclical_mode`` triangular or triangular2); ``sgdr`` a
    warm-restart cosine of ``sgdr_cycles`` cycles (1 to 4, default 3), each
    ``sgdr_t_mul`` (1 or 2, default 2) times longer than the last, the last
    ending with the run; ``one_cycle`` a one-cycle policy peaking at
    ``learning_rate`` after ``one_cycle_pct_start`` of the run (0.1 to 0.5,
    default 0.3).

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
    kind = _choice(hp, name, choices, DEFAULT_SCHEDULE)
    params = {}
    for option in choices:
        with _scope(hp, name, [option], choices):
            values = _schedule_hyperparameters(hp, option)
        if option == kind:
            params = values
    total = epochs * steps_per_epoch
    if kind == "constant":
        return learning_rate
    if kind == "cosine":
        return keras.optimizers.schedules.CosineDecay(learning_rate, total)
    if kind == "step":
        if total < 4:  # no room for two drops
            return learning_rate
        return schedules.milestone_decay(
            learning_rate, epochs, steps_per_epoch, milestones=(0.5, 0.75), factor=0.2)
    if kind == "exponential":
        return schedules.exponential_decay(learning_rate, params["rate"], steps_per_epoch)
    if kind == "cyclical":
        half = max(1, round(total / (2 * params["cycles"])))
        return schedules.CyclicalLearningRate(
            learning_rate / 10.0, learning_rate, half, mode=params["mode"])
    if kind == "sgdr":
        t_mul, cycles = params["t_mul"], params["cycles"]
        first = max(1, round(total / sum(t_mul ** k for k in range(cycles))))
        return schedules.SGDR(learning_rate, first, t_mul=t_mul)
    return schedules.OneCycle(learning_rate, total, pct_start=params["pct"])


# -- regularisation ----------------------------------------------------------
def choose_regularizer(hp, name, choices=REGULARIZERS, strength=(1e-6, 1e-2),
                       default_strength=1e-4):
    """A Keras regularizer (or None) chosen by hyperparameter ``name``.

    The kind defaults to `"none"` when offered. The strengths are log-uniform
    hyperparameters ``{name}_l1`` / ``{name}_l2`` (default ``default_strength``),
    declared for every kind offered. Use one name per layer and per weight kind
    for per-layer searches (``"hidden_0_kernel"``, ``"hidden_0_bias"``), or
    share one name.

    Args:
        hp: a ``keras_tuner.HyperParameters``.
        name: the hyperparameter's name.
        choices: a subset of ``REGULARIZERS``. Defaults to all.
        strength: ``(low, high)`` of the strengths. Defaults to `(1e-6, 1e-2)`.
        default_strength: the strengths' default (clipped into ``strength``).
            Defaults to `1e-4`.
    """
    choices = check_choices("choices", choices, REGULARIZERS)
    low, high = check_range("strength", strength)
    kind = _choice(hp, name, choices, DEFAULT_REGULARIZER)
    found = {}
    # One hyperparameter per strength, active for every choice that uses it
    # (``{name}_l2`` serves both "l2" and "l1l2").
    for suffix, users in (("l1", ("l1", "l1l2")), ("l2", ("l2", "l1l2"))):
        users = [c for c in choices if c in users]
        if users:
            with _scope(hp, name, users, choices):
                found[suffix] = _log_float(hp, f"{name}_{suffix}", low, high, default_strength)
    if kind == "none":
        return None
    if kind == "l1":
        return keras.regularizers.L1(found["l1"])
    if kind == "l2":
        return keras.regularizers.L2(found["l2"])
    return keras.regularizers.L1L2(l1=found["l1"], l2=found["l2"])


def choose_dropout(hp, name, max_rate=0.6, default=0.0):
    """A dropout rate in [0, ``max_rate``] in steps of 0.05; `0.0` by default."""
    _checks.check_in_range("max_rate", max_rate, 0.0, 1.0)
    return hp.Float(name, 0.0, max_rate, step=0.05, default=min(default, max_rate))
