"""A launch plan called in a workflow (chalicelib.sdk.launching.LaunchNode) → a Task state that starts the
launch plan's workflow's state machine and waits for it (`startExecution.sync:2`). Pure.

The child's input has the shape every execution has (`{"meta", "inputs"}`, as chalicelib.ops.launch starts
one), with `meta.parent` naming the calling execution. The child's name is a fresh UUID (names are unique per
state machine for 90 days). Its recorded outputs (`Output.outputs`) become the node's outputs; a failed child
fails the node with States.TaskFailed, whose cause holds the child's description.
"""

from __future__ import annotations

from typing import Any

from chalicelib.compile.paths import parameters_of
from chalicelib.naming import state_machine_name
from chalicelib.sdk.launching import LaunchNode

START_SYNC = "arn:aws:states:::states:startExecution.sync:2"


def state_machine_arn(runner_arn: str, workflow: str) -> str:
    """The ARN of `workflow`'s state machine in the stage whose task runner is `runner_arn`
    (arn:PARTITION:lambda:REGION:ACCOUNT:function:PREFIXtask_runner, see chalicelib.naming)."""
    from chalicelib.naming import TASK_RUNNER

    parts = runner_arn.split(":")
    partition, region, account, function = parts[1], parts[3], parts[4], parts[6]
    prefix = function[: -len(TASK_RUNNER)] if function.endswith(TASK_RUNNER) else ""
    return f"arn:{partition}:states:{region}:{account}:stateMachine:{state_machine_name(workflow, prefix)}"


def add_states(chain: Any, name: str, node: LaunchNode, nxt: str) -> None:
    chain.states[name] = {
        "Type": "Task",
        "Resource": START_SYNC,
        "Parameters": {
            "StateMachineArn": state_machine_arn(chain.runner_arn, node.workflow.name),
            "Name.$": "States.UUID()",
            "Input": {
                "meta": {"workflow": node.workflow.name, "launch_plan": node.plan, "triggered_by": None,
                         "parent.$": "$$.Execution.Id"},
                "inputs": parameters_of(node.bindings),
            },
        },
        "ResultSelector": {"outputs.$": "$.Output.outputs"},
        "ResultPath": f"$.results.{node.id}",
        "Retry": [{"ErrorEquals": ["StepFunctions.ThrottlingException", "StepFunctions.SdkClientException",
                                   ],
                   "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2.0}],
        "Next": nxt,
    }
