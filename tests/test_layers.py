"""DropConnectDense, StochasticDepth and residual_block."""

import keras
import numpy as np
import pytest

from kerastools.layers import DropConnectDense
from kerastools.layers import StochasticDepth
from kerastools.layers import residual_block


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _twin_dense(layer, x, **dense_kwargs):
    """A keras.layers.Dense with the same configuration and weights."""
    config = {k: v for k, v in layer.get_config().items()
              if k not in ("rate", "drop_bias", "seed", "name")}
    config.update(dense_kwargs)
    dense = keras.layers.Dense.from_config(config)
    dense.build(x.shape)
    dense.set_weights(layer.get_weights())
    return dense


# ---------------------------------------------------------------- DropConnect
@pytest.mark.parametrize("kwargs", [
    dict(activation="relu"),
    dict(activation="tanh", use_bias=False),
    dict(activation="sigmoid", kernel_initializer="he_normal",
         bias_initializer=keras.initializers.RandomNormal(seed=1),
         kernel_regularizer="l2", bias_regularizer="l1", kernel_constraint="max_norm",
         bias_constraint="non_neg", activity_regularizer="l1"),
    dict(lora_rank=2),
])
def test_inference_equals_keras_dense_exactly(kwargs):
    x = _x((16, 12))
    layer = DropConnectDense(7, rate=0.5, seed=1, **kwargs)
    layer(x)
    if layer.lora_enabled:  # make the LoRA delta non-zero
        layer.lora_kernel_b.assign(_x((2, 7), seed=3))
    dense = _twin_dense(layer, x)
    np.testing.assert_array_equal(_np(layer(x, training=False)), _np(dense(x)))
    np.testing.assert_array_equal(_np(layer(x)), _np(dense(x)))
    # rate = 0: training is the Dense layer too.
    zero = DropConnectDense.from_config({**layer.get_config(), "rate": 0.0})
    zero(x)
    zero.set_weights(layer.get_weights())
    np.testing.assert_array_equal(_np(zero(x, training=True)), _np(dense(x)))
    # Same regularisation losses as Dense.
    np.testing.assert_allclose([float(v) for v in layer.losses],
                               [float(v) for v in dense.losses], rtol=1e-6)


@pytest.mark.parametrize("rate", [0.2, 0.5, 0.8])
def test_weights_are_dropped_at_rate_with_inverted_scaling(rate):
    # x = I reads the masked, scaled kernel row by row.
    layer = DropConnectDense(200, rate=rate, use_bias=False, kernel_initializer="ones", seed=2)
    out = _np(layer(np.eye(100, dtype="float32"), training=True))
    kept = out != 0
    # 20000 Bernoulli draws: std of the fraction <= 0.0036.
    assert abs(1 - kept.mean() - rate) < 0.015
    np.testing.assert_allclose(out[kept], 1.0 / (1.0 - rate), rtol=1e-6)
    assert abs(out.mean() - 1.0) < 0.05  # E[M / (1 - rate)] = 1


def test_training_expectation_is_the_inference_output():
    x = _x((1, 30))
    layer = DropConnectDense(5, rate=0.5, bias_initializer="ones", seed=3)
    expected = _np(layer(x, training=False))
    draws = np.stack([_np(layer(x, training=True)) for _ in range(300)])
    # Monte Carlo mean within 4 standard errors.
    se = draws.std(0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(0) - expected) < 4 * se + 1e-6)
    assert np.all(draws.std(0) > 0)


def test_one_mask_per_batch_and_new_mask_per_call():
    layer = DropConnectDense(50, rate=0.5, seed=4)
    x = np.repeat(_x((1, 20)), 8, axis=0)
    a = _np(layer(x, training=True))
    np.testing.assert_allclose(a, np.repeat(a[:1], 8, axis=0), rtol=1e-5, atol=1e-6)
    b = _np(layer(x, training=True))
    assert np.abs(a - b).max() > 0.1


def test_drop_bias():
    layer = DropConnectDense(400, rate=0.5, bias_initializer="ones", drop_bias=True, seed=5)
    out = _np(layer(np.zeros((1, 3), "float32"), training=True))
    assert set(np.unique(out)) == {0.0, 2.0}
    keep = DropConnectDense(4, rate=0.5, bias_initializer="ones", seed=5)
    np.testing.assert_array_equal(_np(keep(np.zeros((1, 3), "float32"), training=True)), 1.0)


