"""The task runner's side of a gate node: record the task token the execution now waits on
(chalicelib.compile.gates), so `python -m chalicelib signal` can answer it."""

from __future__ import annotations

import time
from typing import Any

from msgspec import Struct
from msgspec.structs import force_setattr

from chalicelib import checks
from chalicelib.errors import EventError
from chalicelib.store.gates import GateRecord, GateStore

MODE = "gate"


GATE_FIX = ("a gate state's Parameters hold mode 'gate', gate {name, kind, expected_type, timeout_seconds}, "
            "workflow, node, execution_id, token (chalicelib.compile.gates); redeploy the stage so its state "
            "machines are compiled by the code its task runner runs")


def _where(name: str) -> str:
    return f"the gate state payload's field {name!r}"


class GateSpec(Struct, frozen=True, kw_only=True):
    name: str
    kind: str
    expected_type: str | None = None
    timeout_seconds: int = 0

    def __post_init__(self) -> None:
        for name in ("name", "kind"):
            checks.text(getattr(self, name), _where(f"gate.{name}"), EventError, GATE_FIX)
        checks.optional_text(self.expected_type, _where("gate.expected_type"), EventError, GATE_FIX)
        force_setattr(self, "timeout_seconds", checks.integer(self.timeout_seconds, _where("gate.timeout_seconds"),
                                                                   EventError, GATE_FIX))

    @classmethod
    def from_dict(cls, data: Any) -> GateSpec:
        return cls(**checks.fields(data, ("name", "kind", "expected_type", "timeout_seconds"), ("name", "kind"),
                                   _where("gate"), EventError, GATE_FIX))


class GateEvent(Struct, frozen=True, kw_only=True):
    mode: str
    gate: GateSpec
    workflow: str
    node: str
    execution_id: str
    token: str

    def __post_init__(self) -> None:
        for name in ("mode", "workflow", "node", "execution_id", "token"):
            checks.text(getattr(self, name), _where(name), EventError, GATE_FIX)
        if not isinstance(self.gate, GateSpec):
            force_setattr(self, "gate", GateSpec.from_dict(self.gate))

    @classmethod
    def from_dict(cls, data: Any) -> GateEvent:
        """A gate state's payload, checked; fields it does not know are ignored."""
        return cls(**checks.fields(data, _FIELDS, _FIELDS, "the gate state payload", EventError, GATE_FIX))


_FIELDS = ("mode", "gate", "workflow", "node", "execution_id", "token")


def record(gates: GateStore, raw: dict[str, Any]) -> dict[str, Any]:
    event = GateEvent.from_dict(raw)
    gates.put(GateRecord(execution=event.execution_id, name=event.gate.name, kind=event.gate.kind,
                         expected_type=event.gate.expected_type, token=event.token, waiting_since=int(time.time())))
    return {"waiting": event.gate.name}
