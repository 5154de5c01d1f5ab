"""What the example scripts and notebooks share: arguments, data, models, run folders.

Every experiment in ``examples/`` is one source, a Python script in jupytext's
percent format that is also the notebook of the same topic in ``notebooks/``.
This module holds the code they share, so that a script run from any folder
and a notebook run from ``notebooks/`` import the same functions (no
``sys.path`` edits):

- ``parser`` and ``parse_args``: the common command-line options (``--epochs``,
  ``--quick``, ``--seeds``, ``--out``, ``--data-dir``); in a notebook the
  defaults are used, and ``$KERASTOOLS_QUICK=1`` selects quick mode in both.
- ``load_data``: Fashion-MNIST, a class-balanced subset in quick mode.
- ``mlp`` and ``cnn``: the models of the course's experiments, compiled.
- ``evaluate`` and ``summarize``: a run's figures, and their mean and spread
  over seeds.
- ``write_results`` and ``print_summary``: ``results.json`` with every seed's
  record and the summary, and the summary printed.
- ``run_dir``, ``write_json`` and ``show``: a timestamped run folder, JSON
  results, a figure written to disk (and shown inline in a notebook).

Example:

```python
from kerastools import experiments

args = experiments.parse_args(experiments.parser("baseline", epochs=40))
(x, y), (x_test, y_test) = experiments.load_data(args)
model = experiments.mlp(hidden=(128,))
history = model.fit(x, y, epochs=experiments.epochs(args), validation_split=0.1)
print(experiments.evaluate(model, x_test, y_test, history))
```
"""

import argparse
import datetime
import json
import math
import os
import sys

import keras

from kerastools.datasets import load_fashion_mnist
from kerastools.plotting import save_figure

QUICK_ENV = "KERASTOOLS_QUICK"


def quick_from_environment():
    """True when ``$KERASTOOLS_QUICK`` is set to anything but "", "0" or "false"."""
    return os.environ.get(QUICK_ENV, "").strip().lower() not in ("", "0", "false")


def int_list(name, text, minimum=1):
    """``"32,64"`` as ``(32, 64)``; anything else is a ValueError naming ``name``.

    Args:
        name: the option's name, for the error message.
        text: comma-separated integers.
        minimum: the smallest value allowed. Defaults to `1`.
    """
    try:
        values = tuple(int(v) for v in str(text).split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or min(values) < minimum:
        raise ValueError(
            f"Argument `{name}` must be integers >= {minimum} separated by commas. "
            f"Received: {name}={text!r}"
        )
    return values


def parser(description, epochs):
    """The options every experiment has; add the topic's own with ``add_argument``.

    Args:
        description: the script's one-line description.
        epochs: the default number of training epochs (a full run).
    """
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=int, default=epochs, help=f"training epochs (default {epochs})")
    p.add_argument("--out", default="runs", help="output folder; a timestamped run folder is made in it")
    p.add_argument(
        "--quick",
        action="store_true",
        default=quick_from_environment(),
        help=f"a class-balanced data subset and 1-2 epochs (CI); also ${QUICK_ENV}=1",
    )
    p.add_argument("--data-dir", default=None, help="Fashion-MNIST folder (default: search)")
    p.add_argument(
        "--seeds",
        type=lambda text: int_list("--seeds", text, minimum=0),
        default=(0,),
        help="random seeds, comma-separated: each run is repeated once per seed and "
        "results.json gives the mean and spread (default 0)",
    )
    return p


def in_notebook():
    """True inside a Jupyter kernel (IPython's ZMQ shell), False in a script."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def parse_args(p, argv=None):
    """The options: ``argv`` (default ``sys.argv[1:]``) in a script, the defaults in a notebook.

    A notebook's kernel has its own command line, which is not the experiment's.
    """
    if argv is None and in_notebook():
        argv = []
    return p.parse_args(argv)


def epochs(args, quick=2):
    """``args.epochs``, at most ``quick`` in quick mode."""
    return min(args.epochs, quick) if args.quick else args.epochs


def load_data(args, flatten=True, quick_train=3000, quick_test=1000, train_size=None, test_size=None):
    """Fashion-MNIST for an experiment: a class-balanced subset in quick mode.

    Args:
        args: the parsed options (``quick``, ``data_dir``).
        flatten: 784-vectors (True) or 28x28 images. Defaults to `True`.
        quick_train: training images in quick mode. Defaults to `3000`.
        quick_test: test images in quick mode. Defaults to `1000`.
        train_size: a class-balanced training subset in a full run (None: all 60,000).
            Defaults to `None`.
        test_size: a class-balanced test subset in a full run (None: all 10,000).
            Defaults to `None`.
    """
    if args.quick:
        train_size, test_size = quick_train, quick_test
    return load_fashion_mnist(args.data_dir, flatten=flatten, train_size=train_size, test_size=test_size)


def run_dir(out, name):
    """A new folder ``out/<timestamp>-<name>``; its path."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = os.path.join(out, f"{stamp}-{name}")
    os.makedirs(path, exist_ok=True)
    return path


