"""LRFinder / find_learning_rate: the sweep, the losses, the restore, the suggestions."""

import json
import random

import keras
import numpy as np
import pytest

from kerastools import schedules as S
from kerastools.callbacks.lr_finder import LRFinder
from kerastools.callbacks.lr_finder import LRSweep
from kerastools.callbacks.lr_finder import diverged
from kerastools.callbacks.lr_finder import find_learning_rate
from kerastools.callbacks.lr_finder import suggest
from kerastools.callbacks.lr_finder import valley
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
    """Python's, NumPy's and (on PyTorch) torch's global generators, as comparable values."""
    state = [repr(random.getstate()), repr(np.random.get_state()[1].tolist())]
    if keras.backend.backend() == "torch":
        import torch

        state.append(repr(torch.random.get_rng_state().numpy().tolist()))
    return state


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
    assert global_rng_state() == before_rng
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
    # The callback trains the model it is given with the sweep (the optimizer's rate is
    # the LRSweep now, evaluated at the optimizer's step counter).
    step = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    assert float(model.optimizer.learning_rate) == pytest.approx(
        finder.learning_rate_at(step), rel=1e-5)


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
        assert len(markers) == 3 and list(result.suggestions) == [
            "steepest", "minimum_over_10", "valley"]
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


# --------------------------------------------------------------- faults (issue 16, item 5)
def snapshot(model):
    """Every model and optimizer variable, the rate object and its value, the RNG states."""
    variables, opt_variables = state(model)
    lr = model.optimizer.learning_rate
    return variables, opt_variables, float(keras.ops.convert_to_numpy(lr)), global_rng_state()


def assert_untouched(model, before, lr_object=None):
    variables, opt_variables, lr, rng = snapshot(model)
    assert len(variables) == len(before[0]) and len(opt_variables) == len(before[1])
    for u, v in zip(before[0] + before[1], variables + opt_variables):
        assert u.dtype == v.dtype and np.array_equal(u, v, equal_nan=True)
    assert lr == before[2]
    assert rng == before[3]
    if lr_object is not None:
        assert model.optimizer._learning_rate is lr_object  # the very same schedule object


class Raise(keras.callbacks.Callback):
    def __init__(self, exc, at_batch=3):
        super().__init__()
        self.exc, self.at_batch, self.seen = exc, at_batch, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.at_batch:
            raise self.exc


def _one_cycle_model():
    x, y = data(64)
    sched = S.OneCycle(0.05, total_steps=40)
    model = mlp(keras.optimizers.SGD(sched, momentum=0.9))
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return model, sched, x, y


def test_lr_finder_restores_after_keyboard_interrupt_in_callback():
    model, sched, x, y = _one_cycle_model()
    before = snapshot(model)
    with pytest.raises(KeyboardInterrupt):
        find_learning_rate(model, x, y, batch_size=8, num_steps=30, verbose=0,
                           callbacks=[Raise(KeyboardInterrupt(), at_batch=4)])
    assert_untouched(model, before, lr_object=sched)


def test_lr_finder_restores_after_exception_in_callback_and_next_fit_follows_the_schedule():
    model, sched, x, y = _one_cycle_model()
    twin, _, _, _ = _one_cycle_model()
    before = snapshot(model)
    with pytest.raises(RuntimeError, match="boom"):
        find_learning_rate(model, x, y, batch_size=8, num_steps=30, verbose=0,
                           callbacks=[Raise(RuntimeError("boom"), at_batch=5)])
    assert_untouched(model, before, lr_object=sched)
    # Training goes on exactly as a model that never saw the sweep (not at a stuck rate).
    for m in (model, twin):
        m.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for u, v in zip(state(model)[0] + state(model)[1], state(twin)[0] + state(twin)[1]):
        assert np.array_equal(u, v)


def _raising_batches(x, y, batch_size, fail_at, exc):
    def gen():
        k = 0
        while True:
            for j in range(0, len(x), batch_size):
                if k == fail_at:
                    raise exc
                k += 1
                yield x[j:j + batch_size], y[j:j + batch_size]
    return gen()


@pytest.mark.parametrize("exc", [ValueError("bad batch"), KeyboardInterrupt()],
                         ids=["exception", "keyboard_interrupt"])
def test_lr_finder_restores_after_fault_in_the_data(exc):
    model, sched, x, y = _one_cycle_model()
    before = snapshot(model)
    # TensorFlow runs a generator inside tf.data and re-raises its error as its own.
    with pytest.raises((type(exc), Exception)) as info:
        find_learning_rate(model, _raising_batches(x, y, 8, 6, exc), steps_per_epoch=8,
                           num_steps=30, shuffle=False, verbose=0)
    assert type(exc).__name__ in f"{info.type.__name__} {info.value}"
    assert_untouched(model, before, lr_object=sched)


