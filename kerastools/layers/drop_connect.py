"""DropConnect: a Dense layer that drops weights instead of activations."""

import keras

from kerastools._checks import check_in_range
from kerastools._checks import check_seed
from kerastools.layers.seed_state import SavesSeedState


@keras.saving.register_keras_serializable(package="kerastools")
class DropConnectDense(SavesSeedState, keras.layers.Dense):
    """Densely-connected layer with DropConnect on its kernel.

    Reference: Wan, Zeiler, Zhang, LeCun and Fergus, 2013, "Regularization of
    Neural Networks using DropConnect" (ICML).

    Where ``Dropout`` zeroes activations, DropConnect zeroes each *weight*
    independently with probability ``rate``. As in the course ("the random
    pattern is generated at the start of each mini-batch and held fixed
    during that mini-batch"), one mask is drawn per batch and shared by its
    samples. Inverted scaling keeps the expected pre-activation unchanged, so
    inference is the plain mean network:

    ```
    training:   M_ij ~ Bernoulli(1 - rate)
                y = activation(x @ (M * W) / (1 - rate) + b)
    inference:  y = activation(x @ W + b)          # exactly keras.layers.Dense
    ```

    (Wan et al. approximate inference by moment matching a Gaussian per unit;
    the mean network used here is the usual, cheaper choice.) With
    ``drop_bias=True`` the bias is dropped and rescaled the same way.

    Every ``keras.layers.Dense`` option works (initialisers, regularisers,
    constraints, ``activity_regularizer``, LoRA, dtype policies). A quantized
    layer runs Keras' quantized kernels, which have no training-time
    DropConnect: quantize after training.

    Args:
        units: Positive integer, dimensionality of the output space.
        rate: Float in `[0, 1)`, probability of dropping each weight.
            Defaults to `0.5` (Wan et al.).
        activation: Activation function. Defaults to `None` (linear).
        use_bias: Boolean, whether the layer has a bias. Defaults to `True`.
        kernel_initializer: Initializer for the kernel. Defaults to
            `"glorot_uniform"`.
        bias_initializer: Initializer for the bias. Defaults to `"zeros"`.
        kernel_regularizer: Regularizer for the kernel. Defaults to `None`.
        bias_regularizer: Regularizer for the bias. Defaults to `None`.
        activity_regularizer: Regularizer for the output. Defaults to `None`.
        kernel_constraint: Constraint for the kernel. Defaults to `None`.
        bias_constraint: Constraint for the bias. Defaults to `None`.
        lora_rank: Optional integer, LoRA rank (see `keras.layers.Dense`);
            DropConnect then drops entries of the effective kernel. Defaults
            to `None`.
        lora_alpha: Optional integer, LoRA scale. Defaults to `None`.
        drop_bias: Boolean, whether the bias is dropped too. Defaults to
            `False`.
        seed: Integer or `None`, seed of the masks (a
            `keras.random.SeedGenerator`). Defaults to `None`.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Example:

    >>> inputs = keras.Input((784,))
    >>> h = DropConnectDense(200, rate=0.5, activation="relu", seed=1)(inputs)
    >>> outputs = keras.layers.Dense(10, activation="softmax")(h)
    >>> model = keras.Model(inputs, outputs)
    """

    def __init__(
        self,
        units,
        rate=0.5,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        drop_bias=False,
        seed=None,
        **kwargs,
    ):
        self.rate = check_in_range("rate", rate, 0.0, 1.0)
        if not isinstance(drop_bias, bool):
            raise ValueError(
                f"Argument `drop_bias` must be a bool. Received: drop_bias={drop_bias!r}"
            )
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            lora_rank=lora_rank,
            lora_alpha=lora_alpha,
            **kwargs,
        )
        self.drop_bias = drop_bias
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return super().call(inputs, training=training)
        kernel = keras.random.dropout(
            keras.ops.convert_to_tensor(self.kernel), self.rate, seed=self.seed_generator)
        x = keras.ops.matmul(inputs, kernel)
        if self.bias is not None:
            bias = keras.ops.convert_to_tensor(self.bias)
            if self.drop_bias:
                bias = keras.random.dropout(bias, self.rate, seed=self.seed_generator)
            x = keras.ops.add(x, bias)
        if self.activation is not None:
            x = self.activation(x)
        return x

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "rate": self.rate,
                "drop_bias": self.drop_bias,
                "seed": self.seed,
                "lora_rank": self.lora_rank,
                "lora_alpha": self.lora_alpha,
                "activity_regularizer": keras.regularizers.serialize(
                    self.activity_regularizer
                ),
            }
        )
        return config
