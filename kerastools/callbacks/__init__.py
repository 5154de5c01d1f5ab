"""kerastools.callbacks."""

from kerastools.callbacks.activation_stats import ActivationStats  # noqa: E402
from kerastools.callbacks.activation_stats import GradientStats  # noqa: E402
from kerastools.callbacks.learning_curves import LearningCurves  # noqa: E402
from kerastools.callbacks.weight_norms import WeightNormTracker  # noqa: E402

__all__ = list(globals().get("__all__", [])) + [
    "ActivationStats", "GradientStats", "LearningCurves", "WeightNormTracker"]

from kerastools.callbacks.lr_finder import LRFinder  # noqa: E402
from kerastools.callbacks.lr_finder import LRFinderResult  # noqa: E402
from kerastools.callbacks.lr_finder import LRSweep  # noqa: E402
from kerastools.callbacks.lr_finder import find_learning_rate  # noqa: E402
from kerastools.callbacks.lr_logger import LearningRateLogger  # noqa: E402
from kerastools.callbacks.momentum_scheduler import MomentumScheduler  # noqa: E402

__all__ = list(globals().get("__all__", [])) + [
    "LRFinder", "LRFinderResult", "LRSweep", "LearningRateLogger", "MomentumScheduler", "find_learning_rate",
]

from kerastools.callbacks.plateau import PlateauMonitor  # noqa: E402

__all__ = list(globals().get("__all__", [])) + ["PlateauMonitor"]
