"""Keras Tuner integration: search spaces, HyperModels, tuners, reports, resumable and distributed search."""

import json
import math
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import keras
import keras_tuner
import numpy as np
import pytest
from harness import assert_model_round_trip

from kerastools import tuning

EXAMPLE = str(pathlib.Path(__file__).parent.parent / "examples" / "tuning.py")

# The documented defaults, written out by hand (not read from the code): the
# first trial of every kerastools tuner must be exactly this.
MLP_DEFAULTS = {
    "model_kernel_regularizer": "none", "model_bias_regularizer": "none",
    "activation": "relu", "layers": 1, "units_0": 256, "dropout_0": 0.0,
    "batch_size": 32, "optimizer": "adam", "adam_learning_rate": 1e-3,
    "adam_beta_1": 0.9, "adam_beta_2": 0.999, "schedule": "cosine",
}


def _images(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, n).astype("uint8")
    return x, y


def _tabular(n=400, seed=0):
    """20 features, 3 classes, learnable in a few steps: three Gaussian blobs."""
    rng = np.random.default_rng(seed)
    centers = 3.0 * rng.normal(size=(3, 20))
    y = rng.integers(0, 3, n)
    x = centers[y] + rng.normal(size=(n, 20))
    return x.astype("float32"), y.astype("int32")


def _learning_rate(model):
    """(schedule class, initial rate) of a compiled model's optimizer, from its config."""
    config = model.optimizer.get_config()["learning_rate"]
    return config["class_name"], pytest.approx(config["config"]["initial_learning_rate"])


def _hp(**values):
    hp = keras_tuner.HyperParameters()
    for name, value in values.items():
        hp.Fixed(name, value)
    return hp


