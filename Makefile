# Everything installs itself into .venv from the pinned requirement files.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
STAGE ?= dev

.PHONY: demo test bench clean deploy destroy

$(STAMP): requirements.txt requirements-tasks.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

demo: $(STAMP)  ## run the seed example on the local cloud
	$(PY) -m chalicelib run chalicelib/workflows/trigger_on_artifact.py upstream_wf

# asl-validator for the tests, from package-lock.json; without node the ASL test skips and says why.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent && touch $(NODE_STAMP); \
	else echo "npm not found: the asl-validator test will be skipped"; fi

test: $(STAMP) $(NODE_STAMP)  ## run the test suite
	$(PY) -m pytest -q

deploy: $(STAMP)  ## deploy STAGE to AWS as one CloudFormation stack (change set), then register its workflows
	$(PY) -m chalicelib deploy --stage $(STAGE)

destroy: $(STAMP)  ## tear STAGE down from any copy, data included (KEEP_DATA=1 keeps the bucket and tables)
	$(PY) -m chalicelib destroy --stage $(STAGE) $(if $(KEEP_DATA),--keep-data)

bench: $(STAMP)  ## run the benchmarks on the local cloud against their baselines, then a summary of every goal (--json: JSON)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache node_modules build
