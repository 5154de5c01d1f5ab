"""Cost of the training monitors on the seed workload.

The course's baseline: a 784-128-10 MLP, Adam, batch 32, Fashion-MNIST with
``validation_split=0.1`` (54,000 training samples, 1,688 steps per epoch).
Two configurations, each a fresh model trained ``--epochs`` epochs, in turn
for ``--repeats`` rounds (interleaved):

- ``none``: no extra callback;
- ``monitors``: ``WeightNormTracker(norms=("l2", "l1", "max"))``,
  ``LearningCurves`` (its PNG, per-batch EMA curve, default drawing budget
  ``max_overhead=0.02``) and ``LearningRateLogger``, with their defaults.

Reported: the time spent inside the three monitors' hooks (every hook,
``on_train_begin`` and ``on_train_end`` included: matplotlib's import, the
first and the last figure), as a fraction of the monitored fit (goal <= 2%),
the whole-fit time ratio monitors / none (median of rounds, goal <= 1.05), the
median steady epoch times, the figures drawn per fit and the cost of one
figure update. Everything runs on the training thread (no process, no thread).

    .venv/bin/python benchmarks/callbacks.py [--repeats 3] [--epochs 3] [--train-size N]
"""

import argparse
import functools
import json
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from kerastools.callbacks import LearningCurves  # noqa: E402
from kerastools.callbacks import LearningRateLogger  # noqa: E402
from kerastools.callbacks import WeightNormTracker  # noqa: E402
from kerastools.datasets import load_fashion_mnist  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import EpochTimer  # noqa: E402

HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
         "on_train_batch_begin", "on_train_batch_end")
PER_FIT = ("on_train_begin", "on_train_end")  # once per fit: start-up, the last figure




def timed(callback, totals):
    """Wraps the callback's overridden hooks to add their time to ``totals``
    (``totals[name]`` per-epoch hooks, ``totals[name + " (per fit)"]`` the others)."""
    for hook in HOOKS:
        if getattr(type(callback), hook) is getattr(keras.callbacks.Callback, hook):
            continue
        original = getattr(callback, hook)

        name = type(callback).__name__ + (" (per fit)" if hook in PER_FIT else "")
        totals.setdefault(name, 0.0)

        @functools.wraps(original)
        def wrapper(*args, _original=original, _name=name, **kwargs):
            t = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                totals[_name] += time.perf_counter() - t

        setattr(callback, hook, wrapper)
    return callback


def build():
    inputs = keras.Input(shape=(784,), name="images")
    z = keras.layers.Dense(128, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(10, activation="softmax", name="output")(z)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def run(config, x, y, epochs, out_dir):
    keras.utils.set_random_seed(0)
    model = build()
    totals = {}
    callbacks = []
    curves = None
    if config == "monitors":
        curves = LearningCurves(os.path.join(out_dir, "curves.png"))
        callbacks = [timed(WeightNormTracker(norms=("l2", "l1", "max")), totals),
                     timed(curves, totals), timed(LearningRateLogger(), totals)]
    timer = EpochTimer()
    t = time.perf_counter()
    model.fit(x, y, batch_size=32, epochs=epochs, validation_split=0.1, verbose=0,
              callbacks=callbacks + [timer])
    fit_time = time.perf_counter() - t
    return {"epochs": timer.times, "fit": fit_time, "inside": totals}, curves


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--train-size", type=int, default=None, help="default: all 60,000")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--json", default=None, help="write the figures to this file")
    args = p.parse_args(argv)
    if args.epochs < 2:
        p.error(f"--epochs must be >= 2 (the first epoch of each fit is warm-up). Received: {args.epochs}")
    (x, y), _ = load_fashion_mnist(args.data_dir, flatten=True, train_size=args.train_size,
                                   test_size=1000)
    out_dir = tempfile.mkdtemp(prefix="kt-bench-callbacks-")
    runs = {"none": [], "monitors": []}
    curves = None
    for r in range(args.repeats):
        order = ["none", "monitors"] if r % 2 == 0 else ["monitors", "none"]
        for config in order:
            result, c = run(config, x, y, args.epochs, out_dir)
            curves = c or curves
            runs[config].append(result)
            print(f"round {r + 1} {config:8s} epochs " +
                  " ".join(f"{t:.2f}" for t in result["epochs"]) +
                  f" s, fit {result['fit']:.2f} s", flush=True)

    def steady(config):
        return [t for res in runs[config] for t in res["epochs"][1:]]

    epoch_none = statistics.median(steady("none"))
    epoch_mon = statistics.median(steady("monitors"))
    fit_ratio = statistics.median(m["fit"] / n["fit"] for m, n in zip(runs["monitors"], runs["none"]))
    inside = {}
    for res in runs["monitors"]:
        for name, secs in res["inside"].items():
            inside.setdefault(name, []).append(secs)
    inside = {name: statistics.median(v) for name, v in inside.items()}
    fractions = [sum(res["inside"].values()) / res["fit"] for res in runs["monitors"]]
    result = {
        "machine": f"{os.cpu_count()} CPU cores, keras {keras.__version__} ({keras.backend.backend()})",
        "load_average": os.getloadavg(),
        "steps_per_epoch": len(x) * 9 // 10 // 32 + (1 if (len(x) * 9 // 10) % 32 else 0),
        "fit_s_none": statistics.median(r["fit"] for r in runs["none"]),
        "fit_s_monitors": statistics.median(r["fit"] for r in runs["monitors"]),
        "fit_ratio": fit_ratio,
        "epoch_s_none": epoch_none,
        "epoch_s_monitors": epoch_mon,
        "inside_ms_per_fit": {k: 1000 * v for k, v in inside.items()},
        "inside_s_per_run": [sum(res["inside"].values()) for res in runs["monitors"]],
        "fit_s_per_run": [res["fit"] for res in runs["monitors"]],
        "inside_fraction_of_fit": statistics.median(fractions),
        "inside_fraction_of_fit_max": max(fractions),
        "figures_drawn_per_fit": curves.figures_drawn,
        "figure_update_ms": 1000 * curves.drawing_seconds / max(1, curves.figures_drawn),
        "repeats": args.repeats,
        "epochs": args.epochs,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
