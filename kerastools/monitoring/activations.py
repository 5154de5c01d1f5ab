"""Activation statistics of a model's layers on a fixed probe batch."""

import keras
import numpy as np

from kerastools._checks import check_non_negative
from kerastools._checks import check_positive_int


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def check_probe(model, probe, name="probe"):
    """Checks that ``probe`` fits the model's inputs (``None`` dims match anything)."""
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ValueError(
            f"Argument `{name}` can only be checked against a Functional or Sequential model "
            f"with known inputs; model {model.name!r} has none (build it with keras.Input)."
        )
    arrays = _as_list(probe)
    if len(arrays) != len(inputs):
        raise ValueError(
            f"Argument `{name}` must hold {len(inputs)} array(s), one per model input. "
            f"Received: {name} with {len(arrays)} array(s)"
        )
    for array, tensor in zip(arrays, inputs):
        shape = tuple(np.shape(array))
        expected = tuple(tensor.shape)
        ok = len(shape) == len(expected) and all(
            e is None or e == s for s, e in zip(shape[1:], expected[1:]))
        if not ok or (shape and shape[0] == 0):
            raise ValueError(
                f"Argument `{name}` must have shape (batch,) + {tuple(expected[1:])} to match the "
                f"input {tensor.name!r} of model {model.name!r}. Received: {name} of shape {shape}"
            )


def monitored_layers(model, layers=None):
    """The layers to watch: by name, or every layer but the inputs."""
    if layers is None:
        return [layer for layer in model.layers
                if not isinstance(layer, keras.layers.InputLayer)]
    found = []
    for name in layers:
        try:
            found.append(model.get_layer(name))
        except ValueError:
            raise ValueError(
                f"Argument `layers` names {name!r}, which is not a layer of model {model.name!r} "
                f"({[lay.name for lay in model.layers]}). Received: layers={list(layers)!r}"
            ) from None
    return found


def probe_model(model, layers=None):
    """A ``keras.Model`` from the model's inputs to the outputs of ``layers``."""
    chosen = monitored_layers(model, layers)
    if not getattr(model, "inputs", None):
        raise ValueError(
            f"Activation statistics need a Functional or Sequential model with known inputs; "
            f"model {model.name!r} has none."
        )
    outputs = []
    for layer in chosen:
        out = layer.output
        if isinstance(out, (list, tuple)):
            raise ValueError(
                f"Layer {layer.name!r} has several outputs; name single-output layers in `layers`."
            )
        outputs.append(out)
    inputs = model.inputs if len(model.inputs) > 1 else model.inputs[0]
    return keras.Model(inputs, outputs), [layer.name for layer in chosen]


def summarize(values, bins=50, hist_range=None, near_zero=0.01):
    """Mean, standard deviation, near-zero fraction and histogram of one array.

    ``near_zero``: the fraction of entries with ``|a| <= near_zero``.
    ``hist_range``: ``(low, high)``, or ``None`` for ``(-m, m)`` with
    ``m = max |a|`` (a symmetric range that shows a collapse to zero).
    """
    a = np.asarray(values, dtype=np.float64).ravel()
    if hist_range is None:
        m = float(np.max(np.abs(a))) if a.size else 1.0
        hist_range = (-m, m) if m > 0 else (-1.0, 1.0)
    counts, edges = np.histogram(a, bins=bins, range=tuple(hist_range))
    return {
        "mean": float(np.mean(a)),
        "std": float(np.std(a)),
        "near_zero": float(np.mean(np.abs(a) <= near_zero)),
        "min": float(np.min(a)),
        "max": float(np.max(a)),
        "hist": counts.tolist(),
        "edges": edges.tolist(),
    }


def activation_statistics(model, probe, layers=None, bins=50, hist_range=None, near_zero=0.01,
                          _probe_model=None):
    """Per-layer activation statistics of ``model`` on the batch ``probe``.

    The course's experiment (a deep tanh MLP initialised with
    ``W = 0.001 * rand``: the activations shrink to zero in the deeper
    layers; with Xavier they keep their spread) is this function applied
    to the freshly initialised model.

    Args:
        model: a Functional or Sequential model.
        probe: an input batch (or a list, one per input).
        layers: layer names. Defaults to `None` (every non-input layer).
        bins: histogram bins. Defaults to `50`.
        hist_range: ``(low, high)`` of the histograms. Defaults to `None`
            (symmetric, ``max |a|`` of each layer).
        near_zero: ``|a| <= near_zero`` counts as near zero. Defaults to
            `0.01`.

    Returns:
        ``{layer_name: {"mean", "std", "near_zero", "min", "max", "hist",
        "edges"}}`` in layer order (plain floats and lists, JSON-safe).
    """
    check_positive_int("bins", bins)
    check_non_negative("near_zero", near_zero)
    check_probe(model, probe)
    if _probe_model is None:
        _probe_model = probe_model(model, layers)
    sub, names = _probe_model
    outputs = sub(probe if isinstance(probe, (list, tuple)) else keras.ops.convert_to_tensor(probe),
                  training=False)
    outputs = _as_list(outputs) if len(names) > 1 else [outputs]
    return {
        name: summarize(keras.ops.convert_to_numpy(out), bins, hist_range, near_zero)
        for name, out in zip(names, outputs)
    }
