"""Tracing a `@workflow` body: task calls record nodes and return promises instead of running."""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol

from chalicelib.errors import DefinitionError
from chalicelib.sdk import literals


class TaskDef(Protocol):
    """What tracing needs of a task (chalicelib.sdk.task.TaskDef, which calls into tracing)."""

    short_name: str
    outputs: list[Any]

_current: contextvars.ContextVar[WorkflowBuilder | None] = contextvars.ContextVar("workflow_builder", default=None)


@dataclass(frozen=True)
class Promise:
    """A value that will exist when the workflow runs: a workflow input or a node's output."""

    node: str | None
    output: str | None  # None for a task without outputs
    input: str | None = None

    def binding(self) -> dict[str, Any]:
        if self.input is not None:
            return {"input": self.input}
        if self.output is None:
            raise DefinitionError(f"node {self.node} returns nothing; its result cannot be passed on")
        return {"node": self.node, "output": self.output}

    def with_overrides(self, **overrides: Any) -> Promise:
        """flytekit's `node.with_overrides(...)`: this node's keywords (chalicelib.sdk.options.check_overrides)."""
        from chalicelib.sdk.options import check_overrides

        builder = current()
        node = next((n for n in builder.nodes if n.id == self.node), None) if builder and self.node else None
        if node is None:
            raise DefinitionError("with_overrides(...) applies to a task's result inside a workflow body")
        node.overrides.update(check_overrides(node.task.short_name, overrides))
        return self

    def __bool__(self) -> bool:
        raise DefinitionError(
            "a workflow body is traced, not run: a task's result has no value yet, so it cannot be used in "
            "'if', 'and' or 'or'. Branch inside a task instead."
        )


@dataclass
class Node:
    id: str
    task: TaskDef
    bindings: dict[str, dict[str, Any]]
    upstream: list[str] = field(default_factory=list)
    overrides: dict[str, Any] = field(default_factory=dict)  # with_overrides(...), see Promise.with_overrides


class WorkflowBuilder:
    def __init__(self, workflow_name: str) -> None:
        self.workflow_name = workflow_name
        self.nodes: list[Node] = []

    def binding_for(self, value: Any, where: str, lists: bool = False) -> dict[str, Any]:
        if isinstance(value, Promise):
            return value.binding()
        if isinstance(value, (list, tuple)) and any(isinstance(v, Promise) for v in value):
            if not lists:
                raise DefinitionError(f"{where}: lists of task results are not supported here; return one value")
            # fan-in: a task input gathering several results (and constants), in order
            return {"list": [self.binding_for(v, f"{where}[{i}]") for i, v in enumerate(value)]}
        return {"const": literals.encode(value, where)}

    def add_node(self, task: TaskDef, kwargs: dict[str, Any]) -> Promise:
        node_id = f"n{len(self.nodes)}"
        bindings = {
            name: self.binding_for(value, f"workflow {self.workflow_name!r}, task {task.short_name!r}, input {name!r}",
                                   lists=True)
            for name, value in kwargs.items()
        }
        flat = [e for b in bindings.values() for e in b.get("list", [b])]
        upstream = sorted({b["node"] for b in flat if "node" in b}, key=lambda n: int(n[1:]))
        self.nodes.append(Node(node_id, task, bindings, upstream))
        return Promise(node_id, task.outputs[0].name if task.outputs else None)


def current() -> WorkflowBuilder | None:
    return _current.get()


@contextmanager
def building(workflow_name: str) -> Iterator[WorkflowBuilder]:
    if _current.get() is not None:
        raise DefinitionError(f"workflow {workflow_name!r} is defined inside another workflow's body; define it at module level")
    builder = WorkflowBuilder(workflow_name)
    token = _current.set(builder)
    try:
        yield builder
    finally:
        _current.reset(token)
