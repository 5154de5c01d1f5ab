"""Epoch time of the kerastools layers against their Keras references.

A Fashion-MNIST MLP (784-512-512-10, batch 64) in three pairs, each layer
against what a Keras user would otherwise write:

- ``DropConnectDense(0.5)`` hidden layers vs ``Dense`` + ``Dropout(0.5)``
  (and vs plain ``Dense``): one Bernoulli mask of the kernel's size per step
  instead of one of the activations' size;
- ``DebiasedBatchNormalization`` vs ``BatchNormalization`` after each hidden
  layer: one filter step on the stacked (2, C) moments;
- residual blocks joined by ``StochasticDepth(0.2)`` vs ``keras.layers.Add``.

Every model is built and warmed up (traced, compiled) first; then the models
are timed one epoch each, in turn, for ``--repeats`` rounds (interleaved,
alternating order), and the median epoch time of each is divided by its
reference's. Timing is from ``on_epoch_begin`` to ``on_epoch_end``.

    .venv/bin/python benchmarks/layers.py [--repeats 7] [--train-size 12000]
"""

import argparse
import json
import os
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras

from kerastools.datasets import load_fashion_mnist
from kerastools.layers import DebiasedBatchNormalization
from kerastools.layers import DropConnectDense
from kerastools.layers import StochasticDepth

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import EpochTimer  # noqa: E402


def build(hidden):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((784,))
    h = inputs
    for i in range(2):
        h = hidden(h, i)
    outputs = keras.layers.Dense(10, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def dense(h, i):
    return keras.layers.Dense(512, activation="relu")(h)


def dense_dropout(h, i):
    return keras.layers.Dropout(0.5, seed=i)(keras.layers.Dense(512, activation="relu")(h))


def drop_connect(h, i):
    return DropConnectDense(512, rate=0.5, activation="relu", seed=i)(h)


def batch_norm(cls):
    def hidden(h, i):
        h = keras.layers.Dense(512, use_bias=False)(h)
        return keras.layers.Activation("relu")(cls()(h))
    return hidden


def residual(join):
    def hidden(h, i):
        if i == 0:
            h = keras.layers.Dense(512, activation="relu")(h)
        f = keras.layers.Dense(512, activation="relu")(h)
        f = keras.layers.Dense(512, kernel_initializer="zeros")(f)
        return join(i)([h, f])
    return hidden


CONFIGS = {
    "Dense": (lambda: build(dense), None),
    "Dense + Dropout(0.5)": (lambda: build(dense_dropout), "Dense"),
    "DropConnectDense(0.5)": (lambda: build(drop_connect), "Dense + Dropout(0.5)"),
    "BatchNormalization": (lambda: build(batch_norm(keras.layers.BatchNormalization)), None),
    "DebiasedBatchNormalization": (
        lambda: build(batch_norm(DebiasedBatchNormalization)), "BatchNormalization"),
    "residual, Add": (lambda: build(residual(lambda i: keras.layers.Add())), None),
    "residual, StochasticDepth(0.2)": (
        lambda: build(residual(lambda i: StochasticDepth(0.2, seed=i))), "residual, Add"),
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--train-size", type=int, default=12000)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default=None, help="write the figures as JSON here")
    args = p.parse_args(argv)
    (x, y), _ = load_fashion_mnist(args.data_dir, flatten=True, train_size=args.train_size,
                                   test_size=100)
    spe = -(-len(x) // 64)
    models = {name: make() for name, (make, _) in CONFIGS.items()}
    timers = {name: EpochTimer() for name in CONFIGS}
    epochs = dict.fromkeys(CONFIGS, 0)

    def run(name):
        models[name].fit(x, y, batch_size=64, epochs=epochs[name] + 1,
                         initial_epoch=epochs[name], verbose=0, callbacks=[timers[name]])
        epochs[name] += 1

    for name in CONFIGS:  # warm-up: trace and compile
        run(name)
        timers[name].times.clear()
    names = list(CONFIGS)
    for r in range(args.repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            run(name)
    medians = {name: statistics.median(t.times) for name, t in timers.items()}
    print(f"{len(x)} samples, {spe} steps/epoch, {args.repeats} interleaved repeats, "
          f"backend {keras.backend.backend()}")
    print(f"{'configuration':34s} {'median s':>9s} {'reference':>24s} {'ratio':>7s}")
    rows = []
    for name, (_, ref) in CONFIGS.items():
        ratio = medians[name] / medians[ref] if ref else 1.0
        rows.append({"configuration": name, "median_epoch_s": medians[name],
                     "reference": ref, "ratio": ratio})
        print(f"{name:34s} {medians[name]:9.3f} {ref or '-':>24s} {ratio:7.3f}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=2)
    return rows


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
