"""What the benchmarks share: per-epoch wall times recorded by a callback."""

import time

import keras


class EpochTimer(keras.callbacks.Callback):
    """Appends each epoch's wall time (seconds) to ``self.times``."""

    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._t)
