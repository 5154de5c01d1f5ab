"""Data safety: a training process SIGKILLed (with its whole process group, the
learning-curve renderer included) while kerastools writes its figures never
leaves a half-written figure at the target path. The loader's side (a corrupt
download is deleted, never cached) is tested in ``test_datasets.py``."""

import os
import pathlib
import random
import signal
import subprocess
import sys
import time

import matplotlib.image
import pytest

SCRIPT = str(pathlib.Path(__file__).parent / "scripts" / "write_figures_forever.py")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"IEND\xaeB`\x82"


def _complete_png(path):
    data = pathlib.Path(path).read_bytes()
    assert data.startswith(PNG_SIGNATURE), f"{path}: not a PNG"
    assert data.endswith(PNG_END), f"{path}: truncated ({len(data)} bytes)"
    assert matplotlib.image.imread(path).ndim == 3  # decodes whole


@pytest.mark.slow
def test_sigkill_while_writing_figures_leaves_whole_files(tmp_path):
    rng = random.Random(0)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg")
    kills = []
    for round_ in range(4):
        proc = subprocess.Popen([sys.executable, SCRIPT, str(tmp_path)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                start_new_session=True, text=True)
        target = 3 + round_  # epochs seen before the kill; then a random moment
        deadline = time.monotonic() + 240
        for line in proc.stdout:
            if line.strip() == f"epoch {target}" or time.monotonic() > deadline:
                break
        time.sleep(rng.uniform(0.0, 0.3))  # lands inside a write some of the time
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL
        kills.append(target)
        for name in ("curves.png", "weight_norms.png"):
            _complete_png(tmp_path / name)
    # Temporary files a kill interrupted are named .tmp-*, never the figure's name.
    others = {p.name for p in tmp_path.iterdir()} - {"curves.png", "weight_norms.png"}
    assert all(name.startswith(".tmp-") for name in others), others
    assert len(kills) == 4


def test_write_interrupted_midway_keeps_the_previous_figure(tmp_path):
    """Deterministic counterpart of the SIGKILL test: a write that stops halfway
    (here a KeyboardInterrupt after half the bytes) leaves the previous figure
    whole at the path and removes its temporary file."""
    from matplotlib.figure import Figure

    from kerastools.plotting import save_figure

    path = tmp_path / "curves.png"
    fig = Figure()
    fig.add_subplot().plot([0, 1], [1, 0])
    save_figure(fig, path)
    before = path.read_bytes()

    def half_then_interrupt(f, **kwargs):
        f.write(before[: len(before) // 2])
        raise KeyboardInterrupt

    fig.savefig = half_then_interrupt
    with pytest.raises(KeyboardInterrupt):
        save_figure(fig, path)
    assert path.read_bytes() == before
    _complete_png(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png"]
