"""Training monitors on the course's baseline: weight evolution with and without L2,
learning curves, the best model saved by Keras' ModelCheckpoint, the deep-tanh
activation experiment and the babysitting checklist.

- Baseline 784-128-10 MLP (Adam, batch 32, ``validation_split=0.1``) trained
  with ``WeightNormTracker``, ``LearningCurves`` (PNG at every epoch) and
  ``keras.callbacks.ModelCheckpoint(save_best_only=True)``; the same model with
  L2 (1e-3) on its kernels; ``plot_weight_norms`` compares the two (the
  course's "weight evolution" figures).
- A 6-layer tanh MLP at initialisation, ``W = 0.001 * rand`` against Xavier:
  activation histograms per layer and gradient norms per layer.
- ``babysit``: first loss vs ln(10), over-fitting 32 samples with and without
  L2, dead/saturated units, finite gradients.

    python examples/monitors.py --epochs 20
"""

import os
import sys

import keras
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import _common  # noqa: E402

from kerastools.callbacks import LearningCurves  # noqa: E402
from kerastools.callbacks import WeightNormTracker  # noqa: E402
from kerastools.datasets import load_fashion_mnist  # noqa: E402
from kerastools.diagnostics import activation_statistics  # noqa: E402
from kerastools.diagnostics import babysit  # noqa: E402
from kerastools.diagnostics import gradient_norms  # noqa: E402
from kerastools.plotting import plot_activation_stats  # noqa: E402
from kerastools.plotting import plot_gradient_norms  # noqa: E402
from kerastools.plotting import plot_weight_norms  # noqa: E402
from kerastools.plotting import save_figure  # noqa: E402


def build_mlp(l2=0.0, hidden=128):
    reg = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input(shape=(28 * 28,), name="images")
    z = keras.layers.Dense(hidden, activation="relu", name="hidden", kernel_regularizer=reg)(inputs)
    outputs = keras.layers.Dense(10, activation="softmax", name="output", kernel_regularizer=reg)(z)
    model = keras.Model(inputs, outputs, name="baseline_mlp")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_tanh(init, width=256, depth=6):
    """The course's deep tanh MLP."""
    inputs = keras.Input(shape=(28 * 28,), name="images")
    h = inputs
    for i in range(depth):
        h = keras.layers.Dense(width, activation="tanh", kernel_initializer=init,
                               name=f"tanh_{i + 1}")(h)
    outputs = keras.layers.Dense(10, activation="softmax", name="output")(h)
    model = keras.Model(inputs, outputs, name="tanh_mlp")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def train(out, name, l2, x, y, epochs):
    keras.utils.set_random_seed(0)
    model = build_mlp(l2)
    ckpt = os.path.join(out, f"best_{name}.keras")
    callbacks = [
        WeightNormTracker(norms=("l2", "max")),  # before CSVLogger so the norms are in the CSV
        LearningCurves(os.path.join(out, f"curves_{name}.png"), title=f"baseline, {name}"),
        keras.callbacks.ModelCheckpoint(ckpt, monitor="val_loss", save_best_only=True),
        keras.callbacks.CSVLogger(os.path.join(out, f"history_{name}.csv")),
    ]
    history = model.fit(x, y, batch_size=32, epochs=epochs, validation_split=0.1, verbose=2,
                        callbacks=callbacks)
    return model, history, ckpt


def main(argv=None):
    args = _common.parser(__doc__.splitlines()[0], epochs=20).parse_args(argv)
    sizes = dict(train_size=6000, test_size=2000) if args.quick else {}
    epochs = min(args.epochs, 2) if args.quick else args.epochs
    (x, y), (x_test, y_test) = load_fashion_mnist(args.data_dir, flatten=True, **sizes)
    out = _common.run_dir(args.out, "monitors")
    results = {"epochs": epochs, "quick": args.quick}

    # 1. Weight evolution without and with L2; the best model kept by ModelCheckpoint.
    histories = {}
    for name, l2 in (("no L2", 0.0), ("L2 1e-3", 1e-3)):
        tag = name.replace(" ", "_")
        model, history, ckpt = train(out, tag, l2, x, y, epochs)
        best = keras.saving.load_model(ckpt, safe_mode=True)
        loss, acc = best.evaluate(x_test, y_test, verbose=0)
        val = history.history["val_loss"]
        histories[name] = history
        results[name] = {
            "best_epoch": int(np.argmin(val)) + 1, "best_val_loss": float(np.min(val)),
            "test_loss_best_model": float(loss), "test_accuracy_best_model": float(acc),
            "final_weight_norm_hidden_kernel": history.history["weight_norm/hidden/kernel"][-1],
            "checkpoint": os.path.basename(ckpt),
        }
        print(f"{name}: best epoch {results[name]['best_epoch']}, test accuracy of the "
              f"checkpoint {100 * acc:.2f}%")
    save_figure(plot_weight_norms(histories, keys=["hidden/kernel", "output/kernel"],
                                  title="weight evolution: L2 norm of the kernels"),
                os.path.join(out, "weight_norms.png"))

    # 2. The deep tanh net at initialisation: 0.001 * rand collapses, Xavier keeps the spread.
    probe, probe_y = x[:256], y[:256]
    layers = [f"tanh_{i + 1}" for i in range(6)]
    acts, grads = {}, {}
    for name, init in (("W = 0.001 rand", keras.initializers.RandomUniform(0.0, 0.001)),
                       ("Xavier", "glorot_uniform")):
        keras.utils.set_random_seed(0)
        model = build_tanh(init)
        acts[name] = activation_statistics(model, probe, layers=layers)
        grads[name] = gradient_norms(model, probe, probe_y, include_biases=False)
        results[f"tanh {name}"] = {
            "activation_std": [acts[name][n]["std"] for n in layers],
            "near_zero": [acts[name][n]["near_zero"] for n in layers],
            "gradient_norm": [grads[name][f"{n}/kernel"] for n in layers],
        }
    save_figure(plot_activation_stats(acts, title="6-layer tanh MLP at initialisation"),
                os.path.join(out, "tanh_activations.png"))
    save_figure(plot_gradient_norms(grads, title="gradient norms at initialisation"),
                os.path.join(out, "tanh_gradients.png"))

    # 3. Babysitting checklist on the baseline.
    keras.utils.set_random_seed(0)
    # (quick mode leaves out the with/without-L2 comparison: one training less)
    report = babysit(build_mlp(), x[:512], y[:512], build_model=build_mlp,
                     build_regularized=None if args.quick else (lambda: build_mlp(1e-2)),
                     n_samples=32, epochs=100 if args.quick else 300)
    print(report)
    results["babysitting"] = [
        {"check": r.name, "passed": r.passed, "value": r.value, "expected": r.expected}
        for r in report.results]

    _common.write_json(os.path.join(out, "results.json"), results)
    print(f"wrote {out}")
    return results


if __name__ == "__main__":
    main()
