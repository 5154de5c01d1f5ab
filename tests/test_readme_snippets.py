"""The README's monitor snippets run verbatim.

Each snippet sits between ``<!-- snippet: NAME -->`` and ``<!-- /snippet -->`` in
README.md, as one fenced ``python`` block; the snippets of a group run in order in one
namespace, in a fresh directory, on the real Fashion-MNIST files.
"""

import os
import re

import keras
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.environ.get("KERASTOOLS_README", os.path.join(ROOT, "README.md"))
SNIPPET = re.compile(
    r"<!-- snippet: (?P<name>[\w-]+) -->\s*```python\n(?P<code>.*?)```\s*<!-- /snippet -->",
    re.DOTALL)


def snippets(path=README):
    """``{name: code}`` of the marked snippets of ``path``, in file order."""
    with open(path, encoding="utf-8") as f:
        return {m["name"]: m["code"] for m in SNIPPET.finditer(f.read())}


def test_snippet_extraction_finds_marked_blocks_only(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("```python\nnot = 1\n```\n<!-- snippet: a-b -->\n```python\nx = 1\n```\n"
                   "<!-- /snippet -->\ntext\n<!-- snippet: c -->\n```python\ny = 2\n```\n"
                   "<!-- /snippet -->\n")
    assert snippets(str(doc)) == {"a-b": "x = 1\n", "c": "y = 2\n"}


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="the README's TensorBoard snippet; the monitors themselves run on "
                           "every backend in their own test files")
def test_readme_monitor_snippets_run_verbatim(tmp_path, monkeypatch, fashion_dir, capsys):
    found = snippets()
    names = ["monitors", "monitors-csv-tensorboard"]
    missing = [n for n in names if n not in found]
    assert not missing, f"README.md lacks the snippets {missing} (markers <!-- snippet: NAME -->)"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KERASTOOLS_DATA_DIR", fashion_dir)
    namespace = {"__name__": "__readme__"}
    for name in names:
        exec(compile(found[name], f"README.md:{name}", "exec"), namespace)  # noqa: S102
    out = capsys.readouterr().out
    # What the snippets promise: an untouched model before the fit, a short progress line,
    # a rectangular History, every key in the CSV, the figures.
    assert "valley" in out and "weight_norm" not in out
    history = namespace["history"].history
    assert len({len(v) for k, v in history.items() if not k.startswith("val_")}) == 1
    assert namespace["tracker"].epochs == [0, 1, 2, 3, 4]
    for figure in ("curves", "weight_norms", "activations", "gradients", "history"):
        assert (tmp_path / "runs" / f"{figure}.png").read_bytes()[:4] == b"\x89PNG"
    header = (tmp_path / "runs" / "all.csv").read_text().splitlines()[0].split(",")
    assert "weight_norm/hidden/kernel" in header and "activation_std/output" in header
    assert np.isfinite(history["loss"]).all()
