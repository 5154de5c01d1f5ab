"""Records PyTorch's learning rates (and momenta) for tests/test_schedules_torch_reference.json.

Run from the repository root with torch installed (the committed file was
recorded with the versions written in its ``meta``)::

    python tests/scripts/record_torch_schedules.py            # rewrites the JSON
    python tests/scripts/record_torch_schedules.py --check    # compares, writes nothing

For every case, a one-parameter ``torch.optim.SGD(momentum=0.9)`` is driven by
the scheduler; before each ``optimizer.step()`` the group's ``lr`` and
``momentum`` are read (the values that step uses), then ``scheduler.step()`` is
called, as a PyTorch training loop does after every batch. The kerastools
schedule evaluated at step ``t`` (the optimizer's ``iterations`` before the
update) must equal entry ``t``.

``CASES`` is the single source of the recipes; ``tests/test_schedules.py`` and
``tests/test_schedules_pytorch_port.py`` build the same recipes with kerastools.
"""

import argparse
import json
import pathlib
import platform
import sys

import numpy as np
import torch
from torch.optim import lr_scheduler as L

OUT = pathlib.Path(__file__).resolve().parent.parent / "test_schedules_torch_reference.json"


def _scale_reciprocal(x):
    """A custom scale function (kerastools: passed as a callable to from_pytorch)."""
    return 1.0 / (1.0 + 0.05 * x)


# name -> (description, steps, optimizer lr, scheduler factory(optimizer))
CASES = {
    "clr_tri": ("CyclicLR(base_lr=0.001, max_lr=0.01, step_size_up=7, mode=triangular), SGD momentum 0.9 "
                "(cycle_momentum 0.8-0.9)", 60, 0.001,
                lambda o: L.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=7, mode="triangular")),
    "clr_tri2": ("CyclicLR(0.001, 0.01, step_size_up=7, mode=triangular2)", 60, 0.001,
                 lambda o: L.CyclicLR(o, 0.001, 0.01, step_size_up=7, mode="triangular2")),
    "clr_exp": ("CyclicLR(0.001, 0.01, step_size_up=7, mode=exp_range, gamma=0.97)", 60, 0.001,
                lambda o: L.CyclicLR(o, 0.001, 0.01, step_size_up=7, mode="exp_range", gamma=0.97)),
    "clr_asym": ("CyclicLR(0.001, 0.01, step_size_up=3, step_size_down=8, mode=triangular2)", 60, 0.001,
                 lambda o: L.CyclicLR(o, 0.001, 0.01, step_size_up=3, step_size_down=8,
                                      mode="triangular2")),
    "oc": ("OneCycleLR(max_lr=0.1, total_steps=50)", 50, 0.1,
           lambda o: L.OneCycleLR(o, max_lr=0.1, total_steps=50)),
    "oc_lin3": ("OneCycleLR(0.1, total_steps=47, pct_start=0.25, anneal_strategy=linear, three_phase=True)",
                47, 0.1,
                lambda o: L.OneCycleLR(o, 0.1, total_steps=47, pct_start=0.25, anneal_strategy="linear",
                                       three_phase=True)),
    "oc_odd": ("OneCycleLR(0.3, total_steps=13, pct_start=0.37, div_factor=10, final_div_factor=100)",
               13, 0.3,
               lambda o: L.OneCycleLR(o, 0.3, total_steps=13, pct_start=0.37, div_factor=10,
                                      final_div_factor=100)),
    "sgdr1": ("CosineAnnealingWarmRestarts(lr 0.1, T_0=7)", 40, 0.1,
              lambda o: L.CosineAnnealingWarmRestarts(o, T_0=7)),
    "sgdr2": ("CosineAnnealingWarmRestarts(lr 0.1, T_0=5, T_mult=2)", 80, 0.1,
              lambda o: L.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2)),
    "sgdr3": ("CosineAnnealingWarmRestarts(lr 0.1, T_0=3, T_mult=3)", 130, 0.1,
              lambda o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=3)),
    # Recipes for the from_pytorch constructors (PyTorch's argument names and defaults).
    "pt_clr_exp_asym": ("CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=5, step_size_down=3, "
                        "mode='exp_range', gamma=0.95, base_momentum=0.85, max_momentum=0.95)", 50, 0.01,
                        lambda o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5, step_size_down=3,
                                             mode="exp_range", gamma=0.95, base_momentum=0.85,
                                             max_momentum=0.95)),
    "pt_clr_scale_fn": ("CyclicLR(base_lr=0.001, max_lr=0.01, step_size_up=4, "
                        "scale_fn=lambda x: 1 / (1 + 0.05 * x), scale_mode='iterations')", 40, 0.001,
                        lambda o: L.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=4,
                                             scale_fn=_scale_reciprocal, scale_mode="iterations")),
    "pt_clr_defaults": ("CyclicLR(base_lr=0.001, max_lr=0.006) (step_size_up=2000), 4005 steps", 4005, 0.001,
                        lambda o: L.CyclicLR(o, base_lr=0.001, max_lr=0.006)),
    "pt_oc_epochs": ("OneCycleLR(max_lr=0.05, epochs=4, steps_per_epoch=7, pct_start=0.25, div_factor=10.0, "
                     "final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9)", 28, 0.05,
                     lambda o: L.OneCycleLR(o, max_lr=0.05, epochs=4, steps_per_epoch=7, pct_start=0.25,
                                            div_factor=10.0, final_div_factor=100.0, base_momentum=0.8,
                                            max_momentum=0.9)),
    "pt_oc_three_nomom": ("OneCycleLR(max_lr=0.2, total_steps=30, three_phase=True, cycle_momentum=False)",
                          30, 0.2,
                          lambda o: L.OneCycleLR(o, max_lr=0.2, total_steps=30, three_phase=True,
                                                 cycle_momentum=False)),
    "pt_sgdr_eta_min": ("CosineAnnealingWarmRestarts(lr 0.1, T_0=4, T_mult=2, eta_min=0.01)", 70, 0.1,
                        lambda o: L.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2, eta_min=0.01)),
}


