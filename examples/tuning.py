"""Keras Tuner search over the course's Fashion-MNIST search space.

Searches architecture, regularisation, optimizer (the kerastools presets) and
learning-rate schedule with ``kerastools.tuning.FashionMNISTHyperModel``, prints
``results_summary()``, saves the best model, reloads it with
``safe_mode=True`` and evaluates it on the test set.

    python examples/tuning.py --kind mlp --tuner bayesian --max-trials 30 --epochs 15
    python examples/tuning.py --quick           # CI: 2 trials, 1 epoch, a data subset

``--refit`` then trains the best hyperparameters once more on the whole
training set (the validation tenth included), as Keras Tuner's guide suggests,
and reports that model's test figures as well as the best trial's.

Distributed search uses Keras Tuner's own chief/worker mode: start the same
command once with ``KERASTUNER_TUNER_ID=chief`` and once per worker with
``KERASTUNER_TUNER_ID=tuner0``, ``tuner1``..., all with
``KERASTUNER_ORACLE_IP=127.0.0.1`` and ``KERASTUNER_ORACLE_PORT=8000`` and the
same ``--directory``. A search interrupted and restarted with the same
``--directory`` continues (``overwrite=False``) without losing finished trials.
"""

import os
import sys
import time

import keras
import keras_tuner

sys.path.insert(0, os.path.dirname(__file__))
import _common  # noqa: E402

from kerastools.datasets import load_fashion_mnist  # noqa: E402
from kerastools.tuning import OPTIMIZERS  # noqa: E402
from kerastools.tuning import REGULARIZERS  # noqa: E402
from kerastools.tuning import SCHEDULES  # noqa: E402
from kerastools.tuning import FashionMNISTHyperModel  # noqa: E402

TUNERS = {
    "random": keras_tuner.RandomSearch,
    "bayesian": keras_tuner.BayesianOptimization,
    "hyperband": keras_tuner.Hyperband,
}


def make_tuner(name, hypermodel, directory, project, max_trials, epochs, seed=0,
               initial_points=None):
    if name not in TUNERS:
        raise ValueError(f"Argument `--tuner` must be one of {sorted(TUNERS)}. Received: {name!r}")
    common = dict(objective="val_accuracy", directory=directory, project_name=project,
                  overwrite=False, seed=seed)
    if name == "hyperband":
        return keras_tuner.Hyperband(hypermodel, max_epochs=max(epochs, 2), factor=3, **common)
    if name == "bayesian" and initial_points is not None:
        common["num_initial_points"] = initial_points
    return TUNERS[name](hypermodel, max_trials=max_trials, **common)


