"""Regenerates the figures in results/ and the figures of RESULTS.md: `make results`.

Each row of RESULTS.md is one command of an example script (the table ROWS below).
This runs them one after the other, each into ``<out>/<row>/<timestamp>-<name>/``,
copies the figures the table names into ``results/`` and writes
``results/summary.json``: per row its command, wall time and, per run of the
row, the mean, standard deviation, min and max over seeds of every figure.

    python results/reproduce.py                      # every row, seeds 0,1,2 (hours)
    python results/reproduce.py --rows a,d --seeds 0,1,2
    python results/reproduce.py --table              # the markdown table of summary.json

The rows of the MLP experiments (a-e, h) run once per seed; the CNN, initialiser
and Nielsen rows (f, g, i, j) once, with seed 0: a CNN epoch on the whole data
costs 250-330 s on 2 CPU cores. The Keras Tuner searches are not rows here:
their commands are in RESULTS.md (hours each).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# row -> (script, arguments, multi-seed?, {figure written by the script: name in results/})
ROWS = {
    "a": ("baseline.py", ["--epochs", "40"], True,
          {"learning_curves.png": "baseline_learning_curves.png",
           "weight_norms.png": "baseline_weight_norms.png"}),
    "b": ("regularization.py", ["--epochs", "40", "--sweep", "l2"], True,
          {"l2_curves.png": "l2_curves.png", "l2_weight_norms.png": "l2_weight_norms.png"}),
    "c": ("regularization.py", ["--epochs", "40", "--sweep", "dropout"], True,
          {"dropout_curves.png": "dropout_curves.png",
           "dropout_weight_norms.png": "dropout_weight_norms.png"}),
    "c2": ("regularization.py", ["--epochs", "40", "--sweep", "combined"], True,
           {"combined_curves.png": "combined_curves.png",
            "combined_weight_norms.png": "combined_weight_norms.png"}),
    "d": ("early_stopping.py", ["--epochs", "40"], True,
          {"curves.png": "early_stopping_curves.png"}),
    "e": ("optimizers_as_filters.py", ["--epochs", "10"], True,
          {"learning_curves.png": "optimizers_learning_curves.png",
           "frequency_response.png": "optimizers_frequency_response.png",
           "momentum_vs_nesterov.png": "optimizers_momentum_vs_nesterov.png"}),
    "f": ("lr_schedules.py", ["--epochs", "8", "--train-size", "6000", "--test-size", "2000",
                              "--target", "0.85"], False,
          {"schedules.png": "lr_schedules.png", "learning_curves.png": "lr_schedules_curves.png"}),
    "g": ("initializers.py", ["--epochs", "10"], False,
          {"tanh_activation_std.png": "initializers_tanh_activation_std.png",
           "tanh_activations.png": "initializers_tanh_activations.png",
           "mlp200_learning_curves.png": "initializers_mlp200_curves.png"}),
    "h": ("batch_norm.py", ["--epochs", "15"], True,
          {"batch_norm_curves.png": "batch_norm_curves.png"}),
    "i": ("cnn.py", ["--epochs", "15"], False, {"curves.png": "cnn_curves.png"}),
    "j": ("nielsen_function.py", ["--epochs", "300"], False, {"nielsen.png": "nielsen.png"}),
}


def command(row, seeds, out):
    script, extra, multi_seed, _ = ROWS[row]
    seeds = seeds if multi_seed else "0"
    return [sys.executable, os.path.join(ROOT, "examples", script), *extra, "--seeds", seeds,
            "--out", os.path.join(out, row)]


def run_row(row, seeds, out, results_dir, summary):
    cmd = command(row, seeds, out)
    shown = " ".join(["python", os.path.relpath(cmd[1], ROOT), *cmd[2:-2]])
    print(f"== row {row}: {shown}", flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env={**os.environ, "KERASTOOLS_QUICK": "0"})
    seconds = time.perf_counter() - start
    row_dir = os.path.join(out, row)
    run = max((os.path.join(row_dir, d) for d in os.listdir(row_dir)), key=os.path.getmtime)
    for src, dst in ROWS[row][3].items():
        shutil.copyfile(os.path.join(run, src), os.path.join(results_dir, dst))
    with open(os.path.join(run, "results.json")) as f:
        results = json.load(f)
    summary[row] = {
        "command": shown,
        "seconds": round(seconds, 1),
        "seeds": results.get("seeds"),
        "runs": {label: r["summary"] for label, r in results.get("runs", {}).items()
                 if "summary" in r},
        "run_dir": os.path.relpath(run, ROOT),
    }
    print(f"== row {row}: {seconds / 60:.1f} min", flush=True)


def table(summary, keys=("test_loss", "test_accuracy")):
    """Markdown lines: row, run, seeds, mean +- std (min-max) of ``keys``."""
    lines = ["| row | run | seeds | " + " | ".join(keys) + " | wall time of the row |",
             "| --- | --- | --- | " + " | ".join("---" for _ in keys) + " | --- |"]
    for row, s in summary.items():
        for label, figs in s["runs"].items():
            cells = []
            for k in keys:
                if k not in figs:
                    cells.append("")
                    continue
                f = figs[k]
                scale, fmt = (100, "{:.2f}%") if "accuracy" in k else (1, "{:.3f}")
                cells.append(f"{fmt.format(scale * f['mean'])} ± {fmt.format(scale * f['std'])} "
                             f"({fmt.format(scale * f['min'])}-{fmt.format(scale * f['max'])})")
            n = next(iter(figs.values()))["n"] if figs else 0
            lines.append(f"| {row} | {label} | {n} | " + " | ".join(cells)
                         + f" | {s['seconds'] / 60:.0f} min |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", default=",".join(ROWS), help=f"rows to run (default all: {','.join(ROWS)})")
    p.add_argument("--seeds", default="0,1,2", help="seeds of the MLP rows (default 0,1,2)")
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "results"), help="run folders")
    p.add_argument("--results-dir", default=HERE, help="where the figures and summary.json go")
    p.add_argument("--table", action="store_true", help="print the table of summary.json and stop")
    args = p.parse_args(argv)
    path = os.path.join(args.results_dir, "summary.json")
    summary = {}
    if os.path.exists(path):
        with open(path) as f:
            summary = json.load(f)
    if args.table:
        print(table(summary))
        return
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        raise ValueError(f"Argument `--rows` must name rows of {sorted(ROWS)}. Received: {unknown}")
    start = time.perf_counter()
    for row in rows:
        run_row(row, args.seeds, args.out, args.results_dir, summary)
        tmp = f"{path}.tmp"
        with open(tmp, "w") as f:  # after every row: a cut run keeps what finished
            json.dump(dict(sorted(summary.items())), f, indent=2)
        os.replace(tmp, path)
    print(f"== rows {','.join(rows)}: {(time.perf_counter() - start) / 60:.1f} min")
    print(table({r: summary[r] for r in rows}))


if __name__ == "__main__":
    main()
