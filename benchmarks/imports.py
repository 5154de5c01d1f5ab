"""What ``import kerastools`` adds to ``import keras``, per backend.

Each measurement is a fresh interpreter that imports keras, then kerastools, and
reports both times (``time.perf_counter``); the figure is the median over
``--repeats`` interpreters, interleaved across backends. Goal: kerastools adds at most
0.2 s, and imports neither keras_tuner nor matplotlib (nor TensorFlow on JAX/PyTorch).

    .venv/bin/python benchmarks/imports.py [--repeats 7] [--backends tensorflow,jax,torch]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROBE = """
import json, sys, time
t0 = time.perf_counter()
import keras
t1 = time.perf_counter()
before = set(sys.modules)
import kerastools
t2 = time.perf_counter()
new = sorted({m.split('.')[0] for m in set(sys.modules) - before} - {'kerastools'})
print(json.dumps({"keras": t1 - t0, "kerastools": t2 - t1, "new": new}))
"""


def available(backend):
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[backend]
    probe = subprocess.run([sys.executable, "-c", f"import importlib.util as u; "
                            f"print(u.find_spec({module!r}) is not None)"],
                           capture_output=True, text=True)
    return probe.stdout.strip() == "True"


def measure(backend):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1. Received: {args.repeats}")
    backends = [b for b in args.backends.split(",") if available(b)]
    runs = {b: [] for b in backends}
    for _ in range(args.repeats):
        for backend in backends:
            runs[backend].append(measure(backend))
    report = {}
    for backend, rs in runs.items():
        keras_s = statistics.median(r["keras"] for r in rs)
        added = statistics.median(r["kerastools"] for r in rs)
        new = sorted({m for r in rs for m in r["new"]})
        report[backend] = {"import keras (s)": round(keras_s, 3),
                           "import kerastools adds (s)": round(added, 3),
                           "ratio": round((keras_s + added) / keras_s, 3),
                           "modules kerastools adds": new}
        print(f"{backend:10s} import keras {keras_s:6.2f} s; kerastools adds {added:5.3f} s "
              f"(goal <= 0.2 s); other top-level modules it adds: {new or 'none'}")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
