"""Serialization cases for kerastools.initializers."""

import keras
import numpy as np

from kerastools.initializers import GlorotSigmoidNormal
from kerastools.initializers import GlorotSigmoidUniform
from kerastools.initializers import SmallUniform


def _model(init):
    def factory():
        inputs = keras.Input((6,))
        outputs = keras.layers.Dense(3, activation="sigmoid", kernel_initializer=init())(inputs)
        model = keras.Model(inputs, outputs)
        x = np.random.default_rng(0).normal(size=(4, 6)).astype("float32")
        return model, x

    return factory


CASES = {
    SmallUniform: lambda: SmallUniform(scale=0.01, centered=True, seed=3),
    GlorotSigmoidUniform: lambda: GlorotSigmoidUniform(seed=1),
    GlorotSigmoidNormal: lambda: GlorotSigmoidNormal(seed=2),
}

MODEL_CASES = {
    SmallUniform: _model(lambda: SmallUniform(seed=3)),
    GlorotSigmoidUniform: _model(lambda: GlorotSigmoidUniform(seed=1)),
    GlorotSigmoidNormal: _model(lambda: GlorotSigmoidNormal(seed=2)),
}
