"""What every kerastools schedule shares: the step's dtype and nested configs."""

import numbers

import keras
import numpy as np
from keras import ops

from kerastools import _checks


def prepare_step(step):
    """Returns ``(step, dtype)``: the step as a float tensor and its dtype.

    A floating step keeps its dtype (so ``float64`` steps give ``float64``
    learning rates); an integer step (the optimizer's ``iterations``) is cast
    to ``keras.config.floatx()``.
    """
    step = ops.convert_to_tensor(step)
    dtype = keras.backend.standardize_dtype(step.dtype)
    if not keras.backend.is_float_dtype(dtype):
        dtype = keras.config.floatx()
        step = ops.cast(step, dtype)
    return step, dtype


# The largest float32: a learning rate (or a rate derived from the arguments)
# above it is inf in float32, so the constructors refuse it.
FLOAT32_MAX = 3.4028234663852886e38
# Step counts (cycle lengths, step sizes) are at least one step and at most this.
MAX_STEPS = 1e15


def scalar(name, value):
    """``value`` as a Python float: numbers, NumPy scalars, 0-d arrays, tensors, keras.Variable.

    A tensor or variable is read once, here (the schedule stores floats, so
    that its config is JSON-safe). Anything else is a ValueError naming ``name``.
    """
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        return value
    if isinstance(value, numbers.Real):
        return value
    try:
        array = np.asarray(keras.ops.convert_to_numpy(value))
    except Exception:  # noqa: BLE001 (symbolic tensors, arbitrary objects)
        array = None
    if array is None or array.shape != () or array.dtype.kind not in "fiu":
        raise ValueError(
            f"Argument `{name}` must be a real number (or a scalar tensor or variable). "
            f"Received: {name}={value!r}"
        )
    return float(array)


def check_rate(name, value, positive=False):
    """A learning rate: finite, >= 0 (> 0 if ``positive``), at most the float32 maximum."""
    value = scalar(name, value)
    value_f = (_checks.check_positive if positive else _checks.check_non_negative)(name, value)
    if value_f > FLOAT32_MAX:
        raise ValueError(
            f"Argument `{name}` must be <= {FLOAT32_MAX!r} (the float32 maximum). "
            f"Received: {name}={value!r}"
        )
    return value_f


def check_steps(name, value):
    """A length in steps: a real number in [1, 1e15] (non-integers allowed)."""
    value = scalar(name, value)
    value_f = _checks.check_finite(name, value)
    if not 1.0 <= value_f <= MAX_STEPS:
        raise ValueError(
            f"Argument `{name}` must be in [1, {MAX_STEPS:g}] (steps). Received: {name}={value!r}"
        )
    return value_f


def const(value, dtype):
    return ops.convert_to_tensor(value, dtype=dtype)


# Keras' JAX backend computes `ops.floor` and `ops.cos` of a float64 tensor in
# float32 (it promotes with a Python `float` first), which costs the float64
# schedules 1e-8 of accuracy. These two keep the input's dtype on every backend;
# on TensorFlow (and wherever the dtype survives) they are the plain ops.


def _same_dtype(a, b):
    return keras.backend.standardize_dtype(a.dtype) == keras.backend.standardize_dtype(b.dtype)


def nonnegative(x):
    """``max(x, 0)`` in x's dtype (Keras 3.15's torch backend returns float32
    for ``ops.maximum`` of a float64 tensor)."""
    return ops.where(x > 0, x, ops.zeros_like(x))


def floor(x):
    y = ops.floor(x)
    if _same_dtype(x, y):
        return y
    return x - ops.mod(x, const(1.0, x.dtype))  # exact: mod is computed in x's dtype


def cos(x):
    y = ops.cos(x)
    if _same_dtype(x, y):
        return y
    dtype = "complex128" if keras.backend.standardize_dtype(x.dtype) == "float64" else "complex64"
    z = ops.multiply(ops.cast(x, dtype), const(1j, dtype))
    return ops.cast(ops.real(ops.exp(z)), x.dtype)  # Re exp(ix)


def serialize_schedule(schedule):
    """A float stays a float; a schedule becomes Keras' JSON-safe config."""
    if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        return keras.saving.serialize_keras_object(schedule)
    return float(schedule)


def deserialize_schedule(config):
    if isinstance(config, dict):
        return keras.saving.deserialize_keras_object(config)
    return config


def evaluate(schedule, step, dtype):
    """``schedule(step)`` (or the constant) as a tensor of ``dtype``."""
    if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        value = schedule(step)
        return ops.cast(value, dtype)
    return ops.full(ops.shape(step), float(schedule), dtype=dtype)


def nested_schedule(name, value, cls):
    """``value`` (or its serialized dict) as an instance of ``cls``; else ValueError."""
    if isinstance(value, dict):
        value = keras.saving.deserialize_keras_object(value)
    if not isinstance(value, cls):
        raise ValueError(  # noqa: TRY004 (bad arguments are ValueErrors here)
            f"Argument `{name}` must be a {cls.__name__}. Received: {name}={value!r}"
        )
    return value
