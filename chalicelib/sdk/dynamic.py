"""`@dynamic`: a task whose body calls tasks, traced when it runs, with its inputs' real values.

Supported differently: flytekit compiles the body into a sub-workflow at run time and runs it in the same
execution. Here the task runner traces the body with the values it received (each task call records a node;
loops and `if` on those values shape the graph), compiles that graph to a state machine named after a hash of
its definition (created once per shape, reused after), and the calling workflow runs it as a child execution
with `startExecution.sync:2` (see chalicelib.compile.dynamic and chalicelib.runtime.dynamic). Inside the body
every construct of a workflow body works: task calls, subworkflows, conditional, map_task, launch plans.
Task results are promises there, as in flytekit: pass them to tasks or return them.
"""

from __future__ import annotations

from typing import Any, Callable

from msgspec import Struct, field

from chalicelib.sdk.task import InputDef, OutputDef, TaskDef


class DynamicTaskDef(TaskDef):
    """A `@dynamic` task: a node of its workflow that runs a graph built when it runs."""


class DynamicWorkflow(Struct):
    """The graph one run of a `@dynamic` body built: compiled like a workflow (chalicelib.compile.asl)."""

    name: str
    short_name: str
    module: str
    graph: list[Any]
    nodes: list[Any]
    outputs: list[OutputDef]
    output_bindings: dict[str, dict[str, Any]]
    inputs: list[InputDef] = field(default_factory=list)
    output_tuple_name: str | None = None


def dynamic(_fn: Callable[..., Any] | None = None, *, container_image: Any = None, **options: Any) -> Any:
    """Declare a dynamic task: `@dynamic` or `@dynamic(...)` with @task's keywords."""
    if _fn is not None:
        return DynamicTaskDef(_fn)

    def wrap(fn: Callable[..., Any]) -> DynamicTaskDef:
        return DynamicTaskDef(fn, container_image=container_image, **options)

    return wrap
