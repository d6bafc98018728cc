"""Compile a traced workflow into a Step Functions state machine definition.

Shape of the state (the JSON each state receives):

    {"meta": {...run metadata...}, "inputs": {name: literal}, "results": {node_id: task result}}

Nodes are grouped into levels by dependency depth. A level of one node is a Task state; a level of several
is a Parallel state, whose branch results are merged back into `$.results` by a Pass state with
`States.JsonMerge`, so independent tasks run at the same time. Every Task invokes the task-runner Lambda.

Retry/Catch policy of every Task state:
  * Retry Lambda service faults and throttling (`Lambda.ServiceException`, `Lambda.AWSLambdaException`,
    `Lambda.SdkClientException`, `Lambda.TooManyRequestsException`): 3 more attempts, 1 s then x2.
  * Retry `TransientAwsError`: the task runner raises it when S3, DynamoDB or Step Functions still throttle
    or fail with 5xx after botocore's own 5 attempts: 3 more attempts, 2 s then x2. Re-running a task is
    safe: its output version is a function of (execution, node, output) and both writes are conditional.
  * `@task(retries=N)` also retries the task's own errors (`States.TaskFailed`) N times;
    `@task(timeout=...)` sets the state's TimeoutSeconds.
  * Nothing else is retried, and there is no Catch: a task's own error (and a timeout, `States.Timeout`)
    fails the execution with the task's error type and message, which is the record of the failure.
    A data object written before the failure stays invisible (only the metadata item makes a version) and
    `python -m chalicelib gc` removes it.
"""

from __future__ import annotations

from typing import Any

from chalicelib.compile.resolve import resolve_states
from chalicelib.sdk import options
from chalicelib.sdk.tracing import Node
from chalicelib.sdk.workflow import WorkflowDef

LAMBDA_TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
RETRY = [
    {"ErrorEquals": LAMBDA_TRANSIENT_ERRORS, "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2.0},
    {"ErrorEquals": ["TransientAwsError"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2.0},
]


def levels(nodes: list[Node]) -> list[list[Node]]:
    """Group nodes by dependency depth; nodes in one level are independent of each other."""
    depth: dict[str, int] = {}
    for node in nodes:  # tracing order is already topological
        depth[node.id] = 1 + max((depth[u] for u in node.upstream), default=-1)
    grouped: dict[int, list[Node]] = {}
    for node in nodes:
        grouped.setdefault(depth[node.id], []).append(node)
    return [grouped[d] for d in sorted(grouped)]


def _task_state(node: Node, wf: WorkflowDef, runner_arn: str, result_path: str, next_state: str | None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": options.runner_resource(node, runner_arn),
        "Parameters": {
            **options.node_parameters(node),
            "workflow": wf.name,
            "node": node.id,
            "task": {"module": node.task.module, "name": node.task.short_name},
            "bindings": node.bindings,
            "meta.$": "$.meta",
            "inputs.$": "$.inputs",
            "results.$": "$.results",
            "execution_id.$": "$$.Execution.Id",
            "execution_start.$": "$$.Execution.StartTime",
        },
        "ResultPath": result_path,
        "Retry": RETRY + options.task_retry(options.node_options(node)),
    }
    timeout = options.task_timeout(options.node_options(node))
    if timeout:
        state["TimeoutSeconds"] = timeout
    if next_state:
        state["Next"] = next_state
    else:
        state["End"] = True
    return state


def _state_name(node: Node) -> str:
    return f"{node.id}-{node.task.short_name}"[:80]


def _publish_state(wf: WorkflowDef, runner_arn: str) -> dict[str, Any] | None:
    """A workflow-level artifact annotation (`-> Annotated[T, A(...)]`) becomes one more Task state after the
    last level: the task runner, in publish mode, stores the workflow's output as a version of A. It runs
    only when every task succeeded; see chalicelib.runtime.publish for why this is the place."""
    annotated = [o for o in wf.outputs if o.artifact is not None and o.name in wf.output_bindings]
    if not annotated:
        return None
    out = annotated[0]  # workflows have one output
    return {
        "Type": "Task",
        "Resource": runner_arn,
        "Parameters": {
            "mode": "publish",
            "workflow": wf.name,
            "output": out.name,
            "binding": wf.output_bindings[out.name],
            "meta.$": "$.meta",
            "inputs.$": "$.inputs",
            "results.$": "$.results",
            "execution_id.$": "$$.Execution.Id",
            "execution_start.$": "$$.Execution.StartTime",
        },
        "ResultPath": "$.published",
        "Retry": RETRY,
        "Next": "Outputs",
    }


def compile_workflow(wf: WorkflowDef, runner_arn: str) -> dict[str, Any]:
    """The ASL definition of `wf`, whose tasks run in the Lambda function `runner_arn`."""
    states: dict[str, Any] = {}
    groups = levels(wf.nodes)
    names = []
    for i, group in enumerate(groups):
        names.append(_state_name(group[0]) if len(group) == 1 else f"level{i}")
    publish = _publish_state(wf, runner_arn)
    order = ["Init", *names, *(["Publish"] if publish else []), "Outputs"]
    after_init, resolve = resolve_states(wf, runner_arn, RETRY, order[1])
    states["Init"] = {"Type": "Pass", "Result": {}, "ResultPath": "$.results", "Next": after_init}
    states.update(resolve)
    for i, group in enumerate(groups):
        name, nxt = order[i + 1], order[i + 2]
        if len(group) == 1:
            node = group[0]
            states[name] = _task_state(node, wf, runner_arn, f"$.results.{node.id}", nxt)
            continue
        merge = f"{name}-merge"
        states[name] = {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": _state_name(node),
                 "States": {_state_name(node): _task_state(node, wf, runner_arn, "$", None)}}
                for node in group
            ],
            "ResultSelector": {f"{node.id}.$": f"$[{j}]" for j, node in enumerate(group)},
            "ResultPath": "$.level",
            "Next": merge,
        }
        states[merge] = {
            "Type": "Pass",
            "Parameters": {
                "meta.$": "$.meta",
                "inputs.$": "$.inputs",
                "results.$": "States.JsonMerge($.results, $.level, false)",
            },
            "Next": nxt,
        }
    if publish:
        states["Publish"] = publish
    outputs = {}
    for out, binding in wf.output_bindings.items():
        if publish and publish["Parameters"]["output"] == out:
            outputs[f"{out}.$"] = f"$.published.outputs.{out}"
        elif "node" in binding:
            outputs[f"{out}.$"] = f"$.results.{binding['node']}.outputs.{binding['output']}"
        elif "input" in binding:
            outputs[f"{out}.$"] = f"$.inputs.{binding['input']}"
        else:
            outputs[out] = binding["const"]
    states["Outputs"] = {"Type": "Pass", "Parameters": {"outputs": outputs, "meta.$": "$.meta"}, "End": True}
    return {
        "Comment": f"workflow {wf.name}",
        "StartAt": "Init",
        "States": states,
    }
