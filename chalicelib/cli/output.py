"""Printing for humans (rich, to the terminal) and for machines (JSON on stdout, nothing else).

On a terminal, rich fits output to the terminal's width. Anywhere else (a pipe, a file, a CI log) nothing is
wrapped at all: every line is printed at full length, so ids, URIs and commands survive copy-paste.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, ConsoleDimensions

STATUS_STYLE = {"SUCCEEDED": "green", "FAILED": "red", "RUNNING": "yellow", "ABORTED": "red", "TIMED_OUT": "red", "WAITING": "cyan"}

# Table columns of ids, times and statuses never wrap: a version id split over two lines cannot be copied.
# Other columns (names, partitions, messages) fold to make room.
WHOLE = frozenset({"latest version", "version", "created", "started", "time", "status", "state", "triggered by",
                   "seconds", "execution", "versions", "how", "time partition"})

UNWRAPPED_WIDTH = 10_000  # wide enough for any line we print; tables size to their content, not to this


class _Console(Console):
    """A Console that never wraps when its file is not a terminal (COLUMNS is ignored there)."""

    @property
    def size(self) -> ConsoleDimensions:
        if self._width is None and not self.is_terminal:
            return ConsoleDimensions(UNWRAPPED_WIDTH, self._height or 25)
        return super().size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        width, height = new_size
        self._width, self._height = width, height


out = _Console(highlight=False)
err = _Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def short(version: str | None) -> str:
    return version or "-"
