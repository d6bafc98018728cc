"""A launch plan called inside a workflow body: a node that starts the launch plan's workflow as a child
execution and waits for it (Step Functions' `startExecution.sync:2`, see chalicelib.compile.launching).

The child runs with the launch plan's fixed inputs (which a call may not override), then the call's values,
then the launch plan's defaults; the workflow's own defaults fill the rest. Its outputs are the node's outputs.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field

from chalicelib.errors import DefinitionError
from chalicelib.sdk import tracing


class LaunchNode(Struct):
    id: str
    plan: str
    workflow: Any  # WorkflowDef
    bindings: dict[str, dict[str, Any]]
    upstream: list[str] = field(default_factory=list)
    kind: str = "launch"

    @property
    def label(self) -> str:
        return self.plan

    def refs(self) -> set[str]:
        return set(self.upstream)


def call_launch_plan(lp: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    wf = lp.workflow
    builder = tracing.current()
    where = f"launch plan {lp.name!r}"
    names = [i.name for i in wf.inputs]
    if len(args) > len(names):
        raise DefinitionError(f"{where} takes {len(names)} inputs; got {len(args)} positional")
    given = dict(zip(names, args))
    for key, value in kwargs.items():
        if key in given:
            raise DefinitionError(f"{where}: input {key!r} given twice")
        given[key] = value
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise DefinitionError(f"{where}: workflow {wf.short_name!r} has no input {unknown[0]!r}; its inputs are {names}")
    fixed = sorted(set(given) & set(lp.fixed_inputs))
    if fixed:
        raise DefinitionError(f"{where}: input {fixed[0]!r} is fixed by the launch plan and cannot be passed")
    if builder is None:  # outside a workflow: run the workflow here, as flytekit's local execution does
        from chalicelib.sdk import literals

        values = {k: literals.decode(v) for k, v in {**lp.default_inputs, **lp.fixed_inputs}.items()}
        return wf.fn(**{**values, **given})
    if wf.name in builder.tracing:
        raise DefinitionError(f"{where} starts workflow {wf.short_name!r}, which is being defined: a workflow "
                              f"cannot launch itself")
    bindings: dict[str, dict[str, Any]] = {}
    for spec in wf.inputs:
        if spec.name in lp.fixed_inputs:
            bindings[spec.name] = {"const": lp.fixed_inputs[spec.name]}
        elif spec.name in given:
            bindings[spec.name] = builder.binding_for(given[spec.name], f"{where}, input {spec.name!r}", lists=True)
            if "list" in bindings[spec.name]:
                raise DefinitionError(f"{where}, input {spec.name!r}: a list of task results cannot be passed to a "
                                      f"launch plan; gather it in a task first")
        elif spec.name in lp.default_inputs:
            bindings[spec.name] = {"const": lp.default_inputs[spec.name]}
        elif not spec.has_default:
            raise DefinitionError(f"{where} is missing input {spec.name!r} of workflow {wf.short_name!r}; "
                                  f"pass {spec.name}=...")
    node_id = builder.new_id()
    upstream = sorted({r for b in bindings.values() for r in tracing.binding_refs(b)}, key=tracing.node_order)
    builder.add(LaunchNode(node_id, lp.name, wf, bindings, upstream))
    if not wf.outputs:
        return tracing.Promise(node_id, None)
    promises = [tracing.Promise(node_id, o.name, type=o.type) for o in wf.outputs]
    return tracing.task_outputs(wf.outputs, promises, wf.output_tuple_name)
