# kerastools: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EPOCHS ?= 3
PYTEST_ARGS ?=

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

.PHONY: demo test test-fast test-jax venv lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

# Reinstalled whenever the package metadata changes.
$(VENV)/.installed: $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install -e ".[test]"
	touch $@

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) examples/baseline.py --epochs $(EPOCHS) --out runs

test: $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

# The component tests again on the JAX backend (CPU jax from PyPI, the `jax` extra);
# JAX_ENABLE_X64 lets the float64 tests have float64. What cannot run there is skipped
# with its reason, what is too slow there is left out (README, "Backends").
JAX_TESTS ?= tests/test_filters.py tests/test_schedules.py tests/test_layers.py \
	tests/test_layers_batchnorm.py tests/test_initializers.py tests/test_lr_logger.py \
	tests/test_weight_norms.py tests/test_lsuv.py

$(VENV)/.installed-jax: $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install -e ".[test,jax]"
	touch $@

test-jax: $(VENV)/.installed-jax
	KERAS_BACKEND=jax JAX_ENABLE_X64=1 $(PY) -m pytest -m "not slow" \
		$(JAX_TESTS) $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(PY) benchmarks/optimizers.py
	$(PY) benchmarks/schedules.py
	$(PY) benchmarks/callbacks.py
	$(PY) benchmarks/layers.py

# ruff is pinned so that a new release cannot turn CI red; the rule set is in pyproject.toml.
lint: $(VENV)/.installed
	$(PY) -m pip install -q ruff==0.17.6
	$(VENV)/bin/ruff check kerastools tests examples benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
