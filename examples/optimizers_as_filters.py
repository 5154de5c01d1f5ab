# %% [markdown]
# # 4. Optimizers as gradient filters
#
# The course's view: an optimizer is a **gradient filter** + a **normalisation filter** (of g²)
# + a **learning-rate schedule**. Momentum is an AR1 filter, Nesterov an ARMA1 (one pole, one
# zero), RMSprop an AR1 of g² with unit DC gain, and Adam adds *transient compensation* (its
# bias correction) to both. `kerastools.optimizers` builds the eight classic optimizers from
# filters of `kerastools.filters.ARMAFilter`; each preset equals the Keras built-in. A new
# design is a new filter: here an order-2 Butterworth low-pass as the momentum filter (cutoff
# 0.05 cycles per step, DC gain 10 like momentum 0.9).
#
# This file is both `examples/optimizers_as_filters.py` and
# `notebooks/04_optimizers_as_filters.ipynb` (a jupytext pair). As a script:
#
#     python examples/optimizers_as_filters.py --epochs 10 --seeds 0,1,2

# %%
# %matplotlib inline
import os
import time

import keras
import numpy as np

from kerastools import experiments
from kerastools import optimizers as kto
from kerastools.filters import ARMAFilter
from kerastools.plotting import plot_frequency_response
from kerastools.plotting import plot_runs

OPTIMIZERS = {
    "sgd": lambda: kto.sgd(0.1),
    "momentum": lambda: kto.momentum(0.01, momentum=0.9),
    "nesterov": lambda: kto.nesterov(0.01, momentum=0.9),
    "adagrad": lambda: kto.adagrad(0.05),
    "adadelta": lambda: kto.adadelta(1.0),
    "rmsprop": lambda: kto.rmsprop(1e-3),
    "adam": lambda: kto.adam(1e-3),
    "nadam": lambda: kto.nadam(1e-3),
    "butterworth2": lambda: kto.butterworth_momentum(2, 0.05, learning_rate=0.01, dc_gain=10.0),
}
QUICK = ("momentum", "adam", "butterworth2")

args = experiments.parse_args(
    experiments.parser("Optimizers as gradient filters on Fashion-MNIST.", epochs=10))
EPOCHS = experiments.epochs(args, quick=1)
(x_train, y_train), (x_test, y_test) = experiments.load_data(args)
out = experiments.run_dir(args.out, "optimizers_as_filters")

# %% [markdown]
# ## Frequency responses
#
# Magnitude (dB against frequency in cycles per step) and step response of the gradient
# filters. Nesterov attenuates high frequencies less than standard momentum; Adam's filter has
# unit DC gain, so its gain is not coupled to the learning rate as momentum's 1/(1-β) is.
# The Butterworth low-pass cuts the high frequencies much more sharply.

# %%
experiments.show(plot_frequency_response(
    {"momentum 0.9": kto.momentum(momentum=0.9), "Nesterov 0.9": kto.nesterov(momentum=0.9),
     "Adam beta_1=0.9": kto.adam(), "Nadam beta_1=0.9": kto.nadam(),
     "Butterworth order 2, 0.05": OPTIMIZERS["butterworth2"]()},
    title="gradient filters of the optimizers"), os.path.join(out, "frequency_response.png"))
experiments.show(plot_frequency_response(
    {"momentum 0.9": kto.momentum(momentum=0.9), "Nesterov 0.9": kto.nesterov(momentum=0.9)},
    normalize_dc=True, title="Nesterov attenuates high frequencies less"),
    os.path.join(out, "momentum_vs_nesterov.png"))

# %% [markdown]
# The optimizers from the papers as filters: QHM mixes the gradient with its EMA, which lifts
# the high-frequency floor to (1 - ν); AggMo averages AR1 filters, so its β=0 branch damps the
# oscillations of the β=0.99 one; RAdam, AdaBelief and Yogi share Adam's compensated EMA and
# differ only in their normalisation.

# %%
experiments.show(plot_frequency_response(
    {"momentum 0.9": kto.momentum(momentum=0.9),
     "QHM beta=0.999, nu=0.7": kto.qhm(), "QHM beta=0.9, nu=0.7": kto.qhm(momentum=0.9, nu=0.7),
     "AggMo (0, 0.9, 0.99)": kto.aggmo(), "QHAdam (0.995, nu 0.7)": kto.qhadam(),
     "RAdam / AdaBelief / Yogi: EMA(0.9)": kto.radam()},
    normalize_dc=True, title="gradient filters of the optimizers from the papers"),
    os.path.join(out, "frequency_response_papers.png"))

# %% [markdown]
# The filter objects themselves can be analysed: poles, DC gain, stability.

# %%
bw = ARMAFilter.butterworth(2, 0.05)
print("Butterworth(2, 0.05) poles:", np.round(bw.poles(), 4), "| DC gain:", bw.dc_gain(),
      "| stable:", bw.is_stable())

# %% [markdown]
# ## Learning curves of the presets
#
# The same MLP, the same seed and data order for every optimizer; one run per seed.

# %%
runs, histories = {}, {}
for name in QUICK if args.quick else OPTIMIZERS:
    runs[name] = {}
    for seed in args.seeds:
        keras.utils.set_random_seed(seed)
        model = experiments.mlp(optimizer=OPTIMIZERS[name]())
        start = time.perf_counter()
        h = model.fit(x_train, y_train, batch_size=32, epochs=EPOCHS, validation_split=0.1, verbose=0)
        runs[name][seed] = experiments.evaluate(model, x_test, y_test, h, time.perf_counter() - start)
        if seed == args.seeds[0]:
            histories[name] = h
    experiments.print_summary({name: runs[name]})
experiments.show(plot_runs(histories, metrics=("loss", "val_loss", "val_accuracy"),
                           title="optimizers as gradient filters, 784-128-10 MLP"),
                 os.path.join(out, "learning_curves.png"))
results = experiments.write_results(os.path.join(out, "results.json"), args, runs, epochs=EPOCHS)
print(f"wrote {out}")
