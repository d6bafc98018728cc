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
Artifact and partition names cannot contain '#' (see chalicelib.sdk.naming), so the keys cannot be forged.

Who writes: the task runner, never the trigger. The runner knows everything an edge needs: its execution id,
the resolved inputs, the versions it stores, and `meta.triggered_by`, which the trigger already put into
the execution input. Writing the "trigger" edge on the downstream side costs the trigger Lambda nothing, so
its per-event budget stays at one Query plus one StartExecution per matching launch plan. The price: an
execution that was started but never ran a task has no trigger edge; its input still names the triggering
version (see `executions`).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Iterable, Literal

from pydantic import BaseModel

from chalicelib.config import Settings
from chalicelib.store.dynamo import from_dynamo, to_dynamo
from chalicelib.store.models import ArtifactVersion, iso_ms

if TYPE_CHECKING:
    from chalicelib.runtime.runner import TaskEvent

EdgeKind = Literal["trigger", "input", "output"]
KINDS: tuple[EdgeKind, ...] = ("trigger", "input", "output")
_BATCH = 25  # BatchWriteItem's limit


class Edge(BaseModel):
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

    def _attributes(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)

    def items(self) -> list[dict[str, Any]]:
        """The two registry items: one under the execution, one under the version."""
        attrs = self._attributes()
        return [
            {"pk": execution_pk(self.execution), "sk": f"EDGE#{self.kind}#{self.artifact}#{self.version}", **attrs},
            {"pk": version_pk(self.artifact, self.version), "sk": f"EDGE#{self.kind}#{self.execution}", **attrs},
        ]

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Edge:
        return cls.model_validate({k: v for k, v in item.items() if k not in ("pk", "sk")})


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
        raise RuntimeError(f"DynamoDB kept {len(requests)} lineage item(s) unprocessed in table {self.table!r}")

    # -- reading ----------------------------------------------------------------------------------
    def _edges(self, pk: str) -> list[Edge]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :e)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":e": {"S": "EDGE#"}},
        }
        edges: list[Edge] = []
        while True:
            resp = self.dynamodb.query(**kwargs)
            edges.extend(Edge.from_item(from_dynamo(i)) for i in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                return edges
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def for_execution(self, execution: str) -> list[Edge]:
        """What one execution was triggered by, read and produced: one Query."""
        return self._edges(execution_pk(execution))

    def for_version(self, artifact: str, version: str) -> list[Edge]:
        """The execution that produced a version, and those it triggered or that read it: one Query."""
        return self._edges(version_pk(artifact, version))


def _now() -> str:
    return iso_ms(datetime.now(timezone.utc))


class TaskTrail:
    """The edges one task invocation leaves. Used by the task runner:

        trail = TaskTrail.from_event(store, event)
        literals = trail.pin(literals, resolve_query)   # before the task runs
        trail.produced(version)                         # for each version it stores
    """

    def __init__(self, store: LineageStore, execution: str, workflow: str | None, launch_plan: str | None,
                 node: str, triggered_by: dict[str, Any] | None, first_level: bool,
                 upstream_inputs: set[str]) -> None:
        self.store = store
        self.execution = execution
        self.workflow = workflow
        self.launch_plan = launch_plan
        self.node = node
        self.triggered_by = triggered_by
        self.first_level = first_level
        self.upstream_inputs = upstream_inputs

    @classmethod
    def from_event(cls, store: LineageStore, event: TaskEvent) -> TaskTrail:
        meta = event.meta or {}
        return cls(
            store=store,
            execution=event.execution_id,
            workflow=meta.get("workflow") or event.workflow,
            launch_plan=meta.get("launch_plan"),
            node=event.node,
            triggered_by=meta.get("triggered_by"),
            # The state machine starts with an empty `results`; only first-level tasks see it empty. Each
            # execution records its trigger there, so later tasks add no write.
            first_level=not event.results,
            # An artifact passed from an upstream task of the same execution is that execution's own output:
            # its output edge already says so, and an input edge would only draw a loop.
            upstream_inputs={name for name, b in event.bindings.items() if "node" in b},
        )

    def _edge(self, kind: EdgeKind, artifact: str, version: str, **extra: Any) -> Edge:
        return Edge(kind=kind, execution=self.execution, artifact=artifact, version=version,
                    workflow=self.workflow, launch_plan=self.launch_plan, node=self.node, at=_now(), **extra)

    def pin(self, inputs: dict[str, Any], resolve_query: Callable[[dict[str, Any]], ArtifactVersion]) -> dict[str, Any]:
        """Resolve each `$query` input to the version it finds (returned as that version's `$artifact`
        literal, so the task reads exactly the version recorded here), and record the trigger and every
        artifact input. The edges are written even when a query fails, so a failed run shows what it read."""
        edges: list[Edge] = []
        if self.first_level and self.triggered_by:
            edges.append(self._edge("trigger", str(self.triggered_by["artifact"]), str(self.triggered_by["version"])))
        pinned: dict[str, Any] = {}
        try:
            for name, literal in inputs.items():
                tag, body = _tag(literal)
                if tag == "$query":
                    version = resolve_query(body)
                    literal = version.reference()
                    edges.append(self._edge("input", version.name, version.version, input=name, via="query"))
                elif tag == "$artifact" and name not in self.upstream_inputs:
                    edges.append(self._edge("input", body["name"], body["version"], input=name,
                                            via=body.get("via", "artifact")))
                pinned[name] = literal
        finally:
            if edges:
                self.store.put(edges)
        return pinned

    def produced(self, version: ArtifactVersion) -> None:
        self.store.put([self._edge("output", version.name, version.version)])


def _tag(literal: Any) -> tuple[str | None, Any]:
    if isinstance(literal, dict) and len(literal) == 1:
        tag, body = next(iter(literal.items()))
        if tag in ("$query", "$artifact") and isinstance(body, dict):
            return tag, body
    return None, None
