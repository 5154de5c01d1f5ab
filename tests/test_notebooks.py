"""Every notebook executes top to bottom in quick mode (KERASTOOLS_QUICK=1)."""

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((pathlib.Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_quick_mode(path, tmp_path, monkeypatch, fashion_dir):
    monkeypatch.setenv("KERASTOOLS_QUICK", "1")
    monkeypatch.setenv("KERASTOOLS_DATA_DIR", fashion_dir)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure shown inline"


def test_notebooks_exist():
    assert len(NOTEBOOKS) >= 5
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert any(c.cell_type == "markdown" for c in nb.cells)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "kerastools" in code and "KERASTOOLS_QUICK" in code
