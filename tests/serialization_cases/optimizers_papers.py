"""Serialization cases for the Lookahead wrapper (the paper recipes return ChainOptimizer)."""

import keras
import numpy as np

from kerastools.optimizers import Lookahead
from kerastools.optimizers import radam


def _lookahead():
    return Lookahead(radam(0.01, weight_decay=1e-4), sync_period=3, slow_step_size=0.4)


def _model_with_lookahead():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer=_lookahead(), loss="mse")
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    # 4 steps with k = 3: saved between two synchronisations.
    model.fit(x, np.zeros((16, 2), "float32"), batch_size=4, epochs=1, verbose=0)
    return model, x


CASES = {Lookahead: _lookahead}
MODEL_CASES = {Lookahead: _model_with_lookahead}
