"""Where a binding's value is in the execution's state (`{"meta", "inputs", "results"}`, see
chalicelib.compile.asl), for the states that read values without the task runner. Pure."""

from __future__ import annotations

from typing import Any

from chalicelib.errors import DefinitionError


def binding_path(binding: dict[str, Any]) -> str | None:
    """Where a binding's value is in the state, or None for a constant."""
    if "node" in binding:
        return f"$.results.{binding['node']}.outputs.{binding['output']}"
    if "input" in binding:
        return f"$.inputs.{binding['input']}"
    if "const" in binding:
        return None
    raise DefinitionError(f"a list of several results cannot be a workflow's or a conditional's output: {binding}")


def parameters_of(bindings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Pass-state Parameters giving each name its bound value."""
    out: dict[str, Any] = {}
    for name, binding in bindings.items():
        path = binding_path(binding)
        if path is None:
            out[name] = binding["const"]
        else:
            out[f"{name}.$"] = path
    return out
