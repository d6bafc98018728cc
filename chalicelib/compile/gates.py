"""Gate nodes (chalicelib.sdk.gates.GateNode) → states. Pure.

    sleep           a Wait state
    wait_for_input  a Task state `lambda:invoke.waitForTaskToken`: the task runner records the task token
                    (chalicelib.store.gates) and returns; the execution waits until `signal` sends the value
                    (SendTaskSuccess with `{"outputs": {"o0": value}}`), or the timeout fails it
    approve         the same wait, then a Pass state that passes the approved value on as the node's output;
                    a rejection (SendTaskFailure, error GateRejected) fails the execution
"""

from __future__ import annotations

from typing import Any

from chalicelib.compile.paths import parameters_of
from chalicelib.sdk.gates import GateNode

WAIT_FOR_TOKEN = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def add_states(chain: Any, name: str, node: GateNode, nxt: str) -> None:
    from chalicelib.compile.task_state import RETRY

    if node.kind == "sleep":
        chain.states[name] = {"Type": "Wait", "Seconds": node.seconds, "Next": nxt}
        return
    approve = node.kind == "approve"
    passed = f"{node.id}-approved"
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": WAIT_FOR_TOKEN,
        "Parameters": {
            "FunctionName": chain.runner_arn,
            "Payload": {
                "mode": "gate",
                "gate": {"name": node.name, "kind": node.kind, "expected_type": node.expected_type,
                         "timeout_seconds": node.seconds},
                "workflow": chain.wf.name,
                "node": node.id,
                "execution_id.$": "$$.Execution.Id",
                "token.$": "$$.Task.Token",
            },
        },
        "ResultPath": "$.gate" if approve else f"$.results.{node.id}",
        "Retry": RETRY,
        "Next": passed if approve else nxt,
    }
    if node.seconds:
        state["TimeoutSeconds"] = node.seconds
    chain.states[name] = state
    if approve:
        chain.states[passed] = {"Type": "Pass", "Parameters": {"outputs": parameters_of(node.bindings)},
                                "ResultPath": f"$.results.{node.id}", "Next": nxt}
