"""DynamoDB items and the keys that make "latest version for these partitions" one Query.

Artifacts table (stream: NEW_IMAGE), one item per version:

    pk = "A#<name>"                            sk = "V#<version>"       all versions of an artifact
    gsi1pk = "<name>|<k1=v1,k2=v2>"            gsi1sk = "<version>"     latest for these partitions
    gsi2pk = "<name>|<k1=v1,...>|<time iso>"   gsi2sk = "<version>"     latest for partitions + time partition

Versions sort by the time they were made, so "latest" is the greatest version string: a total order
(creation time in UTC milliseconds, then a hash that is unique per producer).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.sdk.timeparts import iso, to_utc

VERSION_PK, VERSION_SK = "A#", "V#"
SUBSCRIPTION_PK = "SUB#"


def version_key(name: str, version: str) -> dict[str, str]:
    """The artifacts table key of one version."""
    return {"pk": f"{VERSION_PK}{name}", "sk": f"{VERSION_SK}{version}"}


def is_version_key(pk: Any, sk: Any) -> bool:
    """Does an artifacts-table key name a version item (the table holds nothing else today)?"""
    return isinstance(pk, str) and pk.startswith(VERSION_PK) and isinstance(sk, str) and sk.startswith(VERSION_SK)


def subscription_key(artifact: str, launch_plan: str) -> dict[str, str]:
    """The registry key of the subscription of `launch_plan` to `artifact`."""
    return {"pk": f"{SUBSCRIPTION_PK}{artifact}", "sk": f"LP#{launch_plan}"}


def versions_pk(name: str) -> str:
    return f"{VERSION_PK}{name}"


class ExecutionProducer(BaseModel):
    """A version made by a task (or the workflow-output state) of a Step Functions execution."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["execution"] = "execution"
    execution: str  # the execution ARN
    workflow: str | None = None
    launch_plan: str | None = None
    node: str | None = None

    @property
    def execution_name(self) -> str:
        return self.execution.rsplit(":", 1)[-1]

    def describe(self) -> str:
        return f"execution {self.execution_name}" + (f" ({self.workflow.rsplit('.', 1)[-1]})" if self.workflow else "")

    def same_as(self, other: Producer) -> bool:
        return isinstance(other, ExecutionProducer) and other.execution == self.execution


class UploadProducer(BaseModel):
    """A version made from an object uploaded to the stage bucket by a person or another system."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["upload"] = "upload"
    bucket: str
    key: str
    version_id: str | None = None  # the object's S3 version id (a versioned bucket), else its ETag is
    etag: str | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def describe(self) -> str:
        return f"upload {self.uri}" + (f" (object version {self.version_id})" if self.version_id else "")

    def same_as(self, other: Producer) -> bool:
        return isinstance(other, UploadProducer) and (other.bucket, other.key) == (self.bucket, self.key)


class ManualProducer(BaseModel):
    """A version written by code calling the store directly (scripts, tests, seeding)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["manual"] = "manual"
    by: str = "manual"

    def describe(self) -> str:
        return f"written by {self.by}"

    def same_as(self, other: Producer) -> bool:
        return isinstance(other, ManualProducer) and other.by == self.by


Producer = Annotated[Union[ExecutionProducer, UploadProducer, ManualProducer], Field(discriminator="kind")]


def producer_of(value: Any) -> Producer | None:
    """A producer from its stored or given form: a model, its dict, or a string (an execution ARN, an
    `s3://bucket/key` URI, or any other text for a manual write)."""
    if value is None or isinstance(value, (ExecutionProducer, UploadProducer, ManualProducer)):
        return value
    if isinstance(value, dict):
        kind = value.get("kind")
        model = {"execution": ExecutionProducer, "upload": UploadProducer}.get(str(kind), ManualProducer)
        return model.model_validate(value)
    text = str(value)
    if text.startswith("arn:") and ":execution:" in text:
        return ExecutionProducer(execution=text)
    if text.startswith("s3://"):
        bucket, _, key = text.removeprefix("s3://").partition("/")
        return UploadProducer(bucket=bucket, key=key)
    return ManualProducer(by=text)


def partition_key(partitions: dict[str, str]) -> str:
    return ",".join(f"{k}={partitions[k]}" for k in sorted(partitions))


