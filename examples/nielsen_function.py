# %% [markdown]
# # 9. Universal approximation: Nielsen's function, with and without dropout
#
# f(x) = 0.2 + 0.4x² + 0.3x·sin(15x) + 0.05·cos(50x) on [0, 1], learned from 1,000 samples by
# 3 hidden layers of 64 ReLU units (mean squared error). Without dropout the network follows
# the wiggles of f; with 20% dropout after each hidden layer the fit is smoother (dropout also
# regularises a regression).
#
# This file is both `examples/nielsen_function.py` and `notebooks/09_nielsen_function.ipynb`
# (a jupytext pair). As a script:
#
#     python examples/nielsen_function.py --epochs 300

# %%
# %matplotlib inline
import os
import time

import keras
import numpy as np
from matplotlib.figure import Figure

from kerastools import experiments

args = experiments.parse_args(
    experiments.parser("Fitting Nielsen's function with and without dropout.", epochs=300))
EPOCHS = experiments.epochs(args, quick=5)
out = experiments.run_dir(args.out, "nielsen")


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


rng = np.random.default_rng(0)
x = rng.random((1000, 1)).astype("float32")
y = nielsen(x).astype("float32")
grid = np.linspace(0, 1, 1001, dtype="float32")[:, None]

# %% [markdown]
# The error is measured on a 1,001-point grid against f itself; a constant (f's mean) would
# score f's variance.

# %%
fig = Figure(figsize=(10, 3.8), layout="constrained")
runs = {}
for i, rate in enumerate((0.0, 0.2)):
    label = "no dropout" if rate == 0 else "20% dropout"
    runs[label] = {}
    for seed in args.seeds:
        keras.utils.set_random_seed(seed)
        model = build(rate)
        start = time.perf_counter()
        model.fit(x, y, batch_size=32, epochs=EPOCHS, verbose=0)
        pred = model.predict(grid, verbose=0)
        mse = float(np.mean((pred - nielsen(grid)) ** 2))
        runs[label][seed] = {"grid_mse": mse, "seconds": round(time.perf_counter() - start, 1)}
        if seed == args.seeds[0]:
            ax = fig.add_subplot(1, 2, i + 1)
            ax.plot(grid, nielsen(grid), label="f(x)")
            ax.plot(grid, pred, label="network")
            ax.set_title(f"{label}: MSE {mse:.2e}")
            ax.set_xlabel("x")
            ax.legend()
    experiments.print_summary({label: runs[label]}, keys=("grid_mse",))
experiments.show(fig, os.path.join(out, "nielsen.png"))
results = experiments.write_results(os.path.join(out, "results.json"), args, runs, epochs=EPOCHS,
                                    variance_of_f=float(np.var(nielsen(grid))))
print(f"wrote {out}")
