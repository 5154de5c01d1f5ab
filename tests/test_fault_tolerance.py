"""A training process SIGKILLed mid-run and restarted with Keras' BackupAndRestore
ends bit-identical to an uninterrupted run: weights, FilterOptimizer filter states,
iteration count and the cyclical schedule's position (no restarted cycle)."""

import os
import pathlib
import signal
import subprocess
import sys

import numpy as np

SCRIPT = str(pathlib.Path(__file__).parent / "scripts" / "resumable_train.py")


def _run(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=300)


def test_sigkill_then_backup_and_restore_is_bit_identical(tmp_path):
    straight = _run(tmp_path / "backup_a", tmp_path / "a.npz")
    assert straight.returncode == 0, straight.stderr[-2000:]

    killed = _run(tmp_path / "backup_b", tmp_path / "b.npz", "--kill-after-epoch", 3)
    assert killed.returncode == -signal.SIGKILL
    assert not (tmp_path / "b.npz").exists()
    resumed = _run(tmp_path / "backup_b", tmp_path / "b.npz")
    assert resumed.returncode == 0, resumed.stderr[-2000:]

    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert int(a["epochs_run"]) == 5 and int(b["epochs_run"]) == 2  # resumed at epoch 4
    assert int(a["iterations"]) == int(b["iterations"]) == 50
    for key in a.files:
        if key.startswith(("w", "opt")) or key in ("final_lr",):
            assert np.array_equal(a[key], b[key]), key
    # The schedule continues where it was: the resumed epochs log the same LRs.
    np.testing.assert_array_equal(b["lr_log"], a["lr_log"][3:])