def test_seeded_layers_repeat():
    x = _x((4, 10))
    a, b = (DropConnectDense(6, rate=0.5, kernel_initializer="ones", seed=7) for _ in range(2))
    np.testing.assert_array_equal(_np(a(x, training=True)), _np(b(x, training=True)))
    # Another seed, compared on first calls: on PyTorch, Keras seeds a draw with the sum
    # of its seed generator's (seed, counter) pair, so seed 7's second draw is seed 8's first.
    a2 = DropConnectDense(6, rate=0.5, kernel_initializer="ones", seed=7)
    c = DropConnectDense(6, rate=0.5, kernel_initializer="ones", seed=8)
    assert not np.array_equal(_np(a2(x, training=True)), _np(c(x, training=True)))


def test_fits_in_an_xla_compiled_train_step():
    x, y = _x((64, 10)), np.arange(64) % 3
    inputs = keras.Input((10,))
    h = DropConnectDense(32, rate=0.5, activation="relu", seed=7)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3)(h))
    model.compile(keras.optimizers.Adam(0.01),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=True)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    before = float(loss(y, model(x)))
    model.fit(x, y, epochs=8, batch_size=16, verbose=0, shuffle=False)
    assert float(loss(y, model(x))) < 0.8 * before


@pytest.mark.parametrize("policy", ["float64", "mixed_float16"])
def test_dtype_policies(policy):
    layer = DropConnectDense(6, rate=0.5, seed=1, dtype=policy)
    x = _x((4, 5))
    y_train = layer(x, training=True)
    y_eval = layer(x, training=False)
    expected = "float64" if policy == "float64" else "float16"
    assert keras.backend.standardize_dtype(y_train.dtype) == expected
    dense = _twin_dense(layer, x, dtype=policy)
    np.testing.assert_array_equal(_np(y_eval), _np(dense(x)))


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_bad_rate(rate):
    with pytest.raises(ValueError, match=r"Argument `rate` must be in \[0.0, 1.0\)\. "
                                         rf"Received: rate={rate}"):
        DropConnectDense(4, rate=rate)
    with pytest.raises(ValueError, match=r"Argument `rate` must be in \[0.0, 1.0\)"):
        StochasticDepth(rate)


def test_nan_rate():
    with pytest.raises(ValueError, match="Argument `rate` must be a finite real number. "
                                         "Received: rate=nan"):
        DropConnectDense(4, rate=float("nan"))


def test_bad_arguments_and_shapes():
    with pytest.raises(ValueError, match="units"):
        DropConnectDense(0)
    with pytest.raises(ValueError, match="Argument `seed` must be an integer or None"):
        DropConnectDense(3, seed="x")
    with pytest.raises(ValueError, match="Argument `drop_bias` must be a bool"):
        DropConnectDense(3, drop_bias=1)
    layer = DropConnectDense(3)
    layer(_x((2, 5)))
    with pytest.raises(ValueError, match="incompatible"):
        layer(_x((2, 6)), training=True)


# ------------------------------------------------------------ StochasticDepth
def test_stochastic_depth_inference_is_the_sum():
    a, b = _x((8, 5)), _x((8, 5), seed=1)
    layer = StochasticDepth(0.7, seed=1)
    np.testing.assert_array_equal(_np(layer([a, b])), _np(keras.ops.add(a, b)))
    np.testing.assert_array_equal(_np(layer([a, b], training=False)), _np(keras.ops.add(a, b)))
    np.testing.assert_array_equal(_np(StochasticDepth(0.0)([a, b], training=True)),
                                  _np(keras.ops.add(a, b)))


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_stochastic_depth_drops_whole_samples(rate):
    n = 4000
    shortcut = np.zeros((n, 3, 3, 2), "float32")
    residual = np.ones((n, 3, 3, 2), "float32")
    out = _np(StochasticDepth(rate, seed=3)([shortcut, residual], training=True))
    per_sample = out.reshape(n, -1)
    # Each sample is either all 0 (dropped) or all 1 / (1 - rate) (kept).
    assert np.all(per_sample.min(1) == per_sample.max(1))
    kept = per_sample[:, 0] != 0
    np.testing.assert_allclose(per_sample[kept], 1 / (1 - rate), rtol=1e-6)
    assert abs(1 - kept.mean() - rate) < 4 * np.sqrt(rate * (1 - rate) / n)
    assert abs(out.mean() - 1.0) < 0.05  # E[y] = shortcut + residual


def test_stochastic_depth_bad_calls():
    layer = StochasticDepth(0.2)
    with pytest.raises(ValueError, match=r"a list \[shortcut, residual\]"):
        layer(_x((2, 3)))
    with pytest.raises(ValueError, match=r"same shape.*shortcut.shape=\(2, 3\), "
                                         r"residual.shape=\(2, 4\)"):
        StochasticDepth(0.2)([_x((2, 3)), _x((2, 4))])


