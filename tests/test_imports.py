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

# The subpackage imported alone: a stand-in parent package, so that kerastools/__init__.py
# (which imports every light subpackage) does not run first and hide what this one pulls in.
_ALONE = """
import json, sys, types
import keras
package = types.ModuleType("kerastools")
package.__path__ = [{package!r}]
sys.modules["kerastools"] = package
before = set(sys.modules)
import kerastools.{module}
new = set(sys.modules) - before
subpackages = sorted({{m.split('.')[1] for m in new if m.startswith('kerastools.')
                       and not m.split('.')[1].startswith('_')}} - {{{module!r}}})
print(json.dumps([sorted({{m.split('.')[0] for m in new}}), subpackages]))
"""

# The layering (README, Layout): a subpackage imports only subpackages on a lower floor.
# `diagnostics` is the former name of `monitoring`, an alias module beside it.
FLOORS = {"filters": 1, "schedules": 1, "monitoring": 1, "datasets": 1, "initializers": 1,
          "optimizers": 2, "layers": 2, "plotting": 3, "tuning": 3, "callbacks": 4}
ALIASES = {"diagnostics": {"monitoring"}}

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
        scripts.update({s: _ALONE.format(package=PACKAGE, module=s) for s in SUBPACKAGES})
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
@pytest.mark.parametrize("subpackage", SUBPACKAGES)
def test_each_subpackage_alone_pulls_in_only_lower_floors(fresh, subpackage):
    """Imported alone in a fresh interpreter (kerastools/__init__.py not run), a subpackage
    pulls in no heavy dependency unless it is plotting or tuning, and only subpackages on a
    lower floor of the layering."""
    modules, subpackages = fresh[subpackage]
    heavy = HEAVY | ({"tensorflow"} if keras.backend.backend() != "tensorflow" else set())
    if subpackage in LIGHT:
        assert not set(modules) & heavy, f"kerastools.{subpackage} pulled in {set(modules) & heavy}"
    if subpackage in ALIASES:
        assert set(subpackages) == ALIASES[subpackage]
        return
    floor = FLOORS.get(subpackage, max(FLOORS.values()) + 1)
    above = [s for s in subpackages if FLOORS.get(s, floor) >= floor]
    assert not above, f"kerastools.{subpackage} (floor {floor}) pulled in {above}"


def test_heavy_subpackages_load_on_first_use(fresh):
    early, plotting_loaded, tuner_loaded = fresh["lazy"]
    assert not early and plotting_loaded and tuner_loaded


def _imports_of(path):
    """Every kerastools module an import statement in ``path`` names, at any depth
    (a lazy import inside a function counts: it can hide a cycle just as well), and
    every ``importlib.import_module("kerastools....")`` with a literal name."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module" \
                and node.args and isinstance(node.args[0], ast.Constant) \
                and str(node.args[0].value).startswith("kerastools"):
            found.add(node.args[0].value)
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
    # and nothing below the callbacks imports them; lazy imports inside functions count.
    assert graph["filters"] == set()
    assert not any("callbacks" in deps for name, deps in graph.items() if name != "callbacks")
    for name, deps in graph.items():
        if name in ALIASES:
            assert deps == ALIASES[name], (name, deps)
            continue
        floor = FLOORS.get(name, max(FLOORS.values()) + 1)
        above = sorted(d for d in deps if FLOORS.get(d, floor) >= floor and d not in ALIASES)
        assert not above, f"kerastools.{name} (floor {floor}) imports {above}"
        assert not deps & set(ALIASES), f"kerastools.{name} imports the alias {deps & set(ALIASES)}"


def test_no_private_name_imported_across_modules():
    shared_private_modules = {"_checks", "_base", "_io", "_native"}  # the shared private helpers
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
