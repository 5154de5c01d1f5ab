"""kerastools.experiments: the options, models and summaries the examples and notebooks share."""

import json

import keras
import numpy as np
import pytest

from kerastools import experiments
from kerastools.layers import DebiasedBatchNormalization


def test_summarize_is_mean_and_sample_std_over_seeds():
    records = {0: {"a": 1.0, "b": 0.5, "name": "x", "flag": True},
               1: {"a": 2.0, "b": 0.25, "name": "y", "flag": False},
               2: {"a": 4.5, "b": 0.75, "name": "z", "flag": True}}
    s = experiments.summarize(records)
    assert set(s) == {"a", "b"}  # strings and booleans are not figures
    for key in ("a", "b"):
        values = np.array([r[key] for r in records.values()])
        assert s[key]["mean"] == pytest.approx(values.mean())
        assert s[key]["std"] == pytest.approx(values.std(ddof=1))
        assert (s[key]["min"], s[key]["max"], s[key]["n"]) == (values.min(), values.max(), 3)
    one = experiments.summarize({7: {"a": 3.0}})
    assert one["a"] == {"mean": 3.0, "std": 0.0, "min": 3.0, "max": 3.0, "n": 1}


def test_write_results_keeps_every_seed_and_the_summary(tmp_path):
    args = experiments.parser("x", epochs=3).parse_args(["--seeds", "0,2", "--quick"])
    runs = {"run": {0: {"test_accuracy": 0.8}, 2: {"test_accuracy": 0.9}}}
    out = experiments.write_results(tmp_path / "results.json", args, runs, epochs=1)
    written = json.loads((tmp_path / "results.json").read_text())
    assert written == json.loads(json.dumps(out))
    assert written["seeds"] == [0, 2] and written["quick"] is True and written["epochs"] == 1
    assert written["runs"]["run"]["seeds"] == {"0": {"test_accuracy": 0.8}, "2": {"test_accuracy": 0.9}}
    assert written["runs"]["run"]["summary"]["test_accuracy"]["mean"] == pytest.approx(0.85)


def test_options(monkeypatch):
    monkeypatch.delenv("KERASTOOLS_QUICK", raising=False)
    args = experiments.parse_args(experiments.parser("x", epochs=40), [])
    assert (args.epochs, args.quick, args.seeds, args.out) == (40, False, (0,), "runs")
    assert experiments.epochs(args) == 40
    monkeypatch.setenv("KERASTOOLS_QUICK", "1")
    args = experiments.parse_args(experiments.parser("x", epochs=40), ["--seeds", "3,1"])
    assert args.quick and args.seeds == (3, 1) and experiments.epochs(args, quick=2) == 2
    monkeypatch.setenv("KERASTOOLS_QUICK", "0")
    assert not experiments.parse_args(experiments.parser("x", epochs=4), []).quick
    assert not experiments.in_notebook()


def test_int_list_errors_in_keras_form():
    assert experiments.int_list("--sizes", "32, 64") == (32, 64)
    assert experiments.int_list("--seeds", "0", minimum=0) == (0,)
    for bad in ("", "a,b", "0,4", "-1"):
        with pytest.raises(ValueError, match=r"Argument `--sizes` must be integers >= 1 .* Received: "):
            experiments.int_list("--sizes", bad)
    with pytest.raises(SystemExit):  # argparse reports a bad --seeds
        experiments.parser("x", epochs=1).parse_args(["--seeds", "a"])


def test_mlp_layers_and_regularisation():
    model = experiments.mlp(hidden=(16,), dropout=0.3, l2=1e-3)
    names = [layer.name for layer in model.layers]
    assert names == ["images", "hidden", "dropout", "output"]
    for name in ("hidden", "output"):  # the course's L2 sweep: kernels and biases
        layer = model.get_layer(name)
        assert layer.kernel_regularizer.l2 == pytest.approx(1e-3)
        assert layer.bias_regularizer.l2 == pytest.approx(1e-3)
    x = np.ones((2, 784), "float32")
    assert model(x).shape == (2, 10)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)).sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("layer", [keras.layers.BatchNormalization, DebiasedBatchNormalization])
def test_mlp_with_batch_norm_is_dense_without_bias_then_bn_then_activation(layer):
    model = experiments.mlp(hidden=(8, 8), batch_norm=layer)
    assert [lay.name for lay in model.layers][1:] == [
        "hidden_0", "bn_0", "relu_0", "hidden_1", "bn_1", "relu_1", "output"]
    assert not model.get_layer("hidden_0").use_bias
    assert isinstance(model.get_layer("bn_0"), layer) and model.get_layer("bn_0").momentum == 0.99
    plain = experiments.mlp(hidden=(8,))
    assert plain.get_layer("hidden").use_bias and plain.get_layer("hidden").activation.__name__ == "relu"


def test_cnn_shapes_and_names():
    model = experiments.cnn(filters=(4, 8), dense=16)
    assert model.output_shape == (None, 10)
    assert [model.get_layer(f"conv_{i}{p}").filters for i in (0, 1) for p in "ab"] == [4, 4, 8, 8]
    assert model.get_layer("dense").units == 16