# ------------------------------------------------------------- residual_block
def _block_model(shape, units, depth=1, **kwargs):
    inputs = keras.Input(shape)
    y = inputs
    for i in range(depth):
        y = residual_block(y, units, seed=10 * i, name=f"b{i}", **kwargs)
    return keras.Model(inputs, y)


@pytest.mark.parametrize("shape", [(64,), (8, 8, 16)])
def test_zero_init_keeps_variance_msra_grows_it(shape):
    x = _x((512,) + shape)
    units = shape[-1]
    zero = _block_model(shape, units)
    out = _np(zero(x))
    # F(x) = 0 at initialisation: x + F(x) = x, so Var(x + F(x)) = Var(x).
    np.testing.assert_array_equal(out, x)
    msra = _block_model(shape, units, zero_init_last=False)
    var_ratio = _np(msra(x)).var() / x.var()
    # He init: Var(F(x)) ~ 2 Var(x) for Dense (course: Var(F(x)+x) > Var(x)).
    assert var_ratio > 1.8, var_ratio


def test_variance_explodes_with_depth_only_without_zero_init():
    x = _x((512, 32))
    deep_msra = _block_model((32,), 32, depth=6, zero_init_last=False)
    deep_zero = _block_model((32,), 32, depth=6, drop_rate=0.3)
    assert _np(deep_msra(x)).var() > 50 * x.var()
    np.testing.assert_allclose(_np(deep_zero(x, training=True)).var(), x.var(), rtol=1e-6)


def test_residual_block_projection_and_layers():
    model = _block_model((8, 8, 3), 16, kernel_size=3, drop_rate=0.2)
    names = {layer.name: type(layer).__name__ for layer in model.layers}
    assert names["b0_conv1"] == "Conv2D" and names["b0_projection"] == "Conv2D"
    assert names["b0_stochastic_depth"] == "StochasticDepth"
    assert model.get_layer("b0_stochastic_depth").rate == 0.2
    assert model.output.shape == (None, 8, 8, 16)
    np.testing.assert_array_equal(_np(model.get_layer("b0_conv2").kernel), 0.0)
    assert _block_model((10, 4), 6).get_layer("b0_conv1").__class__.__name__ == "Conv1D"


def test_residual_block_trains():
    x, y = _x((128, 16)), (np.arange(128) % 2).astype("float32")
    inputs = keras.Input((16,))
    h = residual_block(inputs, 16, drop_rate=0.2, seed=1, name="r1")
    h = residual_block(h, 16, drop_rate=0.2, seed=2, name="r2")
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(h))
    model.compile("adam", "binary_crossentropy")
    hist = model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    # The zero-initialised last layers moved away from zero.
    last = [layer for layer in model.layers if layer.name.endswith("dense2")]
    assert len(last) == 2 and all(np.abs(_np(layer.kernel)).max() > 0 for layer in last)


def test_residual_block_bad_arguments():
    with pytest.raises(ValueError, match="Argument `units` must be > 0. Received: units=0"):
        residual_block(keras.Input((4,)), 0)
    with pytest.raises(ValueError, match="Argument `drop_rate` must be in"):
        residual_block(keras.Input((4,)), 4, drop_rate=1.0)
    with pytest.raises(ValueError, match=r"Argument `x` must have rank 2.*x.shape=\(None, 1, 2, 3, 4, 5\)"):
        residual_block(keras.Input((1, 2, 3, 4, 5)), 4)


@pytest.mark.parametrize("kind", ["drop_connect", "stochastic_depth"])
def test_training_resumed_after_load_draws_the_masks_it_would_have_drawn(tmp_path, kind):
    """Keras saves no seed-generator state; these layers save theirs, so the run resumed
    from the file continues the saved run instead of drawing its first masks again."""
    x = _x((64, 8))
    y = np.argmax(x[:, :3], axis=1)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8,))
    if kind == "drop_connect":
        h = DropConnectDense(16, rate=0.5, activation="relu", seed=1, name="random")(inputs)
    else:
        h = keras.layers.Dense(8, activation="relu")(inputs)
        h = StochasticDepth(0.5, seed=3, name="random")([h, keras.layers.Dense(8)(h)])
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(h))
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    state = model.get_layer("random").seed_generator.state
    assert _np(state)[1] > 0  # the generator has moved on during fit
    np.testing.assert_array_equal(_np(loaded.get_layer("random").seed_generator.state), _np(state))
    for m in (model, loaded):
        m.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
