"""Task tokens of waiting gate nodes (`wait_for_input`, `approve`), kept in the registry table so `signal`
can find the one an execution waits on by the execution's name and the gate's name."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from chalicelib.config import Settings
from chalicelib.errors import CascadeError
from chalicelib.store.dynamo import from_dynamo, to_dynamo


class UnknownGateError(CascadeError):
    """No execution waits on this gate (wrong names, not reached yet, or already signalled)."""


class GateRecord(BaseModel):
    execution: str  # the execution's ARN
    name: str
    kind: str  # input, approve
    expected_type: str | None = None
    token: str
    waiting_since: int


def _key(execution_name: str, gate: str) -> dict[str, str]:
    return {"pk": f"GATE#{execution_name}", "sk": f"GATE#{gate}"}


def execution_name(execution: str) -> str:
    return execution.rsplit(":", 1)[-1]


class GateStore:
    def __init__(self, settings: Settings, dynamodb: Any) -> None:
        self.table = settings.registry_table
        self.dynamodb = dynamodb

    def put(self, record: GateRecord) -> None:
        item = {**_key(execution_name(record.execution), record.name), **record.model_dump(exclude_none=True)}
        self.dynamodb.put_item(TableName=self.table, Item=to_dynamo(item))

    def get(self, execution: str, gate: str) -> GateRecord:
        resp = self.dynamodb.get_item(TableName=self.table, Key=to_dynamo(_key(execution_name(execution), gate)),
                                      ConsistentRead=True)
        if "Item" not in resp:
            raise UnknownGateError(
                f"execution {execution_name(execution)!r} is not waiting on a gate named {gate!r}: check both names "
                f"(`executions` lists executions), or wait until the execution reaches the gate")
        item = from_dynamo(resp["Item"])
        return GateRecord.model_validate({k: v for k, v in item.items() if k not in ("pk", "sk")})

    def waiting(self, execution: str) -> list[str]:
        """The gates the execution waits on now (recorded when reached, removed when signalled)."""
        pk = _key(execution_name(execution), "")["pk"]
        resp = self.dynamodb.query(TableName=self.table, KeyConditionExpression="pk = :pk",
                                   ExpressionAttributeValues={":pk": {"S": pk}}, ConsistentRead=True)
        return sorted(str(from_dynamo(item)["name"]) for item in resp.get("Items", []))

    def remove(self, record: GateRecord) -> None:
        self.dynamodb.delete_item(TableName=self.table, Key=to_dynamo(_key(execution_name(record.execution),
                                                                             record.name)))
