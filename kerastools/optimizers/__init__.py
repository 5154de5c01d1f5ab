"""kerastools.optimizers: optimizers as chains of stages (filters, normalisers, ...).

``ChainOptimizer`` runs a chain of ``stages`` (``kerastools.optimizers.stages``)
and a learning rate; the presets (``sgd``, ``momentum``, ``nesterov``,
``adagrad``, ``adadelta``, ``rmsprop``, ``adam``, ``adamw``, ``adamax``,
``nadam``, ``lion``, ``lamb``) are short recipes equal to the Keras built-ins;
``butterworth_momentum`` does what none does. ``FilterOptimizer`` is the
deprecated flag-style constructor.
"""

from kerastools.optimizers import stages
from kerastools.optimizers.chain import ChainOptimizer
from kerastools.optimizers.filter_optimizer import FilterOptimizer
from kerastools.optimizers.presets import NadamMomentum
from kerastools.optimizers.presets import adadelta
from kerastools.optimizers.presets import adagrad
from kerastools.optimizers.presets import adam
from kerastools.optimizers.presets import adamax
from kerastools.optimizers.presets import adamw
from kerastools.optimizers.presets import butterworth_momentum
from kerastools.optimizers.presets import lamb
from kerastools.optimizers.presets import lion
from kerastools.optimizers.presets import momentum
from kerastools.optimizers.presets import nadam
from kerastools.optimizers.presets import nesterov
from kerastools.optimizers.presets import rmsprop
from kerastools.optimizers.presets import sgd
from kerastools.optimizers.stages import Coefficient

__all__ = [
    "ChainOptimizer",
    "Coefficient",
    "FilterOptimizer",
    "NadamMomentum",
    "adadelta",
    "adagrad",
    "adam",
    "adamax",
    "adamw",
    "butterworth_momentum",
    "lamb",
    "lion",
    "momentum",
    "nadam",
    "nesterov",
    "rmsprop",
    "sgd",
    "stages",
]

# The optimizers from the papers (recipes over paper_stages) and the Lookahead wrapper.
from kerastools.optimizers import paper_stages  # noqa: E402
from kerastools.optimizers.lookahead import Lookahead  # noqa: E402
from kerastools.optimizers.paper_recipes import adabelief  # noqa: E402
from kerastools.optimizers.paper_recipes import aggmo  # noqa: E402
from kerastools.optimizers.paper_recipes import qhadam  # noqa: E402
from kerastools.optimizers.paper_recipes import qhm  # noqa: E402
from kerastools.optimizers.paper_recipes import radam  # noqa: E402
from kerastools.optimizers.paper_recipes import yogi  # noqa: E402

__all__ += ["Lookahead", "adabelief", "aggmo", "paper_stages", "qhadam", "qhm", "radam", "yogi"]
