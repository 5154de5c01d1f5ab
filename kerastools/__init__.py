"""kerastools: the training-methods toolbox Keras 3 lacks.

Subpackages, from the bottom up:

- ``kerastools.filters``: ARMA filters on tensors with transient compensation
  (the one core shared by optimizers, batch norm and curve smoothing).
- ``kerastools.optimizers``: ``FilterOptimizer`` and presets equal to Keras' own.
- ``kerastools.schedules``: cyclical, SGDR, one-cycle, warmup, composition.
- ``kerastools.callbacks``: LR logging, LR finder, weight norms, learning curves,
  activation statistics.
- ``kerastools.layers`` and ``kerastools.initializers``: DropConnect, stochastic
  depth, debiased batch norm, LSUV and the course's initialisers.
- ``kerastools.datasets``: a verified Fashion-MNIST loader.
- ``kerastools.plotting``, ``kerastools.diagnostics``, ``kerastools.tuning``.
"""

__version__ = "0.1.0.dev0"

from kerastools import callbacks  # noqa: E402,F401
from kerastools import datasets  # noqa: E402,F401
from kerastools import diagnostics  # noqa: E402,F401
from kerastools import filters  # noqa: E402,F401
from kerastools import initializers  # noqa: E402,F401
from kerastools import layers  # noqa: E402,F401
from kerastools import optimizers  # noqa: E402,F401
from kerastools import plotting  # noqa: E402,F401
from kerastools import schedules  # noqa: E402,F401
from kerastools import tuning  # noqa: E402,F401
