"""Scaled initialisers that Keras does not name: a small uniform, Glorot for sigmoid units.

- ``SmallUniform``: ``W = 0.001 * np.random.random(fan_in, fan_out)``, the
  initialiser the course uses to show activations vanishing in a deep tanh MLP.
- ``GlorotSigmoidUniform`` / ``GlorotSigmoidNormal``: Glorot and Bengio's
  initialisation for logistic-sigmoid units, four times the tanh bound.

The 1/sqrt(fan_in) ("Xavier" in the course's figures), Glorot and He
initialisers are Keras built-ins: ``VarianceScaling(1.0, "fan_in",
"untruncated_normal")``, ``GlorotUniform``, ``GlorotNormal``, ``HeNormal``,
``HeUniform``.
"""

import keras

from kerastools._checks import check_positive


def _check_seed(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(
            f"Argument `seed` must be an integer or None. Received: seed={seed!r}"
        )
    return seed


@keras.saving.register_keras_serializable(package="kerastools")
class SmallUniform(keras.initializers.RandomUniform):
    """Small uniform initialiser: ``W = scale * U[0, 1)``.

    The course's "how about randomly initialising?" experiment
    (``W = 0.001 * np.random.random(d_l, d_{l-1})``): the weights differ, so
    the symmetry problem is gone, but they are so small that in a deep tanh
    network the activations shrink layer after layer towards zero, and with
    them the gradients.

    Update rule (sampling):

    ```
    w ~ scale * U[0, 1)           # centered=False (the course's formula)
    w ~ scale * U[-1, 1)          # centered=True (zero mean)
    ```

    Args:
        scale: Positive float, the largest weight magnitude. Defaults to
            `0.001`.
        centered: Boolean, whether to sample in `[-scale, scale)` instead of
            `[0, scale)`. Defaults to `False`.
        seed: Integer or `None`. With an integer the initialiser is
            deterministic (the same values at every call, as Keras' own
            seeded initialisers). Defaults to `None`.

    Example:

    >>> init = SmallUniform(scale=0.001, seed=0)
    >>> w = init((784, 200))
    >>> float(keras.ops.max(w)) < 0.001
    True
    """

    def __init__(self, scale=0.001, centered=False, seed=None):
        self.scale = check_positive("scale", scale)
        if not isinstance(centered, bool):
            raise ValueError(
                f"Argument `centered` must be a bool. Received: centered={centered!r}"
            )
        self.centered = centered
        super().__init__(
            minval=-self.scale if centered else 0.0,
            maxval=self.scale,
            seed=_check_seed(seed),
        )

    def get_config(self):
        return {"scale": self.scale, "centered": self.centered, "seed": self._init_seed}


@keras.saving.register_keras_serializable(package="kerastools")
class GlorotSigmoidUniform(keras.initializers.VarianceScaling):
    """Glorot uniform initialiser for logistic-sigmoid units (x4 bound).

    Reference: Glorot and Bengio, 2010, "Understanding the difficulty of
    training deep feedforward neural networks"; the factor 4 comes from the
    sigmoid's slope 1/4 at 0 (sigma(x) ~ 1/2 + x/4), so its pre-activations
    need 16 times the tanh variance to pass the same signal.

    ```
    a = 4 * sqrt(6 / (fan_in + fan_out))
    w ~ U(-a, a)                    # Var(w) = 16 * 2 / (fan_in + fan_out)
    ```

    Equal to ``keras.initializers.VarianceScaling(16.0, "fan_avg",
    "uniform")``.

    Args:
        seed: Integer or `None`. Defaults to `None`.

    Example:

    >>> layer = keras.layers.Dense(
    ...     64, activation="sigmoid",
    ...     kernel_initializer=GlorotSigmoidUniform(seed=1))
    """

    def __init__(self, seed=None):
        super().__init__(
            scale=16.0, mode="fan_avg", distribution="uniform", seed=_check_seed(seed)
        )

    def get_config(self):
        return {"seed": self._init_seed}


@keras.saving.register_keras_serializable(package="kerastools")
class GlorotSigmoidNormal(keras.initializers.VarianceScaling):
    """Glorot normal initialiser for logistic-sigmoid units (x4 std).

    Reference: Glorot and Bengio, 2010 (see ``GlorotSigmoidUniform``).

    ```
    w ~ TruncatedNormal(0, std),  std = 4 * sqrt(2 / (fan_in + fan_out))
    ```

    (the standard deviation is that of the samples after truncation, as in
    Keras' ``GlorotNormal``). Equal to ``VarianceScaling(16.0, "fan_avg",
    "truncated_normal")``.

    Args:
        seed: Integer or `None`. Defaults to `None`.

    Example:

    >>> init = GlorotSigmoidNormal(seed=1)
    >>> w = init((100, 100))
    """

    def __init__(self, seed=None):
        super().__init__(
            scale=16.0, mode="fan_avg", distribution="truncated_normal",
            seed=_check_seed(seed),
        )

    def get_config(self):
        return {"seed": self._init_seed}
