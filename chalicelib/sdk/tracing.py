"""Tracing a `@workflow` body: task calls record nodes and return promises instead of running.

The trace is a graph: `WorkflowBuilder.graph` holds the top-level nodes in tracing (topological) order. A node
is a task call (`Node`), or a control node that holds graphs of its own (a conditional's branches, see
chalicelib.sdk.control; a mapped task, see chalicelib.sdk.mapping). A subworkflow call is traced again in
place, so its nodes join the caller's graph with fresh ids and the caller's bindings for its inputs.
`WorkflowBuilder.tasks` lists every task node at any depth (what registration and the task runner load).
"""

from __future__ import annotations

import collections
from msgspec import Struct, field
import contextvars
from contextlib import contextmanager
from typing import Any, Iterator, Protocol

from chalicelib.errors import DefinitionError
from chalicelib.sdk import literals


class TaskDef(Protocol):
    """What tracing needs of a task (chalicelib.sdk.task.TaskDef, which calls into tracing)."""

    short_name: str
    outputs: list[Any]

class NoSuchOutputError(DefinitionError, AttributeError):
    """An attribute of a promise that is not one of its outputs (an AttributeError too, so getattr(p, x, d) works)."""


_current: contextvars.ContextVar[WorkflowBuilder | None] = contextvars.ContextVar("workflow_builder", default=None)


