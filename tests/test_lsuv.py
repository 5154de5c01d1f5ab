"""LSUV: every layer's output variance on the batch is 1 within tol."""

import keras
import numpy as np
import pytest

from kerastools.initializers import lsuv_initialize
from kerastools.layers import DropConnectDense


def _x(shape, seed=0, scale=3.0, shift=0.5):
    return (shift + scale * np.random.default_rng(seed).normal(size=shape)).astype("float32")


def _pre_activation_variances(model, x):
    """Independent check: each Dense layer's x @ W + b, recomputed in NumPy."""
    out = {}
    h = x.astype("float64")
    for layer in model.layers:
        if not isinstance(layer, keras.layers.Dense):
            continue
        w = keras.ops.convert_to_numpy(layer.kernel).astype("float64")
        b = keras.ops.convert_to_numpy(layer.bias).astype("float64")
        z = h @ w + b
        out[layer.name] = z.var()
        h = keras.ops.convert_to_numpy(layer.activation(keras.ops.convert_to_tensor(z)))
    return out


def _tanh_mlp(depth=6, width=64, bias="zeros"):
    inputs = keras.Input((50,))
    h = inputs
    for i in range(depth):
        h = keras.layers.Dense(width, activation="tanh", bias_initializer=bias, name=f"d{i}")(h)
    outputs = keras.layers.Dense(10, name="out")(h)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("tol", [0.1, 0.01])
def test_tanh_mlp_pre_activation_variances_are_one(tol):
    model = _tanh_mlp(bias=keras.initializers.RandomNormal(stddev=0.3, seed=1))
    x = _x((256, 50))
    got = lsuv_initialize(model, x, tol=tol, max_iter=20, seed=0)
    assert list(got) == [f"d{i}" for i in range(6)] + ["out"]
    independent = _pre_activation_variances(model, x)
    for name, var in independent.items():
        assert abs(var - 1.0) < tol, (name, var)
        np.testing.assert_allclose(got[name], var, rtol=1e-4)


def test_kernels_are_rescaled_orthonormal_matrices():
    model = _tanh_mlp(depth=2, width=40)
    x = _x((128, 50))
    lsuv_initialize(model, x, tol=0.02, seed=0)
    for layer in model.layers[1:]:
        w = keras.ops.convert_to_numpy(layer.kernel).astype("float64")
        gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
        # W = c * Q with Q orthonormal: the Gram matrix is c^2 I.
        np.testing.assert_allclose(gram, gram[0, 0] * np.eye(len(gram)), atol=1e-4 * gram[0, 0])


def test_post_activation_relu_cnn():
    inputs = keras.Input((12, 12, 3))
    h = keras.layers.Conv2D(8, 3, activation="relu", name="c1")(inputs)
    h = keras.layers.BatchNormalization(name="bn")(h)  # no kernel: skipped
    h = keras.layers.MaxPooling2D(name="pool")(h)
    h = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="c2")(h)
    h = keras.layers.Flatten()(h)
    outputs = DropConnectDense(10, rate=0.3, name="dc")(h)
    model = keras.Model(inputs, outputs)
    x = _x((64, 12, 12, 3))
    got = lsuv_initialize(model, x, tol=0.05, output="post_activation", seed=0)
    assert list(got) == ["c1", "c2", "dc"]
    for name in got:
        probe = keras.Model(inputs, model.get_layer(name).output)
        var = float(np.var(keras.ops.convert_to_numpy(probe(x, training=False))))
        assert abs(var - 1.0) < 0.05, (name, var)


def test_sequential_and_non_convergence_warning():
    model = keras.Sequential([keras.Input((50,)), keras.layers.Dense(30, activation="tanh")])
    x = _x((64, 50))
    with pytest.warns(RuntimeWarning, match="layer 'dense'"):
        # tanh outputs lie in (-1, 1): unit post-activation variance is impossible.
        lsuv_initialize(model, x, tol=0.01, max_iter=3, output="post_activation")
    got = lsuv_initialize(model, x, tol=0.01, max_iter=10)
    assert abs(got["dense"] - 1) < 0.01


def test_unsupported_layer_is_named():
    inputs = keras.Input((5,), dtype="int32")
    h = keras.layers.Embedding(100, 8, name="words")(inputs)
    h = keras.layers.GlobalAveragePooling1D()(h)
    model = keras.Model(inputs, keras.layers.Dense(3)(h))
    with pytest.raises(ValueError, match=r"cannot handle layer 'words' \(Embedding\): it has weight"):
        lsuv_initialize(model, np.zeros((4, 5), "int32"))


def test_recurrent_layer_is_named():
    inputs = keras.Input((7, 4))
    model = keras.Model(inputs, keras.layers.LSTM(3, name="rnn")(inputs))
    with pytest.raises(ValueError, match=r"layer 'rnn' \(LSTM\)"):
        lsuv_initialize(model, _x((8, 7, 4)))


def test_nested_model_and_subclassed_model_rejected():
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)], name="inner")
    inputs = keras.Input((4,))
    model = keras.Model(inputs, inner(inputs))
    with pytest.raises(ValueError, match="layer 'inner'.*nested model"):
        lsuv_initialize(model, _x((8, 4)))

    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = keras.layers.Dense(3)

        def call(self, x):
            return self.d(x)

    sub = Sub()
    sub(_x((2, 4)))
    with pytest.raises(ValueError, match="Functional or Sequential"):
        lsuv_initialize(sub, _x((8, 4)))


def test_wrong_batch_shape_and_arguments():
    model = _tanh_mlp(depth=1)
    with pytest.raises(ValueError, match=r"Argument `x_batch` must have shape \(None, 50\).*"
                                         r"Received: x_batch.shape=\(8, 49\)"):
        lsuv_initialize(model, _x((8, 49)))
    with pytest.raises(ValueError, match="x_batch.shape=\\(0, 50\\)"):
        lsuv_initialize(model, _x((0, 50)))
    with pytest.raises(ValueError, match="Argument `tol` must be > 0. Received: tol=0"):
        lsuv_initialize(model, _x((8, 50)), tol=0)
    with pytest.raises(ValueError, match="Argument `max_iter` must be > 0"):
        lsuv_initialize(model, _x((8, 50)), max_iter=0)
    with pytest.raises(ValueError, match="Argument `output` must be one of"):
        lsuv_initialize(model, _x((8, 50)), output="both")


def test_zero_variance_batch_is_an_error():
    model = _tanh_mlp(depth=1)
    with pytest.raises(ValueError, match="layer 'd0'.*variance on `x_batch` is 0.0"):
        lsuv_initialize(model, np.zeros((8, 50), "float32"))
