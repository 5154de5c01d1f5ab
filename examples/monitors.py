# %% [markdown]
# # 11. Training monitors on the baseline
#
# Weight evolution with and without L2, learning curves, the best model saved by Keras'
# `ModelCheckpoint`, the deep-tanh activation experiment and the babysitting checklist:
#
# - the baseline 784-128-10 MLP (Adam, batch 32, `validation_split=0.1`) trained with
#   `WeightNormTracker`, `LearningCurves` (PNG at every epoch) and
#   `keras.callbacks.ModelCheckpoint(save_best_only=True)`; the same model with L2 (1e-3) on its
#   kernels; `plot_weight_norms` compares the two (the course's "weight evolution" figures);
# - a 6-layer tanh MLP at initialisation, `W = 0.001 * rand` against Xavier: activation
#   histograms per layer and gradient norms per layer;
# - `babysit`: first loss against ln(10), over-fitting 32 samples with and without L2,
#   dead/saturated units, finite gradients.
#
# This file is both `examples/monitors.py` and `notebooks/11_monitors.ipynb` (a jupytext pair).
# As a script:
#
#     python examples/monitors.py --epochs 20

# %%
# %matplotlib inline
import os

import keras
import numpy as np

from kerastools import experiments
from kerastools.callbacks import LearningCurves
from kerastools.callbacks import WeightNormTracker
from kerastools.monitoring import activation_statistics
from kerastools.monitoring import babysit
from kerastools.monitoring import gradient_norms
from kerastools.plotting import plot_activation_stats
from kerastools.plotting import plot_gradient_norms
from kerastools.plotting import plot_weight_norms


def build_mlp(l2=0.0):
    """The baseline 784-128-10 (Adam), with L2 ``l2`` on its kernels and biases."""
    return experiments.mlp(l2=l2, name="baseline_mlp")


def build_tanh(init):
    """The course's deep tanh MLP: 6 hidden layers of 256 units (``hidden_0``...)."""
    return experiments.mlp(hidden=(256,) * 6, activation="tanh", kernel_initializer=init,
                           optimizer="sgd", name="tanh_mlp")


def train(out, name, l2, x, y, epochs):
    keras.utils.set_random_seed(0)
    model = build_mlp(l2)
    ckpt = os.path.join(out, f"best_{name}.keras")
    callbacks = [
        WeightNormTracker(norms=("l2", "max"), log_to="logs"),  # before CSVLogger: norms in the CSV
        LearningCurves(os.path.join(out, f"curves_{name}.png"), title=f"baseline, {name}"),
        keras.callbacks.ModelCheckpoint(ckpt, monitor="val_loss", save_best_only=True),
        keras.callbacks.CSVLogger(os.path.join(out, f"history_{name}.csv")),
    ]
    history = model.fit(x, y, batch_size=32, epochs=epochs, validation_split=0.1, verbose=2,
                        callbacks=callbacks)
    return model, history, ckpt


# %%
args = experiments.parse_args(experiments.parser("Training monitors on the course's baseline.", epochs=20))
epochs = experiments.epochs(args, quick=1)
(x, y), (x_test, y_test) = experiments.load_data(args)
out = experiments.run_dir(args.out, "monitors")
results = {"epochs": epochs, "quick": args.quick}

# %% [markdown]
# ## Weight evolution without and with L2; the best model kept by `ModelCheckpoint`

# %%

histories = {}
for name, l2 in (("no L2", 0.0), ("L2 1e-3", 1e-3)):
    tag = name.replace(" ", "_")
    model, history, ckpt = train(out, tag, l2, x, y, epochs)
    best = keras.saving.load_model(ckpt, safe_mode=True)
    loss, acc = best.evaluate(x_test, y_test, verbose=0)
    val = history.history["val_loss"]
    histories[name] = history
    results[name] = {
        "best_epoch": int(np.argmin(val)) + 1, "best_val_loss": float(np.min(val)),
        "test_loss_best_model": float(loss), "test_accuracy_best_model": float(acc),
        "final_weight_norm_hidden_kernel": history.history["weight_norm/hidden/kernel"][-1],
        "checkpoint": os.path.basename(ckpt),
    }
    print(f"{name}: best epoch {results[name]['best_epoch']}, test accuracy of the "
          f"checkpoint {100 * acc:.2f}%")
experiments.show(plot_weight_norms(histories, keys=["hidden/kernel", "output/kernel"],
                                   title="weight evolution: L2 norm of the kernels"),
                 os.path.join(out, "weight_norms.png"))

# %% [markdown]
# ## The deep tanh net at initialisation

# %%
# The deep tanh net at initialisation: 0.001 * rand collapses, Xavier keeps the spread.
probe, probe_y = x[:256], y[:256]
layers = [f"hidden_{i}" for i in range(6)]
acts, grads = {}, {}
for name, init in (("W = 0.001 rand", keras.initializers.RandomUniform(0.0, 0.001)),
                   ("Xavier", "glorot_uniform")):
    keras.utils.set_random_seed(0)
    model = build_tanh(init)
    acts[name] = activation_statistics(model, probe, layers=layers)
    grads[name] = gradient_norms(model, probe, probe_y, include_biases=False)
    results[f"tanh {name}"] = {
        "activation_std": [acts[name][n]["std"] for n in layers],
        "near_zero": [acts[name][n]["near_zero"] for n in layers],
        "gradient_norm": [grads[name][f"{n}/kernel"] for n in layers],
    }
experiments.show(plot_activation_stats(acts, title="6-layer tanh MLP at initialisation"),
                 os.path.join(out, "tanh_activations.png"))
experiments.show(plot_gradient_norms(grads, title="gradient norms at initialisation"),
                 os.path.join(out, "tanh_gradients.png"))

# %% [markdown]
# ## The babysitting checklist on the baseline

# %%
keras.utils.set_random_seed(0)
# (quick mode leaves out the with/without-L2 comparison: one training less)
report = babysit(build_mlp(), x[:512], y[:512], build_model=build_mlp,
                 build_regularized=None if args.quick else (lambda: build_mlp(1e-2)),
                 n_samples=32, epochs=100 if args.quick else 300)
print(report)
results["babysitting"] = [
    {"check": r.name, "passed": r.passed, "value": r.value, "expected": r.expected}
    for r in report.results]

experiments.write_json(os.path.join(out, "results.json"), results)
print(f"wrote {out}")
