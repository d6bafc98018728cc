"""DynamoDB items and their keys.

Artifacts table (stream: NEW_IMAGE), one item per version, on one of VERSION_SHARDS write shards:

    pk = "A#<name>" (shard 0) or "A#<name>#<shard>" (shards 1..N-1)    sk = "V#<version>"

"Latest for these partitions" is answered by the query index table (chalicelib.store.index), sharded the
same way. Versions sort by the time they were made, so "latest" is the greatest version string: a total
order (creation time in UTC milliseconds, then a hash that is unique per producer).

Write shards. DynamoDB takes at most 1,000 write units/s under one partition-key value, and a version's
items are written in a transaction, 2 units each (items under 1 KB). Unsharded, every version of an
artifact lands on `A#<name>` (and on the index's `Q#<name>||...`): 2 units x 1,000 versions/s = 2,000
units/s on one key, twice the limit; one artifact tops out at 500 versions/s. With N shards chosen from
the version id's hash, each key takes 2,000 / N units/s at 1,000 versions/s of one artifact: N = 4 is
500 (2x headroom on average only, less in an unlucky second), N = 8 is 250 (4x on average; a second
6 standard deviations above the mean, 125 + 6 x 11 versions, is still 382 units/s, 2.6x). Readers pay N
Limit-1 Queries for "latest" and merge N Queries for a listing. N is fixed for a stage's lifetime: a
version is read by id at shard_of(version), so changing N would hide versions written under the old N.

Shard 0 is spelled as before sharding (`A#<name>`, `Q#<name>|...|...`), so items written by a stage
before sharding are still found: a read by id falls back to shard 0, and every listing and "latest"
includes shard 0. The suffix `#<shard>` cannot collide with a name: names, partition keys and partition
values never contain `#` (chalicelib.sdk.charset), nor do time partitions (ISO 8601).
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from datetime import datetime, timezone
from typing import Any, Union

from msgspec import Struct, field
from msgspec.structs import force_setattr

from chalicelib import checks
from chalicelib.errors import ArtifactError, DefinitionError
from chalicelib.sdk.timeparts import iso, to_utc

VERSION_PK, VERSION_SK = "A#", "V#"
SUBSCRIPTION_PK = "SUB#"
VERSION_SHARDS = 8  # write shards per artifact key: the module doc says why 8
SHARD_MARK = "#"  # never in a name, partition value or time partition (chalicelib.sdk.charset)


def shard_of(version: str) -> int:
    """The write shard of a version id: its CRC-32 mod VERSION_SHARDS (stable across processes, unlike hash())."""
    return zlib.crc32(version.encode()) % VERSION_SHARDS


def sharded(pk: str, shard: int) -> str:
    """A partition key on one write shard: shard 0 keeps the unsharded spelling, so older items stay found."""
    return pk if shard == 0 else f"{pk}{SHARD_MARK}{shard}"


def version_key(name: str, version: str) -> dict[str, str]:
    """The artifacts table key of one version (on its write shard)."""
    return {"pk": sharded(versions_pk(name), shard_of(version)), "sk": f"{VERSION_SK}{version}"}


def version_keys(name: str, version: str) -> list[dict[str, str]]:
    """Where a version can be: its shard's key, then the unsharded key a stage wrote before write shards."""
    key = version_key(name, version)
    legacy = {"pk": versions_pk(name), "sk": key["sk"]}
    return [key] if key == legacy else [key, legacy]


def is_version_key(pk: Any, sk: Any) -> bool:
    """Does an artifacts-table key name a version item, on any write shard (the table holds nothing else today)?"""
    if not (isinstance(pk, str) and pk.startswith(VERSION_PK) and isinstance(sk, str) and sk.startswith(VERSION_SK)):
        return False
    _, mark, shard = pk[len(VERSION_PK):].rpartition(SHARD_MARK)
    return not mark or shard in _SHARD_SUFFIXES or not shard.isdigit()  # a name with '#' is refused by name later


_SHARD_SUFFIXES = frozenset(str(s) for s in range(1, VERSION_SHARDS))


def subscription_key(artifact: str, launch_plan: str) -> dict[str, str]:
    """The registry key of the subscription of `launch_plan` to `artifact`."""
    return {"pk": f"{SUBSCRIPTION_PK}{artifact}", "sk": f"LP#{launch_plan}"}


def versions_pk(name: str) -> str:
    """The unsharded (shard 0) partition key of an artifact's versions."""
    return f"{VERSION_PK}{name}"


def versions_pks(name: str) -> list[str]:
    """The partition keys of all an artifact's versions, one per write shard."""
    return [sharded(versions_pk(name), s) for s in range(VERSION_SHARDS)]


VERSION_FIX = "the item was not written by the artifact store: write versions with the SDK or ArtifactStore.write"