# -- bad input ----------------------------------------------------------------
@pytest.mark.parametrize("bad, match", [
    (dict(optimizers=["adam", "lion"]), r"`optimizers`.*unknown: \['lion'\]"),
    (dict(optimizers=[]), r"`optimizers`.*at least one"),
    (dict(schedules=["cosine_forever"]), r"`schedules`.*cosine_forever"),
    (dict(schedules=[]), r"`schedules`.*at least one"),
    (dict(regularizers=["l3"]), r"`regularizers`.*l3"),
    (dict(regularizers=[]), r"`regularizers`.*at least one"),
    (dict(kind="rnn"), r"`kind`.*rnn"),
    (dict(batch_sizes=()), r"`batch_sizes`"),
    (dict(batch_sizes=(32, 0)), r"`batch_sizes`.*batch_sizes=0"),
    (dict(filters=()), r"`filters`"),
    (dict(epochs=0), r"`epochs`.*epochs=0"),
    (dict(max_layers=0), r"`max_layers`"),
    (dict(max_dropout=1.0), r"`max_dropout`"),
    (dict(units=(512, 32)), r"`units`.*units=\(512, 32\)"),
    (dict(units=(0, 32)), r"`units`"),
    (dict(units=(32.5, 64)), r"`units`"),
    (dict(regularization_range=(1e-2, 1e-6)), r"`regularization_range`.*\(0.01, 1e-06\)"),
    (dict(learning_rate_range=(1e-2, 1e-3)), r"`learning_rate_range`.*\(0.01, 0.001\)"),
    (dict(learning_rate_range=("3e-4",)), r"`learning_rate_range`.*\('3e-4',\)"),
    (dict(steps_per_epoch=0), r"`steps_per_epoch`"),
])
def test_bad_search_space_fails_at_construction(bad, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        tuning.FashionMNISTHyperModel(**bad)
    with pytest.raises(ValueError, match=match):
        tuning.ClassifierHyperModel((20,), 3, **{"kind": "mlp", **bad})


@pytest.mark.parametrize("args, match", [
    (((20,), 3, "cnn"), r"`kind`.*input_shape=\(20,\)"),
    (((), 3), r"`input_shape`"),
    (((28, -1), 3), r"`input_shape`"),
    (((20,), 1), r"`num_classes`"),
])
def test_bad_shape_or_classes(args, match):
    with pytest.raises(ValueError, match=match):
        tuning.ClassifierHyperModel(*args)


def test_choose_functions_reject_bad_lists():
    hp = keras_tuner.HyperParameters()
    with pytest.raises(ValueError, match=r"choices.*\[\]"):
        tuning.choose_optimizer(hp, [])
    with pytest.raises(ValueError, match="adamw"):
        tuning.choose_optimizer(hp, ["adamw"])
    with pytest.raises(ValueError, match="twice"):
        tuning.choose_regularizer(hp, "r", ["l1", "l1"])
    with pytest.raises(ValueError, match=r"`strength`"):
        tuning.choose_regularizer(hp, "r", ["l1"], strength=(1e-2, 1e-4))
    with pytest.raises(ValueError, match="steps_per_epoch=0"):
        tuning.choose_schedule(hp, 1e-3, 5, 0)
    with pytest.raises(ValueError, match=r"`x`.*low < high.*x=\(1, 1\)"):
        tuning.check_range("x", (1, 1))
    assert tuning.check_range("x", (1, 1), integer=True) == (1, 1)


def test_learning_rate_range_overrides_every_preset_range():
    for name in ("adam", "sgd", "adadelta"):
        hp = keras_tuner.HyperParameters()
        tuning.choose_optimizer(hp, [name], learning_rate_range=("3e-4", 1e-2))
        config = hp.get_config()["space"]
        (lr,) = [c["config"] for c in config if c["config"]["name"] == f"{name}_learning_rate"]
        assert (lr["min_value"], lr["max_value"], lr["sampling"]) == (3e-4, 1e-2, "log")
        assert 3e-4 <= lr["default"] <= 1e-2  # the preset's default, clipped into the range
    with pytest.raises(ValueError, match=r"learning_rate_range=\(0, 1\)"):
        tuning.choose_optimizer(keras_tuner.HyperParameters(), ["adam"], learning_rate_range=(0, 1))


def test_regularizer_choices():
    hp = keras_tuner.HyperParameters()
    assert tuning.choose_regularizer(hp, "r0", ["none"]) is None
    assert isinstance(tuning.choose_regularizer(hp, "r1", ["l1"]), keras.regularizers.L1)
    assert isinstance(tuning.choose_regularizer(hp, "r2", ["l2"]), keras.regularizers.L2)
    r = tuning.choose_regularizer(hp, "r3", ["l1l2"])
    assert isinstance(r, keras.regularizers.L1L2) and r.l1 > 0 and r.l2 > 0
    assert tuning.choose_regularizer(hp, "r4") is None  # "none" is the default kind


# -- defaults and the whole space ---------------------------------------------
def test_every_hyperparameter_default_is_the_documented_good_value():
    hp = keras_tuner.HyperParameters()
    tuning.choose_optimizer(hp)
    defaults = {p.name: p.default for p in hp.space}
    assert defaults["optimizer"] == "adam"
    for name, (low, high, default) in tuning.LEARNING_RATES.items():
        assert defaults[f"{name}_learning_rate"] == default and low < default < high, name
    assert (defaults["adam_learning_rate"], defaults["adam_beta_1"], defaults["adam_beta_2"]) == (
        1e-3, 0.9, 0.999)
    assert (defaults["nadam_beta_1"], defaults["nadam_beta_2"]) == (0.9, 0.999)
    assert defaults["momentum_momentum"] == defaults["nesterov_momentum"] == 0.9
    assert (defaults["rmsprop_rho"], defaults["adadelta_rho"]) == (0.9, 0.95)
    assert (defaults["butterworth_order"], defaults["butterworth_cutoff"]) == (2, 0.05)
    hp = keras_tuner.HyperParameters()
    schedule = tuning.choose_schedule(hp, 0.01, 10, 100)  # a cosine decay over the run by default
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert (schedule.initial_learning_rate, schedule.decay_steps, schedule.alpha) == (0.01, 1000, 0.0)
    defaults = {p.name: p.default for p in hp.space}
    assert defaults["schedule"] == "cosine"
    # and the default model: one layer of 256 ReLU units, no dropout or regularisation
    model = tuning.ClassifierHyperModel((20,), 3).build(keras_tuner.HyperParameters())
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == [256, 3]
    assert dense[0].kernel_regularizer is None and dense[0].bias_regularizer is None
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in model.layers)
    assert _learning_rate(model) == ("CosineDecay", 1e-3)


def test_no_trial_meets_a_hyperparameter_the_space_does_not_know(tmp_path):
    # Keras Tuner gives a hyperparameter first met during a trial its default
    # (the bottom of its range when it has none): the whole space must be known
    # before the first trial, every branch's hyperparameters included, so that
    # each trial's values are all drawn by the oracle.
    for kind, input_shape in (("mlp", (20,)), ("cnn", (12, 12))):
        hypermodel = tuning.ClassifierHyperModel(input_shape, 3, kind=kind,
                                                 per_layer_regularization=kind == "cnn")
        tuner = keras_tuner.RandomSearch(hypermodel, objective="val_accuracy", max_trials=40,
                                         seed=3, directory=str(tmp_path), project_name=kind)
        names = {p.name for p in tuner.oracle.get_space().space}
        for option in tuning.OPTIMIZERS:
            assert f"{option}_learning_rate" in names, option
        depth = "layers" if kind == "mlp" else "conv_blocks"
        unit = "units" if kind == "mlp" else "filters"
        assert {f"{unit}_2", "dropout_2", depth, "one_cycle_pct_start", "sgdr_cycles"} <= names
        drawn = set()
        for i in range(8):
            hp = tuner.oracle.create_trial(f"worker{i}").hyperparameters
            values = dict(hp.values)
            model = hypermodel.build(hp)
            assert hp.values == values, f"trial {i} met hyperparameters the oracle did not draw"
            lr_name = f"{values['optimizer']}_learning_rate"
            lr = model.optimizer.get_config()["learning_rate"]
            if isinstance(lr, float):  # a constant schedule
                assert lr == pytest.approx(values[lr_name], rel=1e-6)
            drawn.add(values[lr_name])
        assert len(drawn) == 8  # drawn, not a default repeated


