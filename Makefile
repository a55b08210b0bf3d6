# Dealflow: `make up` runs the whole stack locally, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
GEN := services/common/gen
PROTOS := $(shell find protos -name '*.proto')
STAMP := $(VENV)/.installed

.PHONY: up demo down test chaos unit integration e2e lint fmt proto bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# The wheel maps $(GEN)/dealflow to `dealflow`; an editable install copies what is there,
	# so install with it empty (imports then find the generated code through the .pth path).
	rm -rf $(GEN) && mkdir -p $(GEN)/dealflow
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

$(GEN)/.stamp: $(PROTOS) $(STAMP)
	rm -rf $(GEN) && mkdir -p $(GEN)
	$(PY) -m grpc_tools.protoc -I protos --python_out=$(GEN) --grpc_python_out=$(GEN) \
		--pyi_out=$(GEN) $(PROTOS)
	touch $@

proto: $(GEN)/.stamp  ## regenerate the Python package from protos/

up: $(GEN)/.stamp  ## start Temporal, NATS, PostgreSQL, every service, the worker and the gateway
	$(PY) -m deploy.local.up

demo: $(GEN)/.stamp  ## `make up` with a company blueprint applied and demo deals (DEALFLOW_DEMO, default ad-agency)
	DEALFLOW_DEMO=$${DEALFLOW_DEMO:-ad-agency} $(PY) -m deploy.local.up

down:  ## stop a stack started by `make up` in another terminal
	$(PY) -m deploy.local.down

test: lint  ## lint, then the whole suite but the long fault tests; starts what it needs itself
	$(PY) -m pytest -q -m "not chaos"

chaos: $(GEN)/.stamp  ## the long fault tests: worker killed under 200 processes, NATS restarted under 10,000 events
	$(PY) -m pytest -q -s -m chaos tests/faults

unit: $(GEN)/.stamp
	$(PY) -m pytest -q tests/unit tests/deploy

integration: $(GEN)/.stamp
	$(PY) -m pytest -q tests/integration

e2e: $(GEN)/.stamp
	$(PY) -m pytest -q tests/e2e

lint: $(GEN)/.stamp
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy services workflows process_rules deploy/local

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(GEN)/.stamp  ## benchmarks (not part of `make test`)
	$(PY) -m tests.bench.run

clean:
	rm -rf $(GEN) $(VENV)
