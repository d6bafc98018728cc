"""The lineage edges a task leaves before it runs: the version that triggered its execution, and every
artifact version it reads (chalicelib.store.lineage stores them)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from chalicelib.events.task import PublishEvent, TaskEvent
from chalicelib.store.lineage import Edge, EdgeKind, LineageStore
from chalicelib.store.models import ArtifactVersion, ExecutionProducer, iso_ms


def _now() -> str:
    return iso_ms(datetime.now(timezone.utc))


class TaskTrail:
    """The edges one task invocation leaves. Used by the task runner:

        trail = TaskTrail.from_event(store, event)
        literals = trail.pin(literals, resolve_query)   # before the task runs

    The "output" edges of the versions the task makes are written by the store, with each version.
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


def _tag(literal: Any) -> tuple[str | None, Any]:
    if isinstance(literal, dict) and len(literal) == 1:
        tag, body = next(iter(literal.items()))
        if tag in ("$query", "$artifact") and isinstance(body, dict):
            return tag, body
    return None, None


def producer(event: TaskEvent | PublishEvent, node: str | None = None) -> ExecutionProducer:
    """Who makes the versions of a task node (or of the workflow-output state)."""
    meta = event.meta or {}
    return ExecutionProducer(execution=event.execution_id, workflow=meta.get("workflow") or event.workflow,
                             launch_plan=meta.get("launch_plan"), node=node or getattr(event, "node", None))
