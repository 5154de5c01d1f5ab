"""What every kerastools schedule shares: the step's dtype and nested configs."""

import keras
from keras import ops


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


def const(value, dtype):
    return ops.convert_to_tensor(value, dtype=dtype)


# Keras' JAX backend computes `ops.floor` and `ops.cos` of a float64 tensor in
# float32 (it promotes with a Python `float` first), which costs the float64
# schedules 1e-8 of accuracy. These two keep the input's dtype on every backend;
# on TensorFlow (and wherever the dtype survives) they are the plain ops.


def _same_dtype(a, b):
    return keras.backend.standardize_dtype(a.dtype) == keras.backend.standardize_dtype(b.dtype)


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
