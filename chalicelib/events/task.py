"""What Step Functions hands the task-runner Lambda (the Parameters of the states chalicelib.compile emits).

    TaskEvent      a task node: bindings of its inputs, the execution's inputs and earlier results
    ResolveEvent   the Resolve state at an execution's start: pin every artifact query among the inputs
    PublishEvent   the state after the last task of a workflow with an annotated output (`mode: publish`)

These are checked msgspec Structs (chalicelib.checks), not pydantic models: the task runner's cold start
would otherwise pay for pydantic's import and schema building. A payload is read with `from_dict`; a field
that is missing or of the wrong type raises EventError naming the field and what the payload should hold.
Fields the classes do not know are ignored (the map and gate states add their own, e.g. `mode`, `count`).
"""

from __future__ import annotations

from typing import Any, Union

from msgspec import Struct, field, structs
from msgspec.structs import force_setattr

from chalicelib import checks
from chalicelib.errors import EventError

PUBLISH_MODE = "publish"
REDEPLOY = "redeploy the stage so its state machines are compiled by the code its task runner runs"
TASK_FIX = ("a Task state's Parameters hold workflow, node, task {module, name}, bindings, meta, inputs, results, "
            f"execution_id, execution_start (and cache, map_index where used); {REDEPLOY}")
RESOLVE_FIX = f"the Resolve state's Parameters hold resolve {{defaults}}, inputs and execution_id; {REDEPLOY}"
PUBLISH_FIX = ("the Publish state's Parameters hold mode 'publish', workflow, output, binding, meta, inputs, results, "
               f"execution_id, execution_start; {REDEPLOY}")


def _where(what: str, name: str) -> str:
    return f"the {what} payload's field {name!r}"


class TaskRef(Struct, frozen=True, kw_only=True):
    module: str
    name: str

    def __post_init__(self) -> None:
        for name in ("module", "name"):
            checks.text(getattr(self, name), _where("Task state", f"task.{name}"), EventError, TASK_FIX)

    @classmethod
    def from_dict(cls, data: Any) -> TaskRef:
        if isinstance(data, TaskRef):
            return data
        return cls(**checks.fields(data, _TASK_REF_FIELDS, _TASK_REF_FIELDS, _where("Task state", "task"), EventError,
                                   TASK_FIX))

    def to_dict(self) -> dict[str, Any]:
        return {"module": self.module, "name": self.name}


_TASK_REF_FIELDS = ("module", "name")


class TaskEvent(Struct, frozen=True, kw_only=True):
    workflow: str
    node: str
    task: TaskRef
    bindings: dict[str, dict[str, Any]]
    meta: dict[str, Any]
    inputs: dict[str, Any]
    results: dict[str, Any]
    execution_id: str
    execution_start: str
    cache: dict[str, Any] | None = None  # a cached node's settings (chalicelib.runtime.cache)
    map_index: int | None = None  # one item of a mapped task (chalicelib.runtime.mapping)

    def __post_init__(self) -> None:
        what = "Task state"
        for name in ("workflow", "node", "execution_id", "execution_start"):
            checks.text(getattr(self, name), _where(what, name), EventError, TASK_FIX)
        set_ = force_setattr
        set_(self, "task", TaskRef.from_dict(self.task))
        bindings = checks.document(self.bindings, _where(what, "bindings"), EventError, TASK_FIX)
        for input_name, binding in bindings.items():
            bindings[input_name] = checks.document(binding, _where(what, f"bindings.{input_name}"), EventError,
                                                   TASK_FIX)
        set_(self, "bindings", bindings)
        for name in ("meta", "inputs", "results"):
            set_(self, name, checks.document(getattr(self, name), _where(what, name), EventError, TASK_FIX))
        set_(self, "cache", checks.optional_document(self.cache, _where(what, "cache"), EventError, TASK_FIX))
        if self.map_index is not None:
            set_(self, "map_index", checks.integer(self.map_index, _where(what, "map_index"), EventError, TASK_FIX))

    @classmethod
    def from_dict(cls, data: Any) -> TaskEvent:
        """A Task state's payload (a map or gate state's too), checked; fields it does not know are ignored."""
        return cls(**checks.fields(data, _TASK_FIELDS, _TASK_REQUIRED, "the Task state payload", EventError, TASK_FIX))

    def to_dict(self) -> dict[str, Any]:
        """The payload this event was read from (without the fields it ignored)."""
        data = {f: getattr(self, f) for f in _TASK_FIELDS}
        data["task"] = self.task.to_dict()
        return {k: v for k, v in data.items() if v is not None or k in _TASK_REQUIRED}

    def with_node(self, node: str) -> TaskEvent:
        """The same event run as another node (an item of a mapped task runs as a node of its own)."""
        return structs.replace(self, node=node)

    @property
    def node_index(self) -> int:
        """The node's position in its workflow (`n3` → 3), which orders the versions one execution makes."""
        return int(self.node[1:]) if self.node[1:].isdigit() else 0


