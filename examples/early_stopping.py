"""Early stopping and save-best on the baseline MLP (Keras' own callbacks).

``EarlyStopping(restore_best_weights=True)`` stops when the validation loss has
not improved for ``--patience`` epochs and restores the best weights;
``ModelCheckpoint(save_best_only=True)`` keeps the best model on disk. The
course: the baseline over-fits after about 10 epochs, so "stop at ~10 epochs".

    python examples/early_stopping.py --epochs 40
"""

import os
import sys
import time

import keras

sys.path.insert(0, os.path.dirname(__file__))
import _common  # noqa: E402

from kerastools.plotting import plot_learning_curves  # noqa: E402
from kerastools.plotting import save_figure  # noqa: E402


def main(argv=None):
    p = _common.parser(__doc__.splitlines()[0], epochs=40)
    p.add_argument("--patience", type=int, default=3)
    args = p.parse_args(argv)
    (x, y), (x_test, y_test) = _common.load_data(args)
    epochs = _common.epochs(args, quick=3)
    out = _common.run_dir(args.out, "early-stopping")
    best_path = os.path.join(out, "best.keras")

    keras.utils.set_random_seed(0)
    model = _common.mlp()
    stop = keras.callbacks.EarlyStopping("val_loss", patience=args.patience,
                                         restore_best_weights=True, verbose=1)
    save_best = keras.callbacks.ModelCheckpoint(best_path, monitor="val_loss", save_best_only=True)
    start = time.perf_counter()
    h = model.fit(x, y, batch_size=32, epochs=epochs, validation_split=0.1, verbose=2,
                  callbacks=[stop, save_best])
    result = _common.evaluate(model, x_test, y_test, h, time.perf_counter() - start)
    best = keras.saving.load_model(best_path, safe_mode=True)
    result["checkpoint_test_loss"], result["checkpoint_test_accuracy"] = best.evaluate(
        x_test, y_test, verbose=0)
    result["stopped_epoch"] = stop.stopped_epoch or len(h.history["loss"])
    print(result)
    save_figure(plot_learning_curves(h, title="early stopping"), os.path.join(out, "curves.png"))
    _common.write_json(os.path.join(out, "results.json"), {"quick": args.quick, **result})
    return result


if __name__ == "__main__":
    main()
