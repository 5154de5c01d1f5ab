"""Serialization cases, one module per area (filters.py, optimizers.py, ...).

Each module defines:

- ``CASES``: ``{cls: factory}``, the factory returning a configured instance;
- ``MODEL_CASES`` (optional): ``{cls: factory}``, the factory returning
  ``(model, x)`` where ``model`` uses the class (a layer, an initializer, an
  optimizer, a schedule inside an optimizer, ...) and ``x`` is an input batch.

``tests/test_serialization.py`` collects them and fails for any public
kerastools class that has no case.
"""

import importlib
import pkgutil


def collect():
    cases, model_cases = {}, {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        cases.update(getattr(module, "CASES", {}))
        model_cases.update(getattr(module, "MODEL_CASES", {}))
    return cases, model_cases
