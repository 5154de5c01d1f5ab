"""Learning-rate schedules on a Fashion-MNIST CNN: epochs to a target test accuracy.

Six schedules, one CNN, SGD with momentum 0.9 (the one-cycle run cycles the
momentum 0.95 -> 0.85 -> 0.95 with ``MomentumScheduler``), the same seed and
data order: a constant rate; the course's step decay (x0.2 at 50% and 75% of
the epochs); exponential decay per epoch; a triangular2 cyclical rate; SGDR
(cycles of 1/7, 2/7 and 4/7 of the run); and one-cycle. For each: the epochs
needed to reach ``--target`` test accuracy, the best and final test accuracy;
figures of the schedules and of the learning curves (with the learning rate
logged by ``LearningRateLogger``).

    python examples/lr_schedules.py --epochs 14 --target 0.91

Measured on a 2-core CPU (shared), ``--epochs 8 --train-size 6000
--test-size 2000 --target 0.85`` (test accuracy per epoch; seed 0):

    schedule                  epochs to 85%   best (epoch)    final
    constant 0.025            not reached     0.8430 (8)      0.8430
    step x0.2 at 50%, 75%     not reached     0.8375 (7)      0.8350
    exponential 0.8/epoch     not reached     0.8330 (7)      0.8220
    cyclical triangular2      7               0.8620 (8)      0.8620
    SGDR t_mul=2 (*)          not reached     0.8175 (7)      0.8145
    one-cycle (+ momentum)    7               0.8750 (8)      0.8750

(*) with integer cycles of 107 steps, whose third restart fell 3 steps before
the end; the script now uses ``total / 7`` so the last cycle ends with the run.
One run each, one seed: differences of a point are within noise.
"""

import os
import sys
import time

import keras
from matplotlib.figure import Figure

sys.path.insert(0, os.path.dirname(__file__))
import _common

from kerastools import schedules as S
from kerastools.callbacks import LearningRateLogger
from kerastools.callbacks import MomentumScheduler
from kerastools.plotting import plot_schedule
from kerastools.plotting import save_figure

BATCH = 64


def build_cnn(learning_rate, momentum=0.9, width=32, blocks=2):
    """Conv blocks (conv 3x3, batch norm, ReLU, max pooling), dropout, a dense head."""
    inputs = keras.Input(shape=(28, 28), name="images")
    x = keras.layers.Reshape((28, 28, 1))(inputs)
    for k in range(blocks):
        x = keras.layers.Conv2D(width * 2**k, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.Activation("relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    if blocks > 1:
        x = keras.layers.Dropout(0.3)(x)
        x = keras.layers.Dense(128, activation="relu")(x)
        x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="cnn")
    model.compile(optimizer=keras.optimizers.SGD(learning_rate, momentum=momentum),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def schedules(epochs, spe, peak=0.05):
    total = epochs * spe
    one_cycle = S.OneCycle(2 * peak, total)
    return {
        "constant": (peak / 2, None),
        "step (x0.2 at 50%, 75%)": (S.milestone_decay(peak, epochs, spe), None),
        "exponential (0.8/epoch)": (S.exponential_decay(peak, 0.8, spe), None),
        "cyclical (triangular2)": (
            S.CyclicalLearningRate(peak / 10, peak, max(1, total // 6), mode="triangular2"), None),
        # Cycles of 1/7, 2/7 and 4/7 of the run: the last one ends with it.
        "SGDR (t_mul=2)": (S.SGDR(peak, total / 7, t_mul=2.0), None),
        "one-cycle": (one_cycle, one_cycle.momentum_schedule(0.85, 0.95)),
    }


def epochs_to(accuracies, target):
    for i, a in enumerate(accuracies):
        if a >= target:
            return i + 1
    return None


def main(argv=None):
    p = _common.parser(__doc__.splitlines()[0], epochs=14)
    p.add_argument("--target", type=float, default=0.91, help="test accuracy to reach")
    p.add_argument("--train-size", type=int, default=None,
                   help="a class-balanced training subset (default: all 60000)")
    p.add_argument("--test-size", type=int, default=None,
                   help="a class-balanced test subset (default: all 10000)")
    args = p.parse_args(argv)
    (x, y), (x_test, y_test) = _common.load_data(args, flatten=False, quick_train=1024,
                                                 quick_test=500)
    if (args.train_size or args.test_size) and not args.quick:
        from kerastools.datasets import load_fashion_mnist

        (x, y), (x_test, y_test) = load_fashion_mnist(
            args.data_dir, train_size=args.train_size, test_size=args.test_size)
    epochs = _common.epochs(args, quick=1)
    width = 8 if args.quick else 32
    spe = -(-len(x) // BATCH)
    out = _common.run_dir(args.out, "lr_schedules")
    runs, results = {}, {}
    table = schedules(epochs, spe)
    for name, (lr, momentum) in table.items():
        keras.utils.set_random_seed(0)
        # Quick mode (CI): one narrow block, as tracing dominates a few batches.
        model = build_cnn(lr, 0.95 if momentum is not None else 0.9, width,
                          blocks=1 if args.quick else 2)
        logger = LearningRateLogger(per_batch=True)  # every step's rate, for results.json
        callbacks = [logger]
        if momentum is not None:
            callbacks.insert(0, MomentumScheduler(momentum))
        start = time.perf_counter()
        h = model.fit(x, y, batch_size=BATCH, epochs=epochs, validation_data=(x_test, y_test),
                      shuffle=True, verbose=0, callbacks=callbacks)
        seconds = time.perf_counter() - start
        acc = h.history["val_accuracy"]
        runs[name] = h.history
        results[name] = {
            "epochs_to_target": epochs_to(acc, args.target),
            "best_test_accuracy": max(acc),
            "best_epoch": acc.index(max(acc)) + 1,
            "final_test_accuracy": acc[-1],
            "learning_rate_per_epoch": h.history["learning_rate"],
            "learning_rate_range": [min(logger.batch_learning_rates),
                                    max(logger.batch_learning_rates)],
            "seconds": round(seconds, 1),
        }
        print(f"{name:26s} epochs to {args.target:.0%}: {results[name]['epochs_to_target']}, "
              f"best {max(acc):.4f} (epoch {results[name]['best_epoch']}), final {acc[-1]:.4f}, "
              f"{seconds:.0f} s")

    fig = plot_schedule({k: v[0] for k, v in table.items()}, epochs * spe, steps_per_epoch=spe,
                        title=f"schedules ({spe} steps/epoch)")
    save_figure(fig, os.path.join(out, "schedules.png"))
    fig = Figure(figsize=(13, 4), layout="constrained")
    axes = [fig.add_subplot(1, 3, i + 1) for i in range(3)]
    for name, h in runs.items():
        ep = range(1, len(h["loss"]) + 1)
        axes[0].plot(ep, h["val_accuracy"], marker=".", label=name)
        axes[1].plot(ep, h["loss"], marker=".", label=name)
        axes[2].plot(ep, h["learning_rate"], marker=".", label=name)
    axes[0].axhline(args.target, color="0.5", linestyle=":", label=f"target {args.target:.0%}")
    for ax, label in zip(axes, ["test accuracy", "training loss", "learning rate (last step)"]):
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    axes[2].set_yscale("log")
    axes[0].legend(fontsize="small")
    save_figure(fig, os.path.join(out, "learning_curves.png"))
    _common.write_json(os.path.join(out, "results.json"),
                       {"quick": args.quick, "epochs": epochs, "target": args.target,
                        "train_size": len(x), "test_size": len(x_test), "schedules": results})
    print(f"wrote {out}")
    return results


if __name__ == "__main__":
    main()
