"""The notebooks are generated from the example scripts: one source per experiment.

Each ``examples/<topic>.py`` is a script in jupytext's percent format (``# %%`` code
cells, ``# %% [markdown]`` text cells); its notebook ``notebooks/<NN>_<topic>.ipynb``
holds the same cells. The notebook's metadata pairs the two for jupytext
(``formats: notebooks/<NN>_/ipynb,examples//py:percent``), so that a notebook edited
in Jupyter with jupytext installed saves the script as well.

    python tests/scripts/sync_notebooks.py           # check: exit 1 if a pair differs
    python tests/scripts/sync_notebooks.py --write   # regenerate the notebooks from the scripts

(`make notebooks` and `make check-sync`; tests/test_notebooks.py runs the check.)
"""

import argparse
import hashlib
import pathlib
import sys

import jupytext
import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NOTEBOOKS = ROOT / "notebooks"

# script stem -> notebook stem: the notebook's name is a number, then the script's name.
PAIRS = {
    "baseline": "01_baseline",
    "regularization": "02_regularization",
    "early_stopping": "03_early_stopping",
    "optimizers_as_filters": "04_optimizers_as_filters",
    "lr_schedules": "05_lr_schedules",
    "initializers": "06_initializers",
    "batch_norm": "07_batch_norm",
    "cnn": "08_cnn",
    "nielsen_function": "09_nielsen_function",
    "tuning": "10_babysitting_and_tuning",
    "monitors": "11_monitors",
}
UNPAIRED = set()  # scripts without a notebook (none)
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def formats(script, notebook):
    """jupytext's pairing of ``notebooks/<notebook>.ipynb`` with ``examples/<script>.py``."""
    prefix = notebook[: -len(script)] if notebook.endswith(script) else None
    if not prefix:
        raise ValueError(f"The notebook {notebook!r} must be named <prefix><script> (script {script!r}).")
    return f"notebooks/{prefix}/ipynb,examples//py:percent"


def cells(nb):
    """(cell type, source) of every cell, trailing blank lines ignored."""
    return [(c.cell_type, c.source.rstrip()) for c in nb.cells]


def expected_notebook(script, notebook, examples=EXAMPLES):
    """The notebook the script stands for: its cells, no outputs, the pairing metadata."""
    nb = jupytext.read(examples / f"{script}.py", fmt="py:percent")
    out = nbformat.v4.new_notebook()
    seen = set()
    for c in nb.cells:
        source = c.source.rstrip()
        cell = (nbformat.v4.new_markdown_cell(source) if c.cell_type == "markdown"
                else nbformat.v4.new_code_cell(source))
        cell.id = cell_id(c.cell_type, source, seen)
        out.cells.append(cell)
    out.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "jupytext": {
            "formats": formats(script, notebook),
            "notebook_metadata_filter": "-all",
            "cell_metadata_filter": "-all",
        },
    }
    return out


def cell_id(cell_type, source, seen):
    """A cell id from the cell's text, so that `make notebooks` rewrites an unchanged cell
    byte for byte (nbformat's are random); ``seen`` keeps the ids of one notebook unique."""
    digest = hashlib.sha1(f"{cell_type}\n{source}".encode()).hexdigest()
    n = 8
    while digest[:n] in seen:
        n += 1
    seen.add(digest[:n])
    return digest[:n]


def problems(pairs=None, examples=EXAMPLES, notebooks=NOTEBOOKS):
    """What is out of sync, one line each (empty when every pair agrees).

    ``pairs`` (default ``PAIRS``, and then every script must be paired or UNPAIRED),
    ``examples`` and ``notebooks`` are for the tests.
    """
    found = []
    if pairs is None:
        pairs = PAIRS
        scripts = {p.stem for p in examples.glob("*.py") if not p.name.startswith("_")}
        for stem in sorted(scripts - set(PAIRS) - UNPAIRED):
            found.append(f"examples/{stem}.py has no notebook: add it to PAIRS in {__file__}")
    for script, notebook in pairs.items():
        path = notebooks / f"{notebook}.ipynb"
        if not (examples / f"{script}.py").exists():
            found.append(f"examples/{script}.py is missing (paired with {path.name})")
            continue
        if not path.exists():
            found.append(f"{path.name} is missing: run `make notebooks`")
            continue
        want = expected_notebook(script, notebook, examples)
        have = nbformat.read(path, as_version=4)
        if have.metadata.get("jupytext", {}).get("formats") != want.metadata["jupytext"]["formats"]:
            found.append(f"{path.name}: jupytext formats metadata is not "
                         f"{want.metadata['jupytext']['formats']!r}")
        a, b = cells(want), cells(have)
        if a != b:
            first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            found.append(f"{path.name} differs from examples/{script}.py from cell {first + 1} "
                         f"on ({len(b)} cells against {len(a)}): edit the script and run `make notebooks`")
    return found


def write():
    for script, notebook in PAIRS.items():
        path = NOTEBOOKS / f"{notebook}.ipynb"
        nb = expected_notebook(script, notebook)
        nbformat.validate(nb)
        text = nbformat.writes(nb) + "\n"
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)} from examples/{script}.py")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--write", action="store_true", help="regenerate the notebooks from the scripts")
    args = p.parse_args(argv)
    if args.write:
        write()
        return 0
    found = problems()
    for line in found:
        print(line)
    if not found:
        print(f"{len(PAIRS)} notebooks in sync with their scripts")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
