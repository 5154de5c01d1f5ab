"""Keras Tuner's tuners with a baseline first trial and one line of progress per trial.

``RandomSearch``, ``BayesianOptimization`` and ``Hyperband`` take the same
arguments as Keras Tuner's own (plus ``progress``) and differ in two ways:

- The first trial takes every hyperparameter's default
  (``search_space.default_values``): with the kerastools HyperModels that is a
  sound baseline (Adam at 1e-3, no regularisation, ...), so no search ends
  below it. Keras Tuner's tuners draw the first trial at random. The oracle
  mixin ``DefaultsFirst`` does this through ``Oracle.populate_space``, the
  method Keras Tuner's oracles override to propose a trial.
- After each trial, one line: its score, the best so far and its time
  (``report.progress_line``), through ``Tuner.on_trial_end``.

Everything else (resuming with ``overwrite=False``, distributed search,
Hyperband's rounds) is Keras Tuner's.
"""

import time

import keras_tuner

from kerastools.tuning import report
from kerastools.tuning import search_space as space


class DefaultsFirst:
    """Oracle mixin: the first trial of a search takes every hyperparameter's default.

    Put it before a Keras Tuner oracle class:
    ``class MyOracle(DefaultsFirst, keras_tuner.oracles.RandomSearchOracle)``.
    Only the hyperparameter values of the oracle's first proposal change; what
    the oracle adds for itself (Hyperband's ``tuner/epochs``, ``tuner/round``...)
    is kept. A resumed search (trials already recorded) is left as it is.
    """

    def populate_space(self, trial_id):
        response = super().populate_space(trial_id)
        values = response.get("values")
        running = response.get("status") == keras_tuner.engine.trial.TrialStatus.RUNNING
        if self.trials or not running or values is None:  # not the first, or no trial to run
            return response
        first = {k: v for k, v in values.items() if k.startswith("tuner/")}
        first.update(space.default_values(self.get_space()))
        return {**response, "values": first}


class RandomSearchOracle(DefaultsFirst, keras_tuner.oracles.RandomSearchOracle):
    """``keras_tuner.oracles.RandomSearchOracle`` whose first trial is the defaults."""


class BayesianOptimizationOracle(DefaultsFirst, keras_tuner.oracles.BayesianOptimizationOracle):
    """``keras_tuner.oracles.BayesianOptimizationOracle`` whose first trial is the defaults."""


class HyperbandOracle(DefaultsFirst, keras_tuner.oracles.HyperbandOracle):
    """``keras_tuner.oracles.HyperbandOracle`` whose first trial is the defaults."""


class SearchProgress:
    """Tuner mixin: one line per finished trial, with its score and the best so far.

    Put it before a Keras Tuner tuner class. The line (``report.progress_line``)
    goes to ``self.progress``: ``print`` by default, any callable taking a
    string, or None for silence.
    """

    progress = print

    def on_trial_begin(self, trial):
        super().on_trial_begin(trial)
        self.trial_started = time.perf_counter()

    def on_trial_end(self, trial):
        super().on_trial_end(trial)  # scores and records the trial
        if self.progress is None:
            return
        started = getattr(self, "trial_started", None)
        seconds = None if started is None else time.perf_counter() - started
        self.progress(report.progress_line(self, self.oracle.get_trial(trial.trial_id), seconds))


def _progress(progress):
    if progress is True:
        return print
    if progress is False or progress is None:
        return None
    if not callable(progress):
        raise ValueError(
            "Argument `progress` must be True, False, None or a callable taking a string. "
            f"Received: progress={progress!r}"
        )
    return progress


# Keras Tuner's RandomSearch, BayesianOptimization and Hyperband constructors
# only make their oracle and hand it to ``keras_tuner.Tuner.__init__``; these
# make a DefaultsFirst oracle with the same arguments and do the same.


class RandomSearch(SearchProgress, keras_tuner.RandomSearch):
    """``keras_tuner.RandomSearch`` whose first trial is the defaults, with progress lines.

    Args:
        progress: ``True`` (print a line per trial), ``False``/``None``, or a
            callable taking the line. Defaults to `True`.
        hypermodel, objective, max_trials, seed, ...: as
            ``keras_tuner.RandomSearch``.

    Example:

    ```python
    tuner = RandomSearch(ClassifierHyperModel((20,), 3), objective="val_accuracy", max_trials=5)
    tuner.search(x, y, validation_split=0.2)   # trial 0: Adam 1e-3, 256 units, ...
    ```
    """

    def __init__(self, hypermodel=None, objective=None, max_trials=10, seed=None,
                 hyperparameters=None, tune_new_entries=True, allow_new_entries=True,
                 max_retries_per_trial=0, max_consecutive_failed_trials=3, progress=True,
                 **kwargs):
        self.progress = _progress(progress)
        self.seed = seed
        oracle = RandomSearchOracle(
            objective=objective, max_trials=max_trials, seed=seed,
            hyperparameters=hyperparameters, tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries, max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials)
        keras_tuner.Tuner.__init__(self, oracle=oracle, hypermodel=hypermodel, **kwargs)


class BayesianOptimization(SearchProgress, keras_tuner.BayesianOptimization):
    """``keras_tuner.BayesianOptimization`` whose first trial is the defaults, with progress.

    Args:
        progress: as ``RandomSearch``. Defaults to `True`.
        hypermodel, objective, max_trials, num_initial_points, ...: as
            ``keras_tuner.BayesianOptimization`` (the defaults trial counts
            among the initial random points).
    """

    def __init__(self, hypermodel=None, objective=None, max_trials=10, num_initial_points=None,
                 alpha=1e-4, beta=2.6, seed=None, hyperparameters=None, tune_new_entries=True,
                 allow_new_entries=True, max_retries_per_trial=0,
                 max_consecutive_failed_trials=3, progress=True, **kwargs):
        self.progress = _progress(progress)
        oracle = BayesianOptimizationOracle(
            objective=objective, max_trials=max_trials, num_initial_points=num_initial_points,
            alpha=alpha, beta=beta, seed=seed, hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries, allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials)
        keras_tuner.Tuner.__init__(self, oracle=oracle, hypermodel=hypermodel, **kwargs)


class Hyperband(SearchProgress, keras_tuner.Hyperband):
    """``keras_tuner.Hyperband`` whose first trial is the defaults, with progress lines.

    The defaults trial opens the first (most aggressive) bracket and goes on
    to longer rounds when it ranks among its bracket's best.

    Args:
        progress: as ``RandomSearch``. Defaults to `True`.
        hypermodel, objective, max_epochs, factor, hyperband_iterations, ...:
            as ``keras_tuner.Hyperband``.
    """

    def __init__(self, hypermodel=None, objective=None, max_epochs=100, factor=3,
                 hyperband_iterations=1, seed=None, hyperparameters=None, tune_new_entries=True,
                 allow_new_entries=True, max_retries_per_trial=0,
                 max_consecutive_failed_trials=3, progress=True, **kwargs):
        self.progress = _progress(progress)
        oracle = HyperbandOracle(
            objective, max_epochs=max_epochs, factor=factor,
            hyperband_iterations=hyperband_iterations, seed=seed,
            hyperparameters=hyperparameters, tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries, max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials)
        keras_tuner.Tuner.__init__(self, oracle=oracle, hypermodel=hypermodel, **kwargs)
