"""The task runner's side of a mapped task (see chalicelib.compile.mapping for the states).

    map_prepare   the mapped lists' length → the item indexes the Map state iterates over
    (an item)     a normal task run with `map_index`: its result goes to S3, not into the Map's state
    map_collect   the items' results in order → one list per output (None for a tolerated failed item)
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import BaseModel

from chalicelib.errors import DefinitionError, TaskFailedError
from chalicelib.events.task import TaskEvent
from chalicelib.runtime.binding import Binder
from chalicelib.sdk.mapping import MapNode
from chalicelib.sdk.workflow import WorkflowDef
from chalicelib.store.map_items import MapItems

MODES = ("map_prepare", "map_collect")


class MapFailedError(TaskFailedError):
    """Fewer items of a mapped task succeeded than its min_success_ratio / min_successes require."""


def item_node(event: TaskEvent) -> str:
    """The node id an item runs as: its versions, logs and run values are its own."""
    return f"{event.node}-{event.map_index}"


def _map_node(workflow: str, node: str) -> MapNode:
    from chalicelib.runtime import loader

    module, _, attr = workflow.rpartition(".")
    wf = getattr(loader.import_module(module), attr, None)
    if isinstance(wf, WorkflowDef):
        found = _find(wf.graph, node)
        if found is not None:
            return found
    raise DefinitionError(f"{workflow} has no map_task node {node} in the deployed code; register and deploy the "
                          f"same files")


def _find(graph: list[Any], node: str) -> MapNode | None:
    for n in graph:
        if isinstance(n, MapNode) and n.id == node:
            return n
        for case in getattr(n, "cases", []):
            hit = _find(case.body, node)
            if hit is not None:
                return hit
    return None


def prepare(binder: Binder, event: TaskEvent) -> dict[str, Any]:
    lengths = {}
    for name, binding in event.bindings.items():
        if "map" in binding:
            lengths[name] = len(binder.items(event, binding["map"]))
    if len(set(lengths.values())) > 1:
        raise DefinitionError(f"map_task({event.task.name}): the mapped inputs have different lengths "
                              f"{dict(sorted(lengths.items()))}; they are mapped over together, item by item")
    count = next(iter(lengths.values()), 0)
    return {"count": count, "items": list(range(count))}


def store_item(items: MapItems, event: TaskEvent, result: dict[str, Any]) -> dict[str, Any]:
    items.put(event.execution_id, event.node, event.map_index or 0, result)
    return {"item": event.map_index}


class MapSpec(BaseModel):
    """What Collect needs of the map node, compiled into its state (chalicelib.compile.mapping)."""

    label: str
    outputs: list[str]
    min_success_ratio: float = 1.0
    min_successes: int | None = None

    def required(self, count: int) -> int:
        if self.min_successes is not None:
            return min(self.min_successes, count)
        return math.ceil(count * self.min_success_ratio)


def collect(items: MapItems, event: TaskEvent, count: int, max_inline_bytes: int,
            spec: MapSpec | None = None) -> dict[str, Any]:
    if spec is None:  # a state compiled before the spec was part of it
        found = _map_node(event.workflow, event.node)
        spec = MapSpec(label=found.label, outputs=[o.name for o in found.task.outputs],
                       min_success_ratio=found.min_success_ratio, min_successes=found.min_successes)
    node = spec
    stored = items.stored(event.execution_id, event.node) if count else set()
    results = [items.get(event.execution_id, event.node, i) if i in stored else None for i in range(count)]
    failed = [i for i, r in enumerate(results) if r is None]
    need = node.required(count)
    if count - len(failed) < need:
        shown = ", ".join(str(i) for i in failed[:10]) + (" ..." if len(failed) > 10 else "")
        raise MapFailedError(
            f"map_task({node.label}): {len(failed)} of {count} items failed (items {shown}); "
            f"{need} had to succeed (min_success_ratio={node.min_success_ratio:g}"
            f"{f', min_successes={node.min_successes}' if node.min_successes is not None else ''}). "
            f"See each item's error in the execution's history")
    outputs: dict[str, Any] = {}
    for out in node.outputs:
        literal = [None if r is None else r["outputs"][out] for r in results]
        if len(json.dumps(literal, separators=(",", ":")).encode()) > max_inline_bytes:
            outputs[out] = items.put_literal(event.execution_id, event.node, out, literal)
        else:
            outputs[out] = literal
    made = sum(len(r.get("artifacts", [])) for r in results if r is not None)
    return {"outputs": outputs, "artifacts": [], "items": count, "failed": len(failed), "versions": made}


def parse(raw: dict[str, Any]) -> tuple[str, TaskEvent, int, MapSpec | None]:
    from chalicelib.errors import EventError

    try:
        event = TaskEvent.model_validate(raw)
        count = int(raw.get("count", 0) or 0)
        spec = MapSpec.model_validate(raw["map"]) if isinstance(raw.get("map"), dict) else None
    except Exception as exc:
        raise EventError(f"task-runner event is not a {raw.get('mode')} payload: {exc}") from exc
    return raw["mode"], event, count, spec
