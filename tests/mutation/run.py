"""Mutation check: seeded bugs in the core modules, each of which a named test must catch.

Every mutant replaces one exact snippet of one source file by a wrong one (a
sign flip, an off-by-one step, a sum taken as a max, a dropped compensation, a
misplaced epsilon, a swapped choice, a removed check) and names the tests that
must fail with it. The mutants are applied one at a time to a COPY of the
repository (``kerastools/``, ``tests/``, ``setup.cfg``, ``pyproject.toml`` in a
temporary folder, imported from there); the working tree is never modified.

    python tests/mutation/run.py            # all mutants (``make mutation``)
    python tests/mutation/run.py -k sgdr    # the mutants whose id contains "sgdr"
    python tests/mutation/run.py --list     # ids, files and test selections

First the union of the selected tests runs once on the unmutated copy (it must
pass, or every mutant would look killed). Then each mutant runs its selection
with ``pytest -x -q -p no:cacheprovider``: a failing test kills it.

Prints the score (killed / total), the run time and the survivors. Exits
non-zero when a mutant survives (unless it is listed in ``EQUIVALENT`` with
the reason), when a mutant's original snippet is not found exactly once
(a stale mutant: the code moved on, update the mutant), when a selection names
tests that do not exist, or when the baseline fails.
"""

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COPIED = ("kerastools", "tests", "setup.cfg", "pyproject.toml")
SHARED_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "fashion-mnist")
TIMEOUT_S = 600


@dataclasses.dataclass(frozen=True)
class Mutant:
    id: str
    path: str  # relative to the repository root
    original: str  # must occur exactly once in the file
    mutated: str
    tests: tuple  # pytest node ids (files, file::test, file::test[param])


# Test selections shared by several mutants.
T_FILTERS = "tests/test_filters.py"
T_OPT = "tests/test_optimizers.py::test_preset_equals_keras_builtin"
T_TUNING_OPT = "tests/test_tuning.py::test_every_optimizer_choice_steps_like_its_reference"
T_TUNING_SCHED = "tests/test_tuning.py::test_every_schedule_choice_follows_its_formula"
T_NORMS = ("tests/test_weight_norms.py::test_every_norm_and_grouping_equals_numpy",
           "tests/test_weight_norms.py::test_norms_match_numpy_every_epoch")
T_SCHED = "tests/test_schedules.py"
T_ROUND_TRIP = "tests/test_serialization.py::test_model_round_trip"

FILTERS = "kerastools/filters/arma.py"
OPTIMIZER = "kerastools/optimizers/stages.py"
PRESETS = "kerastools/optimizers/presets.py"
NORMS = "kerastools/callbacks/weight_norms.py"
NORMS_CORE = "kerastools/monitoring/weights.py"
LOADER = "kerastools/datasets/fashion_mnist.py"
SPACE = "kerastools/tuning/search_space.py"

