"""The task runner's side of a mapped task (see chalicelib.compile.mapping for the states).

    map_prepare   the mapped lists' length → the item indexes the Map state iterates over
    (an item)     a normal task run with `map_index`: its result goes to S3, not into the Map's state
    map_collect   the items' results in order → one list per output (None for a tolerated failed item)
"""

from __future__ import annotations

import json
import math
from typing import Any

from msgspec import Struct
from msgspec.structs import force_setattr

from chalicelib import checks
from chalicelib.errors import DefinitionError, EventError, TaskFailedError
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


MAP_FIX = ("a map_collect state's Parameters hold map {label, outputs, min_success_ratio, min_successes} "
           "(chalicelib.compile.mapping); redeploy the stage so its state machines are compiled by the code its "
           "task runner runs")


def _where(name: str) -> str:
    return f"the map_collect state payload's field {name!r}"


def _ratio(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EventError(f"{_where('map.min_success_ratio')} must be a number; got {value!r} "
                         f"({type(value).__name__}); {MAP_FIX}")
    return float(value)


class MapSpec(Struct, frozen=True, kw_only=True):
    """What Collect needs of the map node, compiled into its state (chalicelib.compile.mapping)."""

    label: str
    outputs: list[str]
    min_success_ratio: float = 1.0
    min_successes: int | None = None

    def __post_init__(self) -> None:
        checks.text(self.label, _where("map.label"), EventError, MAP_FIX)
        if not isinstance(self.outputs, list):
            raise EventError(f"{_where('map.outputs')} must be a list of output names; got {self.outputs!r} "
                             f"({type(self.outputs).__name__}); {MAP_FIX}")
        force_setattr(self, "outputs", [checks.text(o, _where(f"map.outputs[{i}]"), EventError, MAP_FIX)
                                             for i, o in enumerate(self.outputs)])
        force_setattr(self, "min_success_ratio", _ratio(self.min_success_ratio))
        if self.min_successes is not None:
            force_setattr(self, "min_successes", checks.integer(self.min_successes, _where("map.min_successes"),
                                                                     EventError, MAP_FIX))

    @classmethod
    def from_dict(cls, data: Any) -> MapSpec:
        return cls(**checks.fields(data, ("label", "outputs", "min_success_ratio", "min_successes"),
                                   ("label", "outputs"), _where("map"), EventError, MAP_FIX))

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
    """A map_prepare or map_collect payload: a Task state's, with the item count and the map's spec (Collect)."""
    event = TaskEvent.from_dict(raw)
    count = checks.integer(raw.get("count", 0) or 0, f"the {raw['mode']} state payload's field 'count'", EventError,
                           MAP_FIX)
    spec = MapSpec.from_dict(raw["map"]) if isinstance(raw.get("map"), dict) else None
    return raw["mode"], event, count, spec
