"""kerastools.schedules: learning-rate schedules Keras lacks.

Every class is a ``keras.optimizers.schedules.LearningRateSchedule`` written
with ``keras.ops`` (it runs inside the compiled train step, under XLA and on
JAX), registered for serialization with a JSON-safe config.
"""

from kerastools.schedules.composition import SequentialSchedule, Warmup
from kerastools.schedules.cyclical import (
    CyclicalLearningRate,
    CyclicalMomentum,
    ExponentialCyclicalLearningRate,
    Triangular2CyclicalLearningRate,
    TriangularCyclicalLearningRate,
    get_scale_function,
    register_scale_function,
)
from kerastools.schedules.epoch_decays import (
    exponential_decay,
    fractional_decay,
    linear_decay,
    milestone_decay,
    step_decay,
)
from kerastools.schedules.one_cycle import OneCycle, OneCycleMomentum
from kerastools.schedules.sgdr import SGDR

__all__ = [
    "SGDR",
    "CyclicalLearningRate",
    "CyclicalMomentum",
    "ExponentialCyclicalLearningRate",
    "OneCycle",
    "OneCycleMomentum",
    "SequentialSchedule",
    "Triangular2CyclicalLearningRate",
    "TriangularCyclicalLearningRate",
    "Warmup",
    "exponential_decay",
    "fractional_decay",
    "get_scale_function",
    "linear_decay",
    "milestone_decay",
    "register_scale_function",
    "step_decay",
]
