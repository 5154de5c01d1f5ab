"""LearningRateLogger through small model.fit runs (MomentumScheduler: its own test file)."""

import csv

import keras
import numpy as np

from kerastools import schedules as S
from kerastools.callbacks.lr_logger import LearningRateLogger

N, BATCH = 40, 8  # 5 steps per epoch
SPE = N // BATCH


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], "float32")).astype("float32")
    return x, y


def linear_model(optimizer):
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=optimizer, loss="mse")
    return model


def test_schedule_value_reaches_history_and_csv(tmp_path):
    sched = S.CyclicalLearningRate(0.001, 0.01, 3, mode="triangular2")
    model = linear_model(keras.optimizers.SGD(sched))
    x, y = data()
    path = str(tmp_path / "log.csv")
    history = model.fit(x, y, batch_size=BATCH, epochs=4, shuffle=False, verbose=0,
                        callbacks=[LearningRateLogger(), keras.callbacks.CSVLogger(path)])
    last_steps = np.arange(1, 5) * SPE - 1
    want = [float(sched(int(s))) for s in last_steps]
    np.testing.assert_allclose(history.history["learning_rate"], want, rtol=1e-6)
    with open(path) as f:
        rows = list(csv.DictReader(f))
    np.testing.assert_allclose([float(r["learning_rate"]) for r in rows], want, rtol=1e-6)
    assert "momentum" not in history.history  # nothing varies


def test_at_next_matches_keras_optimizer_learning_rate():
    sched = S.OneCycle(0.1, 20)
    model = linear_model(keras.optimizers.SGD(sched))
    x, y = data()
    seen = []

    class Probe(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(float(model.optimizer.learning_rate))

    history = model.fit(x, y, batch_size=BATCH, epochs=3, verbose=0,
                        callbacks=[LearningRateLogger(at="next"), Probe()])
    np.testing.assert_allclose(history.history["learning_rate"], seen, rtol=1e-7)
    np.testing.assert_allclose(seen, [float(sched(s)) for s in (5, 10, 15)], rtol=1e-6)


def test_per_batch_values_are_the_rates_used():
    sched = S.SGDR(0.05, 4, t_mul=2.0)
    model = linear_model(keras.optimizers.SGD(sched))
    x, y = data()
    logger = LearningRateLogger(per_batch=True)
    model.fit(x, y, batch_size=BATCH, epochs=3, shuffle=False, verbose=0, callbacks=[logger])
    want = np.asarray(sched(np.arange(3 * SPE, dtype="float32")))
    np.testing.assert_allclose(logger.batch_learning_rates, want, rtol=1e-6)


def test_constant_and_reduce_on_plateau():
    model = linear_model(keras.optimizers.SGD(0.02))
    x, y = data()
    history = model.fit(
        x, y * 0 + 1e3, batch_size=BATCH, epochs=4, verbose=0,
        callbacks=[keras.callbacks.ReduceLROnPlateau("loss", factor=0.5, patience=0, min_delta=1e9),
                   LearningRateLogger()])
    # ReduceLROnPlateau runs first: the first epoch sets the best loss, each
    # later one halves the rate; the logger sees the rate as it is now.
    np.testing.assert_allclose(history.history["learning_rate"], [0.02, 0.01, 0.005, 0.0025],
                               rtol=1e-6)


def test_no_batch_hook_unless_per_batch():
    from keras.callbacks import Callback

    assert LearningRateLogger().on_train_batch_end.__func__ is Callback.on_train_batch_end
    assert LearningRateLogger(per_batch=True).on_train_batch_end.__func__ is not \
        Callback.on_train_batch_end


def simulate_sgd(x, y, lrs, moms, epochs):
    w = np.zeros((3, 1))
    v = np.zeros((3, 1))
    t = 0
    for _ in range(epochs):
        for k in range(SPE):
            xb, yb = x[k * BATCH:(k + 1) * BATCH], y[k * BATCH:(k + 1) * BATCH]
            g = 2 * xb.T @ (xb @ w - yb) / BATCH
            v = moms[t] * v - lrs[t] * g
            w = w + v
            t += 1
    return w


def test_filter_optimizer_takes_the_momentum_schedule_in_graph():
    """kerastools' momentum preset with OneCycle's momentum schedule: no callback, the
    trajectory of SGD with that momentum (NumPy) on every backend; the logger sees it."""
    from kerastools import optimizers as O

    epochs = 3
    sched = S.OneCycle(0.05, epochs * SPE)
    mom = sched.momentum_schedule(0.85, 0.95)
    x, y = data()
    filt = linear_model(O.momentum(sched, momentum=mom))
    logger = LearningRateLogger(per_batch=True)
    h = filt.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0,
                 callbacks=[logger])
    steps = np.arange(epochs * SPE, dtype="float64")
    np.testing.assert_allclose(logger.batch_momenta, np.asarray(mom(steps)), rtol=1e-6)
    np.testing.assert_allclose(h.history["momentum"], np.asarray(mom(steps))[SPE - 1::SPE],
                               rtol=1e-6)
    want = simulate_sgd(x.astype("float64"), y.astype("float64"), np.asarray(sched(steps)),
                        np.asarray(mom(steps)), epochs)
    np.testing.assert_allclose(filt.get_weights()[0], want, rtol=2e-4, atol=1e-6)


def test_filter_adam_beta_1_schedule_is_logged_as_beta_1():
    from kerastools import optimizers as O

    sched = S.OneCycle(0.01, 2 * SPE)
    beta_1 = sched.momentum_schedule(0.85, 0.95)
    model = linear_model(O.adam(sched, beta_1=beta_1))
    x, y = data()
    h = model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0, callbacks=[LearningRateLogger()])
    np.testing.assert_allclose(h.history["beta_1"], [float(beta_1(SPE - 1)), float(beta_1(2 * SPE - 1))],
                               rtol=1e-6)
    assert "momentum" not in h.history


def test_per_batch_logger_reads_piecewise_constant_decay_on_every_backend():
    # PiecewiseConstantDecay does not broadcast over a vector of steps on PyTorch: the
    # per-batch table falls back to one value per step instead of ending the fit.
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([3, 6], [0.1, 0.01, 0.001])
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="mse")
    logger = LearningRateLogger(per_batch=True)
    x = np.ones((16, 4), "float32")
    model.fit(x, np.zeros((16, 1), "float32"), batch_size=2, epochs=1, verbose=0,
              callbacks=[logger])
    expected = [float(schedule(s)) for s in range(8)]
    np.testing.assert_allclose(logger.batch_learning_rates, expected, rtol=1e-6)
