"""`@workflow`: traced once, when decorated, into a graph of task nodes."""

from __future__ import annotations

from typing import Any, Callable

from chalicelib.errors import DefinitionError
from chalicelib.sdk import compat, tracing
from chalicelib.sdk.artifact import ArtifactQuery, check_workflow_artifacts
from chalicelib.sdk.task import InputDef, OutputDef, signature_of


class WorkflowDef:
    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.module = fn.__module__
        self.short_name = fn.__qualname__
        self.name = f"{self.module}.{self.short_name}"
        self.inputs: list[InputDef]
        self.outputs: list[OutputDef]
        self.inputs, self.outputs = signature_of(fn, "workflow")
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn
        with tracing.building(self.name) as builder:
            result = fn(**{i.name: tracing.Promise(None, None, input=i.name) for i in self.inputs})
        self.nodes = builder.nodes
        if not self.nodes:
            raise DefinitionError(f"workflow {self.short_name!r} calls no task; a workflow needs at least one")
        self.output_bindings = self._output_bindings(builder, result)
        check_workflow_artifacts(self)

    def _output_bindings(self, builder: tracing.WorkflowBuilder, result: Any) -> dict[str, dict[str, Any]]:
        if not self.outputs:
            return {}
        if result is None:
            raise DefinitionError(
                f"workflow {self.short_name!r} declares a return type but returns nothing; return a task's result"
            )
        if isinstance(result, tuple):
            raise DefinitionError(f"workflow {self.short_name!r}: several outputs are not supported; return one value")
        return {self.outputs[0].name: builder.binding_for(result, f"workflow {self.short_name!r} output")}

    def __repr__(self) -> str:
        return f"WorkflowDef({self.name})"

    def default_inputs(self) -> dict[str, Any]:
        return {i.name: i.default for i in self.inputs if i.has_default and not isinstance(i.default, ArtifactQuery)}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if tracing.current() is not None:
            raise DefinitionError(
                f"workflow {self.short_name!r} is called inside another workflow; subworkflows are not supported yet"
            )
        return self.fn(*args, **kwargs)


def workflow(_fn: Callable[..., Any] | None = None, **_options: Any) -> Any:
    """Declare a workflow: `@workflow` or `@workflow(...)` (see chalicelib.sdk.compat for flytekit's keywords)."""
    compat.check_workflow_options(_options)
    if _fn is not None:
        return WorkflowDef(_fn)
    return WorkflowDef
