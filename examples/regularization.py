# %% [markdown]
# # 2. Regularisation: L2 and dropout on the baseline MLP
#
# Three sweeps on the course's 784-128-10 MLP, each with per-epoch weight norms
# (`WeightNormTracker`):
#
# - L2 on kernels and biases, lambda in {0, 1e-5, 1e-4, 1e-3} (course: lambda about 1e-3
#   stops over-fitting, at a training loss about 0.45);
# - dropout after the hidden layer, rate in {0, 0.15, 0.3, 0.45, 0.6} (course: about 60%
#   dropout gives a loss about 0.35);
# - dropout + L2 (course: test loss about 0.4, accuracy about 88%), and the smaller models
#   with 100 and 48 hidden units.
#
# This file is both `examples/regularization.py` and `notebooks/02_regularization.ipynb`
# (a jupytext pair). As a script:
#
#     python examples/regularization.py --epochs 40 --sweep l2 --seeds 0,1,2

# %%
# %matplotlib inline
import os
import time

import keras

from kerastools import experiments
from kerastools.callbacks import WeightNormTracker
from kerastools.plotting import plot_runs
from kerastools.plotting import plot_weight_norms

SWEEPS = {
    "l2": {f"L2 {lam:g}": dict(l2=lam) for lam in (0.0, 1e-5, 1e-4, 1e-3)},
    "dropout": {f"dropout {r:g}": dict(dropout=r) for r in (0.0, 0.15, 0.3, 0.45, 0.6)},
    "combined": {
        "dropout 0.6 + L2 1e-4 (128)": dict(dropout=0.6, l2=1e-4),
        "dropout 0.45 + L2 1e-4 (100)": dict(hidden=(100,), dropout=0.45, l2=1e-4),
        "dropout 0.3 + L2 1e-4 (48)": dict(hidden=(48,), dropout=0.3, l2=1e-4),
    },
}
# Quick mode (CI): the extremes of the L2 sweep, the course's dropout, one combination.
QUICK = {"l2": ("L2 0", "L2 0.001"), "dropout": ("dropout 0.6",),
         "combined": ("dropout 0.6 + L2 1e-4 (128)",)}

p = experiments.parser("L2 and dropout on the course's 784-128-10 MLP.", epochs=40)
p.add_argument("--sweep", choices=[*SWEEPS, "all"], default="all")
args = experiments.parse_args(p)
EPOCHS = experiments.epochs(args, quick=1)
(x, y), (x_test, y_test) = experiments.load_data(args)
out = experiments.run_dir(args.out, "regularization")

# %% [markdown]
# ## The sweeps, once per seed
#
# Keras' reported loss includes the L2 penalty; the weight norms show what L2 and dropout do
# to the weights.

# %%
runs, histories = {}, {}
for sweep in SWEEPS if args.sweep == "all" else [args.sweep]:
    histories[sweep] = {}
    for label, kwargs in SWEEPS[sweep].items():
        if args.quick and label not in QUICK[sweep]:
            continue
        runs[label] = {}
        for seed in args.seeds:
            keras.utils.set_random_seed(seed)
            model = experiments.mlp(**kwargs)
            start = time.perf_counter()
            h = model.fit(x, y, batch_size=32, epochs=EPOCHS, validation_split=0.1, verbose=0,
                          callbacks=[WeightNormTracker(norms=("l2",))])
            runs[label][seed] = experiments.evaluate(model, x_test, y_test, h, time.perf_counter() - start)
            if seed == args.seeds[0]:
                histories[sweep][label] = h
        experiments.print_summary({label: runs[label]})

# %% [markdown]
# ## Learning curves and weight norms (the first seed)

# %%
for sweep, hs in histories.items():
    experiments.show(plot_runs(hs, ("loss", "val_loss", "val_accuracy"), title=sweep),
                     os.path.join(out, f"{sweep}_curves.png"))
    experiments.show(plot_weight_norms(hs, title=f"{sweep}: weight norms"),
                     os.path.join(out, f"{sweep}_weight_norms.png"))
results = experiments.write_results(os.path.join(out, "results.json"), args, runs, epochs=EPOCHS)
print(f"wrote {out}")
