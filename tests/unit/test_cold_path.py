"""What each Lambda handler imports on a cold start (what it costs is measured in benchmarks/cold_start.py)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

TRIGGER = "import app, chalicelib.trigger.handler"
# The authoring SDK, pandas, powertools' batch utility (which, when pydantic is already loaded, also builds
# every pydantic event model powertools has) and powertools' event data classes (whose package imports every
# event class it has; chalicelib.events.stream reads the records) have no business on the trigger's cold path.
NOT_ON_TRIGGER_PATH = [
    "pandas",
    "chalicelib.sdk.artifact",
    "chalicelib.sdk.task",
    "chalicelib.sdk.workflow",
    "chalicelib.sdk.launch_plan",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.parser",
    "aws_lambda_powertools.utilities.data_classes",
]


def loaded_after(statement: str) -> set[str]:
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


def test_the_trigger_path_stays_light():
    modules = loaded_after(TRIGGER)
    assert [m for m in NOT_ON_TRIGGER_PATH if m in modules] == []


def test_the_trigger_path_stays_light_when_pydantic_is_loaded_first():
    modules = loaded_after(f"import pydantic; {TRIGGER}")
    assert [m for m in NOT_ON_TRIGGER_PATH if m in modules] == []


def test_the_task_runner_path_does_not_import_pandas_until_a_frame_is_read():
    assert "pandas" not in loaded_after("import app, chalicelib.runtime.runner")


def test_every_public_sdk_name_resolves():
    import chalicelib

    missing = [name for name in chalicelib.__all__ if getattr(chalicelib, name, None) is None]
    assert missing == []
    assert sorted(chalicelib.__all__) == sorted(n for n in dir(chalicelib) if n in chalicelib.__all__)
