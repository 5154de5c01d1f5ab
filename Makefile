# kerastools: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EPOCHS ?= 3
PYTEST_ARGS ?=
# Test processes (pytest-xdist); 0 runs the tests in this process. Each TensorFlow process
# takes 1-3 GB: raise it with the cores and the memory.
PYTEST_JOBS ?= 2
PYTEST := $(PY) -m pytest -n $(PYTEST_JOBS)
# PyTorch's CPU build (the `torch` extra is a range, which this satisfies; a plain
# `pip install torch` would take a CUDA build of several GB).
TORCH_CPU ?= torch==2.13.0

# Fashion-MNIST: use the copy beside the repository (CI, the team's machines) when
# the user has not chosen a directory; otherwise the loader searches its usual places.
SHARED_DATA := $(abspath ../shared/data/fashion-mnist)
ifeq ($(origin KERASTOOLS_DATA_DIR), undefined)
ifneq ($(wildcard $(SHARED_DATA)/train-images-idx3-ubyte.gz),)
export KERASTOOLS_DATA_DIR := $(SHARED_DATA)
endif
endif
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0

# The component tests: run again on JAX and on PyTorch (the whole suite runs on TensorFlow).
# What cannot run on a backend is skipped there with its reason (README, "Backends").
COMPONENT_TESTS ?= tests/test_filters.py tests/test_schedules*.py tests/test_fuzz.py \
	tests/test_layers.py tests/test_layers_batchnorm.py tests/test_initializers.py \
	tests/test_lsuv.py tests/test_optimizers.py tests/test_optimizers_frequency.py \
	tests/test_lr_logger.py tests/test_weight_norms.py tests/test_activation_stats.py \
	tests/test_lr_finder.py tests/test_diagnostics.py tests/test_learning_curves.py \
	tests/test_serialization.py tests/test_imports.py tests/test_distribution_jax.py \
	tests/test_experiments.py tests/test_monitor_logs.py tests/test_optimizers_papers.py \
	tests/test_lookahead.py tests/test_optimizers_momentum_scheduler.py

.PHONY: demo test test-slow test-jax test-torch test-all venv lint bench dist check-install \
	mutation clean notebooks check-sync test-examples-jax test-examples-torch results

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

# Reinstalled whenever the package metadata changes.
$(VENV)/.installed: $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install -e ".[tensorflow,tuner,test]"
	touch $@

$(VENV)/.installed-jax: $(VENV)/.installed
	$(PY) -m pip install -e ".[tensorflow,tuner,test,jax]"
	touch $@

$(VENV)/.installed-torch: $(VENV)/.installed
	$(PY) -m pip install "$(TORCH_CPU)"
	$(PY) -m pip install -e ".[tensorflow,tuner,test,torch]"
	touch $@

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) examples/baseline.py --epochs $(EPOCHS) --out runs

# The README's test command: every test not marked slow, on the TensorFlow backend.
test: $(VENV)/.installed
	$(PYTEST) -m "not slow" $(PYTEST_ARGS)

# The tests marked slow (CI runs them after `make test`).
test-slow: $(VENV)/.installed
	$(PYTEST) -m slow $(PYTEST_ARGS)

# JAX_ENABLE_X64 lets the float64 tests have float64 (JAX truncates to float32 without it).
test-jax: $(VENV)/.installed-jax
	KERAS_BACKEND=jax JAX_ENABLE_X64=1 $(PYTEST) -m "not slow" \
		$(wildcard $(COMPONENT_TESTS)) $(PYTEST_ARGS)

test-torch: $(VENV)/.installed-torch
	KERAS_BACKEND=torch $(PYTEST) -m "not slow" $(wildcard $(COMPONENT_TESTS)) $(PYTEST_ARGS)

test-all: test test-slow test-jax test-torch test-examples-jax test-examples-torch

# The notebooks are generated from the example scripts (jupytext percent format, one source per
# experiment); check-sync fails when a notebook differs from its script (make test checks it too).
notebooks: $(VENV)/.installed
	$(PY) tests/scripts/sync_notebooks.py --write

check-sync: $(VENV)/.installed
	$(PY) tests/scripts/sync_notebooks.py

# Every example in quick mode on JAX and on PyTorch (on TensorFlow: make test).
test-examples-jax: $(VENV)/.installed-jax
	KERAS_BACKEND=jax $(PYTEST) tests/test_examples.py $(PYTEST_ARGS)

test-examples-torch: $(VENV)/.installed-torch
	KERAS_BACKEND=torch $(PYTEST) tests/test_examples.py $(PYTEST_ARGS)

# The figures of RESULTS.md and results/: every row's command, seeds 0,1,2 on the MLP rows
# (about 8.5 h on 2 cores, RESULTS.md). Some rows: make results RESULTS_ARGS="--rows a,d".
RESULTS_ARGS ?=
results: $(VENV)/.installed
	$(PY) results/reproduce.py $(RESULTS_ARGS)

# The sdist and the wheel, built without warnings and checked (twine, contents).
dist: $(VENV)/.installed
	rm -rf dist
	env -u PYTHONDONTWRITEBYTECODE $(PY) tests/scripts/check_dist.py dist

# A fresh virtual environment per backend extra, with only the wheel: imports, trains,
# saves and reloads (tests/scripts/install_smoke.py); no TensorFlow installed there.
check-install: dist
	bash tests/scripts/check_install.sh jax dist/*.whl
	bash tests/scripts/check_install.sh torch dist/*.whl

bench: $(VENV)/.installed-jax
	$(PY) benchmarks/imports.py
	$(PY) benchmarks/optimizers.py
	$(PY) benchmarks/schedules.py
	$(PY) benchmarks/callbacks.py
	$(PY) benchmarks/layers.py

# ruff is pinned so that a new release cannot turn CI red; the rule set is in pyproject.toml.
lint: $(VENV)/.installed
	$(PY) -m pip install -q ruff==0.17.6
	$(VENV)/bin/ruff check kerastools tests examples benchmarks results

# Seeded bugs in the core modules (filters, optimizer presets, schedules, weight norms,
# the loader, the tuning choices), each applied to a copy of the repository; every one
# must fail the tests named for it. The list and the reasons: tests/mutation/run.py.
mutation: $(VENV)/.installed
	$(PY) tests/mutation/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