def write_json(path, obj):
    """Writes ``obj`` as JSON to ``path`` (a temporary file, then rename); the path."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, default=float)
    os.replace(tmp, path)
    return path


def show(fig, path=None):
    """Writes ``fig`` to ``path`` (if given) and, in a notebook, shows it inline."""
    if path is not None:
        save_figure(fig, path)
    if in_notebook():
        from IPython.display import display

        display(fig)
    return fig


def mlp(
    hidden=(128,),
    activation="relu",
    dropout=0.0,
    l2=0.0,
    batch_norm=None,
    optimizer="adam",
    kernel_initializer="glorot_uniform",
    name="mlp",
):
    """The course's MLP on flattened images (784 inputs, 10-way softmax), compiled.

    Each hidden layer is ``Dense(units, activation)``, or with ``batch_norm``
    ``Dense(units, use_bias=False) -> batch_norm(momentum=0.99) -> activation``;
    dropout follows every hidden layer. Layer names: ``hidden`` (``hidden_<i>``
    when there are several), ``bn``, ``dropout``, ``output``.

    Args:
        hidden: units of each hidden layer. Defaults to `(128,)`.
        activation: the hidden activation. Defaults to `"relu"`.
        dropout: dropout rate after every hidden layer (0: none). Defaults to `0.0`.
        l2: L2 strength on every kernel and bias, output layer included (the course's
            L2 sweep; 0: none). Defaults to `0.0`.
        batch_norm: a batch-normalisation layer class (``keras.layers.BatchNormalization``,
            ``kerastools.layers.DebiasedBatchNormalization``) or None. Defaults to `None`.
        optimizer: the optimizer, or its Keras name. Defaults to `"adam"`.
        kernel_initializer: the hidden kernels' initialiser. Defaults to `"glorot_uniform"`.
        name: the model's name. Defaults to `"mlp"`.
    """
    reg = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input(shape=(784,), name="images")
    x = inputs
    for i, units in enumerate(hidden):
        suffix = f"_{i}" if len(hidden) > 1 else ""
        x = keras.layers.Dense(
            units,
            activation=None if batch_norm is not None else activation,
            use_bias=batch_norm is None,
            kernel_regularizer=reg,
            bias_regularizer=reg,
            kernel_initializer=kernel_initializer,
            name=f"hidden{suffix}",
        )(x)
        if batch_norm is not None:
            x = batch_norm(momentum=0.99, name=f"bn{suffix}")(x)
            x = keras.layers.Activation(activation, name=f"{activation}{suffix}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout{suffix}")(x)
    outputs = keras.layers.Dense(
        10, activation="softmax", kernel_regularizer=reg, bias_regularizer=reg, name="output"
    )(x)
    model = keras.Model(inputs, outputs, name=name)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def cnn(optimizer="adam", filters=(32, 64), dropout=0.25, dense=128, dense_dropout=0.4, name="cnn"):
    """The small CNN: per block two 3x3 convolutions with batch norm and ReLU, pooling, dropout.

    28x28 inputs; ``Conv2D(use_bias=False) -> BatchNormalization -> ReLU`` twice per
    block, ``MaxPooling2D``, ``Dropout(dropout)``; then ``Dense(dense, relu)``,
    ``Dropout(dense_dropout)`` and the 10-way softmax. Compiled.

    Args:
        optimizer: the optimizer, or its Keras name. Defaults to `"adam"`.
        filters: filters of each block. Defaults to `(32, 64)`.
        dropout: dropout after each block. Defaults to `0.25`.
        dense: units of the dense layer. Defaults to `128`.
        dense_dropout: dropout after the dense layer. Defaults to `0.4`.
        name: the model's name. Defaults to `"cnn"`.
    """
    inputs = keras.Input(shape=(28, 28), name="images")
    x = keras.layers.Reshape((28, 28, 1), name="channels")(inputs)
    for i, n in enumerate(filters):
        for part in ("a", "b"):
            x = keras.layers.Conv2D(n, 3, padding="same", use_bias=False, name=f"conv_{i}{part}")(x)
            x = keras.layers.BatchNormalization(name=f"bn_{i}{part}")(x)
            x = keras.layers.Activation("relu", name=f"relu_{i}{part}")(x)
        x = keras.layers.MaxPooling2D(name=f"pool_{i}")(x)
        x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(dense, activation="relu", name="dense")(x)
    x = keras.layers.Dropout(dense_dropout, name="dropout_dense")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="output")(x)
    model = keras.Model(inputs, outputs, name=name)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def evaluate(model, x_test, y_test, history, seconds=None):
    """Test loss and accuracy, and the history's best validation epoch, as a dict."""
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    h = history.history
    out = {
        "test_loss": float(test_loss),
        "test_accuracy": float(test_acc),
        "epochs": len(h["loss"]),
        "history_keys": sorted(h),
        "final_accuracy": float(h["accuracy"][-1]) if "accuracy" in h else None,
        "final_loss": float(h["loss"][-1]),
    }
    if "val_loss" in h:
        best = min(range(len(h["val_loss"])), key=h["val_loss"].__getitem__)
        out.update(
            best_epoch=best + 1,
            best_val_loss=float(h["val_loss"][best]),
            final_val_loss=float(h["val_loss"][-1]),
        )
    if "val_accuracy" in h:
        out.update(best_val_accuracy=float(max(h["val_accuracy"])))
    if seconds is not None:
        out["seconds"] = round(seconds, 1)
    return out


