"""The notebooks: the same code as the example scripts, and they execute in quick mode.

Each notebook is generated from its script (tests/scripts/sync_notebooks.py, `make
notebooks`): ``test_notebooks_in_sync_with_scripts`` fails when a pair differs, so a
notebook cannot drift from its script. Executed in a Jupyter kernel in quick mode
(``KERASTOOLS_QUICK=1``, the defaults of the script's options), a notebook shows its
figures inline and writes the same ``results.json`` as its script, checked with the
script's floors (tests/test_examples.py). As the code is the script's, which
test_examples.py runs in `make test`, only the first notebook executes there; every
notebook executes in the slow tests.
"""

import json
import pathlib
import runpy

import nbformat
import pytest
from nbclient import NotebookClient
from test_examples import check_results

ROOT = pathlib.Path(__file__).parent.parent
SYNC = runpy.run_path(str(ROOT / "tests" / "scripts" / "sync_notebooks.py"))
PAIRS = SYNC["PAIRS"]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
FAST = "01_baseline"  # executed in `make test`; the others are marked slow


def test_notebooks_in_sync_with_scripts():
    problems = SYNC["problems"]()
    assert not problems, "\n".join(problems)


def test_every_notebook_is_paired():
    assert {p.stem for p in NOTEBOOKS} == set(PAIRS.values())


def test_sync_check_sees_a_drifted_notebook(tmp_path):
    """A notebook edited apart from its script is reported (the check can fail)."""
    name = "09_nielsen_function.ipynb"
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    pairs = {"nielsen_function": "09_nielsen_function"}
    nbformat.write(nb, tmp_path / name)
    assert SYNC["problems"](pairs, notebooks=tmp_path) == []
    nb.cells[1].source = nb.cells[1].source.replace("epochs=300", "epochs=30")
    nbformat.write(nb, tmp_path / name)
    found = SYNC["problems"](pairs, notebooks=tmp_path)
    assert len(found) == 1, found
    assert f"{name} differs from examples/nielsen_function.py from cell 2" in found[0], found
    nb.metadata["jupytext"]["formats"] = "ipynb,py:percent"
    nb.cells[1].source = nbformat.read(ROOT / "notebooks" / name, as_version=4).cells[1].source
    nbformat.write(nb, tmp_path / name)
    found = SYNC["problems"](pairs, notebooks=tmp_path)
    assert len(found) == 1 and "jupytext formats" in found[0], found


def test_regenerated_notebooks_are_the_committed_ones():
    """Cell ids come from the cells' text: `make notebooks` leaves unchanged notebooks alone."""
    for script, notebook in PAIRS.items():
        nb = SYNC["expected_notebook"](script, notebook)
        ids = [c.id for c in nb.cells]
        assert len(set(ids)) == len(ids), notebook
        path = ROOT / "notebooks" / f"{notebook}.ipynb"
        assert json.loads(nbformat.writes(nb)) == json.loads(path.read_text(encoding="utf-8")), (
            f"{path.name} is not as `make notebooks` writes it (outputs, ids, metadata)")


def run_notebook(path, cwd):
    """Executes ``path`` in a kernel whose working folder is ``cwd``; the executed notebook."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


def _params():
    for script, notebook in sorted(PAIRS.items(), key=lambda kv: kv[1]):
        marks = () if notebook == FAST else (pytest.mark.slow,)
        yield pytest.param(script, notebook, id=notebook, marks=marks)


@pytest.mark.parametrize(("script", "notebook"), _params())
def test_notebook_runs_in_quick_mode(script, notebook, tmp_path, monkeypatch, fashion_dir):
    monkeypatch.setenv("KERASTOOLS_QUICK", "1")
    monkeypatch.setenv("KERASTOOLS_DATA_DIR", fashion_dir)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = run_notebook(ROOT / "notebooks" / f"{notebook}.ipynb", tmp_path)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, errors[0].get("evalue")
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure shown inline"
    # The notebook wrote what its script writes, under runs/ of its working folder.
    check_results(script, tmp_path / "runs")
