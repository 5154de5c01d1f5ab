"""Keras Tuner integration: search spaces, HyperModels for any classifier, tuners, reports.

Needs keras-tuner, the ``tuner`` extra: ``pip install "kerastools[tuner]"``.
"""

try:
    import keras_tuner  # noqa: F401
except ImportError as error:  # keras-tuner missing, or one of its undeclared needs (six)
    raise ImportError(
        f"kerastools.tuning needs keras-tuner, which could not be imported ({error}). "
        'Install the tuner extra: pip install "kerastools[tuner]"'
    ) from error

from kerastools.tuning.hypermodel import ARCHITECTURES
from kerastools.tuning.hypermodel import ClassifierHyperModel
from kerastools.tuning.hypermodel import FashionMNISTHyperModel
from kerastools.tuning.hypermodel import steps_per_epoch
from kerastools.tuning.report import plot_search
from kerastools.tuning.report import progress_line
from kerastools.tuning.report import search_history
from kerastools.tuning.report import top_trials_table
from kerastools.tuning.search_space import LEARNING_RATES
from kerastools.tuning.search_space import OPTIMIZERS
from kerastools.tuning.search_space import REGULARIZERS
from kerastools.tuning.search_space import SCHEDULES
from kerastools.tuning.search_space import check_choices
from kerastools.tuning.search_space import check_range
from kerastools.tuning.search_space import choose_dropout
from kerastools.tuning.search_space import choose_optimizer
from kerastools.tuning.search_space import choose_regularizer
from kerastools.tuning.search_space import choose_schedule
from kerastools.tuning.search_space import default_values
from kerastools.tuning.tuners import BayesianOptimization
from kerastools.tuning.tuners import DefaultsFirst
from kerastools.tuning.tuners import Hyperband
from kerastools.tuning.tuners import RandomSearch
from kerastools.tuning.tuners import SearchProgress

__all__ = [
    "ARCHITECTURES",
    "BayesianOptimization",
    "ClassifierHyperModel",
    "DefaultsFirst",
    "FashionMNISTHyperModel",
    "Hyperband",
    "LEARNING_RATES",
    "OPTIMIZERS",
    "REGULARIZERS",
    "RandomSearch",
    "SCHEDULES",
    "SearchProgress",
    "check_choices",
    "check_range",
    "choose_dropout",
    "choose_optimizer",
    "choose_regularizer",
    "choose_schedule",
    "default_values",
    "plot_search",
    "progress_line",
    "search_history",
    "steps_per_epoch",
    "top_trials_table",
]
