# %% [markdown]
# # 5. Learning-rate schedules and the LR range test
#
# `kerastools.schedules` has the schedules Keras lacks (cyclical (Smith), SGDR (cosine with
# warm restarts), one-cycle, warmup around any schedule) and the course's epoch decays built on
# Keras' own classes. Every schedule runs inside the compiled train step and saves with the
# model. `LearningRateLogger` puts the learning rate actually used into the History.
#
# Six schedules, one CNN, SGD with momentum 0.9 (the `kerastools.optimizers.momentum` preset),
# the same seed and data order: a constant rate; the course's step decay (x0.2 at 50% and 75%
# of the epochs); exponential decay per epoch; a triangular2 cyclical rate; SGDR (cycles of 1/7,
# 2/7 and 4/7 of the run); and one-cycle, whose momentum cycles 0.95 -> 0.85 -> 0.95: the
# preset takes the momentum schedule and reads it inside the train step, on every backend.
# (Keras' own `SGD` reads `momentum` as a Python number; `kerastools.callbacks.MomentumScheduler`
# changes it between steps, on TensorFlow only.) For each: the epochs needed to reach
# `--target` test accuracy, the best and final test accuracy.
#
# This file is both `examples/lr_schedules.py` and `notebooks/05_lr_schedules.ipynb` (a jupytext
# pair). As a script (the whole data: about 7 hours on 2 CPU cores; RESULTS.md used a tenth):
#
#     python examples/lr_schedules.py --epochs 8 --train-size 6000 --test-size 2000 --target 0.85

# %%
# %matplotlib inline
import os
import time

import keras
from matplotlib.figure import Figure

from kerastools import experiments
from kerastools import optimizers as kto
from kerastools import schedules as S
from kerastools.callbacks import LearningRateLogger
from kerastools.callbacks import find_learning_rate
from kerastools.plotting import plot_schedule
from kerastools.training import fit_one_cycle

BATCH = 64

p = experiments.parser("Learning-rate schedules on a Fashion-MNIST CNN: epochs to a target accuracy.",
                       epochs=14)
p.add_argument("--target", type=float, default=0.91, help="test accuracy to reach")
p.add_argument("--train-size", type=int, default=None,
               help="a class-balanced training subset (default: all 60000)")
p.add_argument("--test-size", type=int, default=None,
               help="a class-balanced test subset (default: all 10000)")
args = experiments.parse_args(p)
(x, y), (x_test, y_test) = experiments.load_data(args, flatten=False, quick_train=1024, quick_test=500,
                                                 train_size=args.train_size, test_size=args.test_size)
