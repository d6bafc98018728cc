"""The Resolve step: when an execution starts, pin every artifact query among its inputs to one version.

Runs once per execution (a Task state before the first task, see chalicelib.compile.asl), so every task
of the execution sees the same version, and the pinned versions are in the execution's history. Inputs
the execution was started without take the workflow's query defaults, compiled into the state (with the plain defaults those queries read).
"""

from __future__ import annotations

from typing import Any

from chalicelib.events.task import ResolveEvent
from chalicelib.sdk.query import QuerySpec, bind_inputs, is_query
from chalicelib.store.index import ArtifactIndex


def resolve_inputs(index: ArtifactIndex, inputs: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Inputs with defaults filled in and each `$query` replaced by the `$artifact` of the version it finds;
    a query that reads other inputs (`Inputs.day`) reads them as the execution has them."""
    out = {**defaults, **inputs}
    plain = {name: literal for name, literal in out.items() if not is_query(literal)}
    for name, literal in out.items():
        if is_query(literal):
            pinned = index.find(QuerySpec.from_literal(bind_inputs(literal["$query"], plain))).reference()
            pinned["$artifact"]["via"] = "query"  # lineage records how the input was chosen
            out[name] = pinned
    return out


def run(index: ArtifactIndex, event: ResolveEvent) -> dict[str, Any]:
    return resolve_inputs(index, event.inputs, event.resolve.defaults)