_TASK_REQUIRED = ("workflow", "node", "task", "bindings", "meta", "inputs", "results", "execution_id",
                  "execution_start")
_TASK_FIELDS = (*_TASK_REQUIRED, "cache", "map_index")


class ResolveRequest(Struct, frozen=True, kw_only=True):
    defaults: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        force_setattr(self, "defaults", checks.document(self.defaults, _where("Resolve state", "resolve.defaults"),
                                                             EventError, RESOLVE_FIX))

    @classmethod
    def from_dict(cls, data: Any) -> ResolveRequest:
        if isinstance(data, ResolveRequest):
            return data
        return cls(**checks.fields(data, ("defaults",), (), _where("Resolve state", "resolve"), EventError,
                                   RESOLVE_FIX))


class ResolveEvent(Struct, frozen=True, kw_only=True):
    resolve: ResolveRequest
    inputs: dict[str, Any] = field(default_factory=dict)
    execution_id: str = ""

    def __post_init__(self) -> None:
        what = "Resolve state"
        set_ = force_setattr
        set_(self, "resolve", ResolveRequest.from_dict(self.resolve))
        set_(self, "inputs", checks.document(self.inputs, _where(what, "inputs"), EventError, RESOLVE_FIX))
        checks.text(self.execution_id, _where(what, "execution_id"), EventError, RESOLVE_FIX)

    @classmethod
    def from_dict(cls, data: Any) -> ResolveEvent:
        return cls(**checks.fields(data, ("resolve", "inputs", "execution_id"), ("resolve",),
                                   "the Resolve state payload", EventError, RESOLVE_FIX))


class PublishEvent(Struct, frozen=True, kw_only=True):
    mode: str = PUBLISH_MODE
    workflow: str
    output: str
    binding: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    execution_id: str
    execution_start: str

    def __post_init__(self) -> None:
        what = "Publish state"
        checks.one_of(self.mode, (PUBLISH_MODE,), _where(what, "mode"), EventError, PUBLISH_FIX)
        for name in ("workflow", "output", "execution_id", "execution_start"):
            checks.text(getattr(self, name), _where(what, name), EventError, PUBLISH_FIX)
        set_ = force_setattr
        for name in ("binding", "meta", "inputs", "results"):
            set_(self, name, checks.document(getattr(self, name), _where(what, name), EventError, PUBLISH_FIX))

    @classmethod
    def from_dict(cls, data: Any) -> PublishEvent:
        return cls(**checks.fields(data, _PUBLISH_FIELDS, ("mode", "workflow", "output", "binding", "execution_id",
                                                           "execution_start"),
                                   "the Publish state payload", EventError, PUBLISH_FIX))


_PUBLISH_FIELDS = ("mode", "workflow", "output", "binding", "meta", "inputs", "results", "execution_id",
                   "execution_start")

RunnerEvent = Union[TaskEvent, ResolveEvent, PublishEvent]


def parse_runner_event(raw: Any) -> RunnerEvent:
    """The payload of one Task state, by its shape; EventError names what is wrong."""
    if not isinstance(raw, dict):
        raise EventError(f"task-runner event is not a JSON object: got {type(raw).__name__}; {TASK_FIX}")
    if raw.get("mode") == PUBLISH_MODE:
        return PublishEvent.from_dict(raw)
    if "resolve" in raw:
        return ResolveEvent.from_dict(raw)
    return TaskEvent.from_dict(raw)
