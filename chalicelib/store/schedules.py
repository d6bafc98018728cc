"""Scheduled launch plans: what one tick of each starts, read by the schedule Lambda on every tick.

Registry table items:

    pk = "SCHED"    sk = "LP#<name>"    the current version's schedule and run inputs (one Query lists all)

Written by registration with the launch plan (and deleted when it loses its schedule or is removed); its
`active` follows the launch plan's activation, as the EventBridge schedule's state does. Read with a
consistent GetItem, so a tick delivered after a deactivation starts nothing.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from chalicelib.store.dynamo import from_dynamo, to_dynamo

DIRECTORY = "SCHED"


class ScheduleSpec(BaseModel):
    launch_plan: str
    lp_version: str
    workflow: str
    state_machine_arn: str
    active: bool = True
    kind: Literal["cron", "rate"]
    expression: str  # EventBridge Scheduler's: cron(...) or rate(...)
    kickoff_input: str | None = None
    fixed_inputs: dict[str, Any] = Field(default_factory=dict)
    default_inputs: dict[str, Any] = Field(default_factory=dict)


def _key(name: str) -> dict[str, str]:
    return {"pk": DIRECTORY, "sk": f"LP#{name}"}


class ScheduleStore:
    def __init__(self, table: str, dynamodb: Any) -> None:
        self.table = table
        self.dynamodb = dynamodb

    def get(self, name: str) -> ScheduleSpec | None:
        resp = self.dynamodb.get_item(TableName=self.table, Key=to_dynamo(_key(name)), ConsistentRead=True)
        return ScheduleSpec.model_validate_json(from_dynamo(resp["Item"])["doc"]) if "Item" in resp else None

    def all(self) -> list[ScheduleSpec]:
        from chalicelib.store.dynamo import paginate

        items = paginate(self.dynamodb, "query", {
            "TableName": self.table, "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": DIRECTORY}}, "ConsistentRead": True})
        return [ScheduleSpec.model_validate_json(i["doc"]) for i in items]

    def put(self, spec: ScheduleSpec) -> None:
        self.dynamodb.put_item(TableName=self.table, Item=to_dynamo({
            **_key(spec.launch_plan), "doc": json.dumps(spec.model_dump(), sort_keys=True)}))

    def delete(self, name: str) -> bool:
        resp = self.dynamodb.delete_item(TableName=self.table, Key=to_dynamo(_key(name)), ReturnValues="ALL_OLD")
        return "Attributes" in resp

    def set_active(self, name: str, active: bool) -> ScheduleSpec | None:
        spec = self.get(name)
        if spec is None:
            return None
        spec = spec.model_copy(update={"active": active})
        self.put(spec)
        return spec
