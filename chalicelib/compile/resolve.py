"""The states that pin artifact queries when an execution starts (see chalicelib.runtime.resolve).

A workflow whose input defaults are queries always resolves. Otherwise a Choice resolves only when the
starter marked the execution (`meta.resolve` present, set by the trigger when a binding is a query), so the
common case costs no extra Lambda invocation. A workflow without inputs has nothing to resolve.
"""

from __future__ import annotations

from typing import Any

from chalicelib.sdk import literals
from chalicelib.sdk.artifact import ArtifactQuery
from chalicelib.sdk.query import input_names, query_literal
from chalicelib.sdk.workflow import WorkflowDef

RESOLVE = "Resolve"
CHECK = "NeedsResolve"


def query_defaults(wf: WorkflowDef) -> dict[str, Any]:
    """The query defaults, and the plain defaults of the inputs those queries read (`Inputs.x`), so that the
    Resolve step can fill a query from an input the execution was started without."""
    queries = {i.name: query_literal(i.default) for i in wf.inputs if isinstance(i.default, ArtifactQuery)}
    read = {name for q in queries.values() for name in input_names(q["$query"])}
    plain = {i.name: literals.encode(i.default, f"workflow {wf.short_name!r}, input {i.name!r}")
             for i in wf.inputs if i.name in read and i.has_default and i.default is not None}
    return {**plain, **queries}


def resolve_states(wf: WorkflowDef, runner_arn: str, retry: list[dict[str, Any]], first: str) -> tuple[str, dict[str, Any]]:
    """(name of the state to go to after Init, the states to add); `first` is the first task's state."""
    if not wf.inputs:
        return first, {}
    defaults = query_defaults(wf)
    states: dict[str, Any] = {
        RESOLVE: {
            "Type": "Task",
            "Resource": runner_arn,
            "Parameters": {
                "resolve": {"defaults": defaults},
                "inputs.$": "$.inputs",
                "execution_id.$": "$$.Execution.Id",
            },
            "ResultPath": "$.inputs",
            "Retry": retry,
            "Next": first,
        }
    }
    if defaults:
        return RESOLVE, states
    states[CHECK] = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.meta.resolve", "IsPresent": True, "Next": RESOLVE}],
        "Default": first,
    }
    return CHECK, states
