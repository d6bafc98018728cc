"""Task tokens of waiting gate nodes (`wait_for_input`, `approve`), kept in the registry table so `signal`
can find the one an execution waits on by the execution's name and the gate's name."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from msgspec import Struct
from msgspec.structs import force_setattr

from chalicelib import checks
from chalicelib.config import Settings
from chalicelib.errors import CascadeError
from chalicelib.store.dynamo import from_dynamo, to_dynamo


class UnknownGateError(CascadeError):
    """No execution waits on this gate (wrong names, not reached yet, or already signalled)."""


GATE_FIX = "the gate's registry item was edited by hand: delete it and signal the execution's gate again after it re-waits"


class GateRecord(Struct, frozen=True, kw_only=True):
    execution: str  # the execution's ARN
    name: str
    kind: str  # input, approve
    expected_type: str | None = None
    token: str
    waiting_since: int

    def __post_init__(self) -> None:
        where = f"the gate record {self.name!r}"
        for name in ("execution", "name", "kind", "token"):
            checks.text(getattr(self, name), f"{where}: field {name!r}", CascadeError, GATE_FIX)
        checks.optional_text(self.expected_type, f"{where}: field 'expected_type'", CascadeError, GATE_FIX)
        waiting = self.waiting_since
        if isinstance(waiting, Decimal) and waiting == int(waiting):  # DynamoDB numbers read back as Decimal
            waiting = int(waiting)
        force_setattr(self, "waiting_since", checks.integer(waiting, f"{where}: field 'waiting_since'",
                                                                 CascadeError, GATE_FIX))

    def to_item(self) -> dict[str, Any]:
        item = {"execution": self.execution, "name": self.name, "kind": self.kind, "expected_type": self.expected_type,
                "token": self.token, "waiting_since": self.waiting_since}
        return {k: v for k, v in item.items() if v is not None}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> GateRecord:
        """A record as stored (the item's own keys ignored), checked."""
        return cls(**checks.fields(item, _FIELDS, ("execution", "name", "kind", "token", "waiting_since"),
                                   f"the gate item {item.get('pk')!r}/{item.get('sk')!r}", CascadeError, GATE_FIX))


_FIELDS = ("execution", "name", "kind", "expected_type", "token", "waiting_since")


def _key(execution_name: str, gate: str) -> dict[str, str]:
    return {"pk": f"GATE#{execution_name}", "sk": f"GATE#{gate}"}


def execution_name(execution: str) -> str:
    return execution.rsplit(":", 1)[-1]


class GateStore:
    def __init__(self, settings: Settings, dynamodb: Any) -> None:
        self.table = settings.registry_table
        self.dynamodb = dynamodb

    def put(self, record: GateRecord) -> None:
        item = {**_key(execution_name(record.execution), record.name), **record.to_item()}
        self.dynamodb.put_item(TableName=self.table, Item=to_dynamo(item))

    def get(self, execution: str, gate: str) -> GateRecord:
        resp = self.dynamodb.get_item(TableName=self.table, Key=to_dynamo(_key(execution_name(execution), gate)),
                                      ConsistentRead=True)
        if "Item" not in resp:
            raise UnknownGateError(
                f"execution {execution_name(execution)!r} is not waiting on a gate named {gate!r}: check both names "
                f"(`executions` lists executions), or wait until the execution reaches the gate")
        return GateRecord.from_item(from_dynamo(resp["Item"]))

    def waiting(self, execution: str) -> list[str]:
        """The gates the execution waits on now (recorded when reached, removed when signalled)."""
        pk = _key(execution_name(execution), "")["pk"]
        resp = self.dynamodb.query(TableName=self.table, KeyConditionExpression="pk = :pk",
                                   ExpressionAttributeValues={":pk": {"S": pk}}, ConsistentRead=True)
        return sorted(str(from_dynamo(item)["name"]) for item in resp.get("Items", []))

    def remove(self, record: GateRecord) -> None:
        self.dynamodb.delete_item(TableName=self.table, Key=to_dynamo(_key(execution_name(record.execution),
                                                                             record.name)))
