"""kerastools.initializers: scaled uniform/normal initialisers Keras lacks (small uniform,
Glorot for sigmoid units), and LSUV."""

from kerastools.initializers.lsuv import lsuv_initialize
from kerastools.initializers.scaled import GlorotSigmoidNormal
from kerastools.initializers.scaled import GlorotSigmoidUniform
from kerastools.initializers.scaled import SmallUniform

__all__ = [
    "GlorotSigmoidNormal",
    "GlorotSigmoidUniform",
    "SmallUniform",
    "lsuv_initialize",
]
