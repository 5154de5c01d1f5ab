"""kerastools.schedules: learning-rate schedules Keras lacks.

Every class is a ``keras.optimizers.schedules.LearningRateSchedule`` written
with ``keras.ops`` (it runs inside the compiled train step, under XLA and on
JAX), registered for serialization with a JSON-safe config.
"""

from kerastools.schedules.composition import SequentialSchedule
from kerastools.schedules.composition import Warmup
from kerastools.schedules.cyclical import CyclicalLearningRate
from kerastools.schedules.cyclical import CyclicalMomentum
from kerastools.schedules.cyclical import ExponentialCyclicalLearningRate
from kerastools.schedules.cyclical import Triangular2CyclicalLearningRate
from kerastools.schedules.cyclical import TriangularCyclicalLearningRate
from kerastools.schedules.cyclical import get_scale_function
from kerastools.schedules.cyclical import register_scale_function
from kerastools.schedules.epoch_decays import exponential_decay
from kerastools.schedules.epoch_decays import fractional_decay
from kerastools.schedules.epoch_decays import linear_decay
from kerastools.schedules.epoch_decays import milestone_decay
from kerastools.schedules.epoch_decays import step_decay
from kerastools.schedules.fastai import CombinedCosine
from kerastools.schedules.fastai import fastai_one_cycle
from kerastools.schedules.one_cycle import OneCycle
from kerastools.schedules.one_cycle import OneCycleMomentum
from kerastools.schedules.plateau import ReduceOnPlateau
from kerastools.schedules.sgdr import SGDR

__all__ = [
    "SGDR",
    "CombinedCosine",
    "CyclicalLearningRate",
    "CyclicalMomentum",
    "ExponentialCyclicalLearningRate",
    "OneCycle",
    "OneCycleMomentum",
    "ReduceOnPlateau",
    "SequentialSchedule",
    "Triangular2CyclicalLearningRate",
    "TriangularCyclicalLearningRate",
    "Warmup",
    "exponential_decay",
    "fastai_one_cycle",
    "fractional_decay",
    "get_scale_function",
    "linear_decay",
    "milestone_decay",
    "register_scale_function",
    "step_decay",
]
