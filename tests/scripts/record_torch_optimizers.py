"""Records PyTorch's optimizer trajectories for tests/test_optimizers_torch_reference.json.

Run from the repository root with torch installed (the committed file was
recorded with the versions written in its ``meta``)::

    python tests/scripts/record_torch_optimizers.py            # rewrites the JSON
    python tests/scripts/record_torch_optimizers.py --check    # compares, writes nothing

The problem (``problem``) is a least-squares fit of a linear model with four
variables of different shapes, ``(6, 2, 2)``, ``(2, 2)``, ``(6, 4)`` and
``(4,)``: ``yhat = einsum("nb,bcd->ncd", x, K) + c + reshape(x @ W + b)``,
loss ``mean((yhat - y)**2)``, batches of 16 taken in order, 200 steps. The
Keras side builds the same model (``EinsumDense`` + ``Dense``), sets the same
initial weights and trains it with ``model.fit(..., shuffle=False)``; its final
weights must match the recorded ones (``tests/test_optimizers_papers.py``).

The problem is defined here with NumPy only, so that the tests import it
without torch (``problem``, ``numpy_gradients``, ``CASES``); torch is imported
only to record.
"""

import argparse
import json
import pathlib
import platform
import sys

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "test_optimizers_torch_reference.json"
STEPS = 200
BATCH = 16
N_IN = 6
NAMES = ("einsum_kernel", "einsum_bias", "dense_kernel", "dense_bias")

# name -> (description, torch.optim class name, keyword arguments)
CASES = {
    "radam": ("RAdam(lr=0.01, betas=(0.9, 0.999), eps=1e-7): rectified from step 6 (rho_6 = 5.994)",
              "RAdam", {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-7}),
    "radam_wd": ("RAdam(lr=0.015625, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.0078125, "
                 "decoupled_weight_decay=True)",
                 "RAdam", {"lr": 0.015625, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.0078125,
                           "decoupled_weight_decay": True}),
    "radam_never_rectified": ("RAdam(lr=0.003, betas=(0.9, 0.6)): rho_inf = 4 < 5, never rectified",
                              "RAdam", {"lr": 0.003, "betas": (0.9, 0.6), "eps": 1e-7}),
}


def problem(dtype="float64"):
    """``(x, y, initial weights)`` of the least-squares problem, in ``dtype``."""
    rng = np.random.default_rng(20190815)
    n = STEPS * BATCH
    x = rng.normal(size=(n, N_IN))
    a = rng.normal(size=(N_IN, 4)) / np.sqrt(N_IN)
    y = (np.tanh(x @ a) + 0.1 * rng.normal(size=(n, 4))).reshape(n, 2, 2)
    weights = [0.3 * rng.normal(size=s) for s in ((N_IN, 2, 2), (2, 2), (N_IN, 4), (4,))]
    return x.astype(dtype), y.astype(dtype), [w.astype(dtype) for w in weights]


def checksum():
    """A fingerprint of the problem (detects a change of NumPy's random streams)."""
    x, y, weights = problem()
    return float(np.sum(x) + 2 * np.sum(y) + sum(3 * np.sum(w) for w in weights))


def numpy_gradients(weights, x, y):
    """Gradients of ``mean((yhat - y)**2)`` with respect to the four weights."""
    k, c, w, b = weights
    n = x.shape[0]
    yhat = np.einsum("nb,bcd->ncd", x, k) + c + (x @ w + b).reshape(n, 2, 2)
    r = (yhat - y) * (2.0 / (n * 4))
    r2 = r.reshape(n, 4)
    return [np.einsum("nb,ncd->bcd", x, r), r.sum(axis=0), x.T @ r2, r2.sum(axis=0)]


def numpy_train(update, dtype, steps=STEPS):
    """Runs ``update(weights, grads, t) -> weights`` (``t`` from 1) on the problem in ``dtype``."""
    x, y, weights = problem(dtype)
    for t in range(1, steps + 1):
        xb, yb = x[(t - 1) * BATCH:t * BATCH], y[(t - 1) * BATCH:t * BATCH]
        weights = update(weights, numpy_gradients(weights, xb, yb), t)
    return weights


def record(optimizer, kwargs, dtype="float64"):
    import torch

    torch_dtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
    x, y, weights = problem(dtype)
    params = [torch.nn.Parameter(torch.tensor(w, dtype=torch_dtype)) for w in weights]
    opt = getattr(torch.optim, optimizer)(params, foreach=False, **kwargs)
    xt, yt = torch.tensor(x, dtype=torch_dtype), torch.tensor(y, dtype=torch_dtype)
    for t in range(STEPS):
        xb, yb = xt[t * BATCH:(t + 1) * BATCH], yt[t * BATCH:(t + 1) * BATCH]
        k, c, w, b = params
        yhat = torch.einsum("nb,bcd->ncd", xb, k) + c + (xb @ w + b).reshape(-1, 2, 2)
        loss = torch.mean((yhat - yb) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {name: p.detach().numpy().astype("float64").ravel().tolist()
            for name, p in zip(NAMES, params)}


def build():
    import torch

    meta = {
        "generated_by": "tests/scripts/record_torch_optimizers.py: final weights after 200 steps of "
                        "the least-squares problem (batches of 16 in order), torch.optim with "
                        "foreach=False, in float64 (the reference for float32 and float64 runs)",
        "versions": {"torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "problem_checksum": checksum(),
        "cases": {name: case[0] for name, case in CASES.items()},
        "kwargs": {name: case[2] for name, case in CASES.items()},
    }
    data = {name: record(opt, kwargs, "float64") for name, (_, opt, kwargs) in CASES.items()}
    return {"meta": meta, "data": data}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed file (exact equality); write nothing")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    new = json.loads(json.dumps(build()))
    if args.check:
        old = json.loads(pathlib.Path(args.out).read_text())
        bad = [name for name in old["data"] if old["data"][name] != new["data"].get(name)]
        missing = sorted(set(new["data"]) - set(old["data"]))
        if old["meta"]["problem_checksum"] != new["meta"]["problem_checksum"]:
            print("the problem changed (NumPy random streams?)")
            bad.append("problem")
        for name in bad:
            print(f"{name}: differs")
        if missing:
            print(f"not in the committed file: {missing}")
        print("identical" if not bad and not missing else "DIFFERENT")
        return 1 if bad or missing else 0
    pathlib.Path(args.out).write_text(json.dumps(new, indent=0) + "\n")
    print(f"wrote {args.out} ({len(new['data'])} cases, torch {new['meta']['versions']['torch']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
