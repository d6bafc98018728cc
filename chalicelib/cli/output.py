"""Printing for humans (rich, to the terminal) and for machines (JSON on stdout, nothing else)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

STATUS_STYLE = {"SUCCEEDED": "green", "FAILED": "red", "RUNNING": "yellow", "ABORTED": "red", "TIMED_OUT": "red"}


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def short(version: str | None) -> str:
    return version or "-"
