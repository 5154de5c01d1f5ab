"""WeightNormTracker: norms in the logs, equal to NumPy's on the weights."""

import csv

import keras
import numpy as np
import pytest

from kerastools.callbacks import WeightNormTracker


def _model(l2=0.0, name="mlp"):
    reg = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input(shape=(12,))
    z = keras.layers.Dense(8, activation="relu", name="hidden", kernel_regularizer=reg)(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", name="output", kernel_regularizer=reg)(z)
    model = keras.Model(inputs, outputs, name=name)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    return model


def _data(n=96):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 12)).astype("float32"), rng.integers(0, 3, n)


class _Snapshot(keras.callbacks.Callback):
    """Copies the weights at every epoch end (the independent reference)."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append({v.path: np.array(v.numpy(), dtype=np.float64)
                             for v in self.model.trainable_weights})


def test_norms_match_numpy_every_epoch():
    x, y = _data()
    model = _model()
    snap = _Snapshot()
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0,
                        callbacks=[WeightNormTracker(norms=("l2", "l1", "max")), snap])
    h = history.history
    for epoch, weights in enumerate(snap.weights):
        for path, w in weights.items():
            np.testing.assert_allclose(h[f"weight_norm/{path}"][epoch], np.sqrt(np.sum(w**2)), rtol=1e-6)
            np.testing.assert_allclose(h[f"weight_norm_l1/{path}"][epoch], np.sum(np.abs(w)), rtol=1e-6)
            np.testing.assert_allclose(h[f"weight_norm_max/{path}"][epoch], np.max(np.abs(w)), rtol=1e-6)
    assert "weight_norm/hidden/kernel" in h and "weight_norm/output/bias" in h
    assert len(h["weight_norm/hidden/kernel"]) == 3


def test_by_model_and_no_biases_and_layers():
    x, y = _data()
    model = _model()
    snap = _Snapshot()
    h = model.fit(x, y, epochs=2, verbose=0, callbacks=[
        WeightNormTracker(norms=("l2", "max"), by="model", include_biases=False), snap]).history
    assert {k for k in h if k.startswith("weight_norm")} == {"weight_norm/model", "weight_norm_max/model"}
    kernels = [w for p, w in snap.weights[-1].items() if p.endswith("kernel")]
    np.testing.assert_allclose(h["weight_norm/model"][-1],
                               np.sqrt(sum(np.sum(w**2) for w in kernels)), rtol=1e-6)
    np.testing.assert_allclose(h["weight_norm_max/model"][-1],
                               max(np.max(np.abs(w)) for w in kernels), rtol=1e-6)
    h = _model().fit(x, y, epochs=1, verbose=0,
                     callbacks=[WeightNormTracker(layers=["output"])]).history
    assert {k for k in h if k.startswith("weight_norm")} == {
        "weight_norm/output/kernel", "weight_norm/output/bias"}


def test_sequential_keys_leave_out_the_model_name():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="d")], name="seq")
    model.compile("sgd", "mse")
    h = model.fit(np.ones((8, 4)), np.ones((8, 2)), verbose=0, callbacks=[WeightNormTracker()]).history
    assert "weight_norm/d/kernel" in h


def test_csv_logger_gets_the_norms(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    _model().fit(x, y, epochs=2, verbose=0, callbacks=[
        WeightNormTracker(log_to="logs"), keras.callbacks.CSVLogger(str(path))])
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 2 and float(rows[1]["weight_norm/hidden/kernel"]) > 0


def test_l2_keeps_weights_smaller():
    """The course's weight-evolution observation: L2 bounds the weight norm."""
    x, y = _data(192)
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    hist = {}
    for l2 in (0.0, 0.01):
        keras.utils.set_random_seed(1)
        hist[l2] = _model(l2).fit(x, y, epochs=15, batch_size=16, verbose=0,
                                  callbacks=[WeightNormTracker()]).history
    free = hist[0.0]["weight_norm/hidden/kernel"]
    reg = hist[0.01]["weight_norm/hidden/kernel"]
    assert free[-1] > free[0]  # grows while fitting
    assert reg[-1] < free[-1]


