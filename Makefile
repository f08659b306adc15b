# ShopDesk: `make run` starts the whole platform locally; `make test` runs every suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The Lambda runtime is python3.12, and so is everything local.
PYTHON ?= $(shell command -v python3.12 >/dev/null 2>&1 && python3.12 -c 'import sys' >/dev/null 2>&1 && command -v python3.12 || ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 2>/dev/null | tail -n 1)
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
BACKEND ?= moto
HOST ?= 127.0.0.1
WEB_PORT ?= 3000
API_PORT ?= 3001
MOTO_PORT ?= 4001
STORE_ID ?= demo
STACK ?= shopdesk-$(STORE_ID)
PYTEST_ARGS ?=
export AWS_DEFAULT_REGION ?= ap-southeast-1

.PHONY: help install run test test-unit check format bench intents openapi build deploy publish-web browser sam-cli clean

help:
	@echo "make run     start ShopDesk locally (BACKEND=moto|localstack, WEB_PORT, API_PORT, MOTO_PORT)"
	@echo "make test    run every test suite (installs what it needs, Chromium included)"
	@echo "make check   ruff, mypy, cfn-lint and sam validate --lint"
	@echo "make bench   print the performance figures"
	@echo "make intents evaluate the bot's intent classifier on a held-out split"
	@echo "make build   sam build (no container needed)"
	@echo "make deploy  sam build && sam deploy --guided, then publish the web app (STACK=shopdesk-<store>)"

$(VENV)/.installed: requirements-dev.txt layers/shopdesk/requirements.txt
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.12 is required (the Lambda runtime's version); set PYTHON=/path/to/python3.12"; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m infra.local.run --backend $(BACKEND) --host $(HOST) --web-port $(WEB_PORT) --api-port $(API_PORT) --moto-port $(MOTO_PORT) --store-id $(STORE_ID)

# Browser tests need Chromium and a CJK font; install them from Debian when missing.
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qiE 'wqy|noto sans cjk'; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	fi

test: install browser
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: install
	$(PY) -m pytest -m "unit or infra" $(PYTEST_ARGS)

$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==1.170.0
	@touch $@

sam-cli: $(SAM_VENV)/.installed

check: install sam-cli
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

build: sam-cli
	PATH="$(dir $(PYTHON)):$$PATH" $(SAM) build --template template.yaml

deploy: build
	$(SAM) deploy --guided --stack-name $(STACK) --capabilities CAPABILITY_IAM
	$(MAKE) publish-web STACK=$(STACK)

publish-web: install
	$(PY) -m infra.publish_web --stack $(STACK)

bench: install
	$(PY) -m tests.bench.run

intents: install
	$(PY) -m infra.intents evaluate

openapi: install
	$(PY) -m infra.openapi > docs/openapi.json

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
