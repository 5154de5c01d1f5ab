"""Serialization cases of the training monitors (callbacks, so no model cases).

ActivationStats and GradientStats keep their probe batches in the config as
``{"shape", "dtype", "values"}`` (a nested list: JSON-safe and exact), so a
config round trip gives a working callback.
"""

import numpy as np

from kerastools.callbacks import ActivationStats
from kerastools.callbacks import GradientStats
from kerastools.callbacks import LearningCurves
from kerastools.callbacks import WeightNormTracker

_PROBE = np.linspace(-1, 1, 24, dtype="float32").reshape(4, 6)

CASES = {
    WeightNormTracker: lambda: WeightNormTracker(norms=("l2", "max"), by="model",
                                                 include_biases=False, layers=["hidden"],
                                                 log_to="logs"),
    LearningCurves: lambda: LearningCurves("runs/curves.png", metrics=["loss", "accuracy"],
                                           dpi=80, live=False, smoothing=0.9, log_scale=True,
                                           title="baseline", max_overhead=0.05),
    ActivationStats: lambda: ActivationStats(_PROBE, layers=["hidden"], every=2, bins=10,
                                             hist_range=(-1, 1), near_zero=0.05, log_to="logs"),
    GradientStats: lambda: GradientStats(_PROBE, np.array([0, 1, 2, 1]), every=3,
                                         loss="sparse_categorical_crossentropy", log_to="logs"),
}
