# %% [markdown]
# # 3. Early stopping and save-best (Keras' own callbacks)
#
# The baseline over-fits after about 10 epochs, so the course's advice is to "stop at ~10
# epochs". `EarlyStopping(restore_best_weights=True)` stops when the validation loss has not
# improved for `--patience` epochs and restores the best weights; `ModelCheckpoint(save_best_only=True)`
# keeps the best model on disk, which reloads with `safe_mode=True`.
#
# This file is both `examples/early_stopping.py` and `notebooks/03_early_stopping.ipynb`
# (a jupytext pair). As a script:
#
#     python examples/early_stopping.py --epochs 40 --seeds 0,1,2

# %%
# %matplotlib inline
import os
import time

import keras

from kerastools import experiments
from kerastools.plotting import plot_learning_curves

p = experiments.parser("Early stopping and save-best on the baseline MLP.", epochs=40)
p.add_argument("--patience", type=int, default=3)
args = experiments.parse_args(p)
EPOCHS = experiments.epochs(args, quick=2)
(x, y), (x_test, y_test) = experiments.load_data(args)
out = experiments.run_dir(args.out, "early-stopping")

# %%
runs, histories = {}, {}
for seed in args.seeds:
    keras.utils.set_random_seed(seed)
    model = experiments.mlp()
    best_path = os.path.join(out, f"best_seed{seed}.keras")
    stop = keras.callbacks.EarlyStopping("val_loss", patience=args.patience, restore_best_weights=True,
                                         verbose=1)
    save_best = keras.callbacks.ModelCheckpoint(best_path, monitor="val_loss", save_best_only=True)
    start = time.perf_counter()
    histories[seed] = model.fit(x, y, batch_size=32, epochs=EPOCHS, validation_split=0.1, verbose=2,
                                callbacks=[stop, save_best])
    r = experiments.evaluate(model, x_test, y_test, histories[seed], time.perf_counter() - start)
    best = keras.saving.load_model(best_path, safe_mode=True)
    r["checkpoint_test_loss"], r["checkpoint_test_accuracy"] = best.evaluate(x_test, y_test, verbose=0)
    r["stopped_epoch"] = stop.stopped_epoch or len(histories[seed].history["loss"])
    runs[seed] = r
    print(f"seed {seed}: stopped after epoch {r['stopped_epoch']}, best epoch {r['best_epoch']}, "
          f"test loss {r['test_loss']:.4f}, accuracy {100 * r['test_accuracy']:.2f}%")
experiments.print_summary({"early stopping": runs})

# %% [markdown]
# The learning curves of the first seed; the dotted line marks the best epoch, whose weights
# the model holds after `fit`.

# %%
experiments.show(plot_learning_curves(histories[args.seeds[0]], title="early stopping"),
                 os.path.join(out, "curves.png"))
results = experiments.write_results(os.path.join(out, "results.json"), args, {"early stopping": runs})
print(f"wrote {out}")
