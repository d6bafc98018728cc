"""Artifact queries as JSON: the `$query` literal, resolved to one version when an execution starts.

    {"$query": {"artifact": "sales", "partitions": {"region": "emea"},
                "time_partition": {"$datetime": "2026-11-24T00:00:00Z"} | null,
                "version": null, "granularity": "DAY"}}

Any subset of the partition keys may be given; the time partition is normalized to the artifact's
granularity when the query is resolved, so `A.time_partition - timedelta(hours=1)` on a DAY artifact
means "the previous day". Light: imported on the trigger path.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from chalicelib.sdk import literals
from chalicelib.sdk.timeparts import Granularity, iso, normalize

if TYPE_CHECKING:
    from chalicelib.sdk.artifact import ArtifactQuery


class QuerySpec(BaseModel):
    """The body of a `$query` literal, with plain values."""

    artifact: str
    partitions: dict[str, str] = Field(default_factory=dict)
    time_partition: datetime | None = None
    version: str | None = None
    granularity: Granularity | None = None

    @classmethod
    def from_literal(cls, body: dict[str, Any]) -> QuerySpec:
        tp = body.get("time_partition")
        time_partition = literals.decode(tp) if tp is not None else None
        granularity = body.get("granularity")
        if time_partition is not None and granularity:
            time_partition = normalize(time_partition, Granularity(granularity))
        return cls(
            artifact=body["artifact"],
            partitions={k: str(literals.decode(v)) for k, v in (body.get("partitions") or {}).items()},
            time_partition=time_partition,
            version=body.get("version"),
            granularity=granularity or None,
        )

    def describe(self) -> str:
        """`sales[region=emea, time_partition=2026-11-24T00:00:00Z]`: names the artifact and the query."""
        parts = [f"{k}={v}" for k, v in sorted(self.partitions.items())]
        if self.time_partition is not None:
            parts.append(f"time_partition={iso(self.time_partition)}")
        if self.version:
            parts.append(f"version={self.version}")
        return f"{self.artifact}[{', '.join(parts)}]"


def query_literal(query: ArtifactQuery) -> dict[str, Any]:
    """The `$query` literal of a query with constant values (a workflow input default)."""
    tp = query.time_partition
    return {"$query": {
        "artifact": query.artifact.name,
        "partitions": {k: literals.encode(v) for k, v in query.partitions.items()},
        "time_partition": literals.encode(tp) if tp is not None else None,
        "version": query.version,
        "granularity": query.artifact.granularity.value if query.artifact.time_partitioned else None,
    }}


def is_query(literal: Any) -> bool:
    return isinstance(literal, dict) and len(literal) == 1 and "$query" in literal


def contains_query(inputs: dict[str, Any]) -> bool:
    """Whether any input is a `$query` literal, i.e. the execution must resolve it when it starts."""
    return any(is_query(v) for v in inputs.values())
