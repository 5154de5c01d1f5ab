"""Every example runs end to end in quick mode (a data subset, 1-2 epochs)."""

import json
import pathlib
import runpy
import sys

import pytest

EXAMPLES = sorted(
    p for p in (pathlib.Path(__file__).parent.parent / "examples").glob("*.py")
    if not p.name.startswith("_")
)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_quick(path, tmp_path, monkeypatch, fashion_dir):
    argv = [str(path), "--quick", "--out", str(tmp_path), "--data-dir", fashion_dir]
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(path), run_name="__main__")
    results = list(tmp_path.glob("*/results.json"))
    assert results, f"{path.name} wrote no results.json"
    json.loads(results[0].read_text())
    assert list(tmp_path.glob("*/*.png")), f"{path.name} wrote no figure"
