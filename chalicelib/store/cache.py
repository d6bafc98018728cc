"""The task cache's items, in the registry table (whose TTL attribute `expires_at` removes them):

    pk CACHE#<task>   sk ENTRY#<key>     one cached result: the task's result JSON, version, inputs' hash
    pk CACHE#<task>   sk RESERVE#<key>   `cache_serialize`: who computes that key now, and until when
    pk CACHE          sk <task>          the tasks that have entries (for `cache list` without --task)
    pk EXEC#<exec>    sk CACHED#<node>   a node of that execution that reused a cached result (`executions`)

`<key>` is the hex digest chalicelib.runtime.cache makes of (task, signature, cache version, inputs); a task
name longer than fits a key is replaced by its digest (DynamoDB: 2,048 bytes of partition key, 1,024 of
sort key). An entry is written once (conditional put): the first result stored for a key is the one every
later hit returns, so a cached artifact output keeps one version. Also here: the content tag of a stored
object (its ETag), which the cache hashes an S3 reference by.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from msgspec import Struct

from chalicelib.aws import error_code
from chalicelib.store import layout
from chalicelib.store.dynamo import from_dynamo, paginate, to_dynamo

DEFAULT_TTL_SECONDS = 90 * 24 * 3600
TASKS_PK = "CACHE"
MAX_TASK_KEY_BYTES = 900  # under the sort key's 1,024 bytes (the task index uses the task as sort key)
# DynamoDB's item limit is 400 KB; the result is at most Step Functions' 256 KiB, so this is a margin
MAX_RESULT_BYTES = 380_000


def _task_part(task: str) -> str:
    if len(task.encode()) <= MAX_TASK_KEY_BYTES:
        return task
    return "sha256:" + hashlib.sha256(task.encode()).hexdigest()


def entry_key(task: str, key: str) -> dict[str, str]:
    return {"pk": f"CACHE#{_task_part(task)}", "sk": f"ENTRY#{key}"}


def reservation_key(task: str, key: str) -> dict[str, str]:
    return {"pk": f"CACHE#{_task_part(task)}", "sk": f"RESERVE#{key}"}


def task_index_key(task: str) -> dict[str, str]:
    return {"pk": TASKS_PK, "sk": _task_part(task)}


class CacheEntry(Struct, frozen=True):
    task: str
    key: str
    version: str
    result: dict[str, Any]
    execution: str
    node: str
    created_at: float
    expires_at: int

    def to_item(self) -> dict[str, Any]:
        return {**entry_key(self.task, self.key), "task": self.task, "key": self.key, "version": self.version,
                "result": json.dumps(self.result, separators=(",", ":")), "execution": self.execution,
                "node": self.node, "created_at": str(self.created_at), "expires_at": self.expires_at}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> CacheEntry:
        return cls(task=item["task"], key=item["key"], version=item["version"], result=json.loads(item["result"]),
                   execution=item.get("execution", ""), node=item.get("node", ""),
                   created_at=float(item.get("created_at", 0)), expires_at=int(item.get("expires_at", 0)))


class CacheStore:
    def __init__(self, table: str, dynamodb: Any, s3: Any = None, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        self.table = table
        self.dynamodb = dynamodb
        self.s3 = s3
        self.ttl_seconds = ttl_seconds

    # -- entries ----------------------------------------------------------------------------------
    def get(self, task: str, key: str, now: float | None = None) -> CacheEntry | None:
        """The live entry for `key` (TTL deletion lags by up to days, so expiry is checked here too)."""
        resp = self.dynamodb.get_item(TableName=self.table, Key=to_dynamo(entry_key(task, key)), ConsistentRead=True)
        if "Item" not in resp:
            return None
        entry = CacheEntry.from_item(from_dynamo(resp["Item"]))
        return entry if entry.expires_at > (now if now is not None else time.time()) else None

    def fits(self, result: dict[str, Any]) -> bool:
        return len(json.dumps(result, separators=(",", ":")).encode()) <= MAX_RESULT_BYTES

    def put(self, task: str, key: str, version: str, result: dict[str, Any], execution: str, node: str,
            now: float | None = None) -> CacheEntry:
        """Store `result` for `key` unless a live entry exists; returns the entry that holds (the first)."""
        now = now if now is not None else time.time()
        entry = CacheEntry(task, key, version, result, execution, node, now, int(now) + self.ttl_seconds)
        try:
            self.dynamodb.put_item(
                TableName=self.table, Item=to_dynamo(entry.to_item()),
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(int(now))}},
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            existing = self.get(task, key, now)
            if existing is not None:
                return existing
            raise
        self.dynamodb.put_item(TableName=self.table, Item=to_dynamo(
            {**task_index_key(task), "task": task, "expires_at": entry.expires_at}))
        return entry

    def entries(self, task: str | None = None) -> list[CacheEntry]:
        """The live entries of `task`, or of every task."""
        tasks = [task] if task else self.tasks()
        now = time.time()
        out = []
        for name in tasks:
            items = paginate(self.dynamodb, "query", {
                "TableName": self.table, "KeyConditionExpression": "pk = :pk AND begins_with(sk, :s)",
                "ExpressionAttributeValues": {":pk": {"S": entry_key(name, "")["pk"]}, ":s": {"S": "ENTRY#"}},
            })
            out += [e for e in (CacheEntry.from_item(i) for i in items) if e.expires_at > now]
        return out

    def tasks(self) -> list[str]:
        items = paginate(self.dynamodb, "query", {
            "TableName": self.table, "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": TASKS_PK}},
        })
        return sorted(i["task"] for i in items)

    def clear(self, task: str) -> int:
        """Delete every entry and reservation of `task`; how many entries went."""
        pk = entry_key(task, "")["pk"]
        items = list(paginate(self.dynamodb, "query", {
            "TableName": self.table, "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}}, "ProjectionExpression": "pk, sk",
        }))
        keys = [{"pk": i["pk"], "sk": i["sk"]} for i in items] + [task_index_key(task)]
        for start in range(0, len(keys), 25):
            request = {self.table: [{"DeleteRequest": {"Key": to_dynamo(k)}} for k in keys[start:start + 25]]}
            while request:
                resp = self.dynamodb.batch_write_item(RequestItems=request)
                request = resp.get("UnprocessedItems") or {}
        return sum(1 for i in items if str(i["sk"]).startswith("ENTRY#"))

    # -- hits, per execution ----------------------------------------------------------------------
    def record_hit(self, execution: str, node: str, entry: CacheEntry, now: float | None = None) -> None:
        now = now if now is not None else time.time()
        self.dynamodb.put_item(TableName=self.table, Item=to_dynamo({
            "pk": f"EXEC#{execution}", "sk": f"CACHED#{node}", "node": node, "task": entry.task,
            "from_execution": entry.execution, "from_node": entry.node, "version": entry.version,
            "expires_at": int(now) + self.ttl_seconds}))

    def hits(self, execution: str) -> list[dict[str, Any]]:
        """The nodes of `execution` that reused a cached result: node, task, from_execution, version."""
        items = paginate(self.dynamodb, "query", {
            "TableName": self.table, "KeyConditionExpression": "pk = :pk AND begins_with(sk, :s)",
            "ExpressionAttributeValues": {":pk": {"S": f"EXEC#{execution}"}, ":s": {"S": "CACHED#"}},
        })
        return [{k: i.get(k) for k in ("node", "task", "from_execution", "from_node", "version")} for i in items]

    # -- reservations (cache_serialize) -----------------------------------------------------------
    def reserve(self, task: str, key: str, holder: str, seconds: float, now: float | None = None) -> bool:
        """Take the reservation for `key` until now + `seconds`: when nobody holds it, its holder's time ran
        out, or `holder` already holds it (a retried task). False when another holder has it."""
        now = now if now is not None else time.time()
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item=to_dynamo({**reservation_key(task, key), "holder": holder, "expires_at": int(now + seconds)}),
                ConditionExpression="attribute_not_exists(pk) OR holder = :me OR expires_at < :now",
                ExpressionAttributeValues={":me": {"S": holder}, ":now": {"N": str(int(now))}},
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, task: str, key: str, holder: str) -> None:
        """Give the reservation up (after storing, or when the task failed), if `holder` still has it."""
        try:
            self.dynamodb.delete_item(TableName=self.table, Key=to_dynamo(reservation_key(task, key)),
                                      ConditionExpression="holder = :me",
                                      ExpressionAttributeValues={":me": {"S": holder}})
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    # -- content of stored objects ----------------------------------------------------------------
    def content_tag(self, uri: str) -> str:
        """A stable tag of the content at `uri`: an object's ETag; for a prefix (`.../`), the digest of every
        key under it with its ETag; any other URI (not in S3) stands for itself."""
        if not uri.startswith("s3://"):
            return "uri:" + uri
        bucket, key = layout.split_uri(uri)
        if not key.endswith("/"):
            return "etag:" + str(self.s3.head_object(Bucket=bucket, Key=key)["ETag"]).strip('"')
        digest = hashlib.sha256()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
            for obj in page.get("Contents", []):
                digest.update(f"{obj['Key'][len(key):]}\0{str(obj['ETag']).strip(chr(34))}\n".encode())
        return "tree:" + digest.hexdigest()
