# DOFS: `make run` and `make test` work on a fresh machine; every target installs what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The Lambda runtime of template.yaml is python3.13: the local runtime and tests use the same interpreter.
PYTHON ?= $(shell ls -d $$HOME/.pyenv/versions/3.13*/bin/python3.13 2>/dev/null | tail -n 1 || true)
ifeq ($(strip $(PYTHON)),)
PYTHON := $(shell command -v python3.13 || command -v python3)
endif
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt | sha1sum | cut -c1-12)
TOOLS := .tools
# the console's browser assets (elkjs), from package-lock.json; and the browser the console's tests drive
CONSOLE := local_runtime/console
NPM_STAMP := $(CONSOLE)/node_modules/.installed-$(shell cat $(CONSOLE)/package-lock.json | sha1sum | cut -c1-12)
CHROMIUM := /usr/bin/chromium
# two pytest workers (pytest-xdist); a test file stays on one worker, so the end-to-end files share their stacks
PYTEST_ARGS ?= -n 2 --dist loadfile --no-loadscope-reorder
# pip shows what it does (and its progress) when it creates an environment; once there, it only updates quietly
PIP_VENV := $(if $(wildcard $(PY)),--quiet,)
PIP_SAM := $(if $(wildcard $(TOOLS)/sam/bin/python),--quiet,)
PIP_CHECKOV := $(if $(wildcard $(TOOLS)/checkov/bin/python),--quiet,)
WAIT ?= 10

export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help install run test validate bench chaos invoke clean

help:
	@echo "make run        start the local runtime (API :3000, AWS endpoint :4566); settings: python -m local_runtime --help"
	@echo "make test       run every test that needs no AWS account"
	@echo "make validate   cfn-lint, sam validate --lint, sam build, statelint, env.json, checkov"
	@echo "make invoke FN=ValidateOrderFunction EVENT=events/validate_order.json   (events/README.md: every event)"
	@echo "make bench      our Step Functions engine against moto's, then the whole local stack"
	@echo "make chaos N=500 C=16   N orders at concurrency C with injected faults, then every order, cent and unit reconciled"

$(STAMP): requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "no python3.13 found (pyenv install 3.13, or set PYTHON=...)"; exit 1; }
	@if test -x $(PY); then echo "== .venv: requirements-dev.txt changed, updating"; \
	 else echo "== .venv: creating it with $(PYTHON), then installing requirements-dev.txt (first time: about 20 s)"; \
	 $(PYTHON) -m venv $(VENV); fi
	$(PY) -m pip install $(PIP_VENV) --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@
	@echo "== .venv ready"

$(NPM_STAMP): $(CONSOLE)/package.json $(CONSOLE)/package-lock.json
	@command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	cd $(CONSOLE) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Debian's chromium for the console's browser tests (Playwright drives it; it downloads no browser of its own)
$(CHROMIUM):
	@echo "== chromium: installing Debian's package for the console's browser tests"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

install: $(STAMP) $(NPM_STAMP)

run: $(STAMP) $(NPM_STAMP)
	@echo "== make run: the local runtime in the foreground (Ctrl-C stops it); settings: python -m local_runtime --help"
	$(PY) -m local_runtime serve

test: $(STAMP) $(NPM_STAMP) $(CHROMIUM)
	@echo "== make test: pytest $(PYTEST_ARGS)"
	$(PY) -m pytest $(PYTEST_ARGS)

invoke: $(STAMP)
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<logical id> EVENT=events/<file>.json"; exit 2; }
	$(PY) -m local_runtime invoke $(FN) $(EVENT) --wait $(WAIT)

# Tool environments of their own: SAM CLI pins its own boto3, click and cfn-lint; checkov is large.
$(TOOLS)/sam/.installed: tools/requirements-sam.txt
	@if test -x $(TOOLS)/sam/bin/python; then echo "== .tools/sam: tools/requirements-sam.txt changed, updating"; \
	 else echo "== .tools/sam: installing SAM CLI and cfn-lint (first time: about a minute)"; \
	 $(PYTHON) -m venv $(TOOLS)/sam; fi
	$(TOOLS)/sam/bin/pip install $(PIP_SAM) --disable-pip-version-check -r tools/requirements-sam.txt && touch $@

$(TOOLS)/checkov/.installed: tools/requirements-checkov.txt
	@if test -x $(TOOLS)/checkov/bin/python; then echo "== .tools/checkov: tools/requirements-checkov.txt changed, updating"; \
	 else echo "== .tools/checkov: installing checkov (first time: about a minute)"; \
	 $(PYTHON) -m venv $(TOOLS)/checkov; fi
	$(TOOLS)/checkov/bin/pip install $(PIP_CHECKOV) --disable-pip-version-check -r tools/requirements-checkov.txt && touch $@

validate: $(STAMP) $(TOOLS)/sam/.installed $(TOOLS)/checkov/.installed
	@echo "== cfn-lint"
	$(TOOLS)/sam/bin/cfn-lint template.yaml
	@echo "== sam validate --lint"
	$(TOOLS)/sam/bin/sam validate --lint --template template.yaml
	@echo "== sam deploy --guided asks about no function without authentication"
	$(TOOLS)/sam/bin/python tools/check_deploy_auth.py template.yaml
	@echo "== sam build"
	PATH="$(dir $(PYTHON)):$$PATH" $(TOOLS)/sam/bin/sam build --template template.yaml --build-dir .aws-sam/build
	@echo "== statelint (every ASL file, after DefinitionSubstitutions)"
	$(PY) -m local_runtime.lint_asl
	@echo "== env.json reaches sam local invoke's containers (SAM CLI's own resolution)"
	$(TOOLS)/sam/bin/python tools/check_env_json.py template.yaml env.json
	@echo "== checkov"
	$(TOOLS)/checkov/bin/checkov --quiet --compact --skip-download --framework cloudformation -f template.yaml
	@echo "validate: all checks passed"

bench: $(STAMP) $(NPM_STAMP)
	@echo "== make bench: engines (ours against moto's), then the whole local stack"
	$(PY) -m benchmarks

# make chaos N=<orders> C=<concurrency>: a fresh local stack, injected faults and worker kills, then a reconciliation
# table; exit code 1 when an invariant breaks (benchmarks/chaos.py). CHAOS_ARGS passes more options (--help).
N ?= 500
C ?= 16
chaos: $(STAMP)
	$(PY) -m benchmarks.chaos --orders $(N) --concurrency $(C) $(CHAOS_ARGS)

clean:
	rm -rf .aws-sam .pytest_cache
