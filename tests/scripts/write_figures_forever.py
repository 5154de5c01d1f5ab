"""Trains a tiny model for many epochs while kerastools writes its figures each
epoch: LearningCurves (drawing every epoch) and plotting.save_figure from a
callback. Prints "epoch N" after each epoch so that a test can SIGKILL it mid-run."""

import os
import sys

import keras
import numpy as np

from kerastools.callbacks import LearningCurves
from kerastools.callbacks import WeightNormTracker
from kerastools.plotting import plot_weight_norms
from kerastools.plotting import save_figure

out = sys.argv[1]


class SaveNorms(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.logs = {}

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.logs.setdefault(key, []).append(value)
        save_figure(plot_weight_norms(self.logs),
                    os.path.join(out, "weight_norms.png"), dpi=150)
        print(f"epoch {epoch + 1}", flush=True)


rng = np.random.default_rng(0)
x = rng.normal(size=(64, 8)).astype("float32")
y = (x.sum(axis=1) > 0).astype("int32")
inputs = keras.Input((8,))
hidden = keras.layers.Dense(16, activation="relu", name="hidden")(inputs)
model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="out")(hidden))
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, batch_size=8, epochs=10_000, verbose=0, validation_split=0.25,
          callbacks=[WeightNormTracker(log_to="logs"),
                     LearningCurves(os.path.join(out, "curves.png"), dpi=150, max_overhead=None),
                     SaveNorms()])
