# %% [markdown]
# # 7. Batch normalisation with transient-compensated moving statistics
#
# Keras' `BatchNormalization` keeps an exponential moving average of the batch mean and
# variance that starts at 0 and 1 with no bias correction, so in inference mode, early in
# training, the network normalises with the wrong statistics: it needs about
# `1 / (1 - momentum)` steps to forget them. `DebiasedBatchNormalization` runs the same EMA
# through the filter core with transient compensation (as Adam does), so inference is right
# from the first steps; after convergence the two layers agree.
#
# The MLP is the course's 784-128-10 with the hidden layer as Dense (no bias) -> BN -> ReLU
# (`experiments.mlp(batch_norm=...)`); no BN, Keras BN and debiased BN, with and without
# dropout 0.3.
#
# This file is both `examples/batch_norm.py` and `notebooks/07_batch_norm.ipynb` (a jupytext
# pair). As a script:
#
#     python examples/batch_norm.py --epochs 15 --seeds 0,1,2

# %%
# %matplotlib inline
import os
import time

import keras

from kerastools import experiments
from kerastools.layers import DebiasedBatchNormalization
from kerastools.plotting import plot_runs

LAYERS = {"Keras BN": keras.layers.BatchNormalization, "debiased BN": DebiasedBatchNormalization}
EARLY_STEPS = 30

args = experiments.parse_args(
    experiments.parser("Batch normalisation on the course's MLP: none, Keras BN, debiased BN.", epochs=15))
EPOCHS = experiments.epochs(args, quick=1)
(x, y), (x_test, y_test) = experiments.load_data(args)
out = experiments.run_dir(args.out, "batch_norm")

# %% [markdown]
# ## Early in training: inference mode against training mode after 30 steps

# %%
cce = keras.losses.SparseCategoricalCrossentropy()
runs = {}
for name, layer in LAYERS.items():
    label = f"{EARLY_STEPS} steps, {name}"
    runs[label] = {}
    for seed in args.seeds:
        keras.utils.set_random_seed(seed)
        model = experiments.mlp(batch_norm=layer, name="bn_mlp")
        n = EARLY_STEPS * 32
        model.fit(x[:n], y[:n], batch_size=32, epochs=1, shuffle=False, verbose=0)
        infer, train = (float(cce(y_test, model(x_test, training=t))) for t in (False, True))
        runs[label][seed] = {"inference_loss": infer, "training_mode_loss": train, "steps": EARLY_STEPS}
    experiments.print_summary({label: runs[label]}, keys=("inference_loss", "training_mode_loss"))

# %% [markdown]
# ## Full training, with and without dropout

# %%
histories = {}
for name, layer in {"no BN": None, **LAYERS}.items():
    for dropout in (0.0,) if layer is None or args.quick else (0.0, 0.3):
        label = f"{name}, dropout {dropout:g}"
        runs[label] = {}
        for seed in args.seeds:
            keras.utils.set_random_seed(seed)
            model = experiments.mlp(batch_norm=layer, dropout=dropout, name="bn_mlp")
            start = time.perf_counter()
            h = model.fit(x, y, batch_size=32, epochs=EPOCHS, validation_split=0.1, verbose=0)
            runs[label][seed] = experiments.evaluate(model, x_test, y_test, h, time.perf_counter() - start)
            if seed == args.seeds[0]:
                histories[label] = h
        experiments.print_summary({label: runs[label]})
experiments.show(plot_runs(histories, ("loss", "val_loss", "val_accuracy"), title="batch norm"),
                 os.path.join(out, "batch_norm_curves.png"))
results = experiments.write_results(os.path.join(out, "results.json"), args, runs, epochs=EPOCHS)
print(f"wrote {out}")
