"""Batch normalisation on the course's MLP: none, Keras BN, debiased BN; with and without dropout.

``DebiasedBatchNormalization`` keeps its moving statistics with the filter
core's transient compensation (Adam's bias correction), so inference is right
from the first steps; Keras' ``BatchNormalization`` starts its moving averages
at 0 and 1 and needs about ``1 / (1 - momentum)`` steps to forget them. The
script measures that gap after 30 steps, then trains the five models.

    python examples/batch_norm.py --epochs 15
"""

import os
import sys
import time

import keras

sys.path.insert(0, os.path.dirname(__file__))
import _common  # noqa: E402

from kerastools.layers import DebiasedBatchNormalization  # noqa: E402
from kerastools.plotting import plot_runs  # noqa: E402
from kerastools.plotting import save_figure  # noqa: E402

LAYERS = {"Keras BN": keras.layers.BatchNormalization, "debiased BN": DebiasedBatchNormalization}


def bn_mlp(bn_layer=None, dropout=0.0):
    """784-128-10 with the hidden layer as Dense (no bias) -> BN -> relu."""
    inputs = keras.Input(shape=(784,), name="images")
    x = keras.layers.Dense(128, use_bias=bn_layer is None, name="hidden")(inputs)
    if bn_layer is not None:
        x = bn_layer(momentum=0.99, name="bn")(x)
    x = keras.layers.Activation("relu", name="relu")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="output")(x)
    model = keras.Model(inputs, outputs, name="bn_mlp")
    model.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def early_gap(x, y, x_test, y_test, steps=30):
    """Test loss in inference mode and in training mode after ``steps`` steps."""
    cce = keras.losses.SparseCategoricalCrossentropy()
    out = {}
    for name, layer in LAYERS.items():
        keras.utils.set_random_seed(0)
        model = bn_mlp(layer)
        model.fit(x[:steps * 32], y[:steps * 32], batch_size=32, epochs=1, shuffle=False, verbose=0)
        infer, train = (float(cce(y_test, model(x_test, training=t))) for t in (False, True))
        out[name] = {"inference_loss": infer, "training_mode_loss": train, "steps": steps}
        print(f"{name:12s} after {steps} steps: inference loss {infer:.3f}, "
              f"training-mode loss {train:.3f}")
    return out


def main(argv=None):
    args = _common.parser(__doc__.splitlines()[0], epochs=15).parse_args(argv)
    (x, y), (x_test, y_test) = _common.load_data(args)
    epochs = _common.epochs(args)
    out = _common.run_dir(args.out, "batch_norm")
    results = {"early_gap": early_gap(x, y, x_test, y_test)}
    variants = {"no BN": None, **LAYERS}
    histories, runs = {}, {}
    for name, layer in variants.items():
        for dropout in (0.0,) if layer is None or args.quick else (0.0, 0.3):
            label = f"{name}, dropout {dropout:g}"
            keras.utils.set_random_seed(0)
            model = bn_mlp(layer, dropout)
            start = time.perf_counter()
            histories[label] = model.fit(x, y, batch_size=32, epochs=epochs,
                                         validation_split=0.1, verbose=0)
            runs[label] = _common.evaluate(model, x_test, y_test, histories[label],
                                           time.perf_counter() - start)
            print(f"{label:26s} test loss {runs[label]['test_loss']:.4f} "
                  f"acc {100 * runs[label]['test_accuracy']:.2f}%")
    results["runs"] = runs
    save_figure(plot_runs(histories, ("loss", "val_loss", "val_accuracy"), title="batch norm"),
                os.path.join(out, "batch_norm_curves.png"))
    _common.write_json(os.path.join(out, "results.json"),
                       {"epochs": epochs, "quick": args.quick, **results})
    return results


if __name__ == "__main__":
    main()
