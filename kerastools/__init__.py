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
- ``kerastools.monitoring``: pure functions below the callbacks (norms, statistics,
  babysitting checks); ``kerastools.diagnostics`` is its former name, kept as an alias.
- ``kerastools.plotting``, ``kerastools.tuning``.

``import kerastools`` is light: ``plotting`` (matplotlib) and ``tuning`` (keras-tuner,
the ``tuner`` extra) are imported on first use, as ``kerastools.plotting`` or
``from kerastools import tuning``, and nothing imports TensorFlow unless it is the
Keras backend.
"""

import importlib

__version__ = "0.1.0.dev0"

from kerastools import callbacks  # noqa: E402,F401
from kerastools import datasets  # noqa: E402,F401
from kerastools import diagnostics  # noqa: E402,F401 (the alias of monitoring)
from kerastools import filters  # noqa: E402,F401
from kerastools import initializers  # noqa: E402,F401
from kerastools import layers  # noqa: E402,F401
from kerastools import monitoring  # noqa: E402,F401
from kerastools import optimizers  # noqa: E402,F401
from kerastools import schedules  # noqa: E402,F401

_LAZY_SUBPACKAGES = ("plotting", "tuning")


def __getattr__(name):
    # PEP 562: the heavy subpackages are imported when first asked for.
    if name in _LAZY_SUBPACKAGES:
        return importlib.import_module(f"kerastools.{name}")
    raise AttributeError(f"module 'kerastools' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY_SUBPACKAGES))
