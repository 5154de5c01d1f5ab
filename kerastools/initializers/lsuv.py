"""Layer-sequential unit-variance (LSUV) initialisation."""

import math
import warnings

import keras
import numpy as np

from kerastools._checks import check_choice
from kerastools._checks import check_positive
from kerastools._checks import check_positive_int

SUPPORTED_LAYERS = (
    keras.layers.Dense,
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
)
_WEIGHT_WORDS = ("kernel", "embeddings")


def _is_weighted(layer):
    """Whether the layer owns a weight matrix LSUV would have to scale."""
    return any(
        any(word in v.path.split("/")[-1] for word in _WEIGHT_WORDS)
        for v in layer.weights
    )


def _kernel_variable(layer):
    var = getattr(layer, "_kernel", None)
    if var is None:
        var = layer.kernel
    return var


def _unsupported(layer, why):
    return ValueError(
        f"lsuv_initialize cannot handle layer '{layer.name}' "
        f"({type(layer).__name__}): {why}. Supported layers: Dense, Conv1D/2D/3D "
        "and their Transpose versions (and subclasses such as "
        "kerastools.layers.DropConnectDense); layers without a kernel "
        "(normalisation, pooling, dropout, activations, ...) are skipped."
    )


def _check_inputs(model, x_batch):
    inputs = model.inputs
    xs = list(x_batch) if isinstance(x_batch, (list, tuple)) else [x_batch]
    if len(xs) != len(inputs):
        raise ValueError(
            f"Argument `x_batch` must hold {len(inputs)} input array(s) for model "
            f"'{model.name}'. Received: {len(xs)} array(s)"
        )
    arrays = []
    for tensor, x in zip(inputs, xs):
        x = keras.ops.convert_to_numpy(x) if not isinstance(x, np.ndarray) else x
        expected = tuple(tensor.shape)
        ok = x.ndim == len(expected) and all(
            e is None or e == g for e, g in zip(expected, x.shape)
        )
        if not ok or x.shape[0] == 0:
            raise ValueError(
                f"Argument `x_batch` must have shape {expected} (a non-empty batch) "
                f"to match the input '{tensor.name}' of model '{model.name}'. "
                f"Received: x_batch.shape={x.shape}"
            )
        arrays.append(x)
    return arrays if len(arrays) > 1 else arrays[0]


def _layer_output(layer, inputs, output):
    """The layer's output on ``inputs``, before or after its activation."""
    if output == "post_activation" or getattr(layer, "activation", None) is None:
        return layer(inputs, training=False)
    activation = layer.activation
    try:
        layer.activation = keras.activations.linear
        return layer(inputs, training=False)
    finally:
        layer.activation = activation


