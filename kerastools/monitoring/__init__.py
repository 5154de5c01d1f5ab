"""kerastools.monitoring: pure functions below the callbacks and the plots.

Weight norms and their log keys, per-batch losses, activation and gradient
statistics, the babysitting checks, and a text summary of a training history.
No callback, no figure: ``kerastools.callbacks`` gathers, these compute,
``kerastools.plotting`` draws.
"""

from kerastools.monitoring.activations import activation_statistics
from kerastools.monitoring.babysitting import BabysittingReport
from kerastools.monitoring.babysitting import CheckResult
from kerastools.monitoring.babysitting import babysit
from kerastools.monitoring.babysitting import check_gradients_finite
from kerastools.monitoring.babysitting import check_initial_loss
from kerastools.monitoring.babysitting import check_overfit_small_sample
from kerastools.monitoring.babysitting import check_regularization_raises_loss
from kerastools.monitoring.babysitting import check_units
from kerastools.monitoring.gradients import gradient_norms
from kerastools.monitoring.gradients import loss_gradients
from kerastools.monitoring.losses import per_batch_losses
from kerastools.monitoring.summary import history_dict
from kerastools.monitoring.summary import metric_summary
from kerastools.monitoring.weights import weight_norms

__all__ = [
    "BabysittingReport", "CheckResult", "activation_statistics", "babysit",
    "check_gradients_finite", "check_initial_loss", "check_overfit_small_sample",
    "check_regularization_raises_loss", "check_units", "gradient_norms", "history_dict",
    "loss_gradients", "metric_summary", "per_batch_losses", "weight_norms",
]