@pytest.mark.parametrize("kwargs, match", [
    (dict(norms=("l3",)), "norms"),
    (dict(norms=()), "norms"),
    (dict(norms=("l2", "l2")), "norms"),
    (dict(by="unit"), "by"),
    (dict(include_biases="yes"), "include_biases"),
    (dict(layers="hidden"), "layers"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=f"Argument `{match}`"):
        WeightNormTracker(**kwargs)


def test_unknown_layer_fails_at_train_begin():
    x, y = _data(16)
    with pytest.raises(ValueError, match="Argument `layers` names 'nope'"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[WeightNormTracker(layers=["nope"])])


def test_plot_weight_norms_compares_runs(tmp_path):
    from matplotlib.figure import Figure

    from kerastools.plotting import plot_weight_norms
    from kerastools.plotting import save_figure

    a = {"loss": [1.0, 0.5], "weight_norm/hidden/kernel": [1.0, 2.0], "weight_norm/output/kernel": [1, 1]}
    b = {"loss": [1.0, 0.6], "weight_norm/hidden/kernel": [1.0, 1.2], "weight_norm/output/kernel": [1, 1]}
    fig = plot_weight_norms({"no L2": a, "L2": b})
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["no L2", "L2"]
    np.testing.assert_allclose(lines[1].get_ydata(), [1.0, 1.2])
    assert len(plot_weight_norms(a, overlay=True).axes) == 1
    assert save_figure(fig, tmp_path / "w.png")
    with pytest.raises(ValueError, match="Argument `norm`"):
        plot_weight_norms(a, norm="l3")
    with pytest.raises(ValueError, match="weight_norm_l1"):
        plot_weight_norms(a, norm="l1")
    with pytest.raises(ValueError, match="Argument `keys` names 'x/kernel'"):
        plot_weight_norms(a, keys=["x/kernel"])


def test_every_norm_and_grouping_equals_numpy():
    """L2, L1 and max, per weight and over the model, against NumPy on the trained weights.

    The model-level values are the norms of all tracked weights as one vector:
    ``sqrt(sum w**2)``, ``sum |w|`` and ``max |w|`` (a model L1 taken as the
    max of the per-weight L1 norms, or a model L2 as their sum, fails here).
    (``by="layer"`` with biases: ``test_norms_match_numpy_every_epoch``.)
    """
    x, y = _data(32)
    for by, include_biases in (("model", True), ("model", False), ("layer", False)):
        model = _model()
        snap = _Snapshot()
        h = model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[
            WeightNormTracker(norms=("l1", "l2", "max"), by=by, include_biases=include_biases),
            snap]).history
        tracked = {p: w for p, w in snap.weights[-1].items() if include_biases or w.ndim > 1}
        assert len(tracked) == (4 if include_biases else 2)
        if by == "model":
            flat = np.concatenate([w.ravel() for w in tracked.values()])
            expected = {"weight_norm/model": np.sqrt(np.sum(flat**2)),
                        "weight_norm_l1/model": np.sum(np.abs(flat)),
                        "weight_norm_max/model": np.max(np.abs(flat))}
        else:
            expected = {}
            for key, w in tracked.items():  # the variable paths are "<layer>/<weight>"
                expected[f"weight_norm/{key}"] = np.sqrt(np.sum(w**2))
                expected[f"weight_norm_l1/{key}"] = np.sum(np.abs(w))
                expected[f"weight_norm_max/{key}"] = np.max(np.abs(w))
        assert {k for k in h if k.startswith("weight_norm")} == set(expected), (by, include_biases)
        for key, value in expected.items():
            np.testing.assert_allclose(h[key][-1], value, rtol=1e-6,
                                       err_msg=f"{key} (by={by!r}, include_biases={include_biases})")


# ------------------------------------------------- issue 16, item 7: memory and range
@pytest.mark.parametrize("scale", [1e20, 1e-25], ids=["huge", "tiny"])
def test_weight_norms_exact_for_very_large_and_very_small_weights(scale):
    """float32 weights of 1e20 gave inf (squares overflow); 1e-25 gave 0 (underflow)."""
    from kerastools.monitoring import weight_norms

    rng = np.random.default_rng(0)
    values = [rng.normal(size=(300, 7)) * scale, rng.normal(size=(5,)) * scale,
              np.zeros((4, 4)), np.concatenate([[scale * 1e5], rng.normal(size=99) * scale])]
    variables = [keras.Variable(v.astype("float32")) for v in values]
    exact = [np.asarray(v, np.float64) for v in (np.asarray(w.numpy()) for w in variables)]
    for chunk_size in (1 << 18, 64):  # whole variables, and 7-row chunks combined
        got = weight_norms(variables, ("l2", "l1", "max"), chunk_size=chunk_size)
        want = [[np.sqrt(np.sum(w**2)) for w in exact], [np.sum(np.abs(w)) for w in exact],
                [np.max(np.abs(w)) for w in exact]]
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, want, rtol=2e-6)


