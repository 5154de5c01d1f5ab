"""Argument checks shared by every component, in Keras' error form.

Each raises ``ValueError("Argument `name` must be ... Received: name=value")``
so that the message names the argument and the value received.
"""

import math
import numbers

import numpy as np


def _fail(name, requirement, value):
    raise ValueError(
        f"Argument `{name}` must be {requirement}. Received: {name}={value!r}"
    )


def check_finite(name, value):
    """Returns ``float(value)``; NaN, infinities and non-numbers are errors."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        _fail(name, "a finite real number", value)
    if not math.isfinite(float(value)):
        _fail(name, "a finite real number", value)
    return float(value)


def check_positive(name, value):
    value_f = check_finite(name, value)
    if value_f <= 0:
        _fail(name, "> 0", value)
    return value_f


def check_non_negative(name, value):
    value_f = check_finite(name, value)
    if value_f < 0:
        _fail(name, ">= 0", value)
    return value_f


def check_in_range(name, value, low, high, low_closed=True, high_closed=False):
    """Checks ``low <= value < high`` (brackets set by the flags)."""
    value_f = check_finite(name, value)
    ok_low = value_f >= low if low_closed else value_f > low
    ok_high = value_f <= high if high_closed else value_f < high
    if not (ok_low and ok_high):
        interval = (
            ("[" if low_closed else "(")
            + f"{low}, {high}"
            + ("]" if high_closed else ")")
        )
        _fail(name, f"in {interval}", value)
    return value_f


def check_positive_int(name, value, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            _fail(name, "an integer", value)
    if value < 0 or (value == 0 and not allow_zero):
        _fail(name, ">= 0" if allow_zero else "> 0", value)
    return int(value)


def check_choice(name, value, choices):
    if value not in choices:
        _fail(name, f"one of {sorted(choices)!r}", value)
    return value


def check_bool(name, value, allow_none=False):
    """A Python bool (or None where ``allow_none``); NumPy's bool is taken as a bool."""
    if value is None and allow_none:
        return None
    if not isinstance(value, (bool, np.bool_)):
        _fail(name, "a bool or None" if allow_none else "a bool", value)
    return bool(value)


def check_seed(seed):
    """An integer seed or None (booleans are not seeds)."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        _fail("seed", "an integer or None", seed)
    return seed


def check_momentum_bounds(base_momentum, max_momentum):
    """``0 <= base_momentum <= max_momentum < 1`` for momentum cycling."""
    base = check_in_range("base_momentum", base_momentum, 0.0, 1.0)
    high = check_in_range("max_momentum", max_momentum, 0.0, 1.0)
    if high < base:
        _fail("max_momentum", f">= base_momentum ({base!r})", max_momentum)
    return base, high
