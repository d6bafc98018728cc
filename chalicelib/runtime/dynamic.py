"""The task runner's side of a `@dynamic` task (chalicelib.sdk.dynamic): trace the body with the inputs'
values, compile the graph, make sure its state machine exists (named by a hash of the definition, so one
shape is created once), and return what the next state starts: `{"state_machine": ARN, "input": {...}}`."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from chalicelib import capture
from chalicelib.aws import error_code
from chalicelib.errors import DefinitionError
from chalicelib.events.task import TaskEvent
from chalicelib.naming import state_machine_name
from chalicelib.sdk import carry, control, tracing
from chalicelib.sdk.dynamic import DynamicTaskDef, DynamicWorkflow
from chalicelib.sdk.task import OutputDef, split_result


def build(task: DynamicTaskDef, values: dict[str, Any]) -> DynamicWorkflow:
    """The graph the body builds with these values (pure: nothing runs but the body's own Python)."""
    name = f"{task.name}.dynamic"
    with tracing.building(name) as builder:
        result = task.fn(**values)
        control.close_sections(builder)
        returned = split_result(task.outputs, task.output_tuple_name, result, f"@dynamic {task.short_name!r}")
        bindings = {o.name: builder.binding_for(returned[o.name], f"@dynamic {task.short_name!r} output {o.name!r}",
                                                 lists=True)
                    for o in task.outputs}
    return DynamicWorkflow(name=name, short_name=f"{task.short_name}.dynamic", module=task.module,
                           graph=builder.graph, nodes=builder.tasks,
                           outputs=[OutputDef(o.name, o.type, None) for o in task.outputs], output_bindings=bindings)


def states_role_arn(runner_arn: str, prefix: str) -> str:
    """The stage's Step Functions role (infra/template.yaml names it `<prefix>states`)."""
    parts = runner_arn.split(":")
    return f"arn:{parts[1]}:iam::{parts[4]}:role/{prefix}states"


def ensure_state_machine(sfn: Any, name: str, definition: dict[str, Any], role: str) -> str:
    text = json.dumps(definition, sort_keys=True)
    try:
        return sfn.create_state_machine(name=name, definition=text, roleArn=role)["stateMachineArn"]
    except Exception as exc:
        if error_code(exc) != "StateMachineAlreadyExists":
            raise
    # the same name is the same definition (the name carries its hash): reuse it
    runner_region_account = role.split(":")
    return f"arn:{runner_region_account[1]}:states:{sfn.meta.region_name}:{runner_region_account[4]}:stateMachine:{name}"


def run(runner: Any, event: TaskEvent, task: DynamicTaskDef) -> dict[str, Any]:
    from chalicelib import aws
    from chalicelib.compile import compile_workflow

    settings = runner.settings
    if not settings.task_runner_arn:
        raise DefinitionError("@dynamic needs the task runner's ARN in the settings (CASCADE_TASK_RUNNER_ARN)")
    hints = {i.name: i.type for i in task.inputs}
    values = {name: carry.to_python(runner.binder.materialize(runner.binder.literal(event, b)), hints.get(name),
                                    runner.store.s3)
              for name, b in event.bindings.items()}
    with capture.captured() as out:
        try:
            dyn = build(task, values)
        finally:
            runner.registry.put_logs(event.execution_id, event.node, out.getvalue().splitlines())
    definition = compile_workflow(dyn, settings.task_runner_arn)  # type: ignore[arg-type]
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()[:12]
    name = state_machine_name(f"{task.module}.{task.short_name}.dyn-{digest}", settings.prefix)
    sfn = aws.client("stepfunctions", settings.region)
    arn = ensure_state_machine(sfn, name, definition, states_role_arn(settings.task_runner_arn, settings.prefix))
    meta = {"workflow": dyn.name, "launch_plan": None, "triggered_by": None, "parent": event.execution_id}
    return {"state_machine": arn, "input": {"meta": meta, "inputs": {}}, "nodes": len(dyn.nodes)}
