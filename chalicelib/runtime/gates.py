"""The task runner's side of a gate node: record the task token the execution now waits on
(chalicelib.compile.gates), so `python -m chalicelib signal` can answer it."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel

from chalicelib.errors import EventError
from chalicelib.store.gates import GateRecord, GateStore

MODE = "gate"


class GateSpec(BaseModel):
    name: str
    kind: str
    expected_type: str | None = None
    timeout_seconds: int = 0


class GateEvent(BaseModel):
    mode: str
    gate: GateSpec
    workflow: str
    node: str
    execution_id: str
    token: str


def record(gates: GateStore, raw: dict[str, Any]) -> dict[str, Any]:
    try:
        event = GateEvent.model_validate(raw)
    except Exception as exc:
        raise EventError(f"task-runner event is not a gate payload: {exc}") from exc
    gates.put(GateRecord(execution=event.execution_id, name=event.gate.name, kind=event.gate.kind,
                         expected_type=event.gate.expected_type, token=event.token, waiting_since=int(time.time())))
    return {"waiting": event.gate.name}