def record(steps, lr, make):
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([param], lr=lr, momentum=0.9)
    scheduler = make(optimizer)
    lrs, moms = [], []
    for _ in range(steps):
        group = optimizer.param_groups[0]
        lrs.append(float(group["lr"]))
        moms.append(float(group["momentum"]))
        param.grad = torch.ones_like(param)
        optimizer.step()
        scheduler.step()
    return {"lr": lrs, "momentum": moms}


def build():
    meta = {
        "generated_by": "tests/scripts/record_torch_schedules.py; lr and momentum read before each "
                        "optimizer step (torch.optim.SGD momentum=0.9, scheduler.step() after each)",
        "versions": {"torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "cases": {name: case[0] for name, case in CASES.items()},
    }
    data = {name: record(steps, lr, make) for name, (_, steps, lr, make) in CASES.items()}
    return {"meta": meta, "data": data}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed file (exact float64 equality); write nothing")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    new = build()
    if args.check:
        old = json.loads(pathlib.Path(args.out).read_text())["data"]
        bad = [name for name in old if name in new["data"] and old[name] != new["data"][name]]
        missing = sorted(set(new["data"]) - set(old))
        for name in bad:
            diff = max(abs(a - b) for a, b in zip(old[name]["lr"], new["data"][name]["lr"]))
            print(f"{name}: differs (max |lr difference| {diff:.3g})")
        if missing:
            print(f"not in the committed file: {missing}")
        print("identical" if not bad and not missing else "DIFFERENT")
        return 1 if bad or missing else 0
    pathlib.Path(args.out).write_text(json.dumps(new, indent=0) + "\n")
    print(f"wrote {args.out} ({len(new['data'])} cases, torch {torch.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