def lsuv_initialize(model, x_batch, tol=0.1, max_iter=10, *, output="pre_activation",
                    orthonormal=True, seed=None, verbose=False):
    """Layer-sequential unit-variance initialisation of a built model, in place.

    Reference: Mishkin and Matas, 2015, "All you need is a good init"
    (https://arxiv.org/abs/1511.06422).

    Algorithm (for each Dense/Conv layer L, in the model's topological order):

    ```
    W_L <- orthonormal matrix (fan_in x units; conv kernels flattened)
    repeat at most max_iter times while |Var(B_L) - 1| >= tol:
        W_L <- W_L / sqrt(Var(B_L))
    ```

    where ``B_L`` is the layer's output on ``x_batch`` (the variance is taken
    over every element of the output, batch and units together, as in the
    paper). Earlier layers are already rescaled when layer L is processed.
    Biases are left as they are.

    Pre- or post-activation: the paper normalises the output of each
    convolution / inner-product layer, and in its Caffe networks the
    non-linearity is a separate layer, so ``B_L`` is the pre-activation
    ``x @ W + b``. Keras fuses the activation into ``Dense``/``Conv``, so this
    function, by default (``output="pre_activation"``), removes the layer's
    activation while measuring: ``Var(x @ W + b) = 1``. This also works for
    tanh and sigmoid, whose outputs can never reach unit variance.
    ``output="post_activation"`` normalises ``activation(x @ W + b)`` instead
    (what Keras ports that read ``layer.output`` do).

    Args:
        model: A built Functional or Sequential `keras.Model` (needs
            `model.inputs`). Nested models and layers called more than once
            are not supported.
        x_batch: A batch of inputs (NumPy array or tensor; a list for
            multi-input models), e.g. 256 training samples.
        tol: Positive float, tolerance on `|Var(B_L) - 1|`. Defaults to `0.1`.
        max_iter: Positive integer, most rescalings per layer. Defaults to
            `10`.
        output: `"pre_activation"` or `"post_activation"`, see above.
            Defaults to `"pre_activation"`.
        orthonormal: Boolean, whether to start from orthonormal kernels
            (`keras.initializers.Orthogonal`). Defaults to `True`.
        seed: Integer or `None`, seed of the orthonormal kernels (layer i uses
            `seed + i`). Defaults to `None`.
        verbose: Boolean, print each layer's variance. Defaults to `False`.

    Returns:
        A dict `{layer_name: final output variance}` for the layers
        initialised. A layer that did not reach `tol` in `max_iter`
        rescalings raises a `RuntimeWarning` naming it.

    Raises:
        ValueError: for an unsupported model or layer (naming it and why), a
            wrong `x_batch` shape, bad arguments, or a layer whose output has
            zero variance on the batch.

    Example:

    >>> model = keras.Sequential([keras.Input((784,)),
    ...                           keras.layers.Dense(100, activation="tanh"),
    ...                           keras.layers.Dense(10)])
    >>> x = np.random.default_rng(0).normal(size=(256, 784)).astype("float32")
    >>> variances = lsuv_initialize(model, x, tol=0.05, seed=0)
    >>> all(abs(v - 1) < 0.05 for v in variances.values())
    True
    """
    tol = check_positive("tol", tol)
    max_iter = check_positive_int("max_iter", max_iter)
    check_choice("output", output, {"pre_activation", "post_activation"})
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"Argument `seed` must be an integer or None. Received: seed={seed!r}")
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"Argument `model` must be a keras.Model. Received: model={model!r}"
        )
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError(
            f"lsuv_initialize needs a built Functional or Sequential model with "
            f"known inputs; model '{model.name}' ({type(model).__name__}) has none "
            "(a subclassed model, or a Sequential model without keras.Input)."
        )
    x_batch = _check_inputs(model, x_batch)

    variances = {}
    for index, layer in enumerate(model.layers):
        if isinstance(layer, keras.Model):
            raise _unsupported(layer, "it is a nested model; call lsuv_initialize "
                               "on it, or build the model flat")
        if not _is_weighted(layer):
            continue
        if not isinstance(layer, SUPPORTED_LAYERS):
            raise _unsupported(layer, "it has weight matrices LSUV does not know "
                               "how to rescale (not a Dense or Conv layer)")
        if getattr(layer, "lora_enabled", False) or layer.quantization_mode:
            raise _unsupported(layer, "its kernel is LoRA-adapted or quantized")
        try:
            layer_input = layer.input
        except (AttributeError, ValueError) as error:
            raise _unsupported(layer, f"its input is not a single symbolic tensor "
                               f"(a shared layer?): {error}") from None
        probe = keras.Model(
            model.inputs if len(model.inputs) > 1 else model.inputs[0], layer_input)
        kernel = _kernel_variable(layer)
        if orthonormal:
            ortho = keras.initializers.Orthogonal(
                seed=None if seed is None else seed + index
            )
            kernel.assign(ortho(tuple(kernel.shape), dtype=kernel.dtype))
        features = probe(x_batch, training=False)

        def measure(layer=layer, features=features):
            out = _layer_output(layer, features, output)
            return float(keras.ops.var(keras.ops.cast(out, "float32")))

        var = measure()
        for _ in range(max_iter):
            if abs(var - 1.0) < tol:
                break
            if not math.isfinite(var) or var <= 0.0:
                raise ValueError(
                    f"lsuv_initialize cannot rescale layer '{layer.name}' "
                    f"({type(layer).__name__}): its {output.replace('_', '-')} "
                    f"output variance on `x_batch` is {var}. Check the batch "
                    "(constant inputs?) and the layers before it."
                )
            kernel.assign(kernel / math.sqrt(var))
            var = measure()
        if abs(var - 1.0) >= tol:
            warnings.warn(
                f"lsuv_initialize: layer '{layer.name}' reached output variance "
                f"{var:.4f}, not within tol={tol} of 1, after max_iter={max_iter} "
                "rescalings.",
                RuntimeWarning,
                stacklevel=2,
            )
        if verbose:
            print(f"LSUV {layer.name}: output variance {var:.4f}")
        variances[layer.name] = var
    return variances
