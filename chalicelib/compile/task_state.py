"""The Task state of one task node (the task runner, its retries and timeout), shared by every compiler module.

The retry policy is documented in chalicelib.compile.asl."""

from __future__ import annotations

from typing import Any

from chalicelib.sdk import options

LAMBDA_TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
]
RETRY = [
    {"ErrorEquals": LAMBDA_TRANSIENT_ERRORS, "IntervalSeconds": 1, "MaxAttempts": 6, "BackoffRate": 2.0,
     "MaxDelaySeconds": 30, "JitterStrategy": "FULL"},
    {"ErrorEquals": ["TransientAwsError"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2.0},
]


def task_state(node: Any, wf: Any, runner_arn: str, result_path: str, next_state: str | None) -> dict[str, Any]:
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


def state_name(node: Any) -> str:
    return f"{node.id}-{node.task.short_name}"[:80]
