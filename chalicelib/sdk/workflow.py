"""`@workflow`: traced once, when decorated, into a graph of task nodes.

`graph` is the traced graph (task nodes and control nodes, see chalicelib.sdk.tracing); `nodes` lists every
task node at any depth. A workflow called inside another workflow's body is a subworkflow: its body is traced
again in the caller, with the caller's values for its inputs, so its tasks become the caller's nodes.
"""

from __future__ import annotations

from typing import Any, Callable

from chalicelib.errors import DefinitionError
from chalicelib.sdk import compat, tracing
from chalicelib.sdk.artifact import ArtifactQuery, check_workflow_artifacts
from chalicelib.sdk.task import InputDef, OutputDef, bind_inputs, output_tuple_name, signature_of


class WorkflowDef:
    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.module = fn.__module__
        self.short_name = fn.__qualname__
        self.name = f"{self.module}.{self.short_name}"
        self.inputs: list[InputDef]
        self.outputs: list[OutputDef]
        self.inputs, self.outputs = signature_of(fn, "workflow")
        self.output_tuple_name = output_tuple_name(fn)
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn
        with tracing.building(self.name) as builder:
            result = self._trace(builder, {i.name: tracing.Promise(None, None, input=i.name, type=i.type)
                                           for i in self.inputs})
        self.graph = builder.graph
        self.nodes = builder.tasks
        if not self.graph:
            raise DefinitionError(f"workflow {self.short_name!r} calls no task; a workflow needs at least one")
        self.output_bindings = self._output_bindings(builder, result)
        check_workflow_artifacts(self)

    def _trace(self, builder: tracing.WorkflowBuilder, values: dict[str, Any]) -> Any:
        from chalicelib.sdk import control

        try:
            result = self.fn(**values)
        except NameError as exc:
            if getattr(exc, "name", None) == self.fn.__name__:
                raise DefinitionError(
                    f"workflow {self.short_name!r} calls itself; recursion is not supported (a workflow's shape is "
                    f"fixed when it is defined): loop inside a task, or use map_task") from exc
            raise
        control.close_sections(builder)
        return result

    def _results(self, result: Any, where: str) -> list[Any]:
        """The traced return value, one entry per declared output."""
        if not self.outputs:
            return []
        if result is None:
            raise DefinitionError(
                f"{where} declares a return type but returns nothing; return a task's result"
            )
        if len(self.outputs) == 1 and not (self.output_tuple_name and isinstance(result, tuple)):
            return [result]
        if not isinstance(result, tuple) or len(result) != len(self.outputs):
            got = f"{len(result)} values" if isinstance(result, tuple) else "one value"
            raise DefinitionError(f"{where} declares {len(self.outputs)} outputs {[o.name for o in self.outputs]}; "
                                  f"its body returns {got}. Return a tuple of {len(self.outputs)}")
        return list(result)

    def _output_bindings(self, builder: tracing.WorkflowBuilder, result: Any) -> dict[str, dict[str, Any]]:
        values = self._results(result, f"workflow {self.short_name!r}")
        return {out.name: builder.binding_for(value, f"workflow {self.short_name!r} output {out.name!r}")
                for out, value in zip(self.outputs, values)}

    def __repr__(self) -> str:
        return f"WorkflowDef({self.name})"

    def default_inputs(self) -> dict[str, Any]:
        return {i.name: i.default for i in self.inputs if i.has_default and not isinstance(i.default, ArtifactQuery)}

    def bind_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        return bind_inputs(f"subworkflow {self.short_name!r}", self.inputs, args, kwargs)

    def _call_inside(self, builder: tracing.WorkflowBuilder, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """A subworkflow call: trace the body again, in the caller's graph."""
        if self.name in builder.tracing:
            chain = " → ".join([*builder.tracing[builder.tracing.index(self.name):], self.name])
            raise DefinitionError(f"workflow {self.short_name!r} calls itself ({chain}); recursion is not supported: "
                                  f"loop inside a task, or use map_task")
        annotated = [o.name for o in self.outputs if o.artifact is not None]
        if annotated:
            raise DefinitionError(
                f"subworkflow {self.short_name!r} annotates its output {annotated[0]!r} as an artifact, which only a "
                f"workflow run on its own publishes; annotate the task that makes the value instead")
        from chalicelib.sdk.query import query_literal

        bound = self.bind_call(args, kwargs)
        values = {}
        for spec in self.inputs:
            if spec.name in bound:
                values[spec.name] = bound[spec.name]
            elif isinstance(spec.default, ArtifactQuery):
                values[spec.name] = tracing.Promise.of({"const": query_literal(spec.default)}, spec.type)
            else:
                values[spec.name] = spec.default
        builder.tracing.append(self.name)
        try:
            result = self._trace(builder, values)
        finally:
            builder.tracing.pop()
        results = self._results(result, f"subworkflow {self.short_name!r}")
        if not self.outputs:
            return None
        return tracing.task_outputs(self.outputs, results, self.output_tuple_name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        builder = tracing.current()
        if builder is not None:
            return self._call_inside(builder, args, kwargs)
        return self.fn(*args, **kwargs)


def workflow(_fn: Callable[..., Any] | None = None, **_options: Any) -> Any:
    """Declare a workflow: `@workflow` or `@workflow(...)` (see chalicelib.sdk.compat for flytekit's keywords)."""
    compat.check_workflow_options(_options)
    if _fn is not None:
        return WorkflowDef(_fn)
    return WorkflowDef
