"""Stochastic depth for residual branches, and a residual block helper."""

import keras

from kerastools._checks import check_in_range
from kerastools._checks import check_positive_int
from kerastools._checks import check_seed
from kerastools.layers.seed_state import SavesSeedState


@keras.saving.register_keras_serializable(package="kerastools")
class StochasticDepth(SavesSeedState, keras.layers.Layer):
    """Joins a residual branch to its shortcut, dropping the branch at random.

    Reference: Huang, Sun, Liu, Sedra and Weinberger, 2016, "Deep Networks
    with Stochastic Depth" (ECCV).

    Called on ``[shortcut, residual]``; each *sample*'s residual branch is
    dropped with probability ``rate`` (the whole block becomes the identity
    for that sample). Huang et al. scale the branch by the survival
    probability ``1 - rate`` at test time; this layer uses the equivalent
    inverted convention (as ``Dropout`` and timm's ``DropPath``), scaling at
    training time so inference needs no change:

    ```
    training:   b ~ Bernoulli(1 - rate), one per sample
                y = shortcut + b / (1 - rate) * residual
    inference:  y = shortcut + residual
    ```

    Both conventions give the same expected training output and the same
    inference network up to the scale of the branch's last layer.

    Args:
        rate: Float in `[0, 1)`, probability of dropping the branch (one minus
            Huang et al.'s survival probability `p_l`). Defaults to `0.5`
            (Huang et al.'s `p_L` for the last block).
        seed: Integer or `None`, seed of the per-sample masks. Defaults to
            `None`.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Example:

    >>> x = keras.Input((64,))
    >>> f = keras.layers.Dense(64, activation="relu")(x)
    >>> f = keras.layers.Dense(64, kernel_initializer="zeros")(f)
    >>> y = StochasticDepth(rate=0.2, seed=1)([x, f])
    """

    def __init__(self, rate=0.5, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_in_range("rate", rate, 0.0, 1.0)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def _check_shapes(self, shapes):
        if (not isinstance(shapes, (list, tuple)) or len(shapes) != 2
                or not all(isinstance(s, (list, tuple)) for s in shapes)):
            raise ValueError(
                "StochasticDepth must be called on a list [shortcut, residual] of "
                f"two tensors. Received: {shapes!r}"
            )
        a, b = (tuple(s) for s in shapes)
        same = len(a) == len(b) and all(
            x is None or y is None or x == y for x, y in zip(a, b)
        )
        if not same:
            raise ValueError(
                "StochasticDepth needs `shortcut` and `residual` of the same shape "
                f"(project the shortcut first). Received: shortcut.shape={a}, "
                f"residual.shape={b}"
            )

    def build(self, input_shape):
        self._check_shapes(input_shape)

    def compute_output_shape(self, input_shape):
        self._check_shapes(input_shape)
        return tuple(input_shape[0])

    def call(self, inputs, training=None):
        shortcut, residual = inputs
        if not training or self.rate == 0.0:
            return keras.ops.add(shortcut, residual)
        ndim = len(residual.shape)
        batch = keras.ops.shape(residual)[0]
        keep = 1.0 - self.rate
        u = keras.random.uniform(
            (batch,) + (1,) * (ndim - 1), dtype=residual.dtype, seed=self.seed_generator
        )
        scale = keras.ops.cast(u < keep, residual.dtype) / keep
        return keras.ops.add(shortcut, residual * scale)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        return mask[0]

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


_LAYERS = {2: keras.layers.Dense, 3: keras.layers.Conv1D, 4: keras.layers.Conv2D,
           5: keras.layers.Conv3D}


def residual_block(x, units, *, kernel_size=3, activation="relu", zero_init_last=True,
                   drop_rate=0.0, seed=None, name=None):
    """A two-layer residual block ``x + F(x)`` for the Functional API.

    ``F(x) = L2(activation(L1(x)))`` with ``L1``, ``L2`` Dense layers for
    inputs of rank 2 and ``Conv1D``/``Conv2D``/``Conv3D`` (``padding="same"``)
    for ranks 3, 4 and 5 (channels last). ``L1`` uses He (MSRA) normal
    initialisation; ``L2`` is zero-initialised when ``zero_init_last`` (the
    course: with MSRA init everywhere ``Var(x + F(x)) > Var(x)`` and the
    variance grows with depth; a zero last layer makes ``F(x) = 0`` at
    initialisation, so ``Var(x + F(x)) = Var(x)``). The branch joins the
    shortcut through ``StochasticDepth(drop_rate)``. When ``x`` has a number
    of channels other than ``units``, the shortcut is a linear projection
    (Dense or 1x1 convolution). No activation follows the sum.

    Args:
        x: Symbolic input tensor, rank 2 to 5 (channels last).
        units: Positive integer, units (Dense) or filters (Conv) of both
            layers.
        kernel_size: Positive integer, convolution kernel size (ignored for
            Dense). Defaults to `3`.
        activation: Activation between the two layers. Defaults to `"relu"`.
        zero_init_last: Boolean, zero-initialise the branch's last layer.
            Defaults to `True`.
        drop_rate: Float in `[0, 1)`, the `StochasticDepth` rate. Defaults to
            `0.0`.
        seed: Integer or `None`, seed of the initialisers and the masks.
            Defaults to `None`.
        name: Optional string, prefix of the layer names. Defaults to `None`.

    Returns:
        The tensor ``shortcut + F(x)``.

    Example:

    >>> inputs = keras.Input((32, 32, 16))
    >>> y = residual_block(inputs, 16, drop_rate=0.1, seed=0, name="block1")
    >>> y = residual_block(y, 32, drop_rate=0.2, seed=1, name="block2")
    """
    units = check_positive_int("units", units)
    kernel_size = check_positive_int("kernel_size", kernel_size)
    check_in_range("drop_rate", drop_rate, 0.0, 1.0)
    check_seed(seed)
    rank = len(x.shape)
    if rank not in _LAYERS:
        raise ValueError(
            "Argument `x` must have rank 2 (Dense) to 5 (Conv3D), channels last. "
            f"Received: x.shape={tuple(x.shape)}"
        )
    layer_cls = _LAYERS[rank]
    extra = {} if rank == 2 else {"kernel_size": kernel_size, "padding": "same"}

    def named(suffix):
        return None if name is None else f"{name}_{suffix}"

    def he(offset):
        return keras.initializers.HeNormal(seed=None if seed is None else seed + offset)

    h = layer_cls(units, activation=activation, kernel_initializer=he(0),
                  name=named("conv1" if rank > 2 else "dense1"), **extra)(x)
    last_init = "zeros" if zero_init_last else he(1)
    f = layer_cls(units, kernel_initializer=last_init,
                  name=named("conv2" if rank > 2 else "dense2"), **extra)(h)
    shortcut = x
    if x.shape[-1] != units:
        proj = {} if rank == 2 else {"kernel_size": 1}
        shortcut = layer_cls(units, kernel_initializer=keras.initializers.GlorotUniform(
            seed=None if seed is None else seed + 2), name=named("projection"), **proj)(x)
    return StochasticDepth(drop_rate, seed=seed, name=named("stochastic_depth"))(
        [shortcut, f])
