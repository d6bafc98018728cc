"""What Step Functions hands the task-runner Lambda (the Parameters of the states chalicelib.compile emits).

    TaskEvent      a task node: bindings of its inputs, the execution's inputs and earlier results
    ResolveEvent   the Resolve state at an execution's start: pin every artifact query among the inputs
    PublishEvent   the state after the last task of a workflow with an annotated output (`mode: publish`)
"""

from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BaseModel, Field, ValidationError

from chalicelib.errors import EventError

PUBLISH_MODE = "publish"


class TaskRef(BaseModel):
    module: str
    name: str


class TaskEvent(BaseModel):
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

    @property
    def node_index(self) -> int:
        """The node's position in its workflow (`n3` → 3), which orders the versions one execution makes."""
        return int(self.node[1:]) if self.node[1:].isdigit() else 0


class ResolveRequest(BaseModel):
    defaults: dict[str, Any] = Field(default_factory=dict)


class ResolveEvent(BaseModel):
    resolve: ResolveRequest
    inputs: dict[str, Any] = Field(default_factory=dict)
    execution_id: str = ""


class PublishEvent(BaseModel):
    mode: Literal["publish"]
    workflow: str
    output: str
    binding: dict[str, Any]
    meta: dict[str, Any] = Field(default_factory=dict)
    inputs: dict[str, Any] = Field(default_factory=dict)
    results: dict[str, Any] = Field(default_factory=dict)
    execution_id: str
    execution_start: str


RunnerEvent = Union[TaskEvent, ResolveEvent, PublishEvent]


def parse_runner_event(raw: Any) -> RunnerEvent:
    """The payload of one Task state, by its shape; EventError names what is wrong."""
    if not isinstance(raw, dict):
        raise EventError(f"task-runner event is not a JSON object: got {type(raw).__name__}")
    model: type[BaseModel]
    if raw.get("mode") == PUBLISH_MODE:
        model, what = PublishEvent, "Publish state"
    elif "resolve" in raw:
        model, what = ResolveEvent, "Resolve state"
    else:
        model, what = TaskEvent, "Task state"
    try:
        return model.model_validate(raw)  # type: ignore[return-value]
    except ValidationError as exc:
        raise EventError(f"task-runner event is not a {what} payload: {exc}") from exc
