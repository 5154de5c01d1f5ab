"""ActivationStats / GradientStats vs a NumPy forward and backward pass; the course's tanh experiment."""

import keras
import numpy as np
import pytest

from kerastools.callbacks import ActivationStats
from kerastools.callbacks import GradientStats
from kerastools.monitoring import activation_statistics
from kerastools.monitoring import gradient_norms
from kerastools.plotting import plot_activation_stats
from kerastools.plotting import plot_gradient_norms
from kerastools.plotting import save_figure

TANH_LAYERS = [f"tanh_{i}" for i in range(1, 7)]


def tanh_mlp(init, width=128, n_in=64):
    """The course's 6-layer tanh MLP."""
    inputs = keras.Input(shape=(n_in,))
    h = inputs
    for name in TANH_LAYERS:
        h = keras.layers.Dense(width, activation="tanh", kernel_initializer=init, name=name)(h)
    outputs = keras.layers.Dense(10, activation="softmax", name="output")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
    return model


def _data(n=64, n_in=64):
    rng = np.random.default_rng(0)
    return rng.random((n, n_in)).astype("float32"), rng.integers(0, 10, n)


def _numpy_forward(model, x):
    outs, h = {}, np.asarray(x, np.float64)
    for name in TANH_LAYERS + ["output"]:
        w, b = (np.asarray(v, np.float64) for v in model.get_layer(name).get_weights())
        z = h @ w + b
        h = np.tanh(z) if name != "output" else np.exp(z - z.max(1, keepdims=True))
        if name == "output":
            h = h / h.sum(1, keepdims=True)
        outs[name] = (h, z)
    return outs


def test_statistics_match_numpy_forward_pass():
    x, _ = _data()
    model = tanh_mlp("glorot_uniform")
    stats = activation_statistics(model, x, layers=TANH_LAYERS, bins=20, near_zero=0.05)
    ref = _numpy_forward(model, x)
    for name in TANH_LAYERS:
        a = ref[name][0]
        s = stats[name]
        np.testing.assert_allclose([s["mean"], s["std"]], [a.mean(), a.std()], rtol=1e-4, atol=1e-6)
        assert s["near_zero"] == pytest.approx(np.mean(np.abs(a) <= 0.05), abs=2 / a.size)
        m = np.abs(a).max()
        counts, edges = np.histogram(a, bins=20, range=(-m, m))
        np.testing.assert_allclose(s["edges"], edges, rtol=1e-5)
        assert np.abs(np.asarray(s["hist"]) - counts).sum() <= 4  # float32 vs float64 at bin edges
        assert sum(s["hist"]) == a.size


def test_course_experiment_small_init_collapses_xavier_keeps_spread(tmp_path):
    x, y = _data()
    small = activation_statistics(tanh_mlp(keras.initializers.RandomUniform(0.0, 0.001)), x,
                                  layers=TANH_LAYERS)
    xavier = activation_statistics(tanh_mlp("glorot_uniform"), x, layers=TANH_LAYERS)
    std_small = [small[n]["std"] for n in TANH_LAYERS]
    std_xavier = [xavier[n]["std"] for n in TANH_LAYERS]
    assert all(b < a for a, b in zip(std_small, std_small[1:]))  # shrinks layer after layer
    assert std_small[-1] < 1e-5 * max(std_small[0], 1e-12) or std_small[-1] < 1e-7
    assert small["tanh_6"]["near_zero"] == 1.0
    assert min(std_xavier) > 0.2 and std_xavier[-1] > 0.3 * std_xavier[0]
    assert xavier["tanh_6"]["near_zero"] < 0.1
    fig = plot_activation_stats({"W = 0.001 rand": small, "Xavier": xavier})
    assert save_figure(fig, tmp_path / "act.png")
    # and the gradients vanish with the small initialisation
    g_small = gradient_norms(tanh_mlp(keras.initializers.RandomUniform(0.0, 0.001)), x, y,
                             include_biases=False)
    g_xavier = gradient_norms(tanh_mlp("glorot_uniform"), x, y, include_biases=False)
    assert max(g_small[f"{n}/kernel"] for n in TANH_LAYERS) < 1e-3 * min(
        g_xavier[f"{n}/kernel"] for n in TANH_LAYERS)
    assert save_figure(plot_gradient_norms({"small": g_small, "Xavier": g_xavier}),
                       tmp_path / "grad.png")


def test_gradient_norms_match_numpy_backprop():
    x, y = _data(16)
    model = tanh_mlp("glorot_uniform", width=8)
    norms = gradient_norms(model, x, y)
    ref = _numpy_forward(model, x)
    n = len(y)
    delta = ref["output"][0].copy()
    delta[np.arange(n), y] -= 1.0
    delta /= n  # d(mean CE)/dz of the output layer
    names = TANH_LAYERS + ["output"]
    for i in range(len(names) - 1, -1, -1):
        h_prev = np.asarray(x, np.float64) if i == 0 else ref[names[i - 1]][0]
        w = np.asarray(model.get_layer(names[i]).get_weights()[0], np.float64)
        np.testing.assert_allclose(norms[f"{names[i]}/kernel"], np.linalg.norm(h_prev.T @ delta),
                                   rtol=1e-4)
        np.testing.assert_allclose(norms[f"{names[i]}/bias"], np.linalg.norm(delta.sum(0)),
                                   rtol=1e-4)
        if i:
            delta = (delta @ w.T) * (1 - ref[names[i - 1]][0] ** 2)


