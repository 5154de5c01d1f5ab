"""Plotting: learning curves, schedules, filter responses, weight norms."""

from kerastools.plotting.activations import plot_activation_stats
from kerastools.plotting.activations import plot_gradient_norms
from kerastools.plotting.compare import plot_runs
from kerastools.plotting.curves import plot_learning_curves
from kerastools.plotting.curves import save_figure
from kerastools.plotting.frequency import gradient_filter_of
from kerastools.plotting.frequency import plot_frequency_response
from kerastools.plotting.schedules import plot_lr_finder
from kerastools.plotting.schedules import plot_schedule
from kerastools.plotting.weights import plot_weight_norms

__all__ = ["plot_learning_curves", "plot_runs", "save_figure", "plot_schedule", "plot_lr_finder",
           "plot_weight_norms", "plot_activation_stats", "plot_gradient_norms",
           "plot_frequency_response", "gradient_filter_of"]