class ExecutionProducer(Struct, frozen=True, kw_only=True):
    """A version made by a task (or the workflow-output state) of a Step Functions execution."""

    kind: str = "execution"
    execution: str  # the execution ARN
    workflow: str | None = None
    launch_plan: str | None = None
    node: str | None = None

    def __post_init__(self) -> None:
        _check_producer(self, ("execution",), ("workflow", "launch_plan", "node"))

    @property
    def execution_name(self) -> str:
        return self.execution.rsplit(":", 1)[-1]

    def describe(self) -> str:
        return f"execution {self.execution_name}" + (f" ({self.workflow.rsplit('.', 1)[-1]})" if self.workflow else "")

    def same_as(self, other: Producer) -> bool:
        return isinstance(other, ExecutionProducer) and other.execution == self.execution

    def to_dict(self, exclude_none: bool = False) -> dict[str, Any]:
        return _producer_dict(self, exclude_none)


class UploadProducer(Struct, frozen=True, kw_only=True):
    """A version made from an object uploaded to the stage bucket by a person or another system."""

    kind: str = "upload"
    bucket: str
    key: str
    version_id: str | None = None  # the object's S3 version id (a versioned bucket), else its ETag is
    etag: str | None = None

    def __post_init__(self) -> None:
        _check_producer(self, ("bucket", "key"), ("version_id", "etag"))

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def describe(self) -> str:
        return f"upload {self.uri}" + (f" (object version {self.version_id})" if self.version_id else "")

    def same_as(self, other: Producer) -> bool:
        return isinstance(other, UploadProducer) and (other.bucket, other.key) == (self.bucket, self.key)

    def to_dict(self, exclude_none: bool = False) -> dict[str, Any]:
        return _producer_dict(self, exclude_none)


class ManualProducer(Struct, frozen=True, kw_only=True):
    """A version written by code calling the store directly (scripts, tests, seeding)."""

    kind: str = "manual"
    by: str = "manual"

    def __post_init__(self) -> None:
        _check_producer(self, ("by",), ())

    def describe(self) -> str:
        return f"written by {self.by}"

    def same_as(self, other: Producer) -> bool:
        return isinstance(other, ManualProducer) and other.by == self.by

    def to_dict(self, exclude_none: bool = False) -> dict[str, Any]:
        return _producer_dict(self, exclude_none)


Producer = Union[ExecutionProducer, UploadProducer, ManualProducer]
_PRODUCERS: dict[str, Any] = {"execution": ExecutionProducer, "upload": UploadProducer, "manual": ManualProducer}
_KINDS = {cls: kind for kind, cls in _PRODUCERS.items()}
_PRODUCER_FIELDS = {kind: cls.__struct_fields__ for kind, cls in _PRODUCERS.items()}


def _check_producer(producer: Any, required: tuple[str, ...], optional: tuple[str, ...]) -> None:
    kind = _KINDS[type(producer)]
    where = f"a version's producer ({kind})"
    checks.one_of(producer.kind, (kind,), f"{where} field 'kind'", ArtifactError, VERSION_FIX)
    for name in required:
        checks.text(getattr(producer, name), f"{where} field {name!r}", ArtifactError, VERSION_FIX)
    for name in optional:
        checks.optional_text(getattr(producer, name), f"{where} field {name!r}", ArtifactError, VERSION_FIX)


def _producer_dict(producer: Any, exclude_none: bool) -> dict[str, Any]:
    """The stored form: every field, in order (`kind` first); with `exclude_none`, only those that are set."""
    return {name: getattr(producer, name) for name in _PRODUCER_FIELDS[producer.kind]
            if not (exclude_none and getattr(producer, name) is None)}


def producer_of(value: Any) -> Producer | None:
    """A producer from its stored or given form: a model, its dict, or a string (an execution ARN, an
    `s3://bucket/key` URI, or any other text for a manual write)."""
    if value is None or isinstance(value, (ExecutionProducer, UploadProducer, ManualProducer)):
        return value
    if isinstance(value, dict):
        kind = str(value.get("kind"))
        model = _PRODUCERS.get(kind, ManualProducer)
        known = _PRODUCER_FIELDS[kind if kind in _PRODUCERS else "manual"]
        data = {k: v for k, v in value.items() if k in known}
        if kind not in _PRODUCERS:  # an unknown kind was read as a manual write, as before
            data.pop("kind", None)
        try:
            return model(**data)
        except TypeError as exc:
            raise ArtifactError(f"a version's producer {value!r} lacks a field ({exc}); {VERSION_FIX}") from None
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


def _now() -> datetime:
    return datetime.now(timezone.utc)


