"""The import graph: light `import kerastools`, no cycle between subpackages.

Each check runs in a fresh interpreter, so that what an import pulls in is seen alone.
"""

import ast
import json
import os
import subprocess
import sys

import keras
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "kerastools")
SUBPACKAGES = sorted(
    name for name in os.listdir(PACKAGE)
    if os.path.isfile(os.path.join(PACKAGE, name, "__init__.py"))
)


_NEW_TOP_LEVEL = """
import json, sys
import keras
before = set(sys.modules)
import {module}
new = sorted({{m.split('.')[0] for m in set(sys.modules) - before}})
print(json.dumps(new))
"""

_LAZY = """
import json, sys, kerastools
early = 'kerastools.plotting' in sys.modules or 'kerastools.tuning' in sys.modules
kerastools.plotting.plot_schedule, kerastools.tuning.choose_optimizer
print(json.dumps([early, 'kerastools.plotting' in sys.modules, 'keras_tuner' in sys.modules]))
"""

LIGHT = [s for s in SUBPACKAGES if s not in ("plotting", "tuning")]
HEAVY = {"keras_tuner", "matplotlib", "scipy", "sklearn", "IPython", "tensorboard"}


@pytest.fixture(scope="module")
def fresh():
    """Each script in its own fresh interpreter (same backend), all started at once."""
    scripts = {"kerastools": _NEW_TOP_LEVEL.format(module="kerastools"), "lazy": _LAZY}
    if keras.backend.backend() != "tensorflow":
        scripts.update({s: _NEW_TOP_LEVEL.format(module=f"kerastools.{s}") for s in LIGHT})
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               KERAS_BACKEND=keras.backend.backend())
    procs = {key: subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
             for key, code in scripts.items()}
    results = {}
    for key, proc in procs.items():
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"{key}: {err[-3000:]}"
        results[key] = json.loads(out.strip().splitlines()[-1])
    return results


def test_import_kerastools_is_light(fresh):
    new = set(fresh["kerastools"])
    heavy = HEAVY | ({"tensorflow"} if keras.backend.backend() != "tensorflow" else set())
    assert not new & heavy, f"import kerastools pulled in {sorted(new & heavy)}"


@pytest.mark.skipif(keras.backend.backend() == "tensorflow",
                    reason="checked in the JAX and PyTorch runs (make test-jax, make test-torch), "
                           "where a fresh interpreter imports keras several times faster; what a "
                           "subpackage imports does not depend on the backend")
@pytest.mark.parametrize("subpackage", LIGHT)
def test_each_light_subpackage_alone(fresh, subpackage):
    new = set(fresh[subpackage])
    heavy = HEAVY | ({"tensorflow"} if keras.backend.backend() != "tensorflow" else set())
    assert not new & heavy, f"kerastools.{subpackage} pulled in {sorted(new & heavy)}"


def test_heavy_subpackages_load_on_first_use(fresh):
    early, plotting_loaded, tuner_loaded = fresh["lazy"]
    assert not early and plotting_loaded and tuner_loaded


def _imports_of(path):
    """Every kerastools module an import statement in ``path`` names, at any depth
    (a lazy import inside a function counts: it can hide a cycle just as well)."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("kerastools"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kerastools"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _subpackage_graph():
    graph = {name: set() for name in SUBPACKAGES}
    for name in SUBPACKAGES:
        for dirpath, _, files in os.walk(os.path.join(PACKAGE, name)):
            for file in files:
                if not file.endswith(".py"):
                    continue
                for module in _imports_of(os.path.join(dirpath, file)):
                    parts = module.split(".")
                    if len(parts) > 1 and parts[1] in graph and parts[1] != name:
                        graph[name].add(parts[1])
    return graph


def test_no_import_cycle_between_subpackages():
    graph = _subpackage_graph()
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycle = path[path.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in SUBPACKAGES:
        if node not in state:
            visit(node, [node])
    # The layering the README describes: the filter core imports no other subpackage,
    # and nothing below the callbacks imports them.
    assert graph["filters"] == set()
    assert not any("callbacks" in deps for name, deps in graph.items() if name != "callbacks")


def test_no_private_name_imported_across_modules():
    shared_private_modules = {"_checks", "_base", "_io"}   # the shared private helpers
    offenders = []
    for dirpath, _, files in os.walk(PACKAGE):
        for file in files:
            if file.endswith(".py"):
                path = os.path.join(dirpath, file)
                tree = ast.parse(open(path, encoding="utf-8").read())
                for node in ast.walk(tree):
                    if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kerastools"):
                        for alias in node.names:
                            private = alias.name.startswith("_")
                            if private and alias.name not in shared_private_modules:
                                offenders.append(f"{os.path.relpath(path, ROOT)}: {alias.name}")
    assert not offenders, offenders
