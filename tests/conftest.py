from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = Path(__file__).resolve().parent / "events"
EXAMPLES = ROOT / "examples"
SEED = ROOT / "chalicelib" / "workflows" / "trigger_on_artifact.py"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Tests read the CLI's tables as text: give rich a fixed width, whatever terminal (or none) runs them.
os.environ.setdefault("COLUMNS", "200")


def load_event(name: str) -> dict[str, Any]:
    """A real-shaped Lambda event from tests/events/."""
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def cloud() -> Iterator[Any]:
    from chalicelib.local.cloud import LocalCloud

    with LocalCloud() as c:
        yield c


@pytest.fixture
def clients(cloud: Any) -> dict[str, Any]:
    from chalicelib import aws

    region = cloud.settings.region
    return {name: aws.client(name, region) for name in ("s3", "dynamodb", "stepfunctions", "lambda")}


# Figures a test wants shown after the run (e.g. how many deliveries and faults a property test exercised).
FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in FIGURES:
        terminalreporter.write_line(line)
