# The project's vocabulary: install, test, lint, synth, sandbox, bench.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CDK CLI and the CDK's Python bindings (jsii) run on the Node.js that package.json
# pins, not on the system's, which may be out of support.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: install browser lock test lint typecheck pytest synth sandbox bench clean

# Idempotent: rebuilds .venv or node_modules only when their pinned files change.
# Node.js comes from npm too (package "node"), so the system's Node only runs npm itself.
install: $(VENV)/.install-stamp node_modules/.install-stamp browser

# Headless Chromium renders the HTML history in the browser tests; installed from
# Debian's packages where missing (the tests skip, saying why, where it cannot be).
browser:
	@bash scripts/install-chromium.sh

# The editable install maps each top-level package once: a new lambdas/ package re-runs it.
$(VENV)/.install-stamp: pyproject.toml constraints.txt $(wildcard lambdas/*/__init__.py)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -c constraints.txt
	touch $@

# Re-pin constraints.txt from a clean environment built from pyproject.toml alone.
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet -e '.[dev]'
	{ head -n 3 constraints.txt; .venv-lock/bin/pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt
	rm -rf .venv-lock

node_modules/.install-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The import-linter contracts in pyproject.toml enforce the layers; the worktree's own
# packages come first on the path, whatever the editable install points at.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=$(CURDIR):$(CURDIR)/lambdas $(BIN)/lint-imports --no-cache --no-logo

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -n 2 --dist load

test: lint typecheck pytest

synth: install
	rm -rf cdk.out
	npx cdk synth --quiet

# The whole story on a local emulator, from the synthesized templates.
sandbox: synth
	$(BIN)/greenlight sandbox --cdk-out cdk.out

bench: synth
	$(BIN)/python -m tests.bench --cdk-out cdk.out

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