class Promise:
    """A value that will exist when the workflow runs: a workflow input or a node's output.

    Comparisons (`x > 3`, `x == "a"`) and `is_true()` / `is_false()` / `is_none()` build conditions for
    `conditional(...)` (chalicelib.sdk.control); they never compare values while tracing."""

    __slots__ = ("node", "output", "input", "type", "_const")

    def __init__(self, node: str | None, output: str | None, input: str | None = None, type: Any = Any,
                 const: dict[str, Any] | None = None) -> None:
        self.node, self.output, self.input, self.type, self._const = node, output, input, type, const

    @classmethod
    def of(cls, binding: dict[str, Any], type: Any = Any) -> Promise:
        if "input" in binding:
            return cls(None, None, input=binding["input"], type=type)
        if "node" in binding:
            return cls(binding["node"], binding["output"], type=type)
        return cls(None, None, type=type, const=binding)

    def binding(self) -> dict[str, Any]:
        if self._const is not None:
            return dict(self._const)
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

    def __repr__(self) -> str:
        return f"Promise({self.binding() if self.output or self.input or self._const else self.node})"

    def __bool__(self) -> bool:
        raise DefinitionError(
            "a workflow body is traced, not run: a task's result has no value yet, so it cannot be used in "
            "'if', 'and' or 'or'. Use conditional(...).if_(...) (with & and | to combine conditions), or "
            "branch inside a task."
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name == self.output:  # `t().o0` on a task with one output
            return self
        if name == "with_overrides":
            return lambda *a, **k: self
        raise NoSuchOutputError(
            f"{self!r} has no output {name!r}: it is the single output {self.output or self.input!r}; "
            f"pass it as it is")

    def __iter__(self) -> Iterator[Any]:
        raise DefinitionError(f"{self!r} is one output; it cannot be unpacked. A task with several outputs "
                              f"declares `-> Tuple[...]` or a typing.NamedTuple")

    __hash__ = object.__hash__

    def __rshift__(self, other: Any) -> Any:
        """`a >> b`: b runs after a, though it reads nothing of a's (flytekit's ordering of gates and tasks)."""
        builder = current()
        later = other[0] if isinstance(other, tuple) and other else other
        if builder is None or not isinstance(later, Promise) or self.node is None or later.node is None:
            raise DefinitionError(f"{self!r} >> {other!r}: >> orders two task calls (or gates) in a workflow body")
        node = builder.by_id.get(later.node)
        if node is not None and self.node not in node.upstream and self.node != later.node:
            node.upstream = sorted({*node.upstream, self.node}, key=node_order)
        return other

    def runs_before(self, other: Any) -> Any:
        self >> other
        return self

    # conditions: chalicelib.sdk.control builds them (imported late: control imports this module)
    def _compare(self, op: str, other: Any) -> Any:
        from chalicelib.sdk import control

        return control.Comparison(op, self, other)

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return self._compare("==", other)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return self._compare("!=", other)

    def __lt__(self, other: Any) -> Any:
        return self._compare("<", other)

    def __le__(self, other: Any) -> Any:
        return self._compare("<=", other)

    def __gt__(self, other: Any) -> Any:
        return self._compare(">", other)

    def __ge__(self, other: Any) -> Any:
        return self._compare(">=", other)

    def is_true(self) -> Any:
        from chalicelib.sdk import control

        return control.Unary("is_true", self)

    def is_false(self) -> Any:
        from chalicelib.sdk import control

        return control.Unary("is_false", self)

    def is_none(self) -> Any:
        from chalicelib.sdk import control

        return control.Unary("is_none", self)


class Node(Struct):
    id: str
    task: TaskDef
    bindings: dict[str, dict[str, Any]]
    upstream: list[str] = field(default_factory=list)
    overrides: dict[str, Any] = field(default_factory=dict)  # with_overrides(...), see Promise.with_overrides

    def refs(self) -> set[str]:
        """Ids of the nodes this node reads from."""
        return set(self.upstream)


def binding_refs(binding: dict[str, Any]) -> set[str]:
    if "list" in binding:
        return {r for b in binding["list"] for r in binding_refs(b)}
    if "map" in binding:
        return binding_refs(binding["map"])
    return {binding["node"]} if "node" in binding else set()


def node_order(node_id: str) -> int:
    return int(node_id[1:]) if node_id[1:].isdigit() else 0


def task_outputs(outputs: list[Any], promises: list[Promise], tuple_name: str | None) -> Any:
    """What a call returns in a workflow body, as flytekit does: nothing, one promise, or a named tuple of
    promises (`a, b = t()`, `t().o1`, `t().name`)."""
    if not promises:
        return None
    if len(promises) == 1 and not tuple_name:
        return promises[0]
    cls = collections.namedtuple(tuple_name or "Outputs", [o.name for o in outputs])  # type: ignore[misc]
    return cls(*promises)


class WorkflowBuilder:
    def __init__(self, workflow_name: str) -> None:
        self.workflow_name = workflow_name
        self.graph: list[Any] = []
        self.tasks: list[Node] = []
        self.tracing: list[str] = [workflow_name]  # workflows being traced, outermost first
        self._targets: list[list[Any]] = [self.graph]  # where new nodes go (a branch body while one is open)
        self._count = 0
        self.open_sections: list[Any] = []
        self.by_id: dict[str, Any] = {}

    @property
    def nodes(self) -> list[Node]:
        return self.tasks

    def new_id(self) -> str:
        node_id = f"n{self._count}"
        self._count += 1
        return node_id

    def binding_for(self, value: Any, where: str, lists: bool = False) -> dict[str, Any]:
        from chalicelib.sdk import control

        if isinstance(value, Promise):
            return value.binding()
        if isinstance(value, control.OpenSection):
            raise DefinitionError(f"{where}: {value.why_no_value()}")
        if isinstance(value, (list, tuple)) and any(isinstance(v, (Promise, control.OpenSection)) for v in value):
            if not lists:
                raise DefinitionError(f"{where}: lists of task results are not supported here; return one value")
            # fan-in: a task input gathering several results (and constants), in order
            return {"list": [self.binding_for(v, f"{where}[{i}]") for i, v in enumerate(value)]}
        return {"const": literals.encode(value, where)}

    def current_target(self) -> list[Any]:
        return self._targets[-1]

    def add(self, node: Any) -> None:
        self._targets[-1].append(node)
        self.by_id[node.id] = node

    def push_target(self, body: list[Any]) -> None:
        self._targets.append(body)

    def pop_target(self) -> None:
        self._targets.pop()

    def add_node(self, task: TaskDef, kwargs: dict[str, Any]) -> Any:
        node_id = self.new_id()
        bindings = {
            name: self.binding_for(value, f"workflow {self.workflow_name!r}, task {task.short_name!r}, input {name!r}",
                                   lists=True)
            for name, value in kwargs.items()
        }
        upstream = sorted({r for b in bindings.values() for r in binding_refs(b)}, key=node_order)
        node = Node(node_id, task, bindings, upstream)
        self.add(node)
        self.tasks.append(node)
        promises = [Promise(node_id, o.name, type=o.type) for o in task.outputs]
        if not promises:
            return Promise(node_id, None)
        return task_outputs(task.outputs, promises, getattr(task, "output_tuple_name", None))


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
