# vidgate — see README.md. Every target sets up what it needs itself.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test unit integration e2e bench proto proto-check setup clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## Serve gRPC on 127.0.0.1:50051 and the OpenAI REST API (Envoy) on 127.0.0.1:8080.
run: $(STAMP)
	$(VENV)/bin/vidgate serve

## Every test: unit, integration, end-to-end through real Envoy; plus the generated-code check.
test: $(STAMP) proto-check
	$(PY) -m pytest $(PYTEST_ARGS)

unit: $(STAMP)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

integration: $(STAMP)
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

e2e: $(STAMP)
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

## Throughput, latency and memory figures, each against a baseline measured in the same run.
bench: $(STAMP)
	$(PY) tests/bench/run_bench.py

## Regenerate service/vidgate/gen (Python stubs) and gateway/videos.pb (Envoy descriptor set).
proto: $(STAMP)
	$(PY) scripts/gen_protos.py

proto-check: $(STAMP)
	$(PY) scripts/gen_protos.py --check

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info service/*.egg-info
