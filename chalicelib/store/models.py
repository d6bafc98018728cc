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
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, Field

from chalicelib.sdk.timeparts import iso, to_utc


def partition_key(partitions: dict[str, str]) -> str:
    return ",".join(f"{k}={partitions[k]}" for k in sorted(partitions))


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
    produced_by: str | None = None
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    card: dict[str, Any] | None = None

    def to_item(self) -> dict[str, Any]:
        pkey = partition_key(self.partitions)
        item: dict[str, Any] = {
            "pk": f"A#{self.name}",
            "sk": f"V#{self.version}",
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
            item["produced_by"] = self.produced_by
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
            "produced_by": self.produced_by,
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
        return {"pk": f"SUB#{self.artifact}", "sk": f"LP#{self.launch_plan}", "active": self.active,
                "doc": self.model_dump_json(exclude={"active"})}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Subscription:
        return cls.model_validate({**json.loads(item["doc"]), "active": bool(item.get("active", True))})
