"""LRFinder / find_learning_rate: the sweep, the losses, the restore, the suggestions."""

import keras
import numpy as np
import pytest

from kerastools import schedules as S
from kerastools.callbacks.lr_finder import LRFinder
from kerastools.callbacks.lr_finder import find_learning_rate
from kerastools.callbacks.lr_finder import suggest
from kerastools.callbacks.lr_logger import LearningRateLogger
from kerastools.plotting.schedules import plot_lr_finder


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.3).astype("float32")
    return x, y


def linear_model(optimizer):
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(1, kernel_initializer="zeros")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=optimizer, loss="mse")
    return model


def global_rng_state():
    """The backend's global generator (PyTorch's; the others keep no global state)."""
    if keras.backend.backend() == "torch":
        import torch

        return torch.random.get_rng_state().numpy()
    return np.zeros(0)


def mlp(optimizer, seed=3):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((3,))
    z = keras.layers.Dense(16, activation="relu")(inputs)
    # Seeded: its mask then comes from the layer's own generator state (a model variable)
    # on every backend, not from PyTorch's global generator, which a twin model shares.
    z = keras.layers.Dropout(0.3, seed=seed)(z)
    z = keras.layers.BatchNormalization()(z)
    model = keras.Model(inputs, keras.layers.Dense(1)(z))
    model.compile(optimizer=optimizer, loss="mse")
    return model


def state(model):
    return ([np.array(keras.ops.convert_to_numpy(v)) for v in model.variables],
            [np.array(keras.ops.convert_to_numpy(v)) for v in model.optimizer.variables])


def test_sweep_losses_are_the_batch_losses_of_an_sgd_simulation():
    x, y = data(64)
    model = linear_model(keras.optimizers.SGD(0.01))
    result = find_learning_rate(model, x, y, batch_size=8, min_learning_rate=1e-3,
                                max_learning_rate=0.5, num_steps=20, shuffle=False,
                                divergence_threshold=1e6)
    lrs = 1e-3 * (0.5 / 1e-3) ** (np.arange(20) / 19)
    np.testing.assert_allclose(result.learning_rates, lrs, rtol=1e-12)
    # NumPy SGD on the same batches, same rates: the loss before each update.
    w, b = np.zeros((3, 1)), 0.0
    want = []
    for k in range(20):
        j = k % 8
        xb, yb = x[j * 8:(j + 1) * 8].astype("float64"), y[j * 8:(j + 1) * 8].astype("float64")
        err = xb @ w + b - yb
        want.append(float(np.mean(err**2)))
        w = w - lrs[k] * 2 * xb.T @ err / 8
        b = b - lrs[k] * 2 * float(np.mean(err))
    np.testing.assert_allclose(result.losses, want, rtol=2e-4)
    assert not result.stopped_early
    # Smoothed with the compensated EMA: an independent transcription.
    ema, smoothed = 0.0, []
    for n, v in enumerate(want):
        ema = 0.98 * ema + 0.02 * v
        smoothed.append(ema / (1 - 0.98 ** (n + 1)))
    np.testing.assert_allclose(result.smoothed_losses, smoothed, rtol=2e-4)


def test_restores_everything_bit_for_bit_and_training_goes_on_unchanged():
    x, y = data(96)
    a, b = mlp(keras.optimizers.Adam(1e-3)), mlp(keras.optimizers.Adam(1e-3))
    for m in (a, b):
        m.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    before_vars, before_opt = state(a)
    before_rng = global_rng_state()
    result = find_learning_rate(a, x, y, batch_size=16, min_learning_rate=1e-5,
                                max_learning_rate=10.0, num_steps=30)
    assert np.array_equal(global_rng_state(), before_rng)
    assert len(result.losses) > 5
    after_vars, after_opt = state(a)
    assert len(after_vars) == len(before_vars) and len(after_opt) == len(before_opt)
    for u, v in zip(before_vars + before_opt, after_vars + after_opt):
        assert np.array_equal(u, v)
    assert float(a.optimizer.learning_rate) == pytest.approx(1e-3)
    for m in (a, b):
        m.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for u, v in zip(state(a)[0] + state(a)[1], state(b)[0] + state(b)[1]):
        assert np.array_equal(u, v)


