# Everything installs itself into .venv from the pinned requirement files.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
STAGE ?= dev

.PHONY: demo test bench clean deploy destroy checkov

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

# checkov in a virtualenv of its own (its pins conflict with requirements-dev.txt)
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

$(CHECKOV_STAMP): requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $(CHECKOV_STAMP)

checkov: $(STAMP) $(CHECKOV_STAMP)  ## build STAGE's stack template (no AWS call) and run checkov on it
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(PY) -m chalicelib deploy --stage $(STAGE) --template-only
	$(CHECKOV_VENV)/bin/checkov --framework cloudformation --compact --quiet -f build/stages/$(STAGE)/template.json

bench: $(STAMP)  ## run the benchmarks on the local cloud against their baselines, then a summary of every goal (--json: JSON)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache node_modules build
