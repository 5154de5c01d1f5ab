"""Batch normalisation whose moving statistics are transient-compensated."""

import keras

from kerastools._checks import check_in_range
from kerastools.filters import ARMAFilter


@keras.saving.register_keras_serializable(package="kerastools")
class DebiasedBatchNormalization(keras.layers.BatchNormalization):
    """``BatchNormalization`` with debiased (transient-compensated) moving stats.

    References: Ioffe and Szegedy, 2015, "Batch Normalization"; the
    transient compensation is Adam's bias correction (Kingma and Ba, 2015),
    applied by the filter core ``kerastools.filters.ARMAFilter``.

    Keras' moving statistics are exponential averages started at 0 (mean)
    and 1 (variance), with no compensation of the start-up transient: after
    ``n`` steps with momentum ``p`` the moving mean is only
    ``1 - p**n`` of the batch means' level (26% after 30 steps with
    ``p = 0.99``), so inference early in training is badly biased. Here both
    statistics are the output of ``ARMAFilter.ema(momentum,
    transient_compensation=True)`` run on the batch moments, i.e. an EMA
    started at 0 and divided by its step response:

    ```
    e[n] = p * e[n-1] + (1 - p) * [mu_B[n], var_B[n]],     e[-1] = 0
    s[n] = p * s[n-1] + (1 - p),                           s[-1] = 0
    moving_mean, moving_variance = e[n] / s[n]             # s[n] = 1 - p**(n+1)
    ```

    so after the first step they equal that batch's moments, and in general
    a normalised exponentially weighted average of all batch moments seen.
    As ``n`` grows, ``s[n] -> 1`` and the layer equals Keras'
    ``BatchNormalization`` (whose start values are forgotten). Training-mode
    outputs are identical to Keras'.

    The filter state (``e`` for mean and variance, stacked, and ``s``) lives
    in two non-trainable variables, ``filter_state_0`` (shape ``(2, C)``) and
    ``filter_state_1`` (a scalar), so ``model.save`` and resuming keep it;
    ``moving_mean`` and ``moving_variance`` hold the compensated values that
    inference uses, as in Keras. Before the first training step they keep
    their initial values. Batch renormalisation (``renorm=True``) is not
    supported.

    Args:
        axis: Integer, the feature axis. Defaults to `-1`.
        momentum: Float in `[0, 1)`, the EMA decay `p`. Defaults to `0.99`.
        epsilon: Small float added to the variance. Defaults to `1e-3`.
        center: Boolean, add the offset `beta`. Defaults to `True`.
        scale: Boolean, multiply by `gamma`. Defaults to `True`.
        **kwargs: The other `keras.layers.BatchNormalization` arguments
            (initialisers, regularisers, constraints, `synchronized`) and
            base layer arguments.

    Example:

    >>> inputs = keras.Input((28, 28, 1))
    >>> h = keras.layers.Conv2D(16, 3, use_bias=False)(inputs)
    >>> h = DebiasedBatchNormalization(momentum=0.99)(h)
    >>> h = keras.layers.Activation("relu")(h)
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 **kwargs):
        momentum = check_in_range("momentum", momentum, 0.0, 1.0)
        if kwargs.get("renorm", False):
            raise ValueError(
                "Argument `renorm` is not supported by DebiasedBatchNormalization "
                "(batch renormalisation has its own moving statistics). "
                f"Received: renorm={kwargs['renorm']!r}"
            )
        super().__init__(axis=axis, momentum=momentum, epsilon=epsilon, center=center,
                         scale=scale, **kwargs)
        self._filter = ARMAFilter.ema(momentum, transient_compensation=True)

    def build(self, input_shape):
        super().build(input_shape)
        channels = input_shape[self.axis]
        dtype = self.moving_mean.dtype
        initial = self._filter.initial_state((2, channels), dtype)
        self.filter_state = [
            self.add_weight(
                shape=tuple(tensor.shape),
                name=f"filter_state_{i}",
                initializer="zeros",
                dtype=dtype,
                trainable=False,
                autocast=False,
            )
            for i, tensor in enumerate(initial)
        ]

    def call(self, inputs, training=None, mask=None):
        if training and self.trainable:
            # BatchNormalization._moments handles masks and `synchronized`.
            compute_dtype = keras.backend.result_type(inputs.dtype, "float32")
            x = keras.ops.cast(inputs, compute_dtype)
            mean, variance = self._moments(x, mask)
            state_dtype = self.filter_state[0].dtype
            moments = keras.ops.cast(keras.ops.stack([mean, variance]), state_dtype)
            state = tuple(keras.ops.convert_to_tensor(v) for v in self.filter_state)
            debiased, new_state = self._filter.step(moments, state)
            for variable, value in zip(self.filter_state, new_state):
                variable.assign(value)
            self.moving_mean.assign(keras.ops.cast(debiased[0], self.moving_mean.dtype))
            self.moving_variance.assign(
                keras.ops.cast(debiased[1], self.moving_variance.dtype))
            outputs = keras.ops.batch_normalization(
                x=x,
                mean=mean,
                variance=variance,
                axis=self.axis,
                offset=None if not self.center else keras.ops.cast(self.beta, x.dtype),
                scale=None if not self.scale else keras.ops.cast(self.gamma, x.dtype),
                epsilon=self.epsilon,
            )
            return keras.ops.cast(outputs, self.compute_dtype)
        return super().call(inputs, training=False, mask=mask)
