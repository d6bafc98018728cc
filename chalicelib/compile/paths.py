"""Where a binding's value is in the execution's state (`{"meta", "inputs", "results"}`, see
chalicelib.compile.asl), for the states that read values without the task runner. Pure."""

from __future__ import annotations

import json
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


def _array(binding: dict[str, Any]) -> str | list[Any]:
    """A gathered list (fan-in) as a `States.Array(...)` of paths and scalar constants."""
    parts = []
    for item in binding["list"]:
        path = binding_path(item) if "list" not in item else None
        if path is not None:
            parts.append(path)
        elif "const" in item and (item["const"] is None or isinstance(item["const"], (bool, int, float, str))):
            value = item["const"]
            parts.append(json.dumps(value) if not isinstance(value, str) else "'" + value.replace("'", "\\'") + "'")
        else:
            raise DefinitionError(f"a gathered list may hold results, inputs and scalar constants; got {item}")
    return f"States.Array({', '.join(parts)})" if parts else []


def parameters_of(bindings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Pass-state Parameters giving each name its bound value."""
    out: dict[str, Any] = {}
    for name, binding in bindings.items():
        if "list" in binding:
            array = _array(binding)
            if isinstance(array, list):
                out[name] = array
            else:
                out[f"{name}.$"] = array
            continue
        path = binding_path(binding)
        if path is None:
            out[name] = binding["const"]
        else:
            out[f"{name}.$"] = path
    return out
