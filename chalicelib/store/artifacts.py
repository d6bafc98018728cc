"""ArtifactStore: data object first, then the metadata item that makes the version visible."""

from __future__ import annotations

import base64
import zlib
from datetime import datetime
from typing import Any

from chalicelib.aws import error_code
from chalicelib.config import Settings
from chalicelib.errors import NoMatchingVersionError, UnknownArtifactError, VersionConflictError
from chalicelib.sdk.timeparts import iso
from chalicelib.store import codec
from chalicelib.store.dynamo import from_dynamo, to_dynamo
from chalicelib.store.index import ArtifactIndex
from chalicelib.store.models import ArtifactVersion, partition_key


def data_key(name: str, partitions: dict[str, str], time_partition: datetime | None, version: str, fmt: str) -> str:
    """Hive-style: artifacts/<name>/<k>=<v>/.../time_partition=<iso>/<version>.<ext>."""
    parts = [f"{k}={partitions[k]}" for k in sorted(partitions)]
    if time_partition is not None:
        parts.append(f"time_partition={iso(time_partition)}")
    return "/".join(["artifacts", name, *parts, f"{version}.{codec.EXTENSIONS[fmt]}"])


def crc32_checksum(body: bytes) -> str:
    """S3's ChecksumCRC32 of `body`. Sent as a header, S3 still verifies the upload, and botocore sends the body
    as it is instead of re-reading it through its chunked-trailer encoding in Python (twice as slow on large frames)."""
    return base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()


def split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


class ArtifactStore:
    def __init__(self, settings: Settings, s3: Any, dynamodb: Any) -> None:
        self.settings = settings
        self.s3 = s3
        self.dynamodb = dynamodb

    # -- writing ----------------------------------------------------------------------------------
    def put(
        self,
        name: str,
        value: Any,
        partitions: dict[str, str],
        time_partition: datetime | None,
        version: str,
        produced_by: str | None,
        card: dict[str, Any] | None = None,
    ) -> ArtifactVersion:
        fmt = codec.format_for(value)
        body = codec.dumps(value, fmt)
        return self.register(name, body, fmt, partitions, time_partition, version, produced_by, card)

    def register(
        self,
        name: str,
        body: bytes,
        fmt: str,
        partitions: dict[str, str],
        time_partition: datetime | None,
        version: str,
        produced_by: str | None,
        card: dict[str, Any] | None = None,
    ) -> ArtifactVersion:
        """Write the data object (never overwriting), then the metadata item (never overwriting).

        A retry with the same version finds both already there and returns the stored version. A concurrent
        write of the same key (ConditionalRequestConflict) is raised: the task is retried (it is transient)."""
        key = data_key(name, partitions, time_partition, version, fmt)
        try:
            self.s3.put_object(Bucket=self.settings.bucket, Key=key, Body=body, IfNoneMatch="*",
                               ChecksumCRC32=crc32_checksum(body))
        except Exception as exc:
            if error_code(exc) != "PreconditionFailed":
                raise
        record = ArtifactVersion(
            name=name, version=version, partitions=partitions, time_partition=time_partition,
            uri=f"s3://{self.settings.bucket}/{key}", format=fmt, produced_by=produced_by, card=card,
        )
        ArtifactIndex.of(self.dynamodb, self.settings).write(record)  # before the version is announced
        try:
            self.dynamodb.put_item(
                TableName=self.settings.artifacts_table,
                Item=to_dynamo(record.to_item()),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            existing = self.get(name, version)
            if existing.produced_by != produced_by:
                raise VersionConflictError(
                    f"artifact {name!r} version {version!r} was already made by {existing.produced_by!r}, "
                    f"not by {produced_by!r}; nothing was overwritten. Run the producer again for a new version"
                ) from exc
            return existing
        return record

    # -- reading ----------------------------------------------------------------------------------
    def get(self, name: str, version: str) -> ArtifactVersion:
        resp = self.dynamodb.get_item(
            TableName=self.settings.artifacts_table,
            Key=to_dynamo({"pk": f"A#{name}", "sk": f"V#{version}"}),
            ConsistentRead=True,
        )
        if "Item" not in resp:
            raise UnknownArtifactError(f"artifact {name!r} has no version {version!r}; list versions with `artifacts {name}`")
        return ArtifactVersion.from_item(from_dynamo(resp["Item"]))

    def latest(self, name: str, partitions: dict[str, str], time_partition: datetime | None = None,
               describe: str | None = None) -> ArtifactVersion:
        """The newest version with exactly these partitions (and time partition, if given): one Query."""
        pkey = partition_key(partitions)
        if time_partition is None:
            index, key_attr, key_value = "gsi1", "gsi1pk", f"{name}|{pkey}"
        else:
            index, key_attr, key_value = "gsi2", "gsi2pk", f"{name}|{pkey}|{iso(time_partition)}"
        resp = self.dynamodb.query(
            TableName=self.settings.artifacts_table,
            IndexName=index,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": key_attr},
            ExpressionAttributeValues={":v": {"S": key_value}},
            ScanIndexForward=False,
            Limit=1,
        )
        items = resp.get("Items", [])
        if not items:
            what = describe or f"{name}[{pkey}{', time_partition=' + iso(time_partition) if time_partition else ''}]"
            raise NoMatchingVersionError(
                f"no version of artifact {name!r} matches {what}; check the partition values, "
                f"or list versions with `artifacts {name}`"
            )
        return ArtifactVersion.from_item(from_dynamo(items[0]))

    def versions(self, name: str, limit: int | None = None) -> list[ArtifactVersion]:
        """Versions of one artifact, newest first."""
        kwargs: dict[str, Any] = {
            "TableName": self.settings.artifacts_table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"A#{name}"}},
            "ScanIndexForward": False,
        }
        out: list[ArtifactVersion] = []
        while True:
            if limit:
                kwargs["Limit"] = limit - len(out)
            resp = self.dynamodb.query(**kwargs)
            out.extend(ArtifactVersion.from_item(from_dynamo(i)) for i in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp or (limit and len(out) >= limit):
                return out
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def load(self, version: ArtifactVersion) -> Any:
        bucket, key = split_uri(version.uri)
        body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return codec.loads(body, version.format)
