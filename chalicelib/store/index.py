"""Query index: "latest version for any subset of partitions (and time partition)" as strongly consistent
DynamoDB Queries, one per write shard, whatever the number of versions.

Besides its version item (`A#<name>` / `V#<version>`), each version writes one index item per subset of its
partition keys, with and without its time partition (the empty subset without time partition is the
version item's own partition):

    pk = "Q#<name>|<k1=v1,k2=v2>|<time iso or empty>"             sk = "V#<version>"     (shard 0)
    pk = "Q#<name>|<k1=v1,k2=v2>|<time iso or empty>#<shard>"     sk = "V#<version>"     (shards 1..N-1)

on the version's write shard (chalicelib.store.models.shard_of: its version item's shard too), so one
artifact's versions spread over N keys per subset. "Latest" is then N Limit-1 Queries, one per shard, at
once (chalicelib.store.shards), the greatest sort key winning: N read calls instead of one, as many read
units, and about one round trip of time. An index item carries the version's attributes (not its keys,
nor its card), so a lookup needs nothing else. Index items are written in one transaction with the version item (chalicelib.store.artifacts): a
version is found by a query exactly when it is announced on the stream, and a write that fails part-way
leaves no index item behind. They live in their own table (Settings.index_table), which has no stream,
so writing them invokes nothing; a version by id is read from the artifacts table.
"""

from __future__ import annotations

import itertools
import time
from datetime import datetime
from typing import Any

from chalicelib.errors import NoMatchingVersionError, TransientAwsError, UnknownArtifactError
from chalicelib.sdk.query import QuerySpec
from chalicelib.sdk.timeparts import iso
from chalicelib.store import shards
from chalicelib.store.dynamo import from_dynamo, to_dynamo
from chalicelib.store.models import VERSION_SHARDS, ArtifactVersion, partition_key, shard_of, sharded, version_keys

# Keys, and the card (up to 300,000 characters): an index item answers "which version", not "what it says".
_NOT_COPIED = ("pk", "sk", "card")
_BATCH = 25  # BatchWriteItem's limit


def index_pk(name: str, partitions: dict[str, str], time_partition: datetime | None, shard: int = 0) -> str:
    """The index partition key of these partitions and time partition on one write shard."""
    base = f"Q#{name}|{partition_key(partitions)}|{iso(time_partition) if time_partition is not None else ''}"
    return sharded(base, shard)


def index_pks(name: str, partitions: dict[str, str], time_partition: datetime | None) -> list[str]:
    """The index partition keys of these partitions and time partition, one per write shard."""
    return [index_pk(name, partitions, time_partition, s) for s in range(VERSION_SHARDS)]


def index_items(version: ArtifactVersion) -> list[dict[str, Any]]:
    """The index items of one version (2^k with a time partition, plus 2^k - 1 without, for k keys)."""
    body = {k: v for k, v in version.to_item().items() if k not in _NOT_COPIED}
    keys = sorted(version.partitions)
    shard = shard_of(version.version)
    times = [None, version.time_partition] if version.time_partition is not None else [None]
    items = []
    for size in range(len(keys) + 1):
        for subset in itertools.combinations(keys, size):
            parts = {k: version.partitions[k] for k in subset}
            for tp in times:
                items.append({**body, "pk": index_pk(version.name, parts, tp, shard), "sk": f"V#{version.version}"})
    return items


class ArtifactIndex:
    """Writes index items and answers queries with one DynamoDB call per write shard."""

    def __init__(self, dynamodb: Any, table: str, versions_table: str) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.versions_table = versions_table

    @classmethod
    def of(cls, dynamodb: Any, settings: Any) -> ArtifactIndex:
        return cls(dynamodb, settings.index_table, settings.artifacts_table)

    def pks(self, name: str, partitions: dict[str, str], time_partition: datetime | None) -> list[str]:
        return index_pks(name, partitions, time_partition)

    def write(self, version: ArtifactVersion) -> None:
        """Idempotent: rewriting an index item writes the same attributes."""
        items = index_items(version)
        for start in range(0, len(items), _BATCH):
            requests = [{"PutRequest": {"Item": to_dynamo(i)}} for i in items[start:start + _BATCH]]
            pending: dict[str, Any] = {self.table: requests}
            for attempt in range(8):
                resp = self.dynamodb.batch_write_item(RequestItems=pending)
                pending = resp.get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(min(2.0, 0.05 * 2**attempt))  # throttled: back off, then resend only the rest
            else:
                raise TransientAwsError(
                    f"DynamoDB kept throttling the query index items of {version.name}:{version.version} in table "
                    f"{self.table!r}; the task is retried"
                )

    def latest(self, name: str, partitions: dict[str, str], time_partition: datetime | None) -> ArtifactVersion | None:
        """The newest version matching these partitions (any subset) and time partition, or None: the newest
        of each write shard's newest (one Limit-1 Query per shard, at once)."""
        found = shards.newest(shards.each(self._newest_on, index_pks(name, partitions, time_partition)))
        return ArtifactVersion.from_item(found) if found else None

    def _newest_on(self, pk: str) -> dict[str, Any] | None:
        resp = self.dynamodb.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :v)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":v": {"S": "V#"}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = resp.get("Items", [])
        return from_dynamo(items[0]) if items else None

    def version(self, name: str, version: str) -> ArtifactVersion | None:
        """A version by id: on its write shard, else (written before write shards) under the unsharded key."""
        for key in version_keys(name, version):
            resp = self.dynamodb.get_item(TableName=self.versions_table, Key=to_dynamo(key), ConsistentRead=True)
            if "Item" in resp:
                return ArtifactVersion.from_item(from_dynamo(resp["Item"]))
        return None

    def find(self, query: QuerySpec) -> ArtifactVersion:
        """Resolve a query to one version, or raise NoMatchingVersionError naming the artifact and query."""
        if query.version:
            found = self.version(query.artifact, query.version)
            if found is None:
                raise UnknownArtifactError(
                    f"artifact {query.artifact!r} has no version {query.version!r} (query {query.describe()}); "
                    f"check the version id"
                )
            wrong = {k: v for k, v in query.partitions.items() if found.partitions.get(k) != v}
            if wrong or (query.time_partition is not None and found.time_partition != query.time_partition):
                raise NoMatchingVersionError(
                    f"version {query.version!r} of artifact {query.artifact!r} does not match {query.describe()}: "
                    f"it has partitions {found.partitions}"
                    + (f" and time partition {iso(found.time_partition)}" if found.time_partition else "")
                )
            return found
        found = self.latest(query.artifact, query.partitions, query.time_partition)
        if found is None:
            raise NoMatchingVersionError(
                f"no version of artifact {query.artifact!r} matches the query {query.describe()}; "
                f"check the partition values and time partition, or produce such a version first"
            )
        return found
