"""Weight norms, pure functions: the computation behind ``WeightNormTracker`` and the
log-key format that the tracker writes and ``plot_weight_norms`` reads (defined here once)."""

import keras
import numpy as np

from kerastools._checks import check_choice

NORMS = ("l2", "l1", "max")
GROUPINGS = ("layer", "model")


def norm_prefix(norm):
    """The log-key prefix of a norm: ``weight_norm`` (L2), ``weight_norm_l1``, ``weight_norm_max``."""
    check_choice("norm", norm, NORMS)
    return "weight_norm" if norm == "l2" else f"weight_norm_{norm}"


def weight_key(variable, model=None):
    """``layer/weight`` for a variable, without the model's own name in front."""
    path = getattr(variable, "path", None) or variable.name
    if model is not None and path.startswith(model.name + "/"):
        path = path[len(model.name) + 1:]
    return path


def is_bias(variable):
    """Rank <= 1: biases and the per-unit scales/offsets of normalisation layers."""
    return len(variable.shape) <= 1


def segment_ids(variables):
    """int32 ids ``[0]*size_0 + [1]*size_1 + ...`` of the flattened variables."""
    sizes = [int(np.prod(v.shape)) for v in variables]
    return keras.ops.convert_to_tensor(np.repeat(np.arange(len(sizes)), sizes).astype("int32"))


def weight_norms(variables, norms=("l2",), ids=None):
    """Norms of each variable, in one batched computation read back once.

    The variables are flattened into one vector and reduced per variable with
    segment sums (and a segment max), so an epoch costs a handful of ops
    whatever the number of layers.

    Returns a float64 array of shape ``(len(norms), len(variables))``:
    L2 ``sqrt(sum w**2)``, L1 ``sum |w|`` and max ``max |w|``.
    """
    for norm in norms:
        check_choice("norms", norm, NORMS)
    if not variables:
        return np.zeros((len(norms), 0))
    if ids is None:
        ids = segment_ids(variables)
    n = len(variables)
    flat = keras.ops.concatenate(
        [keras.ops.reshape(keras.ops.cast(v, "float32"), (-1,)) for v in variables])
    a = keras.ops.abs(flat)
    rows = []
    for norm in norms:
        if norm == "l2":
            rows.append(keras.ops.segment_sum(a * a, ids, num_segments=n))
        elif norm == "l1":
            rows.append(keras.ops.segment_sum(a, ids, num_segments=n))
        else:
            rows.append(keras.ops.segment_max(a, ids, num_segments=n))
    out = np.asarray(keras.ops.convert_to_numpy(keras.ops.stack(rows)), dtype=np.float64)
    for i, norm in enumerate(norms):
        if norm == "l2":
            out[i] = np.sqrt(out[i])
    return out
