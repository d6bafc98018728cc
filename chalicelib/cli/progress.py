"""Progress of a running cascade, as one line for a rich status: executions by status, versions made."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, Callable

from chalicelib.config import Settings
from chalicelib.store.artifacts import ArtifactStore

ORDER = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


class CascadeProgress:
    """`text()` is cheap to call often: the stage is read at most every `every` seconds."""

    def __init__(self, sfn: Any, dynamodb: Any, settings: Settings, every: float = 0.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.sfn = sfn
        self.dynamodb = dynamodb
        self.settings = settings
        self.every = every
        self.clock = clock
        self.started = clock()
        self._read_at: float | None = None
        self._counts: Counter[str] = Counter()
        self._versions = 0

    def _read(self) -> None:
        counts: Counter[str] = Counter()
        for page in self.sfn.get_paginator("list_state_machines").paginate():
            for sm in page["stateMachines"]:
                if sm["name"].startswith(self.settings.prefix):
                    for epage in self.sfn.get_paginator("list_executions").paginate(stateMachineArn=sm["stateMachineArn"]):
                        counts.update(e["status"] for e in epage["executions"])
        versions = ArtifactStore(self.settings, None, self.dynamodb).count_versions()
        self._counts, self._versions = counts, versions

    def text(self) -> str:
        now = self.clock()
        if self._read_at is None or now - self._read_at >= self.every:
            self._read()
            self._read_at = now
        total = sum(self._counts.values())
        parts = [f"{self._counts[s]} {s.lower().replace('_', ' ')}" for s in ORDER if self._counts[s]]
        runs = f"{total} execution(s)" + (f" ({', '.join(parts)})" if parts else "")
        return f"running {now - self.started:.1f} s · {runs} · {self._versions} artifact version(s)"
