"""What every example shares: arguments, the output folder, JSON results."""

import argparse
import datetime
import json
import os


def parser(description, epochs):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=int, default=epochs, help=f"training epochs (default {epochs})")
    p.add_argument("--out", default="runs", help="output folder; a timestamped run folder is made in it")
    p.add_argument("--quick", action="store_true",
                   help="a class-balanced data subset and 1-2 epochs (CI)")
    p.add_argument("--data-dir", default=None, help="Fashion-MNIST folder (default: search)")
    return p


def run_dir(out, name):
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = os.path.join(out, f"{stamp}-{name}")
    os.makedirs(path, exist_ok=True)
    return path


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, default=float)
    os.replace(tmp, path)
    return path
