"""ArtifactStore: the only writer and reader of artifact versions, whatever their kind.

Every version (a task's DataFrame or JSON value, a FlyteFile or FlyteDirectory, a workflow-level output,
an upload, a version written by hand) is written by `ArtifactStore.write` in one order:

  1. the data object(s), never overwriting (chalicelib.store.layout says where);
  2. in one DynamoDB transaction: the query index items (chalicelib.store.index), the lineage edge "output"
     when an execution made it (chalicelib.store.lineage), and the metadata item, on the condition that no
     version with this id exists. The metadata item alone makes the version visible and, through the
     table's stream, fires its triggers; the transaction makes queries find it exactly then.

A crash between 1 and 2 leaves objects that nothing points to, which `chalicelib.store.collect` removes. A
retry with the same version id finds every step done and returns the stored version; the same id claimed by
another producer raises VersionConflictError, for every kind of version. (A version with more index items
than a transaction holds, 6 or more partition keys and a time partition, writes them first, in batches: a
crash there can leave it findable by queries though never announced.)
"""

from __future__ import annotations

import base64
import json
import zlib
from datetime import datetime
from typing import Any, Callable, Iterator

from chalicelib.aws import error_code
from chalicelib.config import Settings
from chalicelib.errors import (ArtifactError, NoMatchingVersionError, TransientAwsError, UnknownArtifactError,
                               VersionConflictError)
from chalicelib.sdk import files
from chalicelib.sdk.timeparts import iso, to_utc
from chalicelib.store import codec, layout, shards
from chalicelib.store import files as placing
from chalicelib.store.dynamo import from_dynamo, paginate, to_dynamo
from chalicelib.store.index import ArtifactIndex, index_items
from chalicelib.store.lineage import Edge, LineageStore
from chalicelib.store.models import (ArtifactVersion, ExecutionProducer, Producer, is_version_key, partition_key,
                                     producer_of, version_keys, versions_pks)

# DynamoDB's item limit is 400 KB (409,600 bytes of attribute names and values); the store keeps every item
# under 400,000 bytes, which moto (405,000) accepts too.
MAX_ITEM_BYTES = 400_000
MAX_TRANSACTION_ITEMS = 100  # TransactWriteItems' limit
Place = Callable[[], tuple[str, str]]  # writes the data object(s); returns (uri, format)


def crc32_checksum(body: bytes) -> str:
    """S3's ChecksumCRC32 of `body`. Sent as a header, S3 still verifies the upload, and botocore sends the body
    as it is instead of re-reading it through its chunked-trailer encoding in Python (twice as slow on large frames)."""
    return base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()


def _stamp(dt: datetime) -> str:
    # versions start with the UTC millisecond of the producing execution's start (models.make_version)
    dt = to_utc(dt)
    return dt.strftime("%Y%m%dT%H%M%S") + f"{dt.microsecond // 1000:03d}Z"


def _reasons(exc: BaseException) -> str:
    reasons = (getattr(exc, "response", None) or {}).get("CancellationReasons") or []
    return ", ".join(str(r.get("Code")) for r in reasons) or "no reason given"


def _condition_failed(exc: BaseException) -> bool:
    """Did the write fail because the version item exists (and for no other reason)?"""
    if error_code(exc) == "ConditionalCheckFailedException":
        return True
    reasons = [str(r.get("Code")) for r in (getattr(exc, "response", None) or {}).get("CancellationReasons") or []]
    return bool(reasons) and reasons[-1] == "ConditionalCheckFailed" and all(
        code in ("None", "ConditionalCheckFailed") for code in reasons)


