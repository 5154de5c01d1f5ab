"""kerastools.optimizers: optimizers as gradient filters.

``FilterOptimizer`` composes an ARMA gradient filter, a normalisation filter
of ``g**2`` and a learning rate; the presets ``sgd``, ``momentum``,
``nesterov``, ``adagrad``, ``adadelta``, ``rmsprop``, ``adam`` and ``nadam``
reproduce the Keras built-ins, ``butterworth_momentum`` does what none does.
"""

from kerastools.optimizers.filter_optimizer import FilterOptimizer
from kerastools.optimizers.presets import NadamMomentum
from kerastools.optimizers.presets import adadelta
from kerastools.optimizers.presets import adagrad
from kerastools.optimizers.presets import adam
from kerastools.optimizers.presets import butterworth_momentum
from kerastools.optimizers.presets import momentum
from kerastools.optimizers.presets import nadam
from kerastools.optimizers.presets import nesterov
from kerastools.optimizers.presets import rmsprop
from kerastools.optimizers.presets import sgd

__all__ = [
    "FilterOptimizer",
    "NadamMomentum",
    "adadelta",
    "adagrad",
    "adam",
    "butterworth_momentum",
    "momentum",
    "nadam",
    "nesterov",
    "rmsprop",
    "sgd",
]
