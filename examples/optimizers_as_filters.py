"""Optimizers as gradient filters: the eight presets and a Butterworth momentum on Fashion-MNIST.

The course's 784-128-10 MLP (Functional API), the same seed and data order for
every optimizer: ``kerastools.optimizers`` presets equal to SGD, momentum,
Nesterov, Adagrad, Adadelta, RMSprop, Adam and Nadam, and an order-2
Butterworth low-pass as the momentum filter (cutoff 0.05 cycles per step,
DC gain 10 like momentum 0.9). Writes the learning curves of every run, the
frequency and step responses of their gradient filters (standard momentum vs
Nesterov vs Adam vs Butterworth), and ``results.json`` with the final and best
validation accuracy and the test accuracy of each.

    python examples/optimizers_as_filters.py --epochs 10
"""

import os
import sys
import time

import keras

sys.path.insert(0, os.path.dirname(__file__))
import _common  # noqa: E402

from kerastools import optimizers as kto  # noqa: E402
from kerastools.datasets import load_fashion_mnist  # noqa: E402
from kerastools.plotting import plot_frequency_response  # noqa: E402
from kerastools.plotting import plot_runs  # noqa: E402
from kerastools.plotting import save_figure  # noqa: E402

OPTIMIZERS = {
    "sgd": lambda: kto.sgd(0.1),
    "momentum": lambda: kto.momentum(0.01, momentum=0.9),
    "nesterov": lambda: kto.nesterov(0.01, momentum=0.9),
    "adagrad": lambda: kto.adagrad(0.05),
    "adadelta": lambda: kto.adadelta(1.0),
    "rmsprop": lambda: kto.rmsprop(1e-3),
    "adam": lambda: kto.adam(1e-3),
    "nadam": lambda: kto.nadam(1e-3),
    "butterworth2": lambda: kto.butterworth_momentum(2, 0.05, learning_rate=0.01, dc_gain=10.0),
}
QUICK = ("momentum", "adam", "butterworth2")


def build_model(optimizer):
    inputs = keras.Input(shape=(28 * 28,), name="images")
    h = keras.layers.Dense(128, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(10, activation="softmax", name="output")(h)
    model = keras.Model(inputs, outputs, name="mlp")
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def main(argv=None):
    args = _common.parser(__doc__.splitlines()[0], epochs=10).parse_args(argv)
    sizes = dict(train_size=3000, test_size=1000) if args.quick else {}
    epochs = 1 if args.quick else args.epochs
    names = QUICK if args.quick else tuple(OPTIMIZERS)
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(args.data_dir, flatten=True,
                                                              **sizes)
    out = _common.run_dir(args.out, "optimizers_as_filters")

    save_figure(plot_frequency_response(
        {"momentum 0.9": kto.momentum(momentum=0.9), "Nesterov 0.9": kto.nesterov(momentum=0.9),
         "Adam beta_1=0.9": kto.adam(), "Nadam beta_1=0.9": kto.nadam(),
         "Butterworth order 2, 0.05": OPTIMIZERS["butterworth2"]()},
        title="gradient filters of the optimizers"), os.path.join(out, "frequency_response.png"))
    save_figure(plot_frequency_response(
        {"momentum 0.9": kto.momentum(momentum=0.9), "Nesterov 0.9": kto.nesterov(momentum=0.9)},
        normalize_dc=True, title="Nesterov attenuates high frequencies less"),
        os.path.join(out, "momentum_vs_nesterov.png"))

    histories, results = {}, {"epochs": epochs, "quick": args.quick, "runs": {}}
    for name in names:
        keras.utils.set_random_seed(0)
        model = build_model(OPTIMIZERS[name]())
        t = time.perf_counter()
        history = model.fit(x_train, y_train, batch_size=32, epochs=epochs,
                            validation_split=0.1, shuffle=True, verbose=2)
        seconds = time.perf_counter() - t
        test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
        histories[name] = history
        val = history.history["val_accuracy"]
        results["runs"][name] = {"final_val_accuracy": val[-1], "best_val_accuracy": max(val),
                                 "test_accuracy": test_acc, "test_loss": test_loss,
                                 "seconds": seconds}
        print(f"{name:14s} test accuracy {100 * test_acc:.2f}%  ({seconds:.1f} s)")
    save_figure(plot_runs(histories, metrics=("loss", "val_loss", "val_accuracy"),
                          title="optimizers as gradient filters, 784-128-10 MLP"),
                os.path.join(out, "learning_curves.png"))
    _common.write_json(os.path.join(out, "results.json"), results)
    print(f"wrote {out}")
    return results


if __name__ == "__main__":
    main()
