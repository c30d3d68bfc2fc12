# nbvec: set up and run. Every target creates its virtualenv when missing and
# reinstalls only when pyproject.toml changed (a stamp file per venv and extra).

PYTHON ?= python3
ARGS ?=

VENV        := .venv
OLDEST_VENV := .venv-oldest
BENCH_VENV  := .venv-bench

# Packages whose declared lower bound (in pyproject's dependencies) test-oldest pins.
# pyarrow is here because it does not declare its numpy requirement: pyarrow 26 needs
# numpy 2, so an environment with only numpy and pandas pinned would get a pyarrow
# that cannot import.
OLDEST_PINS ?= numpy pandas pyarrow

PIP_INSTALL := -m pip install --quiet --disable-pip-version-check --no-input

# Runs pytest; exit code 5 (nothing collected) is a failure, said out loud.
define pytest_strict
	$(1) -m pytest -q $(2); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "ERROR: pytest collected no tests from $(2)" >&2; exit 1; fi; \
	exit $$rc
endef

ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.DEFAULT_GOAL := help
.PHONY: help lab test test-oldest bench lint

help:
	@echo "make lab          set up .venv and start JupyterLab on notebooks/ (in-memory storage)"
	@echo "make test         set up .venv and run every test (tests/, then notebooks/)"
	@echo "make test-oldest  run tests/ in .venv-oldest, lower bounds of: $(OLDEST_PINS)"
	@echo "make bench        set up .venv-bench and run python -m bench \$$ARGS"
	@echo "make lint         ruff check"

# --- virtualenvs -----------------------------------------------------------

%/bin/python:
	$(PYTHON) -m venv $*
	$*/bin/python $(PIP_INSTALL) --upgrade pip

$(VENV)/.stamp-%: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python $(PIP_INSTALL) -e ".[$*]"
	@touch $@

$(BENCH_VENV)/.stamp-bench: pyproject.toml | $(BENCH_VENV)/bin/python
	$(BENCH_VENV)/bin/python $(PIP_INSTALL) -e ".[bench]"
	@touch $@

# Pins come from pyproject.toml itself, so the bounds live in one place.
$(OLDEST_VENV)/.stamp-test: pyproject.toml | $(OLDEST_VENV)/bin/python
	$(OLDEST_VENV)/bin/python -c 'import re, sys, tomllib; \
	deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]; \
	want = sys.argv[1:]; \
	pins = {m[1]: f"{m[1]}=={m[2]}" for d in deps if (m := re.match(r"([A-Za-z0-9_.-]+)\s*>=\s*([^,;\s]+)", d))}; \
	missing = [n for n in want if n not in pins]; \
	sys.exit(f"no >= lower bound declared for {missing}") if missing else None; \
	print("\n".join(pins[n] for n in want))' $(OLDEST_PINS) > $(OLDEST_VENV)/constraints.txt
	@echo "oldest pins:" $$(cat $(OLDEST_VENV)/constraints.txt)
	$(OLDEST_VENV)/bin/python $(PIP_INSTALL) -c $(OLDEST_VENV)/constraints.txt -e ".[test]"
	@touch $@

# --- targets ---------------------------------------------------------------

lab: $(VENV)/.stamp-lab
	$(VENV)/bin/jupyter lab $(ALLOW_ROOT) notebooks/

test: $(VENV)/.stamp-test
	@$(call pytest_strict,$(VENV)/bin/python,tests)
	@if find notebooks -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' 2>/dev/null | grep -q .; then \
		echo "$(VENV)/bin/python -m pytest -q --nbmake notebooks/"; \
		$(call pytest_strict,$(VENV)/bin/python,--nbmake notebooks/); \
	else \
		echo "no notebooks in notebooks/: skipping the notebook run"; \
	fi

test-oldest: $(OLDEST_VENV)/.stamp-test
	@$(OLDEST_VENV)/bin/python -c 'import numpy, pandas; print(f"numpy {numpy.__version__}, pandas {pandas.__version__}")'
	@$(call pytest_strict,$(OLDEST_VENV)/bin/python,tests)

bench: $(BENCH_VENV)/.stamp-bench
	$(BENCH_VENV)/bin/python -m bench $(ARGS)

lint: $(VENV)/bin/python
	@test -x $(VENV)/bin/ruff || $(VENV)/bin/python $(PIP_INSTALL) ruff
	$(VENV)/bin/ruff check .