def test_weight_norms_in_float64_for_float64_weights():
    from kerastools.monitoring import weight_norms

    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            pytest.skip("JAX keeps float64 only with JAX_ENABLE_X64=1 (make test-jax sets it)")
    w = np.array([1e200, 3e200, -2e-200])
    got = weight_norms([keras.Variable(w, dtype="float64")], ("l2", "l1", "max"))
    np.testing.assert_allclose(got[:, 0], [np.sqrt(10) * 1e200, 4e200, 3e200], rtol=1e-14)


def test_weight_norm_tracker_holds_no_per_parameter_index():
    """The tracker held one int32 per parameter (+187 MB for 49M parameters)."""
    inputs = keras.Input(shape=(300,))
    model = keras.Model(inputs, keras.layers.Dense(200)(inputs))
    n_params = model.count_params()
    tracker = WeightNormTracker(norms=("l2", "l1", "max"))
    tracker.set_model(model)
    tracker.on_train_begin()
    for name, value in vars(tracker).items():
        size = int(np.size(value)) if hasattr(value, "shape") else 0
        assert size < n_params // 100, name


def test_plot_weight_norms_takes_the_tracker_with_initial_norms():
    from kerastools.plotting import plot_weight_norms

    x, y = _data()
    tracker = WeightNormTracker()
    model = _model()
    initial = np.sqrt(np.sum(np.asarray(model.get_layer("hidden").kernel.numpy(), np.float64) ** 2))
    model.fit(x, y, epochs=3, verbose=0, callbacks=[tracker])
    assert tracker.epochs == [0, 1, 2, 3]
    np.testing.assert_allclose(tracker.history["weight_norm/hidden/kernel"][0], initial, rtol=1e-6)
    fig = plot_weight_norms(tracker)
    line = fig.axes[0].get_lines()[0]
    assert list(line.get_xdata()) == [0, 1, 2, 3]
    np.testing.assert_allclose(line.get_ydata(), tracker.history["weight_norm/hidden/kernel"])
    assert all(float(t).is_integer() for t in fig.axes[0].get_xticks())


def test_plot_weight_norms_stays_readable_for_60_layers():
    from kerastools.plotting import plot_weight_norms

    history = {f"weight_norm/dense_{i}/kernel": list(np.linspace(1, 2 + i / 10, 5))
               for i in range(60)}
    fig = plot_weight_norms(history)
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(axes) == 1 and len(axes[0].get_lines()) == 60  # one panel, not 60
    assert axes[0].get_legend() is None  # a colour bar by depth instead of 60 entries
    assert len(fig.axes) == 2
