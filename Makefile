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

.PHONY: demo test test-fast venv lint bench clean

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

bench: $(VENV)/.installed
	$(PY) benchmarks/optimizers.py
	$(PY) benchmarks/schedules.py
	$(PY) benchmarks/callbacks.py

lint: $(VENV)/.installed
	$(PY) -m pip install -q ruff
	$(VENV)/bin/ruff check kerastools tests examples benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
