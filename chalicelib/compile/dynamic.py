"""A `@dynamic` task node → a Task state that builds and registers the graph (the task runner), then a
`startExecution.sync:2` on the state machine it names, then a Pass that drops the request. Pure."""

from __future__ import annotations

from typing import Any

from chalicelib.compile.launching import START_SYNC
from chalicelib.sdk.tracing import Node


def add_states(chain: Any, name: str, node: Node, nxt: str) -> None:
    from chalicelib.compile.task_state import task_state

    run, tidy = f"{node.id}-run", f"{node.id}-tidy"
    chain.states[name] = task_state(node, chain.wf, chain.runner_arn, "$.dynamic", run)
    chain.states[run] = {
        "Type": "Task",
        "Resource": START_SYNC,
        "Parameters": {"StateMachineArn.$": "$.dynamic.state_machine", "Name.$": "States.UUID()",
                       "Input.$": "$.dynamic.input"},
        "ResultSelector": {"outputs.$": "$.Output.outputs"},
        "ResultPath": f"$.results.{node.id}",
        "Retry": [{"ErrorEquals": ["StepFunctions.ThrottlingException", "StepFunctions.SdkClientException"],
                   "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2.0}],
        "Next": tidy,
    }
    chain.states[tidy] = {"Type": "Pass", "Parameters": {"meta.$": "$.meta", "inputs.$": "$.inputs",
                                                         "results.$": "$.results"}, "Next": nxt}
