"""Start the executions a decision asked for: claim them in the start ledger, then StartExecution each.

An execution that already exists counts as started. Per record this costs one conditional PutItem (the
claim) plus one StartExecution per run request; see `chalicelib.store.claims` for why the claim is needed.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel

from chalicelib import logs
from chalicelib.aws import error_code
from chalicelib.errors import OversizeInputError
from chalicelib.store.models import ArtifactVersion
from chalicelib.trigger.decide import RunRequest
from chalicelib.store.claims import StartLedger

MAX_INPUT_BYTES = 256 * 1024  # Step Functions' limit on an execution's input

log = logs.get_logger("trigger")


class StartResult(BaseModel):
    name: str
    launch_plan: str
    outcome: Literal["started", "already_started"]
    execution_arn: str | None = None


def check_input_size(request: RunRequest) -> None:
    size = len(json.dumps(request.input).encode())
    if size > MAX_INPUT_BYTES:
        raise OversizeInputError(
            f"launch plan {request.launch_plan!r} would start with an input of {size} bytes; Step Functions accepts "
            f"at most {MAX_INPUT_BYTES}. Pass large values as artifacts, not as launch-plan inputs"
        )


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


def start_claimed(sfn: Any, ledger: StartLedger, version: ArtifactVersion, requests: list[RunRequest]) -> list[StartResult]:
    """Exactly one run per (version, launch plan), however often and in whatever order this is called.

    Every recorded request is attempted; if any failed, the first error is raised after the others ran, so
    the record is delivered again and the claim re-issues only what is still missing."""
    if not requests:
        log.info("no active launch plan subscribes to this version")
        return []
    for request in requests:
        check_input_size(request)
    claim = ledger.claim(version.name, version.version, [r.model_dump(mode="json") for r in requests])
    results: list[StartResult] = []
    failures: list[BaseException] = []
    for request in map(RunRequest.model_validate, claim.requests):
        with logs.correlated(log, launch_plan=request.launch_plan, execution=request.name):
            try:
                result = start(sfn, request)
            except Exception as exc:
                log.error("run request failed", extra={"claim": "new" if claim.first else "existing",
                                                       **logs.error_fields(exc)})
                failures.append(exc)
                continue
            log.info("run request", extra={"outcome": result.outcome, "claim": "new" if claim.first else "existing"})
            results.append(result)
    if failures:
        raise failures[0]
    return results
