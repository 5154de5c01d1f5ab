"""Weight norms, pure functions: the computation behind ``WeightNormTracker`` and the
log-key format that the tracker writes and ``plot_weight_norms`` reads (defined here once)."""

import math

import keras
import numpy as np

from kerastools._checks import check_choice
from kerastools._checks import check_positive_int

NORMS = ("l2", "l1", "max")
GROUPINGS = ("layer", "model")
CHUNK_SIZE = 1 << 18  # elements reduced at once: 1 MiB of float32 per temporary


def norm_prefix(norm):
    """The log-key prefix of a norm: ``weight_norm`` (L2), ``weight_norm_l1``, ``weight_norm_max``."""
    check_choice("norm", norm, NORMS)
    return "weight_norm" if norm == "l2" else f"weight_norm_{norm}"


def norm_key(norm, name):
    """The log key of one norm of one weight (or of ``"model"``): ``weight_norm/hidden/kernel``."""
    return f"{norm_prefix(norm)}/{name}"


def weight_key(variable, model=None):
    """``layer/weight`` for a variable, without the model's own name in front."""
    path = getattr(variable, "path", None) or variable.name
    if model is not None and path.startswith(model.name + "/"):
        path = path[len(model.name) + 1:]
    return path


def is_bias(variable):
    """Rank <= 1: biases and the per-unit scales/offsets of normalisation layers."""
    return len(variable.shape) <= 1


def _chunks(variable, chunk_size):
    """The variable, or slices of it along its first axis of at most ``chunk_size``
    elements (at least one row), so that no temporary is larger than a chunk."""
    shape = tuple(variable.shape)
    size = math.prod(shape)
    if size <= chunk_size or len(shape) < 2:
        return [variable]
    rows = max(1, chunk_size // (size // shape[0]))
    return [variable[i:i + rows] for i in range(0, shape[0], rows)]


def _compute_dtype(variable):
    return "float64" if keras.backend.standardize_dtype(variable.dtype) == "float64" else "float32"


def _chunk_statistics(chunk, dtype, want_sums):
    """``[m, c, sum (|w|/c)^2, sum |w|/c]`` of one chunk: ``m = max |w|`` and the scale
    ``c`` (``m``, or 1 where ``m = 0``; the sums are ``m`` when not wanted)."""
    if keras.backend.backend() == "torch":
        chunk = keras.ops.stop_gradient(chunk)  # no autograd graph keeps temporaries alive
    if keras.backend.standardize_dtype(chunk.dtype) != dtype:
        chunk = keras.ops.cast(chunk, dtype)
    a = keras.ops.abs(chunk)
    m = keras.ops.max(a)
    if not want_sums:
        return keras.ops.stack([m, m, m, m])
    # m = 0 means a = 0: divide by 1 then (the sums are 0). Not ops.maximum with a constant:
    # Keras' PyTorch backend computes it in float32 for a float64 tensor.
    c = m + keras.ops.cast(keras.ops.equal(m, 0), dtype)
    u = a / c
    return keras.ops.stack([m, c, keras.ops.sum(u * u), keras.ops.sum(u)])


def _combine(stats):
    """``(l2, l1, max)`` of a weight from its chunks' ``[m, c, s, l]`` rows, in float64:
    ``max = max_c m_c``, ``l2 = C sqrt(sum_c s_c (c_c/C)^2)`` with ``C = max_c c_c``,
    ``l1 = sum_c c_c l_c``."""
    m, c, s, l1 = stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3]
    top = float(np.max(m)) if len(m) else 0.0
    if not math.isfinite(top):
        bad = math.nan if np.isnan(m).any() else math.inf
        return bad, bad, top
    if top == 0.0:
        return 0.0, 0.0, 0.0
    scale = float(np.max(c))
    return scale * math.sqrt(float(np.sum(s * (c / scale) ** 2))), float(np.sum(c * l1)), top


def weight_norms(variables, norms=("l2",), chunk_size=CHUNK_SIZE):
    """Norms of each variable, exact for very large and very small weights.

    Each variable is reduced in chunks of at most ``chunk_size`` elements (slices
    along its first axis), so the extra memory is a few chunk-sized temporaries,
    whatever the model's size, and no index per parameter is kept. Each chunk
    is scaled by its largest magnitude ``m`` before squaring (as LAPACK's
    ``nrm2``), so weights of ``1e20`` or ``1e-30`` neither overflow nor
    underflow in float32:

    ```
    m_c = max |w_c|,   s_c = sum (|w_c| / m_c)^2,   l_c = sum |w_c| / m_c
    max = M = max_c m_c,   L2 = M sqrt(sum_c s_c (m_c / M)^2),   L1 = sum_c m_c l_c
    ```

    The chunk statistics are computed with ``keras.ops`` on the device (in
    float64 for float64 weights, else float32), read back in one transfer
    per ``chunk_size`` elements (one for a model of up to 262,144 weights),
    and combined in float64 on the host.

    Args:
        variables: the weights (Keras variables or tensors).
        norms: any of ``"l2"``, ``"l1"``, ``"max"``. Defaults to `("l2",)`.
        chunk_size: elements per chunk. Defaults to `262144`.

    Returns:
        A float64 array of shape ``(len(norms), len(variables))``.
    """
    norms = tuple(norms)
    for norm in norms:
        check_choice("norms", norm, NORMS)
    check_positive_int("chunk_size", chunk_size)
    want_sums = any(n != "max" for n in norms)
    per_var = [[] for _ in variables]
    pending, queued = [], 0  # (variable index, dtype, statistics tensor); their elements

    def read_back():
        # One transfer per dtype. Reading back every ``chunk_size`` elements also bounds
        # the temporaries that asynchronous dispatch (JAX, GPUs) can hold at once.
        for dtype in {d for _, d, _ in pending}:
            entries = [(i, t) for i, d, t in pending if d == dtype]
            stacked = np.asarray(keras.ops.convert_to_numpy(keras.ops.stack(
                [t for _, t in entries])), dtype=np.float64)
            for (i, _), row in zip(entries, stacked):
                per_var[i].append(row)
        pending.clear()

    for i, v in enumerate(variables):
        if math.prod(tuple(v.shape)) == 0:
            continue
        dtype = _compute_dtype(v)
        for chunk in _chunks(v, chunk_size):
            pending.append((i, dtype, _chunk_statistics(chunk, dtype, want_sums)))
            queued += math.prod(tuple(chunk.shape))
            if queued >= chunk_size:
                read_back()
                queued = 0
    read_back()
    out = np.zeros((len(norms), len(variables)))
    for i, rows in enumerate(per_var):
        l2, l1, mx = _combine(np.asarray(rows).reshape(-1, 4))
        for r, norm in enumerate(norms):
            out[r, i] = {"l2": l2, "l1": l1, "max": mx}[norm]
    return out


def combine_norms(values, norm):
    """The norm of several weights together from their per-weight norms:
    ``sqrt(sum l2^2)`` (scaled), ``sum l1``, ``max max``."""
    values = np.asarray(values, dtype=np.float64)
    check_choice("norm", norm, NORMS)
    if len(values) == 0:
        return 0.0
    if norm == "l1":
        return float(np.sum(values))
    top = float(np.max(values))
    if norm == "max" or not math.isfinite(top) or top == 0.0:
        return top
    return top * math.sqrt(float(np.sum((values / top) ** 2)))
