"""Notifications the local cloud delivered, per execution (on AWS, SNS emails them and keeps no record).

Registry table items, beside the execution's task logs:

    pk = "EXEC#<execution ARN>"    sk = "NOTE#<recipient>"    one per recipient an ending notified

Written once per (execution, recipient): an execution ends once, and a redelivered event rewrites the same item.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from chalicelib.store.dynamo import paginate, to_dynamo


class SentNotification(BaseModel):
    execution_arn: str
    recipient: str
    status: str  # the Step Functions status the execution ended in
    topic: str
    at: str


class NotificationLog:
    def __init__(self, table: str, dynamodb: Any) -> None:
        self.table = table
        self.dynamodb = dynamodb

    def put(self, sent: SentNotification) -> None:
        self.dynamodb.put_item(TableName=self.table, Item=to_dynamo({
            "pk": f"EXEC#{sent.execution_arn}", "sk": f"NOTE#{sent.recipient}", "doc": sent.model_dump_json()}))

    def sent(self, execution_arn: str) -> list[SentNotification]:
        items = paginate(self.dynamodb, "query", {
            "TableName": self.table, "KeyConditionExpression": "pk = :pk AND begins_with(sk, :s)",
            "ExpressionAttributeValues": {":pk": {"S": f"EXEC#{execution_arn}"}, ":s": {"S": "NOTE#"}}})
        return [SentNotification.model_validate_json(i["doc"]) for i in items]
