"""kerastools.initializers: the course's initialisers Keras lacks, and LSUV."""

from kerastools.initializers.course import GlorotSigmoidNormal
from kerastools.initializers.course import GlorotSigmoidUniform
from kerastools.initializers.course import SmallUniform
from kerastools.initializers.lsuv import lsuv_initialize

__all__ = [
    "GlorotSigmoidNormal",
    "GlorotSigmoidUniform",
    "SmallUniform",
    "lsuv_initialize",
]