# -- models ---------------------------------------------------------------------
@pytest.mark.parametrize("kind, values", [
    ("mlp", dict(optimizer="butterworth", schedule="one_cycle", layers=2,
                 model_kernel_regularizer="l1l2", model_bias_regularizer="l2")),
    ("mlp", dict(optimizer="nadam", schedule="cyclical", layers=1)),
    ("cnn", dict(optimizer="nesterov", schedule="sgdr", conv_blocks=2, batch_norm=True,
                 model_kernel_regularizer="l2")),
    ("cnn", dict(optimizer="adadelta", schedule="step", conv_blocks=1, batch_norm=False)),
])
def test_trial_models_train_save_and_reload(kind, values, tmp_path):
    hypermodel = tuning.FashionMNISTHyperModel(kind, epochs=2, batch_sizes=(32,), max_layers=2)
    hp = _hp(**values)
    model = hypermodel.build(hp)
    x, y = _images(64)
    history = hypermodel.fit(hp, model, x, y, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    loaded = assert_model_round_trip(model, x[:8], tmp_path)
    assert type(loaded.optimizer) is type(model.optimizer)
    loaded.fit(x, y, epochs=1, batch_size=32, verbose=0)  # training goes on after reload


def test_any_input_shape_and_number_of_classes():
    cases = [((20,), 3, "auto", "mlp"), ((784,), 10, "auto", "mlp"), ((28, 28), 10, "auto", "cnn"),
             ((16, 16, 3), 5, "auto", "cnn"), ((8, 8), 2, "mlp", "mlp"), ((4, 5, 2), 7, "mlp", "mlp")]
    for shape, classes, kind, family in cases:
        hypermodel = tuning.ClassifierHyperModel(shape, classes, kind=kind, max_layers=2)
        assert hypermodel.kind == family
        model = hypermodel.build(keras_tuner.HyperParameters())
        x = np.random.default_rng(0).random((4, *shape)).astype("float32")
        assert model.predict(x, verbose=0).shape == (4, classes)
        assert any(isinstance(layer, keras.layers.Conv2D) for layer in model.layers) == (
            family == "cnn")
    # Fashion-MNIST flattened: the failing case
    model = tuning.FashionMNISTHyperModel(input_shape=(784,)).build(keras_tuner.HyperParameters())
    assert model.input_shape == (None, 784)


def test_per_layer_regularization_names():
    hypermodel = tuning.FashionMNISTHyperModel("mlp", per_layer_regularization=True,
                                               regularizers=["l2"], max_layers=2)
    hp = _hp(layers=2)
    model = hypermodel.build(hp)
    assert {"hidden_0_kernel_regularizer_l2", "hidden_1_bias_regularizer_l2"} <= set(hp.values)
    assert model.get_layer("hidden_1").kernel_regularizer is not None


# -- schedules sized from the data fit receives -----------------------------------
def _one_cycle_model(**kwargs):
    hypermodel = tuning.ClassifierHyperModel((20,), 3, schedules=["one_cycle"], optimizers=["adam"],
                                             **kwargs)
    hp = keras_tuner.HyperParameters()
    return hypermodel, hp, hypermodel.build(hp)


def _total_steps(model):
    schedule = model.optimizer.get_config()["learning_rate"]
    assert isinstance(schedule, dict) and schedule["class_name"] == "OneCycle", schedule
    return schedule["config"]["total_steps"]


@pytest.mark.parametrize("n, batch_size, split, epochs, initial_epoch", [
    (200, 32, 0.0, 2, 0),      # 7 steps per epoch, the last batch short
    (200, 32, 0.25, 2, 0),     # Keras keeps floor(200 * 0.75) = 150: 5 steps
    (203, 64, 0.1, 3, 1),      # floor(182.7) = 182: 3 steps; Hyperband's resumed rounds run 2 epochs
    (64, 64, 0.0, 1, 0),
])
def test_schedules_span_the_steps_keras_runs_for_arrays(n, batch_size, split, epochs,
                                                        initial_epoch):
    hypermodel, hp, model = _one_cycle_model(batch_sizes=(batch_size,))
    x, y = _tabular(n)
    hypermodel.fit(hp, model, x, y, epochs=epochs, initial_epoch=initial_epoch,
                   validation_split=split, verbose=0)
    # the schedule's length is the number of steps Keras actually ran
    assert _total_steps(model) == int(model.optimizer.iterations) > 0
    # and build() after a fit sizes for that data too (the tuner's get_best_models)
    assert _total_steps(hypermodel.build(hp)) == _total_steps(model)


def test_schedules_span_the_steps_of_tf_data_and_pydataset():
    tf = pytest.importorskip("tensorflow")

    x, y = _tabular(150)
    hypermodel, hp, model = _one_cycle_model(batch_sizes=None)
    hypermodel.fit(hp, model, tf.data.Dataset.from_tensor_slices((x, y)).batch(16), epochs=2,
                   verbose=0)
    assert _total_steps(model) == int(model.optimizer.iterations) == 2 * 10

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return x[i * 25:(i + 1) * 25], y[i * 25:(i + 1) * 25]

    hypermodel, hp, model = _one_cycle_model(batch_sizes=None)
    hypermodel.fit(hp, model, Batches(), epochs=1, verbose=0)
    assert _total_steps(model) == int(model.optimizer.iterations) == 6


def test_a_generator_needs_steps_per_epoch():
    x, y = _tabular(64)

    def batches():
        while True:
            for i in range(0, 64, 16):
                yield x[i:i + 16], y[i:i + 16]

    hypermodel, hp, model = _one_cycle_model(batch_sizes=None)
    with pytest.raises(ValueError, match=r"`steps_per_epoch` must be passed to `search`"):
        hypermodel.fit(hp, model, batches(), epochs=1, verbose=0)
    hypermodel.fit(hp, model, batches(), epochs=2, steps_per_epoch=3, verbose=0)
    assert _total_steps(model) == int(model.optimizer.iterations) == 6
    # a constant learning rate does not need the run's length
    constant = tuning.ClassifierHyperModel((20,), 3, schedules=["constant"], batch_sizes=None)
    hp = keras_tuner.HyperParameters()
    history = constant.fit(hp, constant.build(hp), batches(), epochs=1, steps_per_epoch=2,
                           verbose=0)
    assert len(history.history["loss"]) == 1
    assert tuning.steps_per_epoch(x, 10, 0.5) == 4  # floor(32) / 10 -> 4
    with pytest.raises(ValueError, match=r"`steps_per_epoch`"):
        tuning.steps_per_epoch(iter([x]))


# -- tuners ---------------------------------------------------------------------
def _tuner(tuner_cls, hypermodel, tmp_path, lines=None, **kwargs):
    common = dict(objective="val_accuracy", directory=str(tmp_path), seed=1,
                  progress=lines.append if lines is not None else False)
    if tuner_cls == "Hyperband":
        return tuning.Hyperband(hypermodel, max_epochs=2, factor=2, hyperband_iterations=1,
                                **common, **kwargs)
    return getattr(tuning, tuner_cls)(hypermodel, **{"max_trials": 3, **common, **kwargs})


@pytest.mark.parametrize("tuner_cls", ["RandomSearch", "BayesianOptimization", "Hyperband"])
def test_first_trial_is_the_defaults_on_a_non_image_dataset(tuner_cls, tmp_path):
    keras.utils.set_random_seed(0)
    hypermodel = tuning.ClassifierHyperModel((20,), 3, epochs=2, max_layers=2)
    lines = []
    tuner = _tuner(tuner_cls, hypermodel, tmp_path, lines)
    x, y = _tabular(600)
    tuner.search(x, y, validation_split=0.25, verbose=0)
    trials = tuning.report.trials_in_order(tuner)
    assert len(trials) >= 3 and all(t.status == "COMPLETED" for t in trials)
    first = {k: v for k, v in trials[0].hyperparameters.values.items() if not k.startswith("tuner/")}
    assert first == MLP_DEFAULTS
    assert all(t.hyperparameters.values.get("optimizer") != "adam"
               or t.hyperparameters.values != trials[0].hyperparameters.values for t in trials[1:])
    model = tuner.load_model(trials[0])  # what the first trial trained
    assert model.get_layer("hidden_0").units == 256
    assert _learning_rate(model) == ("CosineDecay", 1e-3)
    assert trials[0].score > 0.6  # the baseline learns (chance: about 1/3)
    best = tuner.get_best_models(1)[0]
    assert best.predict(x[:4], verbose=0).shape == (4, 3)
    # one progress line per trial, with its score and the best so far
    assert len(lines) == len(trials)
    running_best = -math.inf
    for line, trial in zip(lines, trials):
        running_best = max(running_best, trial.score)
        assert line.startswith(f"trial {trial.trial_id}")
        assert f"val_accuracy {trial.score:.4f}" in line
        assert f"| best {running_best:.4f}" in line
    assert "adam lr 0.001, cosine, units 256, batch 32" in lines[0]


def test_keras_tuner_tuners_and_resumed_searches_keep_their_own_first_trial(tmp_path):
    # Keras Tuner's own RandomSearch draws the first trial at random (its
    # documented behaviour); kerastools' leaves a resumed search alone.
    hypermodel = tuning.ClassifierHyperModel((20,), 3, epochs=1, max_layers=1)
    x, y = _tabular(120)
    plain = keras_tuner.RandomSearch(hypermodel, objective="val_accuracy", max_trials=1, seed=1,
                                     directory=str(tmp_path), project_name="plain")
    plain.search(x, y, validation_split=0.25, verbose=0)
    assert plain.oracle.get_best_trials(1)[0].hyperparameters.values != MLP_DEFAULTS
    tuner = _tuner("RandomSearch", hypermodel, tmp_path, project_name="resumed", max_trials=1)
    tuner.search(x, y, validation_split=0.25, verbose=0)
    again = _tuner("RandomSearch", hypermodel, tmp_path, project_name="resumed", max_trials=2,
                   overwrite=False)
    again.search(x, y, validation_split=0.25, verbose=0)
    values = [t.hyperparameters.values for t in tuning.report.trials_in_order(again)]
    assert len(values) == 2 and values[0] == MLP_DEFAULTS and values[1] != MLP_DEFAULTS


def test_search_on_flattened_fashion_mnist_subset(tmp_path, fashion_dir):
    from kerastools.datasets import load_fashion_mnist

    keras.utils.set_random_seed(0)
    (x, y), (x_test, y_test) = load_fashion_mnist(fashion_dir, flatten=True, train_size=800,
                                                  test_size=200)
    assert x.shape[1:] == (784,)
    hypermodel = tuning.FashionMNISTHyperModel("mlp", input_shape=(784,), epochs=2,
                                               max_layers=2, batch_sizes=(32, 64))
    tuner = _tuner("RandomSearch", hypermodel, tmp_path, max_trials=2)
    tuner.search(x, y, validation_split=0.2, verbose=0)
    trials = tuning.report.trials_in_order(tuner)
    assert len(trials) == 2
    assert trials[0].hyperparameters.values == MLP_DEFAULTS
    assert trials[0].score > 0.6  # the baseline learns on 640 images in 2 epochs (chance 0.1)
    best = tuner.get_best_models(1)[0]
    _, accuracy = best.evaluate(x_test, y_test, verbose=0)
    assert accuracy > 0.5


# -- reports --------------------------------------------------------------------
class _FakeOracle:
    def __init__(self, scores, direction="max"):
        self.objective = keras_tuner.Objective("val_accuracy", direction)
        self.max_trials = len(scores)
        self.trials = {}
        for i, score in enumerate(scores):
            hp = keras_tuner.HyperParameters()
            hp.values.update(optimizer="adam", adam_learning_rate=10.0 ** -(i + 1),
                             schedule="constant", layers=1, units_0=32 * (i + 1))
            trial = keras_tuner.engine.trial.Trial(hp, trial_id=f"{i:02d}",
                                                   status="COMPLETED" if score else "FAILED")
            trial.score = score
            self.trials[trial.trial_id] = trial

    def get_best_trials(self, num_trials=1):
        done = [t for t in self.trials.values() if t.score is not None]
        sign = -1 if self.objective.direction == "max" else 1
        return sorted(done, key=lambda t: sign * t.score)[:num_trials]


class _FakeTuner:
    def __init__(self, oracle):
        self.oracle = oracle


def test_search_history_and_table():
    scores = [0.5, 0.7, None, 0.6, 0.8, 0.75, 0.1, 0.3, 0.2, 0.65, 0.9]
    tuner = _FakeTuner(_FakeOracle(scores))
    ids, got, best = tuning.search_history(tuner)
    assert ids == [f"{i:02d}" for i in range(11)] and got == scores
    assert best == [0.5, 0.7, 0.7, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.9]
    columns, rows = tuning.top_trials_table(tuner, 3)
    assert columns[:2] == ["trial", "val_accuracy"]
    assert [r[0] for r in rows] == ["10", "04", "05"]
    assert set(columns[2:4]) == {"adam_learning_rate", "units_0"}  # what differs comes first
    assert rows[0][columns.index("units_0")] == "352"
    tuner = _FakeTuner(_FakeOracle([0.5, 0.3, 0.4], direction="min"))
    assert tuning.search_history(tuner)[2] == [0.5, 0.3, 0.3]


def test_plot_search_draws_scores_best_so_far_and_top_trials(tmp_path):
    scores = [0.5, 0.7, None, 0.6, 0.8]
    tuner = _FakeTuner(_FakeOracle(scores))
    fig = tuning.plot_search(tuner, num_trials=2, title="search")
    ax, ax_table = fig.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    dots = lines["trial val_accuracy"]
    assert list(dots.get_xdata()) == [0, 1, 3, 4] and list(dots.get_ydata()) == [0.5, 0.7, 0.6, 0.8]
    assert list(lines["no score"].get_xdata()) == [2]
    assert list(lines["best so far"].get_ydata()) == [0.5, 0.7, 0.7, 0.7, 0.8]
    (table,) = ax_table.tables
    text = {cell.get_text().get_text() for cell in table.get_celld().values()}
    assert {"trial 04", "trial 01", "val_accuracy", "units_0", "160", "64"} <= text
    from kerastools.plotting import save_figure

    save_figure(fig, str(tmp_path / "search.png"))
    assert (tmp_path / "search.png").stat().st_size > 1000


def test_progress_rejects_bad_argument(tmp_path):
    hypermodel = tuning.ClassifierHyperModel((20,), 3)
    with pytest.raises(ValueError, match=r"`progress`.*progress='loud'"):
        tuning.RandomSearch(hypermodel, objective="val_accuracy", directory=str(tmp_path),
                            progress="loud")


def _run_example(args, env=None, **kw):
    cmd = [sys.executable, EXAMPLE, *args]
    full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
    return subprocess.Popen(cmd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, **kw)


def _trial_states(directory):
    states = {}
    for path in pathlib.Path(directory).rglob("trial.json"):
        trial = json.loads(path.read_text())
        states[trial["trial_id"]] = (trial["status"], trial.get("score"))
    return states


@pytest.mark.slow
def test_interrupted_search_resumes_without_losing_trials(tmp_path, fashion_dir):
    directory = str(tmp_path / "tuner")
    args = ["--quick", "--tuner", "random", "--max-trials", "3", "--out", str(tmp_path),
            "--directory", directory, "--data-dir", fashion_dir, "--train-size", "500",
            "--optimizers", "adam,sgd", "--schedules", "constant"]
    proc = _run_example(args)
    deadline = time.time() + 240
    while time.time() < deadline:  # kill it as soon as one trial has finished
        if any(s == "COMPLETED" for s, _ in _trial_states(directory).values()):
            break
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {k: v for k, v in _trial_states(directory).items() if v[0] == "COMPLETED"}
    assert 1 <= len(before) < 3

    resumed = _run_example(args)
    output, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, output
    after = _trial_states(directory)
    completed = {k: v for k, v in after.items() if v[0] == "COMPLETED"}
    assert len(completed) == 3, after
    for trial_id, state in before.items():
        assert completed[trial_id] == state  # finished trials are kept, not re-run


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_distributed_search_chief_and_two_workers(tmp_path, fashion_dir):
    directory = str(tmp_path / "tuner")
    port = str(_free_port())
    args = ["--quick", "--tuner", "random", "--max-trials", "4", "--out", str(tmp_path),
            "--directory", directory, "--data-dir", fashion_dir, "--train-size", "500",
            "--optimizers", "adam,rmsprop", "--schedules", "constant,one_cycle"]
    env = {"KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": port}
    chief = _run_example(args, env={**env, "KERASTUNER_TUNER_ID": "chief"})
    time.sleep(3)
    workers = [_run_example(args, env={**env, "KERASTUNER_TUNER_ID": f"tuner{i}"})
               for i in range(2)]
    try:
        outputs = [w.communicate(timeout=400)[0] for w in workers]
        for w, out in zip(workers, outputs):
            assert w.returncode == 0, out
        chief_out, _ = chief.communicate(timeout=120)
        assert chief.returncode == 0, chief_out
    finally:
        for p in [chief, *workers]:
            if p.poll() is None:
                p.kill()
    states = _trial_states(directory)
    completed = [s for s, _ in states.values() if s == "COMPLETED"]
    assert len(completed) == 4, states
    results = json.loads(next(tmp_path.glob("*/results.json")).read_text())
    assert results["trials"] == 4 and 0 < results["test_accuracy"] <= 1


def test_regularizer_strengths_shared_between_choices():
    # "l2" and "l1l2" use the same `<name>_l2` hyperparameter: both must find it
    # active, whichever was drawn first (a search crashed on this once).
    hp = keras_tuner.HyperParameters()
    hp.Choice("r", ["none", "l1", "l2", "l1l2"])
    for kind in ("l2", "l1l2", "l1", "none", "l2"):
        hp.values["r"] = kind
        hp.ensure_active_values()  # as the oracle does: a value for every active hyperparameter
        reg = tuning.choose_regularizer(hp, "r")
        if kind == "none":
            assert reg is None
        else:
            assert (getattr(reg, "l2", 0) > 0) == (kind in ("l2", "l1l2"))
            assert (getattr(reg, "l1", 0) > 0) == (kind in ("l1", "l1l2"))


# What each choice must build, against an independent construction: every
# optimizer choice equals its Keras built-in (or, for Butterworth, SciPy's
# Butterworth design filtering lr * g) step for step on a small quadratic; every
# schedule choice is its kerastools class and equals a NumPy transcription of
# the documented formula at steps across the run. A choice mapped to the wrong
# component (``nesterov`` to plain momentum, ``sgdr`` to one-cycle, ``rmsprop``
# to ``adadelta``, ...) fails here.

_CURVATURE = np.array([0.5, 1.0, 2.0, 0.1, 4.0])
_W0 = np.array([1.0, -2.0, 0.5, 3.0, -0.25])


def _trajectory(optimizer, steps=6):
    """The weights after each of ``steps`` steps on ``0.5 * sum(c * w**2)``."""
    w = keras.Variable(_W0.astype("float32"))
    out = []
    for _ in range(steps):
        g = _CURVATURE * keras.ops.convert_to_numpy(w)
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g.astype("float32")), w)])
        out.append(keras.ops.convert_to_numpy(w).astype("float64"))
    return np.array(out)