class ArtifactVersion(Struct, frozen=True, kw_only=True):
    """One version of an artifact. Built from an item (`from_item`) or by the store; the fields are checked
    either way, and ISO text is read as a datetime."""

    name: str
    version: str
    partitions: dict[str, str] = field(default_factory=dict)
    time_partition: datetime | None = None
    uri: str
    format: str
    produced_by: Producer | None = None
    created_at: datetime = field(default_factory=_now)
    card: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        where = f"artifact version {self.name!r} {self.version!r}"
        for name in ("name", "version", "uri", "format"):
            checks.text(getattr(self, name), f"{where} field {name!r}", ArtifactError, VERSION_FIX)
        set_ = force_setattr
        set_(self, "partitions", checks.text_map(self.partitions, f"{where} field 'partitions'", ArtifactError,
                                                 VERSION_FIX))
        set_(self, "time_partition", checks.optional_timestamp(self.time_partition, f"{where} field 'time_partition'",
                                                               ArtifactError, VERSION_FIX))
        set_(self, "created_at", checks.timestamp(self.created_at, f"{where} field 'created_at'", ArtifactError,
                                                  VERSION_FIX))
        set_(self, "card", checks.optional_document(self.card, f"{where} field 'card'", ArtifactError, VERSION_FIX))
        set_(self, "produced_by", producer_of(self.produced_by))

    @property
    def execution(self) -> str | None:
        """The ARN of the execution that made this version, if an execution did."""
        return self.produced_by.execution if isinstance(self.produced_by, ExecutionProducer) else None

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            **version_key(self.name, self.version),
            "name": self.name,
            "version": self.version,
            "partitions": dict(self.partitions),
            "uri": self.uri,
            "format": self.format,
            "created_at": iso_ms(self.created_at),
        }
        if self.time_partition is not None:
            item["time_partition"] = iso(self.time_partition)
        if self.produced_by:
            item["produced_by"] = self.produced_by.to_dict(exclude_none=True)
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
            "produced_by": self.produced_by.to_dict() if self.produced_by else None,
            "created_at": iso_ms(self.created_at),
            "card": self.card,
        }


def iso_ms(dt: datetime) -> str:
    dt = to_utc(dt)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


SUBSCRIPTION_FIX = "register the launch plan again (`python -m chalicelib register`) to rewrite its subscriptions"


class Subscription(Struct, frozen=True, kw_only=True):
    """A launch plan's trigger, stored under the artifact it listens to: one Query finds them all."""

    artifact: str
    launch_plan: str
    lp_version: str
    workflow: str
    state_machine_arn: str
    active: bool = True
    filter: dict[str, str] = field(default_factory=dict)
    bindings: dict[str, dict[str, Any]] = field(default_factory=dict)
    fixed_inputs: dict[str, Any] = field(default_factory=dict)
    default_inputs: dict[str, Any] = field(default_factory=dict)
    # OnArtifacts: {"on": "time_partition" | key, "members": [{"artifact": ..., "filter": {...}}, ...]}
    align: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        where = f"the subscription of launch plan {self.launch_plan!r} to artifact {self.artifact!r}"
        for name in ("artifact", "launch_plan", "lp_version", "workflow", "state_machine_arn"):
            checks.text(getattr(self, name), f"{where}: field {name!r}", DefinitionError, SUBSCRIPTION_FIX)
        checks.flag(self.active, f"{where}: field 'active'", DefinitionError, SUBSCRIPTION_FIX)
        set_ = force_setattr
        set_(self, "filter", checks.text_map(self.filter, f"{where}: field 'filter'", DefinitionError, SUBSCRIPTION_FIX))
        bindings = checks.document(self.bindings, f"{where}: field 'bindings'", DefinitionError, SUBSCRIPTION_FIX)
        for input_name, binding in bindings.items():
            checks.document(binding, f"{where}: binding of input {input_name!r}", DefinitionError, SUBSCRIPTION_FIX)
        set_(self, "bindings", bindings)
        for name in ("fixed_inputs", "default_inputs"):
            set_(self, name, checks.document(getattr(self, name), f"{where}: field {name!r}", DefinitionError,
                                             SUBSCRIPTION_FIX))
        set_(self, "align", checks.optional_document(self.align, f"{where}: field 'align'", DefinitionError,
                                                     SUBSCRIPTION_FIX))

    def to_item(self) -> dict[str, Any]:
        # Bindings hold floats and nested literals: kept as one JSON document (DynamoDB numbers are Decimals).
        doc = {f: getattr(self, f) for f in self.__struct_fields__ if f != "active"}
        return {**subscription_key(self.artifact, self.launch_plan), "active": self.active,
                "doc": json.dumps(doc, separators=(",", ":"))}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Subscription:
        where = f"the registry item {item.get('pk')!r}/{item.get('sk')!r}"
        try:
            doc = json.loads(item["doc"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DefinitionError(f"{where} has no readable subscription document ({exc}); {SUBSCRIPTION_FIX}") from None
        data = checks.fields(doc, _SUBSCRIPTION_FIELDS, ("artifact", "launch_plan", "lp_version", "workflow",
                                                         "state_machine_arn"), where, DefinitionError, SUBSCRIPTION_FIX)
        return cls(**{**data, "active": bool(item.get("active", True))})


_SUBSCRIPTION_FIELDS = Subscription.__struct_fields__
