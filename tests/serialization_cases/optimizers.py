"""Serialization cases for kerastools.optimizers."""

import keras
import numpy as np

from kerastools.callbacks.momentum_scheduler import MomentumScheduler
from kerastools.filters import ARMAFilter
from kerastools.optimizers import ChainOptimizer
from kerastools.optimizers import Coefficient
from kerastools.optimizers import FilterOptimizer
from kerastools.optimizers import NadamMomentum
from kerastools.optimizers import momentum
from kerastools.optimizers import nadam
from kerastools.optimizers import stages as st


def _filter_optimizer():
    return FilterOptimizer(
        learning_rate=keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.9),
        gradient_filter=ARMAFilter.butterworth(2, 0.1, transient_compensation=True),
        normalization_filter=ARMAFilter.ema(0.99),
        epsilon=1e-6,
        normalization_pole=keras.optimizers.schedules.PolynomialDecay(0.9, 10, 0.99),
        weight_decay=1e-4,
    )


def _model_with(optimizer):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    outputs = keras.layers.Dense(2)(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=optimizer, loss="mse")
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    model.fit(x, np.zeros((16, 2), "float32"), batch_size=8, epochs=1, verbose=0)
    return model, x


def _chain():
    return ChainOptimizer(0.01, [
        st.Filter(ARMAFilter.butterworth(2, 0.1, transient_compensation=True)),
        st.Normalize(ARMAFilter.ema(0.99), epsilon=1e-6, amsgrad=True)], weight_decay=1e-4)


CASES = {
    MomentumScheduler: lambda: MomentumScheduler(
        keras.optimizers.schedules.ExponentialDecay(0.9, 10, 0.5)),
    ChainOptimizer: _chain,
    Coefficient: lambda: Coefficient(0.9),
    FilterOptimizer: _filter_optimizer,
    NadamMomentum: lambda: NadamMomentum(0.95, decay=0.9),
}

MODEL_CASES = {
    ChainOptimizer: lambda: _model_with(_chain()),
    Coefficient: lambda: _model_with(momentum(0.01, momentum=Coefficient(0.9))),
    FilterOptimizer: lambda: _model_with(_filter_optimizer()),
    NadamMomentum: lambda: _model_with(nadam(0.01)),
}