class ArtifactStore:
    def __init__(self, settings: Settings, s3: Any, dynamodb: Any) -> None:
        self.settings = settings
        self.s3 = s3
        self.dynamodb = dynamodb
        self.index = ArtifactIndex.of(dynamodb, settings)
        self.lineage = LineageStore(settings, dynamodb)

    # -- writing: one path for every kind of version -----------------------------------------------
    def write(self, name: str, value: Any, partitions: dict[str, str], time_partition: datetime | None,
              version: str, produced_by: Producer | str | None, card: dict[str, Any] | None = None,
              fmt: str | None = None) -> ArtifactVersion:
        """Write a version of `name`. `value` is a DataFrame, a JSON value, a FlyteFile or FlyteDirectory, or
        `bytes` already encoded as `fmt` (parquet or json). Returns the stored version (see the module doc)."""
        producer = producer_of(produced_by)
        if files.is_file_value(value):
            prefix = layout.files_prefix(name, partitions, time_partition, version)
            return self._publish(name, partitions, time_partition, version, producer, card,
                                 lambda: placing.place(value, self.s3, self.settings.bucket, prefix))
        if isinstance(value, (bytes, bytearray)):
            if fmt not in ("parquet", "json"):
                raise ArtifactError(f"artifact {name!r}: encoded data must be parquet or json; got format {fmt!r}")
            body, body_fmt = bytes(value), fmt
        else:
            body_fmt = codec.format_for(value)
            body = codec.dumps(value, body_fmt)
        key = layout.data_key(name, partitions, time_partition, version, body_fmt)

        def place() -> tuple[str, str]:
            self._put_new(key, body)
            return f"s3://{self.settings.bucket}/{key}", body_fmt

        return self._publish(name, partitions, time_partition, version, producer, card, place)

    def _put_new(self, key: str, body: bytes) -> None:
        try:
            self.s3.put_object(Bucket=self.settings.bucket, Key=key, Body=body, IfNoneMatch="*",
                               ChecksumCRC32=crc32_checksum(body))
        except Exception as exc:
            if error_code(exc) != "PreconditionFailed":  # a retry: the object is already there
                raise

    def _publish(self, name: str, partitions: dict[str, str], time_partition: datetime | None, version: str,
                 producer: Producer | None, card: dict[str, Any] | None, place: Place) -> ArtifactVersion:
        longest = f"s3://{self.settings.bucket}/{'k' * 1024}"  # S3 keys stop at 1,024 bytes
        self._check_size(ArtifactVersion(name=name, version=version, partitions=partitions,
                                         time_partition=time_partition, uri=longest, format="parquet",
                                         produced_by=producer, card=card))  # before anything is written
        uri, fmt = place()
        record = ArtifactVersion(name=name, version=version, partitions=partitions, time_partition=time_partition,
                                 uri=uri, format=fmt, produced_by=producer, card=card)
        item = to_dynamo(record.to_item())
        edges = []
        if isinstance(producer, ExecutionProducer):
            edges = [Edge(kind="output", execution=producer.execution, artifact=name, version=version,
                          workflow=producer.workflow, launch_plan=producer.launch_plan, node=producer.node,
                          at=record.report()["created_at"])]
        try:
            self._commit(record, item, edges)
        except Exception as exc:
            code = error_code(exc)
            if code == "TransactionCanceledException" and not _condition_failed(exc):  # throttled or in conflict
                raise TransientAwsError(f"DynamoDB cancelled the write of {name}:{version} ({_reasons(exc)}); "
                                        f"the step is retried") from exc
            if code not in ("ConditionalCheckFailedException", "TransactionCanceledException"):
                raise
            existing = self.get(name, version)
            if producer is None or existing.produced_by is None or not producer.same_as(existing.produced_by):
                made = existing.produced_by.describe() if existing.produced_by else "an unknown producer"
                asked = producer.describe() if producer else "an unknown producer"
                raise VersionConflictError(
                    f"artifact {name!r} version {version!r} was already made by {made}, not by {asked}; nothing "
                    f"was overwritten. Run the producer again for a new version"
                ) from exc
            return existing
        return record

    @staticmethod
    def _check_size(record: ArtifactVersion) -> None:
        # UTF-8 bytes of the typed item: a little more than DynamoDB counts (type tags, quotes), never less
        size = len(json.dumps(to_dynamo(record.to_item()), separators=(",", ":"), ensure_ascii=False).encode())
        if size > MAX_ITEM_BYTES:
            raise ArtifactError(
                f"artifact {record.name!r} version {record.version!r}: its metadata item would take up to {size} "
                f"bytes; DynamoDB items stop at 400 KB and the store keeps them under {MAX_ITEM_BYTES}. Keep cards and "
                f"partition values smaller"
            )

    def _commit(self, record: ArtifactVersion, item: dict[str, Any], edges: list[Edge]) -> None:
        """Index items, lineage edges, then the metadata item (conditional): one transaction when it fits."""
        index = [{"Put": {"TableName": self.settings.index_table, "Item": to_dynamo(i)}} for i in index_items(record)]
        lineage = [{"Put": {"TableName": self.settings.registry_table, "Item": to_dynamo(i)}}
                   for edge in edges for i in edge.items()]
        metadata = {"Put": {"TableName": self.settings.artifacts_table, "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)"}}
        if len(index) + len(lineage) + 1 <= MAX_TRANSACTION_ITEMS:
            self.dynamodb.transact_write_items(TransactItems=[*index, *lineage, metadata])
            return
        self.index.write(record)
        self.lineage.put(edges)
        self.dynamodb.put_item(**metadata["Put"])

    # -- values passed between tasks (not artifacts) -----------------------------------------------
    def put_run_value(self, execution: str, node: str, output: str, value: Any, max_inline_bytes: int) -> Any:
        """The literal that carries a task output to later tasks: inline JSON when small, else a reference to
        an object under runs/ (always for DataFrames). Files inside the value are uploaded first."""
        placing.upload_local(value, self.s3, self.settings.bucket, layout.run_key(execution, node, output))
        if codec.is_dataframe(value):
            fmt, body = "parquet", codec.dumps(value, "parquet")
        else:
            literal = codec.literal(value, f"task output {output!r}")
            text = json.dumps(literal)
            if len(text.encode()) <= max_inline_bytes:
                return literal
            fmt, body = "json", text.encode()
        key = layout.run_key(execution, node, output, fmt)
        self.s3.put_object(Bucket=self.settings.bucket, Key=key, Body=body)
        return {"$ref": {"uri": f"s3://{self.settings.bucket}/{key}", "format": fmt}}

    def read_bytes(self, uri: str) -> bytes:
        bucket, key = layout.split_uri(uri)
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def read_tail(self, uri: str, size: int) -> bytes:
        """The last `size` bytes of an object (all of it when smaller): a parquet footer without the data."""
        bucket, key = layout.split_uri(uri)
        return self.s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=-{size}")["Body"].read()

    def load_uri(self, uri: str, fmt: str) -> Any:
        """The value of a data object (a version's or a run value's): files stay in S3, as lazy objects."""
        if fmt in layout.FILE_FORMATS:
            return files.from_literal({"$artifact": {"uri": uri, "format": fmt}}, self.s3)
        return codec.loads(self.read_bytes(uri), fmt)

    def load(self, version: ArtifactVersion) -> Any:
        return self.load_uri(version.uri, version.format)

    # -- reading versions --------------------------------------------------------------------------
    def get(self, name: str, version: str) -> ArtifactVersion:
        found = self.find(name, version)
        if found is None:
            raise UnknownArtifactError(f"artifact {name!r} has no version {version!r}; list versions with `artifacts {name}`")
        return found

    def find(self, name: str, version: str) -> ArtifactVersion | None:
        """A version by id, or None (on its write shard, else under the key of a stage before write shards)."""
        return self.index.version(name, version)

    def get_many(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], ArtifactVersion]:
        """The versions among `keys` ((artifact, version) pairs) that exist: BatchGetItem, 100 keys a call, on
        their write shards, then the ones not found under the unsharded key (written before write shards)."""
        found: dict[tuple[str, str], ArtifactVersion] = {}
        places = {(a, v): version_keys(a, v) for a, v in sorted(set(keys))}
        self._get_batches([where[0] for where in places.values()], found)
        self._get_batches([where[-1] for pair, where in places.items() if pair not in found and len(where) > 1],
                          found)
        return found

    def _get_batches(self, keys: list[dict[str, str]], found: dict[tuple[str, str], ArtifactVersion]) -> None:
        table = self.settings.artifacts_table
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {table: {"Keys": [to_dynamo(k) for k in keys[start:start + 100]],
                                               "ConsistentRead": True}}
            while request:
                resp = self.dynamodb.batch_get_item(RequestItems=request)
                for raw in resp.get("Responses", {}).get(table, []):
                    v = ArtifactVersion.from_item(from_dynamo(raw))
                    found[(v.name, v.version)] = v
                request = resp.get("UnprocessedKeys") or {}

    def latest(self, name: str, partitions: dict[str, str], time_partition: datetime | None = None,
               describe: str | None = None) -> ArtifactVersion:
        """The newest version with these partitions (any subset of the keys) and time partition, if given."""
        found = self.index.latest(name, partitions, time_partition)
        if found is None:
            what = describe or f"{name}[{partition_key(partitions)}" \
                               f"{', time_partition=' + iso(time_partition) if time_partition else ''}]"
            raise NoMatchingVersionError(
                f"no version of artifact {name!r} matches {what}; check the partition values, "
                f"or list versions with `artifacts {name}`"
            )
        return found

    def versions(self, name: str, partitions: dict[str, str] | None = None, limit: int | None = None,
                 since: datetime | None = None, until: datetime | None = None,
                 newest_first: bool = True) -> list[ArtifactVersion]:
        """Versions of one artifact whose partitions include `partitions` (any subset of its keys), made in
        [since, until): one paged Query per write shard, merged in version order, on the query index when
        partitions are given. With `limit`, each shard reads pages of `limit` items, and only as far as needed."""
        low = f"V#{_stamp(since)}" if since else "V#"
        high = f"V#{_stamp(until)}" if until else "V#~"
        if partitions:
            table, pks = self.settings.index_table, self.index.pks(name, partitions, None)
        else:
            table, pks = self.settings.artifacts_table, versions_pks(name)

        def shard(pk: str) -> Iterator[dict[str, Any]]:
            kwargs: dict[str, Any] = {
                "TableName": table, "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
                "ExpressionAttributeValues": {":pk": {"S": pk}, ":lo": {"S": low}, ":hi": {"S": high}},
                "ScanIndexForward": not newest_first, "ConsistentRead": True,
            }
            return paginate(self.dynamodb, "query", kwargs, page_size=limit)

        out: list[ArtifactVersion] = []
        for item in shards.merged([shard(pk) for pk in pks], descending=newest_first):
            out.append(ArtifactVersion.from_item(item))
            if limit and len(out) >= limit:
                break
        return out

    def scan_versions(self, projection: list[str] | None = None) -> Iterator[dict[str, Any]]:
        """Every version item of the stage (a Scan: for people looking, never on an event path)."""
        kwargs: dict[str, Any] = {"TableName": self.settings.artifacts_table}
        if projection:
            names = {f"#a{i}": attr for i, attr in enumerate(["pk", "sk", *projection])}
            kwargs["ProjectionExpression"] = ", ".join(names)
            kwargs["ExpressionAttributeNames"] = names
        for item in paginate(self.dynamodb, "scan", kwargs):
            if is_version_key(item.get("pk"), item.get("sk")):
                yield item

    def all_versions(self) -> list[ArtifactVersion]:
        """Every version of the stage, oldest first (a Scan)."""
        versions = [ArtifactVersion.from_item(i) for i in self.scan_versions()]
        return sorted(versions, key=lambda v: (v.version, v.name))

    def count_versions(self) -> int:
        return sum(1 for _ in self.scan_versions(["version"]))
