"""Serialization cases for the LR callbacks (config round trips) and the LR finder's sweep."""

import keras
import numpy as np

from kerastools.callbacks.lr_finder import LRSweep
from kerastools.callbacks.lr_logger import LearningRateLogger

CASES = {
    LearningRateLogger: lambda: LearningRateLogger(per_batch=True, log_momentum=False,
                                                   key="lr", at="next", log_to="history"),
    LRSweep: lambda: LRSweep(1e-5, 0.5, 40, mode="linear", start_step=7),
}


def _sweep_model():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer=keras.optimizers.SGD(CASES[LRSweep]()), loss="mse")
    x = np.linspace(-1, 1, 24, dtype="float32").reshape(8, 3)
    model.fit(x, np.zeros((8, 2), "float32"), epochs=1, batch_size=4, verbose=0)
    return model, x


MODEL_CASES = {LRSweep: _sweep_model}