def main(argv=None):
    p = _common.parser(__doc__.splitlines()[0], epochs=15)
    p.add_argument("--kind", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--tuner", choices=sorted(TUNERS), default="bayesian")
    p.add_argument("--max-trials", type=int, default=None, help="default 30 (2 with --quick)")
    p.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    p.add_argument("--schedules", default=",".join(SCHEDULES))
    p.add_argument("--regularizers", default=",".join(REGULARIZERS))
    p.add_argument("--max-layers", type=int, default=3)
    p.add_argument("--directory", default=None,
                   help="tuner folder (reuse it to resume or share it between workers)")
    p.add_argument("--project", default="fashion")
    p.add_argument("--train-size", type=int, default=None)
    p.add_argument("--batch-sizes", default="32,64,128", help="batch sizes to search")
    p.add_argument("--max-dropout", type=float, default=0.5)
    p.add_argument("--patience", type=int, default=3,
                   help="EarlyStopping patience on val_loss per trial; 0: no early stopping")
    p.add_argument("--learning-rate-range", default=None,
                   help="low,high of the log-uniform learning rate (default: one per preset)")
    p.add_argument("--initial-points", type=int, default=None,
                   help="random trials before the Bayesian model guides (default: Keras "
                        "Tuner's, 3 per hyperparameter)")
    p.add_argument("--refit", action="store_true",
                   help="retrain the best hyperparameters on the whole training set")
    args = p.parse_args(argv)

    if args.quick:
        args.max_trials, args.epochs = args.max_trials or 2, 1
        args.train_size = args.train_size or 2000
    args.max_trials = args.max_trials or 30
    sizes = dict(train_size=args.train_size) if args.train_size else {}
    if args.quick:
        sizes["test_size"] = 1000
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(args.data_dir, **sizes)
    out = _common.run_dir(args.out, f"tuning-{args.kind}")
    directory = args.directory or os.path.join(out, "tuner")

    train_samples = int(round(len(x_train) * 0.9))
    hypermodel = FashionMNISTHyperModel(
        args.kind, epochs=args.epochs, train_samples=train_samples,
        optimizers=args.optimizers.split(","), schedules=args.schedules.split(","),
        regularizers=args.regularizers.split(","), max_layers=args.max_layers,
        batch_sizes=(64, 128) if args.quick else _common.int_list("--batch-sizes", args.batch_sizes),
        max_dropout=args.max_dropout,
        learning_rate_range=(None if args.learning_rate_range is None
                             else args.learning_rate_range.split(",")))
    tuner = make_tuner(args.tuner, hypermodel, directory, args.project, args.max_trials, args.epochs,
                       initial_points=args.initial_points)
    tuner.search_space_summary()
    stop = [keras.callbacks.EarlyStopping("val_loss", patience=args.patience)] if args.patience else []
    start = time.perf_counter()
    tuner.search(x_train, y_train, validation_split=0.1, verbose=0 if args.quick else 2,
                 callbacks=stop)
    search_seconds = time.perf_counter() - start

    if os.environ.get("KERASTUNER_TUNER_ID", "chief") != "chief":
        return {"worker": os.environ["KERASTUNER_TUNER_ID"]}  # workers only train trials
    tuner.results_summary(num_trials=3)
    best_hp = tuner.get_best_hyperparameters(1)[0]
    best = tuner.get_best_models(1)[0]
    path = os.path.join(out, "best_model.keras")
    best.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    test_loss, test_acc = reloaded.evaluate(x_test, y_test, verbose=0)
    print(f"best trial: test loss {test_loss:.4f}, test accuracy {100 * test_acc:.2f}%")
    print("best hyperparameters:", best_hp.values)
    refit = None
    if args.refit:
        keras.utils.set_random_seed(0)
        hypermodel.train_samples = len(x_train)  # schedules span the whole set now
        model = hypermodel.build(best_hp)
        start = time.perf_counter()
        hypermodel.fit(best_hp, model, x_train, y_train, verbose=0 if args.quick else 2)
        refit = dict(zip(("test_loss", "test_accuracy"), model.evaluate(x_test, y_test, verbose=0)))
        refit["seconds"] = round(time.perf_counter() - start, 1)
        model.save(os.path.join(out, "refit_model.keras"))
        print(f"refit on all {len(x_train)} training images: test loss "
              f"{refit['test_loss']:.4f}, test accuracy {100 * refit['test_accuracy']:.2f}%")

    trials = tuner.oracle.get_best_trials(num_trials=10 ** 6)
    fig = _plot_trials(trials)
    from kerastools.plotting import save_figure

    save_figure(fig, os.path.join(out, "trials.png"))
    results = {"kind": args.kind, "tuner": args.tuner, "trials": len(trials),
               "epochs": args.epochs, "test_loss": test_loss, "test_accuracy": test_acc,
               "best_hyperparameters": best_hp.values, "search_seconds": round(search_seconds, 1),
               "train_size": len(x_train), "refit": refit, "quick": args.quick,
               "arguments": vars(args)}
    _common.write_json(os.path.join(out, "results.json"), results)
    return results


def _plot_trials(trials):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5), layout="constrained")
    ax = fig.add_subplot()
    scores = [t.score for t in sorted(trials, key=lambda t: int(t.trial_id)) if t.score is not None]
    best = [max(scores[: i + 1]) for i in range(len(scores))]
    ax.plot(range(1, len(scores) + 1), scores, "o", label="trial val_accuracy")
    ax.plot(range(1, len(scores) + 1), best, "-", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("val_accuracy")
    ax.legend()
    return fig


if __name__ == "__main__":
    main()
