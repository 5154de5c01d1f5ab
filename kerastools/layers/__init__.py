"""kerastools.layers: DropConnect, stochastic depth, debiased batch norm."""

from kerastools.layers.debiased_batch_normalization import DebiasedBatchNormalization
from kerastools.layers.drop_connect import DropConnectDense
from kerastools.layers.stochastic_depth import StochasticDepth
from kerastools.layers.stochastic_depth import residual_block

__all__ = [
    "DebiasedBatchNormalization",
    "DropConnectDense",
    "StochasticDepth",
    "residual_block",
]
