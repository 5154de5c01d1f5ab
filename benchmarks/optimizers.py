"""Speed of the FilterOptimizer presets against the Keras built-ins they reproduce.

Pairs (preset / built-in): Adam, Nesterov (SGD momentum 0.9, nesterov=True),
RMSprop, and an order-2 Butterworth momentum against Keras SGD with momentum
0.9. Workloads: the course's 784-128-10 MLP at batch 32 and 256, and a small
CNN (conv 16 - pool - conv 32 - pool - dense 10) at batch 64, on a
class-balanced Fashion-MNIST subset. Every run is a fresh model trained
``--epochs`` epochs (the first, with tracing, left out); runs are interleaved
over ``--repeats`` rounds and the median epoch time of each optimizer is
compared: ratio = median(preset) / median(built-in). Goals: <= 1.05 for every
preset, <= 1.15 for the Butterworth momentum.

    .venv/bin/python benchmarks/optimizers.py [--repeats 5] [--epochs 3] [--quick]
"""

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from kerastools import optimizers as kto  # noqa: E402
from kerastools.datasets import load_fashion_mnist  # noqa: E402

PAIRS = {
    "adam": (lambda: kto.adam(1e-3), lambda: keras.optimizers.Adam(1e-3), 1.05),
    "nesterov": (lambda: kto.nesterov(0.01, 0.9),
                 lambda: keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True), 1.05),
    "rmsprop": (lambda: kto.rmsprop(1e-3), lambda: keras.optimizers.RMSprop(1e-3), 1.05),
    "butterworth2_vs_momentum": (
        lambda: kto.butterworth_momentum(2, 0.05, learning_rate=0.01, dc_gain=10.0),
        lambda: keras.optimizers.SGD(0.01, momentum=0.9), 1.15),
}


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._t)


def mlp():
    inputs = keras.Input((784,))
    h = keras.layers.Dense(128, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(h))


def cnn():
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(16, 3, activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(32, 3, activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))


def epoch_times(build, optimizer, x, y, batch, epochs):
    keras.utils.set_random_seed(0)
    model = build()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    timer = EpochTimer()
    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, shuffle=False,
              callbacks=[timer])
    return timer.times[1:]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--train-size", type=int, default=12000)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--quick", action="store_true", help="2 repeats, 2 epochs, 3000 samples")
    p.add_argument("--json", default=None, help="write the results to this file")
    args = p.parse_args(argv)
    if args.quick:
        args.repeats, args.epochs, args.train_size = 2, 2, 3000
    (x, y), _ = load_fashion_mnist(args.data_dir, train_size=args.train_size, test_size=10)
    workloads = {
        "mlp_b32": (mlp, x.reshape(len(x), -1), 32),
        "mlp_b256": (mlp, x.reshape(len(x), -1), 256),
        "cnn_b64": (cnn, x.reshape(len(x), 28, 28, 1), 64),
    }
    times = {(w, k, side): [] for w in workloads for k in PAIRS for side in ("ours", "keras")}
    for r in range(args.repeats):
        for w, (build, xw, batch) in workloads.items():
            for k, (ours, theirs, _) in PAIRS.items():
                # Alternate which side runs first in each round.
                order = [("ours", ours), ("keras", theirs)]
                for side, make in (order if r % 2 == 0 else order[::-1]):
                    times[(w, k, side)] += epoch_times(build, make(), xw, y, batch, args.epochs)
        print(f"round {r + 1}/{args.repeats} done", flush=True)
    results = []
    print(f"\n{'workload':10s} {'pair':26s} {'ours s':>8s} {'keras s':>8s} {'ratio':>6s} goal")
    for w in workloads:
        for k, (_, _, goal) in PAIRS.items():
            a = statistics.median(times[(w, k, "ours")])
            b = statistics.median(times[(w, k, "keras")])
            results.append(dict(workload=w, pair=k, ours=a, keras=b, ratio=a / b, goal=goal))
            print(f"{w:10s} {k:26s} {a:8.3f} {b:8.3f} {a / b:6.3f} {'ok' if a / b <= goal else 'MISS'}"
                  f" (<= {goal})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
