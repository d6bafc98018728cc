"""Lineage: which execution made a version, which versions an execution read, and what each version set off.

Every edge joins one execution and one artifact version, and is stored twice in the registry table so that
each direction is a single Query:

    pk = "EXEC#<execution arn>"         sk = "EDGE#<kind>#<artifact>#<version>"    what an execution touched
    pk = "AV#<artifact>#<version>"      sk = "EDGE#<kind>#<execution arn>"         what touched a version

`kind` is one of
    trigger   the version started the execution (its launch plan subscribes to the artifact)
    input     a task of the execution read the version (a `$artifact` input, or a `$query` resolved to it)
    output    the execution produced the version

Execution-side items sit under the same partition as the execution's task logs (`EXEC#...`, sk `LOG#...`).
Artifact and partition names cannot contain '#' (see chalicelib.sdk.charset), so the keys cannot be forged.

Who writes: "output" edges are written by ArtifactStore.write for every version an execution makes (task
outputs, files, workflow-level outputs alike); "trigger" and "input" edges by the task runner
(chalicelib.runtime.trail), which knows the resolved inputs and `meta.triggered_by`, which the trigger
already put into the execution input. Never the trigger itself. Writing the "trigger" edge on the downstream side costs the trigger Lambda nothing, so
its per-event budget stays at one Query plus one StartExecution per matching launch plan. The price: an
execution that was started but never ran a task has no trigger edge; its input still names the triggering
version (see `executions`).
"""

from __future__ import annotations

import time
from typing import Any, Iterable, Literal

from msgspec import Struct

from chalicelib import checks
from chalicelib.config import Settings
from chalicelib.errors import CascadeError, TransientAwsError
from chalicelib.store.dynamo import paginate, to_dynamo

EdgeKind = Literal["trigger", "input", "output"]
KINDS: tuple[EdgeKind, ...] = ("trigger", "input", "output")
_BATCH = 25  # BatchWriteItem's limit


VIAS = ("artifact", "query")
EDGE_FIX = "the lineage item was written by hand or by another version of this code: delete it or rewrite it"


class Edge(Struct, frozen=True, kw_only=True):
    """One execution ↔ artifact version relation."""

    kind: EdgeKind
    execution: str  # the execution ARN
    artifact: str
    version: str
    workflow: str | None = None
    launch_plan: str | None = None
    node: str | None = None  # the task node that read or wrote the version
    input: str | None = None  # the task input it was bound to
    via: Literal["artifact", "query"] | None = None  # how an input was given
    at: str = ""

    def __post_init__(self) -> None:
        where = "a lineage edge"
        checks.one_of(self.kind, KINDS, f"{where}: field 'kind'", CascadeError, EDGE_FIX)
        for name in ("execution", "artifact", "version", "at"):
            checks.text(getattr(self, name), f"{where}: field {name!r}", CascadeError, EDGE_FIX)
        for name in ("workflow", "launch_plan", "node", "input"):
            checks.optional_text(getattr(self, name), f"{where}: field {name!r}", CascadeError, EDGE_FIX)
        if self.via is not None:
            checks.one_of(self.via, VIAS, f"{where}: field 'via'", CascadeError, EDGE_FIX)

    def to_dict(self) -> dict[str, Any]:
        """Every field, unset ones as None (what the views show)."""
        return {k: getattr(self, k) for k in _EDGE_FIELDS}

    def _attributes(self) -> dict[str, Any]:
        return {k: v for k, v in self.to_dict().items() if v is not None}

    def items(self) -> list[dict[str, Any]]:
        """The two registry items: one under the execution, one under the version."""
        attrs = self._attributes()
        return [
            {"pk": execution_pk(self.execution), "sk": f"EDGE#{self.kind}#{self.artifact}#{self.version}", **attrs},
            {"pk": version_pk(self.artifact, self.version), "sk": f"EDGE#{self.kind}#{self.execution}", **attrs},
        ]

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Edge:
        """An edge as stored (the item's own keys ignored), checked."""
        return cls(**checks.fields(item, _EDGE_FIELDS, ("kind", "execution", "artifact", "version"),
                                   f"the lineage item {item.get('pk')!r}/{item.get('sk')!r}", CascadeError, EDGE_FIX))


_EDGE_FIELDS = ("kind", "execution", "artifact", "version", "workflow", "launch_plan", "node", "input", "via", "at")


def execution_pk(execution: str) -> str:
    return f"EXEC#{execution}"


def version_pk(artifact: str, version: str) -> str:
    return f"AV#{artifact}#{version}"


class LineageStore:
    """Reads and writes lineage edges in the registry table."""

    def __init__(self, settings: Settings, dynamodb: Any) -> None:
        self.table = settings.registry_table
        self.dynamodb = dynamodb

    # -- writing ----------------------------------------------------------------------------------
    def put(self, edges: Iterable[Edge]) -> None:
        """Write edges (both items each). Idempotent: a retried task rewrites the same keys."""
        items = {(i["pk"], i["sk"]): i for edge in edges for i in edge.items()}
        batch = [{"PutRequest": {"Item": to_dynamo(i)}} for i in items.values()]
        for start in range(0, len(batch), _BATCH):
            self._write(batch[start:start + _BATCH])

    def _write(self, requests: list[dict[str, Any]]) -> None:
        # Unprocessed items are throttled writes: retry them with a short backoff (bounded).
        for attempt in range(6):
            resp = self.dynamodb.batch_write_item(RequestItems={self.table: requests})
            requests = resp.get("UnprocessedItems", {}).get(self.table, [])
            if not requests:
                return
            time.sleep(0.05 * 2**attempt)
        raise TransientAwsError(f"DynamoDB kept throttling {len(requests)} lineage item(s) in table {self.table!r}; "
                                f"the task is retried")

    # -- reading ----------------------------------------------------------------------------------
    def _edges(self, pk: str) -> list[Edge]:
        return [Edge.from_item(i) for i in paginate(self.dynamodb, "query", {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :e)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":e": {"S": "EDGE#"}},
        })]

    def for_execution(self, execution: str) -> list[Edge]:
        """What one execution was triggered by, read and produced: one Query."""
        return self._edges(execution_pk(execution))

    def for_version(self, artifact: str, version: str) -> list[Edge]:
        """The execution that produced a version, and those it triggered or that read it: one Query."""
        return self._edges(version_pk(artifact, version))
