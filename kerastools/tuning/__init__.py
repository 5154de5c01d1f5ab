"""Keras Tuner integration: search spaces and Fashion-MNIST HyperModels."""

from kerastools.tuning.hypermodel import FashionMNISTHyperModel
from kerastools.tuning.search_space import ARCHITECTURES
from kerastools.tuning.search_space import OPTIMIZERS
from kerastools.tuning.search_space import REGULARIZERS
from kerastools.tuning.search_space import SCHEDULES
from kerastools.tuning.search_space import check_choices
from kerastools.tuning.search_space import choose_dropout
from kerastools.tuning.search_space import choose_optimizer
from kerastools.tuning.search_space import choose_regularizer
from kerastools.tuning.search_space import choose_schedule

__all__ = [
    "ARCHITECTURES",
    "FashionMNISTHyperModel",
    "OPTIMIZERS",
    "REGULARIZERS",
    "SCHEDULES",
    "check_choices",
    "choose_dropout",
    "choose_optimizer",
    "choose_regularizer",
    "choose_schedule",
]
