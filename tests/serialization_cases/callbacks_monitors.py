"""Serialization cases of the training monitors (callbacks, so no model cases)."""

import numpy as np

from kerastools.callbacks import LearningCurves
from kerastools.callbacks import WeightNormTracker

CASES = {
    WeightNormTracker: lambda: WeightNormTracker(norms=("l2", "max"), by="model",
                                                 include_biases=False, layers=["hidden"]),
    LearningCurves: lambda: LearningCurves("runs/curves.png", metrics=["loss", "accuracy"],
                                           dpi=80, live=False, smoothing=0.9, log_scale=True,
                                           title="baseline", background=True),
}

try:  # the probe-based monitors
    from kerastools.callbacks import ActivationStats
    from kerastools.callbacks import GradientStats

    _probe = np.linspace(-1, 1, 24, dtype="float32").reshape(4, 6)
    CASES[ActivationStats] = lambda: ActivationStats(_probe, layers=["hidden"], every=2, bins=10)
    CASES[GradientStats] = lambda: GradientStats(_probe, np.array([0, 1, 2, 1]), every=3)
except ImportError:
    pass
