"""The registry table: trigger subscriptions and task logs per execution (launch plans: store/plans.py)."""

from __future__ import annotations

import time
from typing import Any

from chalicelib.config import Settings
from chalicelib.store.dynamo import paginate, to_dynamo
from chalicelib.store.models import Subscription, subscription_key


# DynamoDB's item limit, "400 KB" of attribute names and values in UTF-8, taken as 400,000 bytes: AWS cuts at
# 409,600, moto at 405,000, so a log item is stored by both.
MAX_LOG_ITEM_BYTES = 400_000
LOG_ITEM_MARGIN = 1024  # for the marker line and DynamoDB's per-attribute overhead
TRUNCATED = "… {n:,} bytes of output truncated (the task printed {total:,} bytes; a log item holds {room:,})"


def _item_bytes(item: dict[str, str]) -> int:
    return sum(len(k.encode()) + len(str(v).encode("utf-8", "surrogatepass")) for k, v in item.items())


def fit_text(text: str, room: int) -> str:
    """`text` if its UTF-8 takes at most `room` bytes, else a marker line and then as much of its tail as fits in
    `room` bytes, cut at a line start when one is near (within 4 KB), never inside a character."""
    data = text.encode("utf-8", "replace")  # a lone surrogate becomes "?": DynamoDB stores only valid UTF-8
    if len(data) <= room:
        return data.decode("utf-8")
    start = len(data) - room
    while start < len(data) and data[start] & 0xC0 == 0x80:  # a UTF-8 continuation byte: not a character start
        start += 1
    newline = data.find(b"\n", start, start + 4096)
    if newline != -1:
        start = newline + 1
    tail = data[start:].decode("utf-8")
    return TRUNCATED.format(n=start, total=len(data), room=room) + "\n" + tail


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
        """Store what a task printed as one item. Output beyond what fits the item is cut from the front (the
        tail, where errors are, is kept) at a UTF-8 character boundary, and a first line says how many bytes
        went: a task's output never fails its run."""
        if not lines:
            return
        item = {"pk": f"EXEC#{execution}", "sk": f"LOG#{time.time_ns():020d}#{node}", "node": node, "text": ""}
        room = MAX_LOG_ITEM_BYTES - LOG_ITEM_MARGIN - _item_bytes(item)
        item["text"] = fit_text("\n".join(lines), room)
        self.dynamodb.put_item(TableName=self.table, Item=to_dynamo(item))

    def logs(self, execution: str) -> list[str]:
        items = self._query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :s)",
            ExpressionAttributeValues={":pk": {"S": f"EXEC#{execution}"}, ":s": {"S": "LOG#"}},
        )
        return [line for item in items for line in item["text"].split("\n")]