def _butterworth_trajectory(lr, order, cutoff, steps=6):
    """``w -= B(lr * g)`` with ``B`` SciPy's Butterworth low-pass (unit DC gain), in NumPy."""
    from scipy.signal import butter

    b, a = butter(order, 2.0 * cutoff)  # SciPy's cutoff is relative to Nyquist (0.5)
    w = _W0.copy()
    xs, ys, out = [], [], []
    for n in range(steps):
        xs.append(lr * _CURVATURE * w)
        y = sum(b[i] * xs[n - i] for i in range(len(b)) if n - i >= 0)
        y = y - sum(a[i] * ys[n - i] for i in range(1, len(a)) if n - i >= 0)
        ys.append(y)
        w = w - y
        out.append(w.copy())
    return np.array(out)


_OPTIMIZER_CASES = {
    "sgd": (dict(sgd_learning_rate=0.1), lambda v: keras.optimizers.SGD(0.1)),
    "momentum": (dict(momentum_learning_rate=0.05, momentum_momentum=0.9),
                 lambda v: keras.optimizers.SGD(0.05, momentum=0.9)),
    "nesterov": (dict(nesterov_learning_rate=0.05, nesterov_momentum=0.9),
                 lambda v: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True)),
    "adagrad": (dict(adagrad_learning_rate=0.1), lambda v: keras.optimizers.Adagrad(0.1)),
    "adadelta": (dict(adadelta_learning_rate=1.0, adadelta_rho=0.85),
                 lambda v: keras.optimizers.Adadelta(1.0, rho=0.85)),
    "rmsprop": (dict(rmsprop_learning_rate=0.01, rmsprop_rho=0.85),
                lambda v: keras.optimizers.RMSprop(0.01, rho=0.85)),
    "adam": (dict(adam_learning_rate=0.01, adam_beta_1=0.85, adam_beta_2=0.99),
             lambda v: keras.optimizers.Adam(0.01, beta_1=0.85, beta_2=0.99)),
    "nadam": (dict(nadam_learning_rate=0.01, nadam_beta_1=0.85, nadam_beta_2=0.99),
              lambda v: keras.optimizers.Nadam(0.01, beta_1=0.85, beta_2=0.99)),
    "butterworth": (dict(butterworth_learning_rate=0.05, butterworth_order=3,
                         butterworth_cutoff=0.1), None),
}


