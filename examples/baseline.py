"""The course's baseline: a 784-128-10 MLP on Fashion-MNIST (Functional API).

Adam, sparse categorical cross-entropy, batch 32, ``validation_split=0.1``.
Course figures after 40 epochs: test loss 0.50, test accuracy 88.44% (it
over-fits: the validation loss rises after about 10 epochs).

kerastools does the bookkeeping: the optimizer is ``kerastools.optimizers.adam``
(a FilterOptimizer equal to Keras' Adam), ``LearningCurves`` redraws the curves
PNG at every epoch end, ``WeightNormTracker`` and ``LearningRateLogger`` write
the weight norms and the learning rate into the history, which is saved as JSON
and drawn as the course's weight-evolution figure.

    python examples/baseline.py --epochs 40
"""

import os
import sys
import time

import keras
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import _common  # noqa: E402

from kerastools.callbacks import LearningCurves  # noqa: E402
from kerastools.callbacks import LearningRateLogger  # noqa: E402
from kerastools.callbacks import WeightNormTracker  # noqa: E402
from kerastools.datasets import FASHION_MNIST_CLASSES  # noqa: E402
from kerastools.datasets import load_fashion_mnist  # noqa: E402
from kerastools.optimizers import adam  # noqa: E402
from kerastools.plotting import plot_weight_norms  # noqa: E402
from kerastools.plotting import save_figure  # noqa: E402


def build_model(hidden=128):
    inputs = keras.Input(shape=(28 * 28,), name="images")
    z = keras.layers.Dense(hidden, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(10, activation="softmax", name="output")(z)
    model = keras.Model(inputs, outputs, name="baseline_mlp")
    model.compile(optimizer=adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def main(argv=None):
    args = _common.parser(__doc__.splitlines()[0], epochs=40).parse_args(argv)
    sizes = dict(train_size=6000, test_size=2000) if args.quick else {}
    epochs = min(args.epochs, 2) if args.quick else args.epochs
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(args.data_dir, flatten=True, **sizes)
    out = _common.run_dir(args.out, "baseline")
    keras.utils.set_random_seed(0)

    model = build_model()
    model.summary()
    monitors = [
        WeightNormTracker(norms=("l2",)),
        LearningRateLogger(),
        LearningCurves(os.path.join(out, "learning_curves.png"), title="baseline 784-128-10"),
    ]
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1,
                        verbose=2, callbacks=monitors)
    results = _common.evaluate(model, x_test, y_test, history, time.perf_counter() - start)
    print(f"test loss {results['test_loss']:.4f}, "
          f"test accuracy {100 * results['test_accuracy']:.2f}%")

    model_path = os.path.join(out, "model.keras")
    model.save(model_path)
    _common.write_json(os.path.join(out, "history.json"), history.history)
    save_figure(plot_weight_norms(history, title="weight evolution"),
                os.path.join(out, "weight_norms.png"))

    # Reload and classify one test image, as a user of the saved model would.
    reloaded = keras.saving.load_model(model_path, safe_mode=True)
    probs = reloaded.predict(x_test[:1], verbose=0)[0]
    guess = int(np.argmax(probs))
    print(f"test image 0: predicted {FASHION_MNIST_CLASSES[guess]!r} "
          f"(p={probs[guess]:.3f}), true {FASHION_MNIST_CLASSES[int(y_test[0])]!r}")
    results.update(quick=args.quick, prediction=FASHION_MNIST_CLASSES[guess])
    _common.write_json(os.path.join(out, "results.json"), results)
    print(f"wrote {out}")
    return results


if __name__ == "__main__":
    main()
