"""The registry table: trigger subscriptions and task logs per execution (launch plans: store/plans.py)."""

from __future__ import annotations

import time
from typing import Any

from chalicelib.config import Settings
from chalicelib.store.dynamo import paginate, to_dynamo
from chalicelib.store.models import Subscription, subscription_key


class Registry:
    def __init__(self, settings: Settings, dynamodb: Any) -> None:
        self.table = settings.registry_table
        self.dynamodb = dynamodb

    def _query_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        return list(paginate(self.dynamodb, "query", {"TableName": self.table, **kwargs}))

    # -- subscriptions ----------------------------------------------------------------------------
    def put_subscription(self, sub: Subscription) -> None:
        self.dynamodb.put_item(TableName=self.table, Item=to_dynamo(sub.to_item()))

    def subscriptions_for(self, artifact: str) -> list[Subscription]:
        """Every launch plan listening to `artifact`, active or not: one Query."""
        items = self._query_all(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": subscription_key(artifact, "")["pk"]}},
            ConsistentRead=True,
        )
        return [Subscription.from_item(i) for i in items]

    # -- task logs --------------------------------------------------------------------------------
    def put_logs(self, execution: str, node: str, lines: list[str]) -> None:
        if not lines:
            return
        text = "\n".join(lines)[-350_000:]  # DynamoDB items stop at 400 KB; keep the tail
        self.dynamodb.put_item(TableName=self.table, Item=to_dynamo({
            "pk": f"EXEC#{execution}", "sk": f"LOG#{time.time_ns():020d}#{node}", "node": node, "text": text,
        }))

    def logs(self, execution: str) -> list[str]:
        items = self._query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :s)",
            ExpressionAttributeValues={":pk": {"S": f"EXEC#{execution}"}, ":s": {"S": "LOG#"}},
        )
        return [line for item in items for line in item["text"].split("\n")]
