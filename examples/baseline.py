# %% [markdown]
# # 1. The baseline: a 784-128-10 MLP on Fashion-MNIST
#
# The course's first model, written with the Functional API: one hidden layer of 128 ReLU
# units, a softmax output, Adam, sparse categorical cross-entropy, batch 32 and 10% of the
# training set held out for validation. After 40 epochs the course reports a test loss of
# 0.50 and a test accuracy of 88.44%, and the learning curves show over-fitting: the
# validation loss turns up after about 10 epochs while the training loss keeps falling.
#
# kerastools does the bookkeeping: the optimizer is `kerastools.optimizers.adam` (a filter
# optimizer equal to Keras' Adam), `LearningCurves` redraws the curves at every epoch end,
# `WeightNormTracker` and `LearningRateLogger` write the weight norms and the learning rate
# into the history, drawn as the course's weight-evolution figure.
#
# This file is both `examples/baseline.py` and `notebooks/01_baseline.ipynb` (a jupytext
# pair). As a script, one run per seed; `results.json` has the mean and spread:
#
#     python examples/baseline.py --epochs 40 --seeds 0,1,2

# %%
# %matplotlib inline
import os
import time

import keras
import numpy as np

from kerastools import experiments
from kerastools.callbacks import LearningCurves
from kerastools.callbacks import LearningRateLogger
from kerastools.callbacks import WeightNormTracker
from kerastools.datasets import FASHION_MNIST_CLASSES
from kerastools.optimizers import adam
from kerastools.plotting import plot_learning_curves
from kerastools.plotting import plot_weight_norms

args = experiments.parse_args(experiments.parser("The course's baseline 784-128-10 MLP.", epochs=40))
EPOCHS = experiments.epochs(args)
(x_train, y_train), (x_test, y_test) = experiments.load_data(args)
out = experiments.run_dir(args.out, "baseline")
print(f"train {x_train.shape}, test {x_test.shape}, {EPOCHS} epochs, seeds {args.seeds}, into {out}")

# %% [markdown]
# `load_data` checks every file and says where it looked; images come back in [0, 1].
#
# ## Training, once per seed
#
# The same seed does not give the same run on CPU (thread scheduling changes the order of
# floating-point sums), so a figure is a mean over seeds with its spread.

# %%
runs, histories = {}, {}
for seed in args.seeds:
    keras.utils.set_random_seed(seed)
    model = experiments.mlp(optimizer=adam(learning_rate=1e-3), name="baseline_mlp")
    monitors = [WeightNormTracker(norms=("l2",)), LearningRateLogger()]
    if seed == args.seeds[0]:  # the curves PNG, redrawn at every epoch end
        monitors.append(LearningCurves(os.path.join(out, "learning_curves.png"), title="baseline"))
    start = time.perf_counter()
    histories[seed] = model.fit(x_train, y_train, batch_size=32, epochs=EPOCHS, validation_split=0.1,
                                verbose=2, callbacks=monitors)
    runs[seed] = experiments.evaluate(model, x_test, y_test, histories[seed], time.perf_counter() - start)
    print(f"seed {seed}: test loss {runs[seed]['test_loss']:.4f}, "
          f"test accuracy {100 * runs[seed]['test_accuracy']:.2f}%")
experiments.print_summary({"baseline": runs})

# %% [markdown]
# ## Learning curves and weight evolution (the first seed)
#
# One panel per metric, training and validation; the dotted line marks the best validation
# epoch. A validation loss that rises while the training loss falls is over-fitting. The
# weight norms keep growing while the model over-fits.

# %%
history = histories[args.seeds[0]]
experiments.show(plot_learning_curves(history, title="baseline 784-128-10"))
experiments.show(plot_weight_norms(history, title="weight evolution"), os.path.join(out, "weight_norms.png"))
experiments.write_json(os.path.join(out, "history.json"), history.history)

# %% [markdown]
# ## Save, reload and classify one image
#
# The `.keras` file reloads with `safe_mode=True`.

# %%
model_path = os.path.join(out, "model.keras")
model.save(model_path)
reloaded = keras.saving.load_model(model_path, safe_mode=True)
probs = reloaded.predict(x_test[:1], verbose=0)[0]
guess = int(np.argmax(probs))
print(f"test image 0: predicted {FASHION_MNIST_CLASSES[guess]!r} (p={probs[guess]:.3f}), "
      f"true {FASHION_MNIST_CLASSES[int(y_test[0])]!r}")
results = experiments.write_results(os.path.join(out, "results.json"), args, {"baseline": runs},
                                    prediction=FASHION_MNIST_CLASSES[guess])
print(f"wrote {out}")
