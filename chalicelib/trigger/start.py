"""Start the executions a decision asked for. An execution that already exists counts as started."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel

from chalicelib.aws import error_code
from chalicelib.trigger.decide import RunRequest


class StartResult(BaseModel):
    name: str
    launch_plan: str
    outcome: Literal["started", "already_started"]
    execution_arn: str | None = None


def start(sfn: Any, request: RunRequest) -> StartResult:
    try:
        resp = sfn.start_execution(
            stateMachineArn=request.state_machine_arn, name=request.name, input=json.dumps(request.input)
        )
    except Exception as exc:
        if error_code(exc) != "ExecutionAlreadyExists":
            raise
        return StartResult(name=request.name, launch_plan=request.launch_plan, outcome="already_started")
    return StartResult(name=request.name, launch_plan=request.launch_plan, outcome="started",
                       execution_arn=resp["executionArn"])
