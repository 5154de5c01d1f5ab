"""A small CNN on Fashion-MNIST (course: about 94% with CNNs; Zalando's
benchmark lists 91.6-93.4% for small CNNs).

Two conv blocks (32 and 64 filters, 3x3, batch norm, max pooling, dropout)
and a 128-unit dense head, Adam with a one-cycle schedule.

    python examples/cnn.py --epochs 15
"""

import os
import sys
import time

import keras

sys.path.insert(0, os.path.dirname(__file__))
import _common  # noqa: E402

from kerastools.callbacks import LearningRateLogger  # noqa: E402
from kerastools.plotting import plot_learning_curves  # noqa: E402
from kerastools.plotting import save_figure  # noqa: E402
from kerastools.schedules import OneCycle  # noqa: E402


def build_cnn(total_steps, max_lr=3e-3):
    inputs = keras.Input(shape=(28, 28), name="images")
    x = keras.layers.Reshape((28, 28, 1), name="channels")(inputs)
    for i, filters in enumerate((32, 64)):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv_{i}a")(x)
        x = keras.layers.BatchNormalization(name=f"bn_{i}a")(x)
        x = keras.layers.Activation("relu", name=f"relu_{i}a")(x)
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv_{i}b")(x)
        x = keras.layers.BatchNormalization(name=f"bn_{i}b")(x)
        x = keras.layers.Activation("relu", name=f"relu_{i}b")(x)
        x = keras.layers.MaxPooling2D(name=f"pool_{i}")(x)
        x = keras.layers.Dropout(0.25, name=f"dropout_{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(128, activation="relu", name="dense")(x)
    x = keras.layers.Dropout(0.4, name="dropout_dense")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="output")(x)
    model = keras.Model(inputs, outputs, name="cnn")
    model.compile(optimizer=keras.optimizers.Adam(OneCycle(max_lr, total_steps)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main(argv=None):
    args = _common.parser(__doc__.splitlines()[0], epochs=15).parse_args(argv)
    (x, y), (x_test, y_test) = _common.load_data(args, flatten=False, quick_train=2000)
    epochs = _common.epochs(args, quick=1)
    batch_size = 64
    out = _common.run_dir(args.out, "cnn")
    keras.utils.set_random_seed(0)
    steps = -(-int(len(x) * 0.9) // batch_size) * epochs
    model = build_cnn(steps)
    start = time.perf_counter()
    logger = LearningRateLogger(per_batch=True)  # every step's rate, for results.json
    h = model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_split=0.1, verbose=2,
                  callbacks=[logger])
    result = _common.evaluate(model, x_test, y_test, h, time.perf_counter() - start)
    result["learning_rate_range"] = [min(logger.batch_learning_rates),
                                     max(logger.batch_learning_rates)]
    print(result)
    model.save(os.path.join(out, "model.keras"))
    save_figure(plot_learning_curves(h, title="CNN"), os.path.join(out, "curves.png"))
    _common.write_json(os.path.join(out, "results.json"), {"quick": args.quick, **result})
    return result


if __name__ == "__main__":
    main()