MUTANTS = [
    # ------------------------------------------------------------- filters
    Mutant("arma-ar1-dc-gain-sign", FILTERS,
           'k = 1.0 - p if gain == "dc" else 1.0', 'k = 1.0 + p if gain == "dc" else 1.0',
           (f"{T_FILTERS}::test_ar1_designs",)),
    Mutant("arma-nesterov-zero-sign", FILTERS,
           "return cls([1.0 + p, -p], [-p],", "return cls([1.0 + p, p], [-p],",
           (f"{T_FILTERS}::test_nesterov_is_bengio_form",)),
    Mutant("arma-dc-gain-denominator-sign", FILTERS,
           "den = 1.0 + sum(self.a)", "den = 1.0 - sum(self.a)",
           (f"{T_FILTERS}::test_ar1_designs", f"{T_FILTERS}::test_butterworth")),
    Mutant("arma-frequency-half-rate", FILTERS,
           "z1 = np.exp(-2j * np.pi * nu)", "z1 = np.exp(-1j * np.pi * nu)",
           (f"{T_FILTERS}::test_impulse_and_frequency_response_agree",
            "tests/test_optimizers_frequency.py")),
    Mutant("arma-numpy-compensation-not-dc-normalised", FILTERS,
           "s = self._raw_step_response(n) / self.dc_gain()", "s = self._raw_step_response(n)",
           (f"{T_FILTERS}::test_general_compensation_divides_by_normalised_step_response",)),
    Mutant("arma-ar1-recursion-feedback-sign", FILTERS,
           "y = _mul(b[0], x) + _mul(_neg(a[0]), y_prev)",
           "y = _mul(b[0], x) - _mul(_neg(a[0]), y_prev)",
           (f"{T_FILTERS}::test_tensor_step_matches_numpy",)),
    Mutant("arma-nesterov-recursion-is-momentum", FILTERS,
           "return _mul(p, v) + x, (v,)", "return v, (v,)",
           (f"{T_FILTERS}::test_tensor_step_matches_numpy",)),
    Mutant("arma-stability-check-removed", FILTERS,
           "if not self.is_stable() and not self.is_accumulator:",
           "if False and not self.is_stable() and not self.is_accumulator:",
           (f"{T_FILTERS}::test_bad_input",)),
    Mutant("arma-butterworth-no-prewarp", FILTERS,
           "w = 2.0 * math.tan(math.pi * cutoff)", "w = 2.0 * math.pi * cutoff",
           (f"{T_FILTERS}::test_butterworth",)),
    # ---------------------------------------------------------- optimizer core
    Mutant("optimizer-epsilon-inside-moved-outside", OPTIMIZER,
           "return update, factor, xp.sqrt(n + eps)",
           "return update, factor, xp.sqrt(n) + eps",
           (f"{T_OPT}[rmsprop-float32]", f"{T_OPT}[adagrad-float32]")),
    Mutant("optimizer-adam-epsilon-moved-inside", OPTIMIZER,
           "return update, factor, xp.sqrt(n) + eps\n        if scale",
           "return update, factor, xp.sqrt(n + eps)\n        if scale",
           (f"{T_OPT}[adam-float32]",)),
    Mutant("optimizer-compensation-step-off-by-one", OPTIMIZER,
           "self._step = xp.cast(xp.read(self.iterations), scalar_dtype(self.variable)) + 1.0",
           "self._step = xp.cast(xp.read(self.iterations), scalar_dtype(self.variable))",
           (f"{T_OPT}[adam-float32]",)),
    Mutant("optimizer-second-moment-compensation-without-sqrt", OPTIMIZER,
           "times(factor, xp.sqrt(scale))", "times(factor, scale)",
           (f"{T_OPT}[adam-float32]",)),
    Mutant("optimizer-centered-sign", OPTIMIZER,
           "n = n - (c2 if scale is None", "n = n + (c2 if scale is None",
           (f"{T_OPT}[rmsprop_centered_momentum-float32]",)),
    Mutant("optimizer-amsgrad-minimum", OPTIMIZER,
           "n = xp.maximum(n_max, n)", "n = -xp.maximum(-xp.read(n_max), -n)",
           (f"{T_OPT}[adam_amsgrad-float32]",)),
    Mutant("optimizer-adadelta-epsilon-outside", OPTIMIZER,
           "out = xp.sqrt(xp.read(d) + self.epsilon) * update",
           "out = (xp.sqrt(xp.read(d)) + self.epsilon) * update",
           (f"{T_OPT}[adadelta-float32]",)),
    Mutant("optimizer-nadam-lookahead-momenta-swapped", OPTIMIZER,
           "return (u_next * update) / (1.0 - prod_next) + ((1.0 - u_t) * ctx.gradient) / (",
           "return (u_t * update) / (1.0 - prod_next) + ((1.0 - u_t) * ctx.gradient) / (",
           (f"{T_OPT}[nadam-float32]",)),
    # Bugs only the serialization harness's optimizer comparison catches: a
    # state variable the optimizer does not track (so not saved, fresh after
    # load), and a config that writes a constant instead of the argument.
    Mutant("optimizer-state-variable-not-saved", OPTIMIZER,
           "optimizer.add_variable((), initializer=keras.initializers.Constant(value),\n"
           "                                   dtype=scalar_dtype(v), name=f\"{prefix}_{n}\")",
           "keras.Variable(keras.initializers.Constant(value), shape=(), trainable=False,\n"
           "                           dtype=scalar_dtype(v), name=f\"{prefix}_{n}\")",
           (f"{T_ROUND_TRIP}[NadamMomentum]",)),
    Mutant("optimizer-config-epsilon-constant", OPTIMIZER,
           '"epsilon": self.epsilon, "epsilon_placement"', '"epsilon": 1e-7, "epsilon_placement"',
           (f"{T_ROUND_TRIP}[ChainOptimizer]",
            "tests/test_optimizers.py::test_stage_config_holds_every_constructor_argument")),
    # ----------------------------------------------------------------- presets
    Mutant("preset-nesterov-is-momentum", PRESETS,
           "Filter(ARMAFilter.nesterov(p), pole=",
           'Filter(ARMAFilter.ar1(p, gain="input"), pole=',
           (f"{T_OPT}[nesterov-float32]",)),
    Mutant("preset-adam-epsilon-placement", PRESETS,
           'epsilon_placement="outside_uncompensated", amsgrad=amsgrad',
           'epsilon_placement="outside", amsgrad=amsgrad',
           (f"{T_OPT}[adam-float32]",)),
    Mutant("preset-adagrad-leaky-accumulator", PRESETS,
           "Normalize(ARMAFilter.accumulator(),",
           "Normalize(ARMAFilter.ar1(0.999),",
           (f"{T_OPT}[adagrad-float32]",)),
    Mutant("preset-nadam-momentum-step-off-by-one", OPTIMIZER,
           "1.0 - 0.5 * xp.power(xp.cast(self.decay, dtype), t))",
           "1.0 - 0.5 * xp.power(xp.cast(self.decay, dtype), t - 1.0))",
           (f"{T_OPT}[nadam-float32]",)),
    Mutant("preset-sgd-nesterov-flag-inverted", PRESETS,
           "return (nesterov_ if nesterov else momentum_)(",
           "return (momentum_ if nesterov else nesterov_)(",
           (f"{T_OPT}[sgd_momentum_arg-float32]",)),
    Mutant("preset-butterworth-dc-gain-ignored", PRESETS,
           "f = ARMAFilter([gain * c for c in base.b], base.a,",
           "f = ARMAFilter([c for c in base.b], base.a,",
           ("tests/test_optimizers.py::test_butterworth_momentum_against_numpy",
            "tests/test_optimizers_frequency.py::test_plot_frequency_response")),
    # ---------------------------------------------------------------- plotting
    Mutant("plot-lr-finder-raw-curve-is-the-smoothed-one", "kerastools/plotting/schedules.py",
           'ax.plot(lrs, losses, color="0.7"', 'ax.plot(lrs, smooth, color="0.7"',
           ("tests/test_lr_finder.py::test_plot",)),
    # --------------------------------------------------------------- schedules
    # (simple formula lines; re-check them when kerastools/schedules/ changes)
    Mutant("sgdr-cosine-sign", "kerastools/schedules/sgdr.py",
           "lr = floor_lr + span * 0.5 * (1.0 + _base.cos(pi * t_cur / length))",
           "lr = floor_lr + span * 0.5 * (1.0 - _base.cos(pi * t_cur / length))",
           (f"{T_SCHED}::test_sgdr_matches_the_paper",)),
    Mutant("sgdr-peak-decay-off-by-one", "kerastools/schedules/sgdr.py",
           "span = span0 * ops.power(const(self.m_mul, dtype), i)",
           "span = span0 * ops.power(const(self.m_mul, dtype), i + 1.0)",
           (f"{T_SCHED}::test_sgdr_matches_the_paper",)),
    Mutant("sgdr-config-m-mul-wrong", "kerastools/schedules/sgdr.py",
           '"m_mul": self.m_mul,', '"m_mul": self.alpha,',
           (f"{T_ROUND_TRIP}[SGDR]",)),
    Mutant("one-cycle-phase-end-off-by-one", "kerastools/schedules/one_cycle.py",
           "return [float(pct_start * total_steps) - 1, total_steps - 1]",
           "return [float(pct_start * total_steps), total_steps - 1]",
           (f"{T_SCHED}::test_one_cycle_matches_pytorch_formula",)),
    Mutant("one-cycle-cosine-direction", "kerastools/schedules/one_cycle.py",
           "return end + (start - end) / 2.0 *", "return end + (end - start) / 2.0 *",
           (f"{T_SCHED}::test_one_cycle_matches_pytorch_formula",)),
    Mutant("cyclical-triangular2-halving-off-by-one", "kerastools/schedules/cyclical.py",
           "return 1.0 / ops.power(ops.cast(2.0, x.dtype), x - 1.0)",
           "return 1.0 / ops.power(ops.cast(2.0, x.dtype), x)",
           (f"{T_SCHED}::test_cyclical_matches_smith",)),
    Mutant("cyclical-falling-edge-uses-rising-length", "kerastools/schedules/cyclical.py",
           "falling = (t_len - pos) / const(float(step_size_down), dtype)",
           "falling = (t_len - pos) / const(up, dtype)",
           (f"{T_SCHED}::test_cyclical_asymmetric_matches_pytorch_formula",)),
    Mutant("milestone-decay-drop-one-step-late", "kerastools/schedules/epoch_decays.py",
           "boundaries = [s - 1 for s in drop_steps]", "boundaries = list(drop_steps)",
           (f"{T_SCHED}::test_course_epoch_decays_built_on_keras",)),
    # ------------------------------------------------------------ weight norms
    Mutant("norms-model-l1-max", NORMS_CORE,
           "return float(np.sum(values))", "return float(np.max(values))",
           T_NORMS),
    Mutant("norms-model-l2-sum-of-norms", NORMS_CORE,
           "return top * math.sqrt(float(np.sum((values / top) ** 2)))",
           "return float(np.sum(values))",
           T_NORMS),
    Mutant("norms-l2-without-sqrt", NORMS_CORE,
           "return scale * math.sqrt(float(np.sum(s * (c / scale) ** 2))),",
           "return scale * float(np.sum(s * (c / scale) ** 2)),",
           T_NORMS),
    Mutant("norms-l1-as-max", NORMS_CORE,
           "return keras.ops.stack([m, c, keras.ops.sum(u * u), keras.ops.sum(u)])",
           "return keras.ops.stack([m, c, keras.ops.sum(u * u), keras.ops.max(u)])",
           T_NORMS),
    Mutant("norms-chunks-combined-without-rescaling", NORMS_CORE,
           "float(np.sum(s * (c / scale) ** 2))", "float(np.sum(s))",
           ("tests/test_weight_norms.py::"
            "test_weight_norms_exact_for_very_large_and_very_small_weights[huge]",)),
    Mutant("norms-bias-rank-off-by-one", NORMS_CORE,
           "return len(variable.shape) <= 1", "return len(variable.shape) < 1",
           T_NORMS),
    # ------------------------------------------------------------------ loader
    # (re-check them when kerastools/datasets/ changes)
    Mutant("loader-item-count-check-removed", LOADER,
           "if expected_count is not None and dims[0] != expected_count:",
           "if False and expected_count is not None and dims[0] != expected_count:",
           ("tests/test_datasets.py::test_item_count_is_checked",)),
    Mutant("loader-shape-check-removed", LOADER,
           "if item_shape is not None and dims[1:] != tuple(item_shape):",
           "if False and item_shape is not None and dims[1:] != tuple(item_shape):",
           ("tests/test_datasets.py::test_image_shape_28x28_is_checked",)),
    Mutant("loader-label-bound-off-by-one", LOADER,
           "data.max() > 9:", "data.max() > 10:",
           ("tests/test_datasets.py::test_labels_above_9_are_rejected",)),
    Mutant("loader-over-long-check-removed", LOADER,
           "if stream.read(1):", "if False and stream.read(1):",
           ("tests/test_datasets.py::test_over_long_file_is_rejected",)),
    # ------------------------------------------------------------ tuning space
    Mutant("tuning-sgdr-is-one-cycle", SPACE,
           "return schedules.SGDR(learning_rate, first, t_mul=t_mul)",
           "return schedules.OneCycle(learning_rate, total)",
           (T_TUNING_SCHED,)),
    Mutant("tuning-nesterov-is-momentum", SPACE,
           "return getattr(optimizers, kind)(learning_rate=learning_rate, momentum=m)",
           "return optimizers.momentum(learning_rate=learning_rate, momentum=m)",
           (T_TUNING_OPT,)),
    Mutant("tuning-adadelta-is-rmsprop", SPACE,
           "return getattr(optimizers, kind)(learning_rate=learning_rate, rho=rho)",
           "return optimizers.rmsprop(learning_rate=learning_rate, rho=rho)",
           (T_TUNING_OPT,)),
    Mutant("tuning-nadam-is-adam", SPACE,
           "return getattr(optimizers, kind)(learning_rate=learning_rate, beta_1=beta_1,",
           "return optimizers.adam(learning_rate=learning_rate, beta_1=beta_1,",
           (T_TUNING_OPT,)),
    Mutant("tuning-butterworth-order-ignored", SPACE,
           "return optimizers.butterworth_momentum(order, cutoff,",
           "return optimizers.butterworth_momentum(2, cutoff,",
           (T_TUNING_OPT,)),
    Mutant("tuning-step-factor", SPACE,
           "milestones=(0.5, 0.75), factor=0.2)", "milestones=(0.5, 0.75), factor=0.5)",
           (T_TUNING_SCHED,)),
    Mutant("tuning-cyclical-half-cycle-in-steps", SPACE,
           'half = max(1, round(total / (2 * params["cycles"])))',
           'half = max(1, round(total / params["cycles"]))',
           (T_TUNING_SCHED,)),
    Mutant("tuning-learning-rate-range-ignored", SPACE,
           "low, high = learning_rate_range",
           "low, high = low, high",
           ("tests/test_tuning.py::test_learning_rate_range_overrides_every_preset_range",)),
]

