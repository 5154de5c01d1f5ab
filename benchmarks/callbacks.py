"""Cost of the training monitors on the seed workload.

The course's baseline: a 784-128-10 MLP, Adam, batch 32, Fashion-MNIST with
``validation_split=0.1`` (54,000 training samples, 1,688 steps per epoch).
Two configurations, each a fresh model trained ``--epochs`` epochs, in turn
for ``--repeats`` rounds (interleaved):

- ``none``: no extra callback;
- ``monitors``: ``WeightNormTracker(norms=("l2", "l1", "max"))``,
  ``LearningCurves`` (a PNG at every epoch end, per-batch EMA curve) and
  ``LearningRateLogger``.

Reported: the median epoch time of each (the first epoch, with tracing, left
out; timing from ``on_epoch_begin`` to the last ``on_epoch_end``, so the
monitors' epoch-end work is inside), their ratio (goal <= 1.02), and the time
spent inside the monitors' own methods on the training thread, per epoch
and as a fraction of the epoch (goal <= 2%). LearningCurves draws in a
background process; the cost of one drawing, done inline, is measured
separately and reported (it is off the training thread).

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
from kerastools.plotting import curves as curves_module  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import EpochTimer  # noqa: E402

HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
         "on_train_batch_begin", "on_train_batch_end")
PER_FIT = ("on_train_begin", "on_train_end")  # once per fit: start/stop of the renderer




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
    inside, per_fit = {}, {}
    for res in runs["monitors"]:
        for name, secs in res["inside"].items():
            if name.endswith("(per fit)"):
                per_fit.setdefault(name, []).append(secs)
            else:
                inside.setdefault(name, []).append(secs / args.epochs)
    inside = {name: statistics.median(v) for name, v in inside.items()}
    per_fit = {name: statistics.median(v) for name, v in per_fit.items()}
    inside_total = sum(inside.values())
    # the drawing the background process does (one figure updated in place), timed here
    job = curves._job(os.path.join(out_dir, "inline.png"))
    figure = curves_module.CurvesFigure(job["metrics"], job["title"], job["batch_label"])
    draws, fresh = [], []
    for _ in range(3):
        t = time.perf_counter()
        figure.update(job)
        figure.save(job["path"], dpi=job["dpi"])
        draws.append(time.perf_counter() - t)
        t = time.perf_counter()
        curves_module.render_learning_curves(job)
        fresh.append(time.perf_counter() - t)
    figure.close()
    result = {
        "machine": f"{os.cpu_count()} CPU cores, keras {keras.__version__} ({keras.backend.backend()})",
        "steps_per_epoch": len(x) * 9 // 10 // 32 + (1 if (len(x) * 9 // 10) % 32 else 0),
        "epoch_s_none": epoch_none,
        "epoch_s_monitors": epoch_mon,
        "epoch_ratio": epoch_mon / epoch_none,
        "fit_ratio": fit_ratio,
        "inside_ms_per_epoch": {k: 1000 * v for k, v in inside.items()},
        "inside_fraction_of_epoch": inside_total / epoch_none,
        "per_fit_ms": {k: 1000 * v for k, v in per_fit.items()},
        "per_fit_fraction_of_40_epochs": sum(per_fit.values()) / (40 * epoch_none),
        "background_draw_ms": 1000 * statistics.median(draws),
        "fresh_figure_draw_ms": 1000 * statistics.median(fresh),
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