EPOCHS = experiments.epochs(args, quick=1)
WIDTH = 8 if args.quick else 32  # quick mode (CI): one narrow block, as tracing dominates a few batches
BLOCKS = 1 if args.quick else 2
spe = -(-len(x) // BATCH)
out = experiments.run_dir(args.out, "lr_schedules")


def build_cnn(learning_rate, momentum=0.9, width=32, blocks=2):
    """Conv blocks (conv 3x3, batch norm, ReLU, max pooling), dropout, a dense head."""
    inputs = keras.Input(shape=(28, 28), name="images")
    x = keras.layers.Reshape((28, 28, 1))(inputs)
    for k in range(blocks):
        x = keras.layers.Conv2D(width * 2**k, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.Activation("relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    if blocks > 1:
        x = keras.layers.Dropout(0.3)(x)
        x = keras.layers.Dense(128, activation="relu")(x)
        x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="cnn")
    model.compile(optimizer=kto.momentum(learning_rate, momentum=momentum),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def schedules(epochs, spe, peak=0.05):
    """name -> (learning-rate schedule, momentum or momentum schedule)."""
    total = epochs * spe
    one_cycle = S.OneCycle(2 * peak, total)
    return {
        "constant": (peak / 2, 0.9),
        "step (x0.2 at 50%, 75%)": (S.milestone_decay(peak, epochs, spe), 0.9),
        "exponential (0.8/epoch)": (S.exponential_decay(peak, 0.8, spe), 0.9),
        "cyclical (triangular2)": (
            S.CyclicalLearningRate(peak / 10, peak, max(1, total // 6), mode="triangular2"), 0.9),
        # Cycles of 1/7, 2/7 and 4/7 of the run: the last one ends with it.
        "SGDR (t_mul=2)": (S.SGDR(peak, total / 7, t_mul=2.0), 0.9),
        "one-cycle": (one_cycle, one_cycle.momentum_schedule(0.85, 0.95)),
    }


def epochs_to(accuracies, target):
    for i, a in enumerate(accuracies):
        if a >= target:
            return i + 1
    return None


table = schedules(EPOCHS, spe)
experiments.show(plot_schedule({k: v[0] for k, v in table.items()}, EPOCHS * spe, steps_per_epoch=spe,
                               title=f"schedules ({spe} steps/epoch)"), os.path.join(out, "schedules.png"))

# %% [markdown]
# ## Training with each schedule

# %%
runs, histories = {}, {}
for name, (lr, momentum) in table.items():
    runs[name] = {}
    for seed in args.seeds:
        keras.utils.set_random_seed(seed)
        model = build_cnn(lr, momentum, WIDTH, BLOCKS)
        logger = LearningRateLogger(per_batch=True)  # every step's rate, for results.json
        start = time.perf_counter()
        h = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, validation_data=(x_test, y_test),
                      shuffle=True, verbose=0, callbacks=[logger])
        acc = h.history["val_accuracy"]
        runs[name][seed] = {
            "epochs_to_target": epochs_to(acc, args.target),
            "best_test_accuracy": max(acc),
            "best_epoch": acc.index(max(acc)) + 1,
            "final_test_accuracy": acc[-1],
            "final_train_accuracy": h.history["accuracy"][-1],
            "learning_rate_per_epoch": h.history["learning_rate"],
            "learning_rate_range": [min(logger.batch_learning_rates), max(logger.batch_learning_rates)],
            "seconds": round(time.perf_counter() - start, 1),
        }
        if seed == args.seeds[0]:
            histories[name] = h.history
    experiments.print_summary({name: runs[name]}, keys=("best_test_accuracy", "final_test_accuracy"))

fig = Figure(figsize=(13, 4), layout="constrained")
axes = [fig.add_subplot(1, 3, i + 1) for i in range(3)]
for name, h in histories.items():
    ep = range(1, len(h["loss"]) + 1)
    axes[0].plot(ep, h["val_accuracy"], marker=".", label=name)
    axes[1].plot(ep, h["loss"], marker=".", label=name)
    axes[2].plot(ep, h["learning_rate"], marker=".", label=name)
axes[0].axhline(args.target, color="0.5", linestyle=":", label=f"target {args.target:.0%}")
for ax, label in zip(axes, ["test accuracy", "training loss", "learning rate (last step)"]):
    ax.set_xlabel("epoch")
    ax.set_ylabel(label)
    ax.grid(True, alpha=0.3)
axes[2].set_yscale("log")
axes[0].legend(fontsize="small")
experiments.show(fig, os.path.join(out, "learning_curves.png"))

# %% [markdown]
# ## Coming from TF Addons / PyTorch / fastai
#
# The same recipe in the three libraries' own words, side by side:
#
# - TF Addons: `tfa.optimizers.CyclicalLearningRate(1e-4, 3e-3, step_size=s, scale_fn=lambda x:
#   1 / 2.0 ** (x - 1))` becomes `schedules.CyclicalLearningRate(...)`, same arguments (a lambda
#   trains; register it with `register_scale_function` to save the model).
# - PyTorch: `OneCycleLR(opt, max_lr=3e-3, epochs=E, steps_per_epoch=S)` becomes
#   `lr, momentum = schedules.OneCycle.from_pytorch(max_lr=3e-3, epochs=E, steps_per_epoch=S)`
#   (also `CyclicalLearningRate.from_pytorch`, `SGDR.from_pytorch`).
# - fastai: `learn.fit_one_cycle(E, lr_max=3e-3)` becomes
#   `kerastools.training.fit_one_cycle(model, x, y, epochs=E, lr_max=3e-3)` (Adam with `moms` as
#   `beta_1`).
#
# PyTorch's `ReduceLROnPlateau` next to a scheduler becomes `schedules.ReduceOnPlateau(schedule, ...)`
# with the `kerastools.callbacks.PlateauMonitor()` callback; the reduced scale is saved with the model.

# %%
total = EPOCHS * spe
addons = S.CyclicalLearningRate(1e-4, 3e-3, step_size=max(1, total // 6),
                                scale_fn=lambda x: 1 / 2.0 ** (x - 1))  # TF Addons' code
torch_lr, torch_momentum = S.OneCycle.from_pytorch(max_lr=3e-3, epochs=EPOCHS, steps_per_epoch=spe)
fastai_lr, fastai_momentum = S.fastai_one_cycle(3e-3, total)  # what fit_one_cycle uses
experiments.show(plot_schedule({"TF Addons CLR (lambda scale_fn)": addons, "PyTorch OneCycleLR": torch_lr,
                                "fastai fit_one_cycle": fastai_lr}, total, momentum=fastai_momentum,
                               steps_per_epoch=spe), os.path.join(out, "three_libraries.png"))

keras.utils.set_random_seed(args.seeds[0])
model = experiments.mlp()  # fit_one_cycle compiles it again with its optimizer
history = fit_one_cycle(model, x.reshape(len(x), -1), y, epochs=EPOCHS, lr_max=3e-3, batch_size=BATCH,
                        validation_split=0.1, verbose=0)
fit_one_cycle_accuracy = float(model.evaluate(x_test.reshape(len(x_test), -1), y_test, verbose=0)[1])
print("fit_one_cycle (fastai's schedule, Adam with beta_1 0.95 -> 0.85 -> 0.95) on the MLP: "
      f"test accuracy {fit_one_cycle_accuracy:.4f}")

# %% [markdown]
# ## LR range test
#
# An exponential sweep of the learning rate over a few hundred steps; the loss is smoothed with
# the transient-compensated EMA of the filter core. Afterwards the model's weights and optimizer
# state are exactly what they were. Suggestions: the steepest descent, and the minimum / 10.

# %%
model = build_cnn(1e-3, 0.9, WIDTH, BLOCKS)
finder = find_learning_rate(model, x, y, batch_size=BATCH, min_learning_rate=1e-5, max_learning_rate=10.0,
                            num_steps=50 if args.quick else 300)
print(finder.suggestions)
experiments.show(finder.plot(), os.path.join(out, "lr_range_test.png"))
results = experiments.write_results(
    os.path.join(out, "results.json"), args, runs, epochs=EPOCHS, target=args.target,
    train_size=len(x), test_size=len(x_test), fit_one_cycle_test_accuracy=fit_one_cycle_accuracy,
    lr_range_suggestions={k: None if v is None else float(v) for k, v in finder.suggestions.items()})
print(f"wrote {out}")
