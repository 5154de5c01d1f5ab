"""Trains a small model with kerastools components under BackupAndRestore.

    python resumable_train.py BACKUP_DIR OUT.npz [--kill-after-epoch K]

With ``--kill-after-epoch K`` the process SIGKILLs itself at the end of epoch K
(after BackupAndRestore has written its backup): a crash mid-run. Run again
without it, the same command resumes from the backup. OUT.npz receives the
final weights, the optimizer variables (filter states, iteration count) and
the learning rate the schedule gives at the final iteration.
"""

import argparse
import os
import signal

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kerastools import callbacks  # noqa: E402
from kerastools import layers  # noqa: E402
from kerastools import optimizers  # noqa: E402
from kerastools import schedules  # noqa: E402

EPOCHS = 5


class KillAfterEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            os.kill(os.getpid(), signal.SIGKILL)


def build():
    inputs = keras.Input(shape=(20,))
    x = keras.layers.Dense(32, name="hidden")(inputs)
    x = layers.DebiasedBatchNormalization(name="bn")(x)
    x = keras.layers.Activation("relu")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="output")(x)
    model = keras.Model(inputs, outputs)
    lr = schedules.CyclicalLearningRate(1e-3, 1e-2, step_size=7, mode="triangular2")
    model.compile(optimizer=optimizers.nadam(learning_rate=lr),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main():
    p = argparse.ArgumentParser()
    p.add_argument("backup_dir")
    p.add_argument("out")
    p.add_argument("--kill-after-epoch", type=int, default=None)
    args = p.parse_args()
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(320, 20)).astype("float32")
    y = (x[:, 0] > 0).astype("int32") + (x[:, 1] > 1).astype("int32")
    model = build()
    cbs = [keras.callbacks.BackupAndRestore(args.backup_dir),
           callbacks.LearningRateLogger()]
    if args.kill_after_epoch:
        cbs.append(KillAfterEpoch(args.kill_after_epoch))
    history = model.fit(x, y, batch_size=32, epochs=EPOCHS, shuffle=False, verbose=0, callbacks=cbs)
    opt = model.optimizer
    state = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    state.update({f"opt{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(opt.variables)})
    state["iterations"] = np.asarray(keras.ops.convert_to_numpy(opt.iterations))
    state["final_lr"] = np.asarray(keras.ops.convert_to_numpy(opt.learning_rate))
    state["epochs_run"] = np.asarray(len(history.history["loss"]))
    state["lr_log"] = np.asarray(history.history["learning_rate"])
    np.savez(args.out, **state)


if __name__ == "__main__":
    main()
