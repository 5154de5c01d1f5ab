"""L2 and dropout on the course's 784-128-10 MLP (Fashion-MNIST).

Three sweeps, each with per-epoch weight norms (``WeightNormTracker``):

- L2 on kernels and biases, lambda in {0, 1e-5, 1e-4, 1e-3} (course: lambda
  about 1e-3 stops over-fitting, at a loss about 0.45);
- dropout after the hidden layer, rate in {0, 0.15, 0.3, 0.45, 0.6} (course:
  about 60% dropout gives a loss about 0.35);
- dropout + L2 (course: test loss about 0.4, accuracy about 88%), and the
  smaller models with 100 and 48 hidden units.

    python examples/regularization.py --epochs 40 --sweep all
"""

import os
import sys
import time

import keras

sys.path.insert(0, os.path.dirname(__file__))
import _common  # noqa: E402

from kerastools.callbacks import WeightNormTracker  # noqa: E402
from kerastools.plotting import plot_runs  # noqa: E402
from kerastools.plotting import plot_weight_norms  # noqa: E402
from kerastools.plotting import save_figure  # noqa: E402

SWEEPS = {
    "l2": {f"L2 {lam:g}": dict(l2=lam) for lam in (0.0, 1e-5, 1e-4, 1e-3)},
    "dropout": {f"dropout {r:g}": dict(dropout=r) for r in (0.0, 0.15, 0.3, 0.45, 0.6)},
    "combined": {
        "dropout 0.6 + L2 1e-4 (128)": dict(dropout=0.6, l2=1e-4),
        "dropout 0.45 + L2 1e-4 (100)": dict(hidden=(100,), dropout=0.45, l2=1e-4),
        "dropout 0.3 + L2 1e-4 (48)": dict(hidden=(48,), dropout=0.3, l2=1e-4),
    },
}
QUICK = {"l2": ("L2 0", "L2 0.001"), "dropout": ("dropout 0.6",),
         "combined": ("dropout 0.6 + L2 1e-4 (128)",)}


def main(argv=None):
    p = _common.parser(__doc__.splitlines()[0], epochs=40)
    p.add_argument("--sweep", choices=[*SWEEPS, "all"], default="all")
    args = p.parse_args(argv)
    (x, y), (x_test, y_test) = _common.load_data(args)
    epochs = _common.epochs(args)
    out = _common.run_dir(args.out, "regularization")
    results = {}
    for sweep in SWEEPS if args.sweep == "all" else [args.sweep]:
        histories = {}
        for label, kwargs in SWEEPS[sweep].items():
            if args.quick and label not in QUICK[sweep]:
                continue
            keras.utils.set_random_seed(0)
            model = _common.mlp(**kwargs)
            start = time.perf_counter()
            h = model.fit(x, y, batch_size=32, epochs=epochs, validation_split=0.1, verbose=0,
                          callbacks=[WeightNormTracker(norms=("l2",))])
            results[label] = _common.evaluate(model, x_test, y_test, h, time.perf_counter() - start)
            histories[label] = h
            print(f"{label:32s} test loss {results[label]['test_loss']:.4f} "
                  f"acc {100 * results[label]['test_accuracy']:.2f}%")
        save_figure(plot_runs(histories, ("loss", "val_loss", "val_accuracy"), title=sweep),
                    os.path.join(out, f"{sweep}_curves.png"))
        save_figure(plot_weight_norms(histories), os.path.join(out, f"{sweep}_weight_norms.png"))
    _common.write_json(os.path.join(out, "results.json"),
                       {"epochs": epochs, "quick": args.quick, "runs": results})
    return results


if __name__ == "__main__":
    main()