def test_a_schedule_is_put_back_and_drives_the_next_fit():
    x, y = data(64)
    sched = S.CyclicalLearningRate(1e-3, 1e-2, 4)
    model = linear_model(keras.optimizers.SGD(sched, momentum=0.9))
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    before = state(model)
    result = find_learning_rate(model, x, y, batch_size=8, num_steps=12, min_learning_rate=1e-4,
                                max_learning_rate=1e-1)
    assert len(result.losses) == 12
    assert model.optimizer._learning_rate is sched
    for u, v in zip(before[0] + before[1], state(model)[0] + state(model)[1]):
        assert np.array_equal(u, v)
    logger = LearningRateLogger(per_batch=True)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=[logger])
    np.testing.assert_allclose(logger.batch_learning_rates,
                               np.asarray(sched(np.arange(8, 16, dtype="float32"))), rtol=1e-6)


def test_stops_when_the_loss_diverges_and_as_a_callback():
    x, y = data(64)
    model = linear_model(keras.optimizers.SGD(0.01))
    finder = LRFinder(1e-3, 100.0, num_steps=200, mode="linear")
    model.fit(x, y, batch_size=8, epochs=50, verbose=0, callbacks=[finder])
    r = finder.result
    assert r.stopped_early and 2 < len(r.losses) < 200
    assert r.smoothed_losses[-1] > 4 * np.nanmin(r.smoothed_losses[:-1]) or \
        not np.isfinite(r.smoothed_losses[-1])
    np.testing.assert_allclose(np.diff(r.learning_rates), (100.0 - 1e-3) / 199, rtol=1e-9)
    assert not model.stop_training


def test_suggestions_on_a_known_curve():
    lrs = np.logspace(-5, 0, 101)
    u = np.log10(lrs)
    loss = 2.0 - np.tanh(2 * (u + 3)) + np.where(u > -1, 50 * (u + 1) ** 2, 0.0)
    s = suggest(lrs, loss, skip_start=0, skip_end=0)
    assert s["steepest"] == pytest.approx(1e-3, rel=0.13)  # tanh is steepest at u = -3
    assert s["minimum_over_10"] == pytest.approx(lrs[np.argmin(loss)] / 10)


def test_plot(tmp_path):
    x, y = data(64)
    model = linear_model(keras.optimizers.SGD(0.01))
    result = find_learning_rate(model, x, y, batch_size=8, num_steps=16, min_learning_rate=1e-4,
                                max_learning_rate=1.0)
    assert all(v is not None for v in result.suggestions.values())
    for fig in (result.plot(), plot_lr_finder(result)):
        (ax,) = fig.axes
        assert ax.get_xscale() == "log"
        raw, smooth, *markers = ax.get_lines()
        np.testing.assert_array_equal(raw.get_xdata(), result.learning_rates)
        np.testing.assert_array_equal(raw.get_ydata(), result.losses)
        np.testing.assert_array_equal(smooth.get_xdata(), result.learning_rates)
        np.testing.assert_array_equal(smooth.get_ydata(), result.smoothed_losses)
        # One vertical line per suggestion, at the suggested rate and labelled with it.
        assert len(markers) == 2
        for line, (name, lr) in zip(markers, result.suggestions.items()):
            np.testing.assert_array_equal(line.get_xdata(), [lr, lr])
            assert line.get_label().startswith(name)
        low, high = ax.get_ylim()
        finite = result.smoothed_losses[np.isfinite(result.smoothed_losses)]
        assert low < finite.min() and high > finite[0]  # the smoothed curve is in view
    from kerastools.plotting import save_figure

    save_figure(fig, tmp_path / "lr.png")
    assert (tmp_path / "lr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("kwargs, match", [
    ({"min_learning_rate": 0.0}, "min_learning_rate=0.0"),
    ({"min_learning_rate": 1.0, "max_learning_rate": 0.1}, "max_learning_rate=0.1"),
    ({"num_steps": 1}, "num_steps=1"),
    ({"mode": "cubic"}, "mode='cubic'"),
    ({"smoothing": 1.0}, "smoothing=1.0"),
    ({"divergence_threshold": 0.5}, "divergence_threshold=0.5"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LRFinder(**kwargs)
