# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Two install sets: the clinic (what `make demo` needs: web app + ONNX coder, no torch,
# no test tools) and the full development set (reference encoder, research extras, test tools).
CLINIC_STAMP := $(VENV)/.clinic-stamp
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck bench browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(CLINIC_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[clinic]"
	touch $(CLINIC_STAMP)

# torch 2.13.0 resolves from the package registry; where pip also sees a local CPU-only
# wheel of the same release (this project's build machines do), it takes that smaller build.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[all,dev]"
	touch $(STAMP) $(CLINIC_STAMP)

# Debian's chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

demo: $(CLINIC_STAMP)
	$(BIN)/alliance demo

test: $(STAMP) browser
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