def test_lr_finder_restores_after_divergence_and_nan():
    x, y = data(64)
    model = mlp(keras.optimizers.Adam(1e-3))
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    before = snapshot(model)
    result = find_learning_rate(model, x, y * 1e3, batch_size=8, min_learning_rate=1e-3,
                                max_learning_rate=1e6, num_steps=60, verbose=0)
    assert result.stopped_early and len(result.losses) < 60
    assert_untouched(model, before)


def test_lr_finder_restores_loss_scale_state_under_mixed_float16():
    keras.config.set_dtype_policy("mixed_float16")
    try:
        x, y = data(64)
        model = mlp(keras.optimizers.SGD(0.01))
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        before = snapshot(model)
        names = [v.name for v in model.optimizer.variables]
        result = find_learning_rate(model, x, y * 1e4, batch_size=8, min_learning_rate=1e-2,
                                    max_learning_rate=1e8, num_steps=60, verbose=0)
        assert result.stopped_early
        assert_untouched(model, before)
        assert [v.name for v in model.optimizer.variables] == names
    finally:
        keras.config.set_dtype_policy("float32")


def test_lr_finder_negative_loss_cosine_similarity_runs_every_step():
    x, y = data(64)
    inputs = keras.Input((3,))
    # Starts near the target direction: the loss (-cosine) is about -0.95 from step 0, where
    # the rule ``smoothed > 4 * best`` stopped the sweep at its second step.
    kernel = keras.initializers.Constant([[1.0, -1.0], [-2.0, 2.0], [0.5, -0.5]])
    model = keras.Model(inputs, keras.layers.Dense(2, kernel_initializer=kernel)(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="cosine_similarity")
    target = np.concatenate([y, -y], axis=1)
    result = find_learning_rate(model, x, target, batch_size=8, min_learning_rate=1e-4,
                                max_learning_rate=1e-1, num_steps=60, verbose=0)
    assert np.all(result.losses < 0)  # the loss is negative ...
    assert len(result.losses) == 60 and not result.stopped_early  # ... and the sweep runs


def test_divergence_rule_for_negative_and_positive_losses():
    assert diverged(4.1, 1.0, 4.0) and not diverged(3.9, 1.0, 4.0)  # fastai's rule
    assert not diverged(-0.5, -0.9, 4.0)  # 0.4 above the best, |best| 0.9: not diverged
    assert diverged(0.67, -1.0 / 3.0, 4.0) and not diverged(0.66, -1.0 / 3.0, 4.0)  # at 2/3
    assert diverged(float("nan"), 1.0, 4.0) and not diverged(5.0, float("inf"), 4.0)


def test_lr_finder_progress_bar_by_default(capsys):
    x, y = data(64)
    model = linear_model(keras.optimizers.SGD(0.01))
    find_learning_rate(model, x, y, batch_size=8, num_steps=12, min_learning_rate=1e-4,
                       max_learning_rate=1e-1)
    out = capsys.readouterr().out
    assert "12/12" in out and "smoothed_loss" in out and "lr" in out
    find_learning_rate(model, x, y, batch_size=8, num_steps=12, verbose=0)
    assert capsys.readouterr().out == ""


def _fastai_valley(lrs, losses):
    """fastai.callback.schedule.valley, transcribed literally (lrs, losses as lists)."""
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if (losses[i] < losses[j]) and (lds[i] < lds[j] + 1):
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return float(lrs[idx])


@pytest.mark.parametrize("seed", range(6))
def test_valley_matches_fastai(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 80))
    lrs = np.logspace(-6, 0, n)
    u = np.linspace(-3, 3, n)
    losses = 2 - np.tanh(u) + 0.3 * rng.normal(size=n) + np.where(u > 1.5, 4 * (u - 1.5) ** 2, 0)
    assert valley(lrs, losses) == _fastai_valley(list(lrs), list(losses))


def test_lr_sweep_schedule_serializes_and_matches_the_formula():
    sweep = LRSweep(1e-4, 1.0, 11, start_step=5)
    config = json.loads(json.dumps(keras.optimizers.schedules.serialize(sweep)))
    again = keras.optimizers.schedules.deserialize(config)
    steps = np.arange(0, 20, dtype="float32")
    want = 1e-4 * (1e4) ** (np.clip(steps - 5, 0, 10) / 10)
    for s in (sweep, again):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(s(steps)), want, rtol=1e-5)
