"""Start the executions a decision asked for: claim them in the start ledger, then StartExecution each.

An execution that already exists counts as started. Per record this costs one conditional PutItem (the
claim; plus one BatchWriteItem per 25 part items for decisions past one item, about 10,000 launch plans) and
one StartExecution per run request; see `chalicelib.store.claims` for why the claim is needed.

Replay (`start_replayed`, `preview`) goes through the same ledger: each launch plan it replays starts the run
recorded for it, whatever was registered since, and only launch plans with no recorded run are claimed anew.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from msgspec import Struct

from chalicelib import logs
from chalicelib.aws import error_code
from chalicelib.errors import OversizeInputError
from chalicelib.store.models import ArtifactVersion
from chalicelib.trigger.decide import RunRequest
from chalicelib.store.claims import Claim, StartLedger
from chalicelib.trigger.pool import Pool

MAX_INPUT_BYTES = 256 * 1024  # Step Functions' limit on an execution's input

log = logs.get_logger("trigger")


class StartResult(Struct, frozen=True, kw_only=True):
    name: str
    launch_plan: str
    outcome: Literal["started", "already_started", "would_start"]
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


def exists(sfn: Any, request: RunRequest) -> bool:
    """Whether an execution of this name exists on its state machine (DescribeExecution)."""
    arn = request.state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{request.name}"
    try:
        sfn.describe_execution(executionArn=arn)
    except Exception as exc:
        if error_code(exc) == "ExecutionDoesNotExist":
            return False
        raise
    return True


def _issue(sfn: Any, claim: Claim, requests: list[RunRequest], pool: Pool | None = None) -> list[StartResult]:
    """Start every request, the first alone and the others concurrently with a `pool`; if any failed, raise the
    first error (in request order) after the others ran. Results are in request order."""

    def issue(request: RunRequest) -> StartResult:
        how = "new" if request.launch_plan in claim.new else "existing"
        with logs.correlated(log, launch_plan=request.launch_plan, execution=request.name):
            try:
                result = start(sfn, request)
            except Exception as exc:
                log.error("run request failed", extra={"claim": how, **logs.error_fields(exc)})
                raise
            log.info("run request", extra={"outcome": result.outcome, "claim": how})
            return result

    if not requests:
        return []
    # The first start goes alone: when it still fails after botocore's retries (Step Functions throttling the
    # account), the others go one at a time instead of as a burst into the same throttle.
    outcomes = Pool(1).map(issue, requests[:1])
    rest = pool if pool is not None and outcomes[0][1] is None else Pool(1)
    outcomes += rest.map(issue, requests[1:])
    failures = [exc for _, exc in outcomes if exc is not None]
    if failures:
        raise failures[0]
    return [result for result, _ in outcomes]


def start_claimed(sfn: Any, ledger: StartLedger, version: ArtifactVersion, requests: list[RunRequest],
                  pool: Pool | None = None) -> list[StartResult]:
    """Exactly one run per (version, launch plan), however often and in whatever order this is called.

    Every recorded request is attempted (with a `pool`, concurrently, after the claim); if any failed, the first error is raised after the others ran, so
    the record is delivered again and the claim re-issues only what is still missing."""
    if not requests:
        log.info("no active launch plan subscribes to this version")
        return []
    for request in requests:
        check_input_size(request)
    claim = ledger.claim(version.name, version.version, [r.to_dict() for r in requests])
    return _issue(sfn, claim, [RunRequest.from_dict(r) for r in claim.requests], pool)


def start_replayed(sfn: Any, ledger: StartLedger, version: ArtifactVersion, requests: list[RunRequest],
                   salt: str = "") -> list[StartResult]:
    """Replay: for each planned request's launch plan, start the run recorded for it in the version's claim
    (under `salt`'s namespace); launch plans with none are recorded first (one entry). One result per request."""
    if not requests:
        return []
    for request in requests:
        check_input_size(request)
    claim = ledger.extend(version.name, version.version, [r.to_dict() for r in requests], salt=salt)
    recorded = claim.by_launch_plan()
    return _issue(sfn, claim, [RunRequest.from_dict(recorded[r.launch_plan]) for r in requests])


def preview(sfn: Any, ledger: StartLedger, version: ArtifactVersion, requests: list[RunRequest],
            salt: str = "") -> list[StartResult]:
    """What `start_replayed` would do, starting nothing: the recorded run of each launch plan (else the planned
    one) is `already_started` if its execution exists, else `would_start`."""
    if not requests:
        return []
    claim = ledger.get(version.name, version.version, salt)
    recorded = claim.by_launch_plan() if claim else {}
    out = []
    for planned in requests:
        request = RunRequest.from_dict(recorded[planned.launch_plan]) if planned.launch_plan in recorded else planned
        out.append(StartResult(name=request.name, launch_plan=request.launch_plan,
                               outcome="already_started" if exists(sfn, request) else "would_start"))
    return out
