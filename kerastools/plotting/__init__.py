"""Plotting: learning curves, schedules, filter responses, weight norms."""

from kerastools.plotting.curves import plot_learning_curves
from kerastools.plotting.curves import save_figure

__all__ = ["plot_learning_curves", "save_figure"]
