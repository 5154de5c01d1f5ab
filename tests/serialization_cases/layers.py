"""Serialization cases for kerastools.layers."""

import keras
import numpy as np

from kerastools.layers import DebiasedBatchNormalization
from kerastools.layers import DropConnectDense
from kerastools.layers import StochasticDepth
from kerastools.layers import residual_block


def _x(shape):
    return np.random.default_rng(0).normal(size=shape).astype("float32")


def _drop_connect_model():
    inputs = keras.Input((6,))
    h = DropConnectDense(5, rate=0.4, activation="relu", kernel_regularizer="l2",
                         drop_bias=True, seed=3)(inputs)
    return keras.Model(inputs, keras.layers.Dense(2)(h)), _x((4, 6))


def _stochastic_depth_model():
    inputs = keras.Input((6,))
    y = residual_block(inputs, 6, drop_rate=0.3, zero_init_last=False, seed=1, name="b1")
    return keras.Model(inputs, y), _x((4, 6))


def _debiased_bn_model():
    inputs = keras.Input((6,))
    h = keras.layers.Dense(5, use_bias=False)(inputs)
    h = DebiasedBatchNormalization(momentum=0.95, gamma_regularizer="l2")(h)
    model = keras.Model(inputs, h)
    x = _x((8, 6))
    for _ in range(3):  # moves the moving statistics and the filter state
        model(x + 1.0, training=True)
    return model, x


CASES = {
    DebiasedBatchNormalization: lambda: DebiasedBatchNormalization(
        axis=1, momentum=0.9, epsilon=1e-4, center=False, beta_initializer="ones",
        name="dbn"),
    DropConnectDense: lambda: DropConnectDense(
        7, rate=0.3, activation="tanh", use_bias=False, kernel_constraint="max_norm",
        activity_regularizer="l1",
        drop_bias=True, seed=4, name="dc"),
    StochasticDepth: lambda: StochasticDepth(rate=0.2, seed=5, name="sd"),
}

MODEL_CASES = {
    DebiasedBatchNormalization: _debiased_bn_model,
    DropConnectDense: _drop_connect_model,
    StochasticDepth: _stochastic_depth_model,
}