# What make_version produces; other (hand-written) version ids are valid too, but only these are ever
# recognised in an object key by chalicelib.store.layout, so a stray key is never taken for a version's data.
MADE_VERSION = re.compile(r"\d{8}T\d{9}Z-[0-9a-f]{10}")


def make_version(made_at: datetime, *identity: str, seq: int = 0) -> str:
    """A version id: `20261125T151728123Z-<10 hex>`; the same identity and time always give the same id.

    The first 3 hex digits are `seq` (the producing node's position in its workflow), so versions made by
    one execution sort in the order its tasks ran, after every version of earlier executions."""
    stamp = to_utc(made_at).strftime("%Y%m%dT%H%M%S") + f"{to_utc(made_at).microsecond // 1000:03d}Z"
    digest = hashlib.sha256("\x1f".join(identity).encode()).hexdigest()[:7]
    return f"{stamp}-{min(seq, 0xFFF):03x}{digest}"


class ArtifactVersion(BaseModel):
    name: str
    version: str
    partitions: dict[str, str] = Field(default_factory=dict)
    time_partition: datetime | None = None
    uri: str
    format: str
    produced_by: Producer | None = None
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    card: dict[str, Any] | None = None

    @field_validator("produced_by", mode="before")
    @classmethod
    def _producer(cls, value: Any) -> Any:
        return producer_of(value)

    @property
    def execution(self) -> str | None:
        """The ARN of the execution that made this version, if an execution did."""
        return self.produced_by.execution if isinstance(self.produced_by, ExecutionProducer) else None

    def to_item(self) -> dict[str, Any]:
        pkey = partition_key(self.partitions)
        item: dict[str, Any] = {
            **version_key(self.name, self.version),
            "gsi1pk": f"{self.name}|{pkey}",
            "gsi1sk": self.version,
            "name": self.name,
            "version": self.version,
            "partitions": dict(self.partitions),
            "uri": self.uri,
            "format": self.format,
            "created_at": iso_ms(self.created_at),
        }
        if self.time_partition is not None:
            item["time_partition"] = iso(self.time_partition)
            item["gsi2pk"] = f"{self.name}|{pkey}|{iso(self.time_partition)}"
            item["gsi2sk"] = self.version
        if self.produced_by:
            item["produced_by"] = self.produced_by.model_dump(exclude_none=True)
        if self.card:
            item["card"] = self.card
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ArtifactVersion:
        return cls(
            name=item["name"],
            version=item["version"],
            partitions={str(k): str(v) for k, v in (item.get("partitions") or {}).items()},
            time_partition=item.get("time_partition"),
            uri=item["uri"],
            format=item["format"],
            produced_by=item.get("produced_by"),
            created_at=item["created_at"],
            card=item.get("card"),
        )

    def reference(self) -> dict[str, Any]:
        """The literal that passes this version to a task: `{"$artifact": {...}}`."""
        return {"$artifact": {"name": self.name, "version": self.version, "uri": self.uri, "format": self.format}}

    def report(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "partitions": self.partitions,
            "time_partition": iso(self.time_partition) if self.time_partition else None,
            "uri": self.uri,
            "format": self.format,
            "produced_by": self.produced_by.model_dump() if self.produced_by else None,
            "created_at": iso_ms(self.created_at),
            "card": self.card,
        }


def iso_ms(dt: datetime) -> str:
    dt = to_utc(dt)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class Subscription(BaseModel):
    """A launch plan's trigger, stored under the artifact it listens to: one Query finds them all."""

    artifact: str
    launch_plan: str
    lp_version: str
    workflow: str
    state_machine_arn: str
    active: bool = True
    filter: dict[str, str] = Field(default_factory=dict)
    bindings: dict[str, dict[str, Any]] = Field(default_factory=dict)
    fixed_inputs: dict[str, Any] = Field(default_factory=dict)
    default_inputs: dict[str, Any] = Field(default_factory=dict)
    # OnArtifacts: {"on": "time_partition" | key, "members": [{"artifact": ..., "filter": {...}}, ...]}
    align: dict[str, Any] | None = None

    def to_item(self) -> dict[str, Any]:
        # Bindings hold floats and nested literals: kept as one JSON document (DynamoDB numbers are Decimals).
        return {**subscription_key(self.artifact, self.launch_plan), "active": self.active,
                "doc": self.model_dump_json(exclude={"active"})}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Subscription:
        return cls.model_validate({**json.loads(item["doc"]), "active": bool(item.get("active", True))})
