# %% [markdown]
# # 8. A small CNN
#
# The course notes that CNNs reach about 94% on Fashion-MNIST; Zalando's benchmark lists
# 91.6-93.4% for small CNNs. Two convolution blocks (two 3x3 convolutions with batch norm and
# ReLU, max pooling, dropout) and a 128-unit dense head (`experiments.cnn`), trained with Adam
# under a one-cycle learning-rate schedule from `kerastools.schedules`.
#
# This file is both `examples/cnn.py` and `notebooks/08_cnn.ipynb` (a jupytext pair). As a
# script:
#
#     python examples/cnn.py --epochs 15

# %%
# %matplotlib inline
import os
import time

import keras

from kerastools import experiments
from kerastools.callbacks import LearningRateLogger
from kerastools.plotting import plot_learning_curves
from kerastools.plotting import plot_schedule
from kerastools.schedules import OneCycle

BATCH = 64
MAX_LR = 3e-3

args = experiments.parse_args(
    experiments.parser("A small CNN on Fashion-MNIST, Adam + one-cycle.", epochs=15))
EPOCHS = experiments.epochs(args, quick=1)
(x, y), (x_test, y_test) = experiments.load_data(args, flatten=False, quick_train=2000)
out = experiments.run_dir(args.out, "cnn")
total_steps = -(-int(len(x) * 0.9) // BATCH) * EPOCHS
experiments.show(plot_schedule(OneCycle(MAX_LR, total_steps), total_steps, title="one-cycle"),
                 os.path.join(out, "schedule.png"))

# %%
runs, histories = {}, {}
for seed in args.seeds:
    keras.utils.set_random_seed(seed)
    model = experiments.cnn(optimizer=keras.optimizers.Adam(OneCycle(MAX_LR, total_steps)))
    logger = LearningRateLogger(per_batch=True)  # every step's rate, for results.json
    start = time.perf_counter()
    histories[seed] = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, validation_split=0.1, verbose=2,
                                callbacks=[logger])
    r = experiments.evaluate(model, x_test, y_test, histories[seed], time.perf_counter() - start)
    r["learning_rate_range"] = [min(logger.batch_learning_rates), max(logger.batch_learning_rates)]
    runs[seed] = r
    print(f"seed {seed}: test loss {r['test_loss']:.4f}, test accuracy {100 * r['test_accuracy']:.2f}%")
experiments.print_summary({"cnn": runs})
model.save(os.path.join(out, "model.keras"))
experiments.show(plot_learning_curves(histories[args.seeds[0]], title="CNN"), os.path.join(out, "curves.png"))
results = experiments.write_results(os.path.join(out, "results.json"), args, {"cnn": runs})
print(f"wrote {out}")
