# Everything installs itself into .venv from the pinned requirement files.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

demo: $(STAMP)  ## run the seed example on the local cloud
	$(PY) -m chalicelib run chalicelib/workflows/trigger_on_artifact.py upstream_wf

test: $(STAMP)  ## run the test suite
	$(PY) -m pytest -q

bench: $(STAMP)  ## run every benchmark on the local cloud, each against its baseline (python -m benchmarks --json for JSON)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
