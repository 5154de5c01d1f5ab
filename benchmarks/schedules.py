"""Epoch time with each kerastools schedule against a constant learning rate.

The course's baseline MLP (784-128-10, Adam, batch 32) on a Fashion-MNIST
subset. Every configuration is built and warmed up (traced) first; then the
configurations are timed one epoch each, in turn, for ``--repeats`` rounds
(interleaved), and the median epoch time of each is divided by the constant
rate's. Timing is from ``on_epoch_begin`` to ``on_epoch_end`` (the fit call's
set-up is left out). Goal: ratio <= 1.01.

    .venv/bin/python benchmarks/schedules.py [--repeats 7] [--train-size 12000]
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras

from kerastools import schedules as S
from kerastools.callbacks import LearningRateLogger
from kerastools.callbacks import MomentumScheduler
from kerastools.datasets import load_fashion_mnist

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import EpochTimer  # noqa: E402


def build(learning_rate, optimizer="adam"):
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(784,))
    z = keras.layers.Dense(128, activation="relu")(inputs)
    outputs = keras.layers.Dense(10, activation="softmax")(z)
    model = keras.Model(inputs, outputs)
    opt = (keras.optimizers.Adam(learning_rate) if optimizer == "adam"
           else keras.optimizers.SGD(learning_rate, momentum=0.9))
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def configurations(total_steps, spe):
    one_cycle = S.OneCycle(1e-2, total_steps)
    return {
        "constant": (lambda: build(1e-3), list),
        "keras CosineDecayRestarts": (
            lambda: build(keras.optimizers.schedules.CosineDecayRestarts(1e-3, spe)), list),
        "CyclicalLearningRate": (
            lambda: build(S.CyclicalLearningRate(1e-4, 1e-3, spe // 2, mode="triangular2")), list),
        "SGDR (warmup every restart)": (
            lambda: build(S.SGDR(1e-3, spe, t_mul=2.0, m_mul=0.8, warmup_steps=20,
                                 warmup_mode="every_restart")), list),
        "OneCycle": (lambda: build(one_cycle), list),
        "Warmup + SequentialSchedule": (
            lambda: build(S.SequentialSchedule([S.Warmup(S.SGDR(1e-3, spe), 50), 1e-4],
                                               [10 * spe])), list),
        "constant + LearningRateLogger": (lambda: build(1e-3), lambda: [LearningRateLogger()]),
        "OneCycle + LearningRateLogger(per_batch)": (
            lambda: build(one_cycle), lambda: [LearningRateLogger(per_batch=True)]),
        "SGD constant (momentum 0.9)": (lambda: build(1e-2, "sgd"), list),
        "SGD OneCycle + MomentumScheduler": (
            lambda: build(one_cycle, "sgd"),
            lambda: [MomentumScheduler(one_cycle.momentum_schedule())]),
    }


def evaluation_cost(configs_for_cost, n=2000, repeats=5):
    """Per-step cost (us) of evaluating each schedule inside a compiled graph.

    A ``tf.function`` loop evaluates the schedule at a variable step and
    increments it, ``n`` times; the constant's loop is the baseline. This is
    the schedule's share of a train step, free of the epoch-time noise.
    """
    import tensorflow as tf

    step = tf.Variable(0, dtype=tf.int64)
    acc = tf.Variable(0.0)
    out = {}
    for name, schedule in configs_for_cost.items():

        @tf.function
        def loop(count, schedule=schedule):
            for _ in tf.range(count):
                lr = schedule(step) if schedule is not None else tf.constant(1e-3)
                acc.assign_add(tf.cast(lr, tf.float32))
                step.assign_add(1)

        loop(tf.constant(10))
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            loop(tf.constant(n))
            times.append((time.perf_counter() - t) / n * 1e6)
        out[name] = statistics.median(times)
    base = out.pop("constant")
    return {name: us - base for name, us in out.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--train-size", type=int, default=12000)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default=None, help="write the figures as JSON here")
    args = p.parse_args(argv)
    (x, y), _ = load_fashion_mnist(args.data_dir, flatten=True, train_size=args.train_size,
                                   test_size=100)
    spe = -(-len(x) // 32)
    configs = configurations((args.repeats + 1) * spe, spe)
    models, timers, extra = {}, {}, {}
    for name, (make, callbacks) in configs.items():
        models[name], timers[name], extra[name] = make(), EpochTimer(), callbacks()
    epochs = {name: 0 for name in configs}

    def run(name):
        models[name].fit(x, y, batch_size=32, epochs=epochs[name] + 1, initial_epoch=epochs[name],
                         verbose=0, callbacks=extra[name] + [timers[name]])
        epochs[name] += 1

    for name in configs:  # warm-up: trace and compile
        run(name)
        timers[name].times.clear()
    names = list(configs)
    for r in range(args.repeats):  # interleaved, alternating order against drift
        for name in names if r % 2 == 0 else names[::-1]:
            run(name)
    medians = {name: statistics.median(t.times) for name, t in timers.items()}
    rows = []
    print(f"{len(x)} samples, {spe} steps/epoch, {args.repeats} interleaved repeats, "
          f"backend {keras.backend.backend()}")
    print(f"{'configuration':44s} {'median s':>9s} {'ratio':>7s}")
    for name, m in medians.items():
        sgd = name.startswith(("SGD constant", "SGD OneCycle"))
        base = medians["SGD constant (momentum 0.9)" if sgd else "constant"]
        ratio = m / base
        per_step_us = (m - base) / spe * 1e6
        rows.append({"configuration": name, "median_epoch_s": m, "ratio": ratio,
                     "extra_us_per_step": per_step_us})
        print(f"{name:44s} {m:9.3f} {ratio:7.3f}   ({per_step_us:+.0f} us/step)")
    spe_time = medians["constant"] / spe * 1e6
    costs = evaluation_cost({
        "constant": None,
        "keras CosineDecayRestarts": keras.optimizers.schedules.CosineDecayRestarts(1e-3, spe),
        "CyclicalLearningRate": S.CyclicalLearningRate(1e-4, 1e-3, spe // 2, mode="triangular2"),
        "SGDR (warmup every restart)": S.SGDR(1e-3, spe, t_mul=2.0, m_mul=0.8, warmup_steps=20,
                                              warmup_mode="every_restart"),
        "OneCycle": S.OneCycle(1e-2, 8 * spe),
        "Warmup + SequentialSchedule": S.SequentialSchedule(
            [S.Warmup(S.SGDR(1e-3, spe), 50), 1e-4], [10 * spe]),
    })
    print(f"\nschedule evaluation in a compiled graph (constant subtracted); step time "
          f"{spe_time:.0f} us")
    print(f"{'schedule':44s} {'us/step':>9s} {'ratio':>7s}")
    for name, us in costs.items():
        print(f"{name:44s} {us:9.1f} {1 + us / spe_time:7.4f}")
        rows.append({"configuration": name + " (graph evaluation)", "extra_us_per_step": us,
                     "ratio": 1 + us / spe_time})
    # Python work per batch, measured directly (the epoch times above also hold
    # MomentumScheduler's re-trace at every fit call of this interleaved design).
    print("\nper-batch callback work on the training thread (us per batch, median of 5 x 500)")
    for name, index in (("OneCycle + LearningRateLogger(per_batch)", 0),
                        ("SGD OneCycle + MomentumScheduler", 0)):
        callback = extra[name][index]
        hook = (callback.on_train_batch_end if isinstance(callback, LearningRateLogger)
                else callback.on_train_batch_begin)
        if isinstance(callback, MomentumScheduler):
            callback.on_train_begin()
        per_call = []
        for _ in range(5):
            t = time.perf_counter()
            for b in range(500):
                hook(b, {})
            per_call.append((time.perf_counter() - t) / 500 * 1e6)
        if isinstance(callback, MomentumScheduler):
            callback.on_train_end()
        us = statistics.median(per_call)
        print(f"{name:44s} {us:9.1f} us  ({us / spe_time:.2%} of a step)")
        rows.append({"configuration": name + " (per-batch hook)", "extra_us_per_step": us,
                     "ratio": 1 + us / spe_time})
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=2)
    return rows


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
