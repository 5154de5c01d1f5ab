"""Package hygiene: no private Keras imports, layout as documented."""

import ast
import pathlib

import kerastools

ROOT = pathlib.Path(kerastools.__file__).parent
SUBPACKAGES = ("filters", "optimizers", "schedules", "callbacks", "layers",
               "initializers", "datasets", "plotting", "tuning", "diagnostics", "monitoring")


def _private_keras_imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    hits = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        hits += [n for n in names if n == "keras.src" or n.startswith("keras.src.")
                 or n.startswith("tensorflow.python") or ".keras.src" in n]
    return hits


def test_no_private_keras_imports():
    offenders = {}
    for base in (ROOT, ROOT.parent / "examples", ROOT.parent / "benchmarks"):
        for path in base.rglob("*.py"):
            hits = _private_keras_imports(path)
            if hits:
                offenders[str(path)] = hits
    assert not offenders, f"private Keras/TF imports: {offenders}"


def test_private_import_scan_detects_one(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from keras.src.optimizers import adam\nimport keras.src.ops\n")
    assert _private_keras_imports(bad) == ["keras.src.optimizers", "keras.src.ops"]


def test_layout():
    for name in SUBPACKAGES:
        assert (ROOT / name / "__init__.py").is_file(), name
        assert hasattr(kerastools, name)
    assert kerastools.__version__
