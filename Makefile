# Atende — the two commands are `make run` and `make test`; everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS := aws,agent,cdk,extract,local,dev
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

.PHONY: help setup media stand-ins console run test test-runtime lint typecheck pytest synth build bench lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==25.3"
	$(BIN)/pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	@touch $(STAMP)

setup: $(STAMP) ## create .venv and install the pinned dependencies

media: ## install the real media stack (Debian packages + pinned livekit-server/livekit-sip builds)
	atende_local/media/install.sh

stand-ins: ## install what the provider stand-ins and real-database tests need (espeak-ng, PostgreSQL, MariaDB, FerretDB)
	atende_local/stand_ins/install.sh

console: ## build the restaurant console (npm ci + esbuild) and install Debian's chromium for its browser tests
	atende_local/console_install.sh

run: $(STAMP) ## run the whole platform locally (ATENDE_MEDIA=real: with the real LiveKit stack)
	@# the console is built; the browser its tests drive is not needed to run
	ATENDE_CONSOLE_INSTALL=skip atende_local/console_install.sh
	@if [ "$$ATENDE_MEDIA" = real ]; then atende_local/media/install.sh; fi
	$(BIN)/atende local run

test: $(STAMP) media stand-ins console lint typecheck pytest ## tool installs (media, stand-ins, console) + ruff + mypy + the whole pytest suite

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy layers/atende_shared functions infra_cdk atende_local atende_extract voice_fargate

pytest: $(STAMP)
	$(BIN)/pytest -q

# The Lambda functions deploy on python$(LAMBDA_PYTHON) (infra_cdk.constants): their
# suites run on that interpreter too, in a venv of their own (no agent/CDK extras).
LAMBDA_PYTHON := $(shell sed -n 's/^LAMBDA_PYTHON_VERSION = "\(.*\)"/\1/p' infra_cdk/constants.py)
LAMBDA_VENV := .venv-lambda
LAMBDA_SUITES := tests/unit tests/webhooks tests/billing tests/sync tests/provision

# The interpreter: python3.13 on PATH, else a pyenv install of it (override on the command line).
LAMBDA_PYTHON_BIN ?= $(or $(shell python$(LAMBDA_PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null),$(firstword $(wildcard $(HOME)/.pyenv/versions/$(LAMBDA_PYTHON).*/bin/python3)),python$(LAMBDA_PYTHON))

$(LAMBDA_VENV)/.installed: pyproject.toml constraints.txt
	@test -d $(LAMBDA_VENV) || $(LAMBDA_PYTHON_BIN) -m venv $(LAMBDA_VENV)
	$(LAMBDA_VENV)/bin/pip install --quiet -c constraints.txt -e ".[aws,local,dev]"
	@touch $@

test-runtime: $(LAMBDA_VENV)/.installed ## the Lambda suites on the deployed runtime's Python
	$(LAMBDA_VENV)/bin/pytest -q -p no:cacheprovider $(LAMBDA_SUITES)

synth: $(STAMP) ## synthesize the CDK app into cdk.out (no Docker, no network)
	$(BIN)/python -m infra_cdk.app

build: $(STAMP) ## build the Lambda assets and the shared layer into build/ (arm64 wheels)
	$(BIN)/python -m infra_cdk.assets

bench: $(STAMP) ## run every benchmark under bench/ (prints ratios)
	$(BIN)/python -m bench

lock: ## re-pin constraints.txt from a fresh resolve of pyproject.toml
	rm -rf /tmp/atende-lock && $(PYTHON) -m venv /tmp/atende-lock
	/tmp/atende-lock/bin/pip install --quiet ".[$(EXTRAS)]"
	/tmp/atende-lock/bin/pip freeze --exclude atende | sed '1i # Pinned versions for every dependency group (pip install -c constraints.txt).\n# Regenerate with `make lock` after changing pyproject.toml.' > constraints.txt

clean: ## remove build outputs (keeps .venv)
	rm -rf build cdk.out .mypy_cache .ruff_cache .pytest_cache