@pytest.mark.parametrize("name", tuning.OPTIMIZERS)
def test_every_optimizer_choice_steps_like_its_reference(name):
    values, expected = _OPTIMIZER_CASES[name]
    hp = keras_tuner.HyperParameters()
    hp.values.update(optimizer=name, **values)
    opt = tuning.choose_optimizer(hp)  # every choice offered, this one drawn
    assert isinstance(opt, keras.optimizers.Optimizer)
    assert {k: hp.values[k] for k in values} == values  # the drawn values were used
    got = _trajectory(opt)
    if expected is None:
        want = _butterworth_trajectory(0.05, 3, 0.1)
    else:
        want = _trajectory(expected(values))
    assert np.max(np.abs(want - _W0)) > 1e-3  # the reference moved
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)


def _smith_triangle(t, low, high, step_size, mode):
    cycle = np.floor(1 + t / (2 * step_size))
    x = np.abs(t / step_size - 2 * cycle + 1)
    scale = 1.0 if mode == "triangular" else 1.0 / 2.0 ** (cycle - 1)
    return low + (high - low) * np.maximum(0.0, 1 - x) * scale


def _sgdr(t, lr, first, t_mul):
    start, length = 0.0, float(first)
    while t >= start + length:
        start, length = start + length, length * t_mul
    return 0.5 * lr * (1 + np.cos(np.pi * (t - start) / length))