# Mutants that cannot change behaviour, with the reason: {id: reason}. A
# surviving mutant that is not listed here fails the run.
EQUIVALENT = {}


def _copy_tree(dest):
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")
    for name in COPIED:
        src = os.path.join(ROOT, name)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dest, name), ignore=ignore)
        elif os.path.exists(src):
            shutil.copy2(src, os.path.join(dest, name))


def _env(copy):
    env = dict(os.environ)
    env["PYTHONPATH"] = copy + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # a mutated module is never read from a stale .pyc
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("PYTHONHASHSEED", "0")
    if "KERASTOOLS_DATA_DIR" not in env and os.path.isdir(SHARED_DATA):
        env["KERASTOOLS_DATA_DIR"] = SHARED_DATA  # conftest's relative path is wrong in the copy
    return env


def _pytest(copy, tests, timeout=TIMEOUT_S):
    """Runs pytest on ``tests`` in the copy: ``(exit code or None on timeout, output tail)``."""
    if _FORK_SERVER is not None:
        return _FORK_SERVER.run(copy, tests, timeout)
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    try:
        proc = subprocess.run(cmd, cwd=copy, env=_env(copy), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s"
    return proc.returncode, proc.stdout[-3000:] + proc.stderr[-2000:]


# Third-party modules imported once in the parent (never kerastools): each mutant's pytest
# then runs in a forked child, which skips the ~10 s import of TensorFlow and Keras.
PRELOAD = ("numpy", "tensorflow", "keras", "keras_tuner", "matplotlib.pyplot", "scipy.signal",
           "pytest", "hypothesis", "nbformat")


class _ForkServer:
    def __init__(self, copy):
        import importlib

        os.environ.update(_env(copy))
        for name in PRELOAD:
            try:
                importlib.import_module(name)
            except ImportError:
                pass
        assert not any(m == "kerastools" or m.startswith("kerastools.") for m in sys.modules)

    def run(self, copy, tests, timeout):
        out_path = os.path.join(copy, ".mutation-output")
        pid = os.fork()
        if pid == 0:  # the child: pytest in the copy, output to a file
            code = 3
            try:
                fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                os.chdir(copy)
                sys.path.insert(0, copy)
                import pytest

                code = int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", *tests]))
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                return None, f"timed out after {timeout} s"
            time.sleep(0.05)
        with open(out_path, errors="replace") as f:
            output = f.read()
        code = os.waitstatus_to_exitcode(status)
        return (code if code >= 0 else 3), output[-5000:]


_FORK_SERVER = None


def _check_imports_from(copy):
    code = "import kerastools, sys; sys.stdout.write(kerastools.__file__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=copy, env=_env(copy),
                         capture_output=True, text=True)
    where = out.stdout.strip()
    if not where.startswith(copy):
        sys.exit(f"mutation: the copy imports kerastools from {where!r}, not from {copy!r}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-k", default=None, help="run only the mutants whose id contains this")
    p.add_argument("--list", action="store_true", help="list the mutants and exit")
    p.add_argument("--no-baseline", action="store_true",
                   help="skip the run of the selected tests on the unmutated copy")
    p.add_argument("-v", "--verbose", action="store_true", help="show pytest's output tail")
    p.add_argument("--no-fork", action="store_true",
                   help="a fresh Python per mutant instead of forks of one that has imported "
                        "TensorFlow and Keras (slower)")
    args = p.parse_args(argv)
    mutants = [m for m in MUTANTS if args.k is None or args.k in m.id]
    ids = [m.id for m in MUTANTS]
    assert len(set(ids)) == len(ids), "duplicate mutant ids"
    if args.list:
        for m in mutants:
            print(f"{m.id:48s} {m.path}\n{'':48s} -> {' '.join(m.tests)}")
        return 0

    start = time.perf_counter()
    stale = []
    for m in mutants:
        with open(os.path.join(ROOT, m.path)) as f:
            count = f.read().count(m.original)
        if count != 1:
            stale.append(f"{m.id}: the original snippet occurs {count} times in {m.path}: "
                         f"{m.original!r}")
    if stale:
        print("STALE mutants (update them to the current code):", *stale, sep="\n  ")

    copy = tempfile.mkdtemp(prefix="kerastools-mutation-")
    try:
        _copy_tree(copy)
        _check_imports_from(copy)
        global _FORK_SERVER
        if not args.no_fork and hasattr(os, "fork"):
            _FORK_SERVER = _ForkServer(copy)
        runnable = [m for m in mutants if not any(s.startswith(m.id + ":") for s in stale)]
        if not args.no_baseline:
            union = list(dict.fromkeys(t for m in runnable for t in m.tests))
            t0 = time.perf_counter()
            code, out = _pytest(copy, union, timeout=3 * TIMEOUT_S)
            print(f"baseline: {len(union)} selections on the unmutated copy, "
                  f"exit {code} ({time.perf_counter() - t0:.0f} s)")
            if code != 0:
                print(out)
                print("mutation: the selected tests fail without any mutant; fix that first.")
                return 2
        killed, survivors, errors = [], [], []
        for n, m in enumerate(runnable, 1):
            path = os.path.join(copy, m.path)
            with open(path) as f:
                source = f.read()
            with open(path, "w") as f:
                f.write(source.replace(m.original, m.mutated, 1))
            t0 = time.perf_counter()
            try:
                code, out = _pytest(copy, list(m.tests))
            finally:
                with open(path, "w") as f:
                    f.write(source)
            seconds = time.perf_counter() - t0
            if code in (1, None):  # a test failed (or the run hung: also a detected change)
                verdict = "killed" if code == 1 else "killed (timeout)"
                killed.append(m)
            elif code == 0:
                verdict = "SURVIVED"
                survivors.append(m)
            else:  # 2 interrupted/collection error, 4 usage (no such test), 5 nothing collected
                verdict = f"ERROR (pytest exit {code})"
                errors.append(m)
            print(f"[{n:2d}/{len(runnable)}] {verdict:18s} {m.id} ({seconds:.0f} s)", flush=True)
            if args.verbose or verdict.startswith("ERROR"):
                print("    " + out.strip().replace("\n", "\n    "))
    finally:
        shutil.rmtree(copy, ignore_errors=True)

    total = len(killed) + len(survivors)
    equivalent = [m for m in survivors if m.id in EQUIVALENT]
    unexplained = [m for m in survivors if m.id not in EQUIVALENT]
    minutes, seconds = divmod(time.perf_counter() - start, 60)
    print(f"\nmutation score: {len(killed)}/{total} killed"
          + (f" ({len(equivalent)} equivalent)" if equivalent else "")
          + f"; run time {int(minutes)} min {seconds:.0f} s")
    for m in equivalent:
        print(f"  equivalent: {m.id}: {EQUIVALENT[m.id]}")
    for m in unexplained:
        print(f"  SURVIVED: {m.id} in {m.path}: {m.original!r} -> {m.mutated!r}; "
              f"tests {' '.join(m.tests)}")
    for m in errors:
        print(f"  ERROR: {m.id}: its tests could not run (a renamed test or a broken import?)")
    return 1 if stale or unexplained or errors else 0


if __name__ == "__main__":
    sys.exit(main())
