"""MomentumScheduler (issue 16 item 6): the optimizer is left as found whatever ends the fit."""

import keras
import numpy as np
import pytest

from kerastools import optimizers as kto
from kerastools import schedules as S
from kerastools.callbacks import MomentumScheduler

not_jax = pytest.mark.skipif(keras.backend.backend() == "jax",
                             reason="refused on JAX (test_momentum_scheduler_on_jax_says_why)")


def model_with(opt):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer=opt, loss="mse")
    return model


def data():
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    return x, x[:, :1]


class Boom(keras.callbacks.Callback):
    def __init__(self, exc):
        super().__init__()
        self.exc = exc

    def on_train_batch_end(self, batch, logs=None):
        if batch == 2:
            raise self.exc


@not_jax
@pytest.mark.parametrize("ending", ["normal", "exception", "keyboard_interrupt"])
def test_momentum_scheduler_leaves_optimizer_as_found(ending, tmp_path):
    opt = kto.momentum(0.01, momentum=kto.Coefficient(0.9))
    model = model_with(opt)
    config = opt.get_config()
    n_vars = None
    mom = S.OneCycle(0.05, 16).momentum_schedule(0.85, 0.95)
    callbacks = [MomentumScheduler(mom)]
    if ending == "exception":
        callbacks.append(Boom(RuntimeError("boom")))
    elif ending == "keyboard_interrupt":
        callbacks.append(Boom(KeyboardInterrupt()))
    x, y = data()
    if ending == "normal":
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=callbacks)
        assert float(opt.stages[1].coefficient_variable().numpy()) == pytest.approx(0.9)
    else:
        with pytest.raises((RuntimeError, KeyboardInterrupt)):
            model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=callbacks)
    n_vars = len(opt.variables)
    assert opt.get_config() == config
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert len(loaded.optimizer.variables) == n_vars
    for a, b in zip(loaded.optimizer.variables, opt.variables):
        np.testing.assert_array_equal(np.asarray(a.numpy()), np.asarray(b.numpy()))
    loaded.fit(x, y, batch_size=8, epochs=1, verbose=0)


@not_jax
def test_momentum_scheduler_schedule_reaches_the_step():
    """Momentum coefficients set per step give the NumPy momentum trajectory."""
    opt = kto.momentum(0.05, momentum=kto.Coefficient(0.9))
    model = model_with(opt)
    mom = S.OneCycle(0.05, 8).momentum_schedule(0.5, 0.95)
    x, y = data()
    w0, b0 = [np.array(w, "float64") for w in model.get_weights()]
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0,
              callbacks=[MomentumScheduler(mom)])
    w, b, vw, vb = w0, b0, 0 * w0, 0 * b0
    for i in range(8):
        xb, yb = x[8 * i:8 * i + 8].astype("float64"), y[8 * i:8 * i + 8].astype("float64")
        err = xb @ w + b - yb
        gw, gb = 2 * xb.T @ err / err.size, 2 * err.sum(0) / err.size
        p = float(mom(i))
        vw, vb = p * vw + 0.05 * gw, p * vb + 0.05 * gb
        w, b = w - vw, b - vb
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-4, atol=1e-6)


@not_jax
def test_momentum_scheduler_refuses_keras_builtin_and_says_what_to_use():
    model = model_with(keras.optimizers.SGD(0.1, momentum=0.9))
    x, y = data()
    with pytest.raises(ValueError, match=r"Python float.*constant.*momentum=schedule"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[MomentumScheduler(S.OneCycle(0.1, 10).momentum_schedule())])
    assert model.optimizer.momentum == 0.9  # untouched
    model = model_with(kto.momentum(0.1, 0.9))
    with pytest.raises(ValueError, match=r"Coefficient"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[MomentumScheduler(S.OneCycle(0.1, 10).momentum_schedule())])


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="the refusal is for JAX")
def test_momentum_scheduler_on_jax_says_why_and_what_to_use():
    opt = kto.momentum(0.01, momentum=kto.Coefficient(0.9))
    model = model_with(opt)
    config = opt.get_config()
    x, y = data()
    with pytest.raises(ValueError, match=r"JAX.*momentum=schedule"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[MomentumScheduler(S.OneCycle(0.1, 10).momentum_schedule())])
    assert opt.get_config() == config