def _one_cycle(t, peak, total, pct):
    initial = peak / 25.0
    final = initial / 1e4
    e0, e1 = pct * total - 1, total - 1
    t = min(t, e1)
    if t <= e0:
        start, end, frac = initial, peak, t / e0
    else:
        start, end, frac = peak, final, (t - e0) / (e1 - e0)
    return end + (start - end) / 2 * (1 + np.cos(np.pi * frac))


_LR, _EPOCHS, _SPE = 0.1, 6, 5  # 30 steps
_SCHEDULE_CASES = [
    ("constant", {}, None, lambda t: _LR),
    ("cosine", {}, "CosineDecay", lambda t: 0.5 * _LR * (1 + np.cos(np.pi * min(t, 30) / 30))),
    ("step", {}, "PiecewiseConstantDecay",
     lambda t: _LR * 0.2 ** ((t >= 15) + (t >= 22))),  # drops at round(0.5 * 30), round(0.75 * 30)
    ("exponential", dict(schedule_decay_rate=0.85), "ExponentialDecay",
     lambda t: _LR * 0.85 ** np.floor(t / _SPE)),
    ("cyclical", dict(cyclical_cycles=3, cyclical_mode="triangular"),  # half-cycles of 30 / 6
     "CyclicalLearningRate", lambda t: _smith_triangle(t, _LR / 10, _LR, 5, "triangular")),
    ("cyclical", dict(cyclical_cycles=1, cyclical_mode="triangular2"),
     "CyclicalLearningRate", lambda t: _smith_triangle(t, _LR / 10, _LR, 15, "triangular2")),
    ("sgdr", dict(sgdr_cycles=2, sgdr_t_mul=2.0), "SGDR",  # 10 + 20 steps
     lambda t: _sgdr(t, _LR, 10, 2.0)),
    ("sgdr", dict(sgdr_cycles=3, sgdr_t_mul=1.0), "SGDR",  # 10 + 10 + 10
     lambda t: _sgdr(t, _LR, 10, 1.0)),
    ("sgdr", dict(sgdr_cycles=3, sgdr_t_mul=2.0), "SGDR",  # round(30 / 7) = 4, then 8, 16
     lambda t: _sgdr(t, _LR, 4, 2.0)),
    ("one_cycle", dict(one_cycle_pct_start=0.4), "OneCycle",
     lambda t: _one_cycle(t, _LR, 30, 0.4)),
]
_STEPS = [0, 1, 3, 4, 5, 6, 9, 10, 11, 14, 15, 16, 21, 22, 23, 28, 29, 30, 34]


def test_every_schedule_choice_follows_its_formula():
    assert set(_OPTIMIZER_CASES) == set(tuning.OPTIMIZERS)
    assert {case[0] for case in _SCHEDULE_CASES} == set(tuning.SCHEDULES)
    for i, (name, values, cls, formula) in enumerate(_SCHEDULE_CASES):
        what = f"case {i}: {name} {values}"
        hp = keras_tuner.HyperParameters()
        hp.values.update(schedule=name, **values)
        sched = tuning.choose_schedule(hp, _LR, epochs=_EPOCHS, steps_per_epoch=_SPE)
        assert {k: hp.values[k] for k in values} == values, what
        if cls is None:
            assert sched == _LR, what
            continue
        assert type(sched).__name__ == cls, f"{what}: built {type(sched).__name__}"
        got = np.array([float(sched(s)) for s in _STEPS])
        want = np.array([formula(float(s)) for s in _STEPS])
        assert np.ptp(want) > 0.01 * _LR, what  # the formula varies over the steps checked
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-9, err_msg=what)
    hp = keras_tuner.HyperParameters()
    hp.values.update(schedule="step")
    assert tuning.choose_schedule(hp, _LR, epochs=1, steps_per_epoch=3) == _LR  # no room for drops
