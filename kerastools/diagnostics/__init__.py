"""kerastools.diagnostics: activation and gradient statistics, babysitting checks."""

from kerastools.diagnostics.activations import activation_statistics
from kerastools.diagnostics.babysitting import BabysittingReport
from kerastools.diagnostics.babysitting import CheckResult
from kerastools.diagnostics.babysitting import babysit
from kerastools.diagnostics.babysitting import check_gradients_finite
from kerastools.diagnostics.babysitting import check_initial_loss
from kerastools.diagnostics.babysitting import check_overfit_small_sample
from kerastools.diagnostics.babysitting import check_regularization_raises_loss
from kerastools.diagnostics.babysitting import check_units
from kerastools.diagnostics.gradients import gradient_norms
from kerastools.diagnostics.gradients import loss_gradients

__all__ = [
    "BabysittingReport", "CheckResult", "activation_statistics", "babysit",
    "check_gradients_finite", "check_initial_loss", "check_overfit_small_sample",
    "check_regularization_raises_loss", "check_units", "gradient_norms", "loss_gradients",
]
