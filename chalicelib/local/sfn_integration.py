"""moto's Step Functions interpreter calling Step Functions itself (`states:startExecution.sync:2`, how a
launch plan called inside a workflow runs): moto's port leaves the request and response casing to a no-op, so
the boto call gets `StateMachineArn`/`Input`/`Name` (boto wants `stateMachineArn`, ...) and the resolver looks
for `ExecutionArn` in a response keyed `executionArn`. These patches do the casing AWS does; nothing else."""

from __future__ import annotations

from typing import Any
from unittest import mock


def patches() -> list[Any]:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sfn as sfn

    cls = sfn.StateTaskServiceSfn
    original = cls._normalise_parameters

    def normalise_parameters(self: Any, parameters: dict, boto_service_name: str | None = None,
                             service_action_name: str | None = None) -> None:
        original(self, parameters, boto_service_name=boto_service_name, service_action_name=service_action_name)
        for key in list(parameters):
            if key[:1].isupper():
                parameters[key[:1].lower() + key[1:]] = parameters.pop(key)

    def normalise_response(self: Any, response: Any, boto_service_name: str | None = None,
                           service_action_name: str | None = None) -> None:
        if isinstance(response, dict):
            for key in list(response):
                if key[:1].islower():
                    response[key[:1].upper() + key[1:]] = response.pop(key)

    return [mock.patch.object(cls, "_normalise_parameters", normalise_parameters),
            mock.patch.object(cls, "_normalise_response", normalise_response)]
