"""Fitting Nielsen's function with and without dropout (course, universal approximation).

f(x) = 0.2 + 0.4 x^2 + 0.3 x sin(15 x) + 0.05 cos(50 x) on [0, 1], learned by
3 hidden layers of 64 ReLU units (MSE), once without dropout and once with 20%
dropout after each hidden layer.

    python examples/nielsen_function.py --epochs 300
"""

import os
import sys
import time

import keras
import numpy as np
from matplotlib.figure import Figure

sys.path.insert(0, os.path.dirname(__file__))
import _common  # noqa: E402

from kerastools.plotting import save_figure  # noqa: E402


def nielsen(x):
    return 0.2 + 0.4 * x**2 + 0.3 * x * np.sin(15 * x) + 0.05 * np.cos(50 * x)


def build(dropout):
    inputs = keras.Input(shape=(1,), name="x")
    z = inputs
    for i in range(3):
        z = keras.layers.Dense(64, activation="relu", name=f"hidden_{i}")(z)
        if dropout:
            z = keras.layers.Dropout(dropout, name=f"dropout_{i}")(z)
    outputs = keras.layers.Dense(1, name="y")(z)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    return model


def main(argv=None):
    args = _common.parser(__doc__.splitlines()[0], epochs=300).parse_args(argv)
    epochs = _common.epochs(args, quick=5)
    out = _common.run_dir(args.out, "nielsen")
    rng = np.random.default_rng(0)
    x = rng.random((1000, 1)).astype("float32")
    y = nielsen(x).astype("float32")
    grid = np.linspace(0, 1, 1001, dtype="float32")[:, None]

    fig = Figure(figsize=(10, 3.8), layout="constrained")
    results = {}
    for i, rate in enumerate((0.0, 0.2)):
        keras.utils.set_random_seed(0)
        model = build(rate)
        start = time.perf_counter()
        model.fit(x, y, batch_size=32, epochs=epochs, verbose=0)
        seconds = round(time.perf_counter() - start, 1)
        pred = model.predict(grid, verbose=0)
        mse = float(np.mean((pred - nielsen(grid)) ** 2))
        label = "no dropout" if rate == 0 else "20% dropout"
        results[label] = {"grid_mse": mse, "seconds": seconds}
        ax = fig.add_subplot(1, 2, i + 1)
        ax.plot(grid, nielsen(grid), label="f(x)")
        ax.plot(grid, pred, label="network")
        ax.set_title(f"{label}: MSE {mse:.2e}")
        ax.set_xlabel("x")
        ax.legend()
        print(label, results[label])
    save_figure(fig, os.path.join(out, "nielsen.png"))
    _common.write_json(os.path.join(out, "results.json"),
                       {"epochs": epochs, "quick": args.quick, "runs": results})
    return results


if __name__ == "__main__":
    main()