def test_callbacks_record_at_start_and_every_k_epochs():
    x, y = _data()
    acts = ActivationStats(x[:16], layers=["tanh_1", "tanh_6"], every=2, bins=10)
    grads = GradientStats(x[:16], y[:16], every=2)
    model = tanh_mlp("glorot_uniform", width=16)
    h = model.fit(x, y, epochs=4, verbose=0, callbacks=[acts, grads]).history
    assert [r["epoch"] for r in acts.stats] == [0, 2, 4]
    assert [r["epoch"] for r in grads.stats] == [0, 2, 4]
    assert set(acts.stats[0]["layers"]) == {"tanh_1", "tanh_6"}
    assert len(acts.stats[1]["layers"]["tanh_1"]["hist"]) == 10
    # written at every epoch end, NaN between the measurements: History stays rectangular
    for key in ("activation_std/tanh_6", "grad_norm/tanh_1/kernel"):
        assert len(h[key]) == len(h["loss"]) == 4
        assert np.isnan(h[key][0]) and np.isnan(h[key][2]) and np.isfinite(h[key][1])
    np.testing.assert_allclose(h["activation_std/tanh_6"][-1],
                               acts.stats[-1]["layers"]["tanh_6"]["std"])
    np.testing.assert_allclose(grads.stats[-1]["norms"]["tanh_1/kernel"],
                               gradient_norms(model, x[:16], y[:16])["tanh_1/kernel"], rtol=1e-5)


@pytest.mark.parametrize("probe, match", [
    (np.zeros((4, 63), "float32"), r"shape \(batch,\) \+ \(64,\)"),
    (np.zeros((4, 8, 8), "float32"), "shape"),
])
def test_wrong_probe_shape_fails_at_train_begin(probe, match):
    x, y = _data(32)
    with pytest.raises(ValueError, match=match):
        tanh_mlp("glorot_uniform", width=8).fit(x, y, epochs=40, verbose=0,
                                                 callbacks=[ActivationStats(probe)])
    with pytest.raises(ValueError, match="probe_x"):
        tanh_mlp("glorot_uniform", width=8).fit(
            x, y, epochs=40, verbose=0, callbacks=[GradientStats(probe, np.zeros(4, int))])


def test_unknown_layer_fails_at_train_begin():
    x, y = _data(32)
    with pytest.raises(ValueError, match="Argument `layers` names 'tanh_9'"):
        tanh_mlp("glorot_uniform", width=8).fit(
            x, y, epochs=40, verbose=0, callbacks=[ActivationStats(x[:4], layers=["tanh_9"])])


@pytest.mark.parametrize("kwargs, match", [
    (dict(probe=np.zeros((0, 64))), "probe"),
    (dict(probe=np.float32(1.0)), "probe"),
    (dict(probe=np.zeros((2, 64)), every=0), "every"),
    (dict(probe=np.zeros((2, 64)), bins=0), "bins"),
    (dict(probe=np.zeros((2, 64)), hist_range=(1, -1)), "hist_range"),
    (dict(probe=np.zeros((2, 64)), near_zero=-1), "near_zero"),
    (dict(probe=np.zeros((2, 64)), layers="tanh_1"), "layers"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=f"Argument `{match}`"):
        ActivationStats(**kwargs)


def test_gradient_stats_bad_arguments():
    with pytest.raises(ValueError, match="Argument `probe_y`"):
        GradientStats(np.zeros((4, 64)), np.zeros(3))
    with pytest.raises(ValueError, match="Argument `loss`"):
        GradientStats(np.zeros((4, 64)), np.zeros(4), loss=lambda a, b: a)


def test_probe_config_round_trip_is_exact():
    probe = np.random.default_rng(0).normal(size=(3, 64)).astype("float32")
    clone = ActivationStats.from_config(ActivationStats(probe).get_config())
    assert clone.probe.dtype == np.float32 and np.array_equal(clone.probe, probe)


def test_plot_helpers_take_the_callbacks_they_plot(tmp_path):
    """`plot_activation_stats(cb)` failed: the helpers did not take the callback objects."""
    x, y = _data()
    acts = ActivationStats(x[:16], layers=["tanh_1", "tanh_6"], every=2, bins=10)
    grads = GradientStats(x[:16], y[:16], every=2)
    tanh_mlp("glorot_uniform", width=16).fit(x, y, epochs=4, verbose=0, callbacks=[acts, grads])
    fig = plot_activation_stats(acts)  # the first (initialisation) and the last record
    assert len(fig.axes) == 2 * 3 and fig.axes[0].get_ylabel() == "epoch 0"
    assert fig.axes[3].get_ylabel() == "epoch 4"
    heights = [p.get_height() for p in fig.axes[3].patches]
    np.testing.assert_array_equal(heights, acts.stats[-1]["layers"]["tanh_1"]["hist"])
    fig = plot_activation_stats(acts, epochs=[2])
    assert len(fig.axes) == 3
    with pytest.raises(ValueError, match="Argument `epochs`"):
        plot_activation_stats(acts, epochs=[3])
    fig = plot_gradient_norms(grads)
    first, last = fig.axes[0].get_lines()
    assert [first.get_label(), last.get_label()] == ["epoch 0", "epoch 4"]
    kernels = [k for k in grads.stats[-1]["norms"] if k.endswith("kernel")]
    np.testing.assert_allclose(last.get_ydata(), [grads.stats[-1]["norms"][k] for k in kernels])
    assert save_figure(fig, tmp_path / "g.png")