def summarize(records):
    """Mean, sample standard deviation, min and max over seeds of every numeric figure.

    Args:
        records: a dict seed -> record (a dict, as ``evaluate`` returns).

    Returns:
        A dict figure -> ``{"mean", "std", "min", "max", "n"}`` for every key whose
        value is a number in every record (``std`` is 0 for one seed).
    """
    records = list(records.values())
    out = {}
    for key in records[0] if records else ():
        values = [r.get(key) for r in records]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            continue
        n = len(values)
        mean = sum(values) / n
        var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
        out[key] = {"mean": mean, "std": math.sqrt(var), "min": min(values), "max": max(values), "n": n}
    return out


def write_results(path, args, runs, **extra):
    """Writes ``results.json``: every run's record per seed, and its summary over the seeds.

    Args:
        path: the JSON file to write.
        args: the parsed options (``quick``, ``seeds``).
        runs: a dict label -> dict seed -> record (as ``evaluate`` returns).
        **extra: more top-level entries (figures that are not per run).

    Returns:
        The dict written: ``{"quick", "seeds", "runs": {label: {"seeds": {seed: record},
        "summary": summarize(...)}}, **extra}``.
    """
    out = {
        "quick": bool(args.quick),
        "seeds": list(args.seeds),
        "runs": {
            label: {"seeds": {str(s): r for s, r in by_seed.items()}, "summary": summarize(by_seed)}
            for label, by_seed in runs.items()
        },
        **extra,
    }
    write_json(path, out)
    return out


def print_summary(runs, keys=("test_loss", "test_accuracy")):
    """Prints each run's mean and spread over seeds of ``keys``."""
    for label, by_seed in runs.items():
        summary = summarize(by_seed)
        parts = [
            f"{k} {summary[k]['mean']:.4f} +- {summary[k]['std']:.4f}" for k in keys if k in summary
        ]
        print(f"{label:32s} {len(by_seed)} seed(s): " + ", ".join(parts))


__all__ = [
    "cnn",
    "epochs",
    "evaluate",
    "in_notebook",
    "int_list",
    "load_data",
    "mlp",
    "parse_args",
    "parser",
    "print_summary",
    "quick_from_environment",
    "run_dir",
    "show",
    "summarize",
    "write_json",
    "write_results",
]
