"""What every example shares: arguments, the output folder, JSON results."""

import argparse
import datetime
import json
import os


def parser(description, epochs):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=int, default=epochs, help=f"training epochs (default {epochs})")
    p.add_argument("--out", default="runs", help="output folder; a timestamped run folder is made in it")
    p.add_argument("--quick", action="store_true",
                   help="a class-balanced data subset and 1-2 epochs (CI)")
    p.add_argument("--data-dir", default=None, help="Fashion-MNIST folder (default: search)")
    return p


def int_list(name, text):
    """``"32,64"`` as ``(32, 64)``; anything else is a ValueError naming ``name``."""
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise ValueError(f"Argument `{name}` must be positive integers separated by commas. "
                         f"Received: {name}={text!r}")
    return values


def run_dir(out, name):
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = os.path.join(out, f"{stamp}-{name}")
    os.makedirs(path, exist_ok=True)
    return path


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, default=float)
    os.replace(tmp, path)
    return path


def load_data(args, flatten=True, quick_train=3000, quick_test=1000):
    """Fashion-MNIST for an example: a class-balanced subset in quick mode."""
    from kerastools.datasets import load_fashion_mnist

    sizes = dict(train_size=quick_train, test_size=quick_test) if args.quick else {}
    return load_fashion_mnist(args.data_dir, flatten=flatten, **sizes)


def epochs(args, quick=2):
    return min(args.epochs, quick) if args.quick else args.epochs


def mlp(hidden=(128,), dropout=0.0, l2=0.0, optimizer="adam", name="mlp",
        kernel_initializer="glorot_uniform", activation="relu"):
    """The course's MLP on flattened images, Functional API, compiled.

    ``l2`` regularises kernels and biases (as in the course's L2 sweep);
    ``dropout`` follows every hidden layer.
    """
    import keras

    reg = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input(shape=(784,), name="images")
    x = inputs
    for i, units in enumerate(hidden):
        x = keras.layers.Dense(units, activation=activation, kernel_regularizer=reg,
                               bias_regularizer=reg, kernel_initializer=kernel_initializer,
                               name=f"hidden_{i}" if len(hidden) > 1 else "hidden")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
    outputs = keras.layers.Dense(10, activation="softmax", kernel_regularizer=reg,
                                 bias_regularizer=reg, name="output")(x)
    model = keras.Model(inputs, outputs, name=name)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def evaluate(model, x_test, y_test, history, seconds=None):
    """Test loss/accuracy plus the history's best validation epoch, as a dict."""
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    h = history.history
    out = {"test_loss": float(test_loss), "test_accuracy": float(test_acc),
           "epochs": len(h["loss"]), "history_keys": sorted(h),
           "final_accuracy": float(h["accuracy"][-1]) if "accuracy" in h else None}
    if "val_loss" in h:
        best = min(range(len(h["val_loss"])), key=h["val_loss"].__getitem__)
        out.update(best_epoch=best + 1, best_val_loss=float(h["val_loss"][best]),
                   final_val_loss=float(h["val_loss"][-1]))
    if seconds is not None:
        out["seconds"] = round(seconds, 1)
    return out
