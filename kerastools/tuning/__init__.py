"""Keras Tuner integration: search spaces and Fashion-MNIST HyperModels.

Needs keras-tuner, the ``tuner`` extra: ``pip install "kerastools[tuner]"``.
"""

try:
    import keras_tuner  # noqa: F401
except ImportError as error:  # keras-tuner missing, or one of its undeclared needs (six)
    raise ImportError(
        f"kerastools.tuning needs keras-tuner, which could not be imported ({error}). "
        'Install the tuner extra: pip install "kerastools[tuner]"'
    ) from error

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
