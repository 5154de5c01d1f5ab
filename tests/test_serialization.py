"""Discovery: every public kerastools class is registered and round-trips.

A public class is one a subpackage lists in ``__all__`` that has ``get_config``.
Each needs a case in ``tests/serialization_cases/``; Keras model components
(layers, initializers, regularizers, constraints, optimizers, schedules) also
need a model case that survives ``model.save`` / ``load_model(safe_mode=True)``.
"""

import importlib
import inspect
import pkgutil

import keras
import pytest
from harness import assert_config_round_trip
from harness import assert_model_round_trip
from harness import assert_registered
from serialization_cases import collect

import kerastools

MODEL_BASES = (
    keras.layers.Layer,
    keras.initializers.Initializer,
    keras.regularizers.Regularizer,
    keras.constraints.Constraint,
    keras.optimizers.Optimizer,
    keras.optimizers.schedules.LearningRateSchedule,
)


def public_classes():
    found = {}
    for info in pkgutil.iter_modules(kerastools.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"kerastools.{info.name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) and hasattr(obj, "get_config"):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return sorted(found.values(), key=lambda c: c.__name__)


CLASSES = public_classes()
CASES, MODEL_CASES = collect()


def test_every_public_class_has_a_case():
    missing = [c.__name__ for c in CLASSES if c not in CASES]
    assert not missing, f"public classes without a serialization case: {missing}"
    missing_model = [
        c.__name__ for c in CLASSES if issubclass(c, MODEL_BASES) and c not in MODEL_CASES
    ]
    assert not missing_model, f"model components without a model case: {missing_model}"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_registered(cls):
    assert_registered(cls)


@pytest.mark.parametrize("cls", list(CASES), ids=lambda c: c.__name__)
def test_config_round_trip(cls):
    obj = CASES[cls]()
    assert isinstance(obj, cls)
    assert_config_round_trip(obj)


@pytest.mark.parametrize("cls", list(MODEL_CASES), ids=lambda c: c.__name__)
def test_model_round_trip(cls, tmp_path):
    model, x = MODEL_CASES[cls]()
    assert_model_round_trip(model, x, tmp_path)
