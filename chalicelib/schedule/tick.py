"""What one scheduled tick starts. Pure: (schedule, scheduled time) → one run request.

The execution name is a function of the launch plan and the scheduled time only, so the at-least-once
deliveries of one tick (EventBridge Scheduler retries, a tick fired again by hand) start one execution: the
second StartExecution answers ExecutionAlreadyExists. The kickoff input is the scheduled time, never the time
of delivery.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

from pydantic import BaseModel, field_validator

from chalicelib.errors import EventError
from chalicelib.sdk.timeparts import iso
from chalicelib.store.schedules import ScheduleSpec
from chalicelib.trigger.decide import RunRequest

# the context attribute EventBridge Scheduler replaces in a target's input with the tick's scheduled time
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


class TickEvent(BaseModel):
    """The schedule's target input: {"launch_plan": ..., "scheduled_time": "2026-12-01T23:00:00Z"}."""

    launch_plan: str
    scheduled_time: datetime

    @field_validator("scheduled_time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("scheduled_time has no time zone; give it in UTC, e.g. 2026-12-01T23:00:00Z")
        return value.astimezone(timezone.utc)

    @classmethod
    def parse(cls, event: object) -> TickEvent:
        if isinstance(event, dict) and event.get("scheduled_time") == SCHEDULED_TIME:
            raise EventError(f"the tick event's scheduled_time is still {SCHEDULED_TIME!r}: EventBridge Scheduler "
                             f"fills it in; to fire a tick by hand use `python -m chalicelib schedule tick`")
        try:
            return cls.model_validate(event)
        except ValueError as exc:
            raise EventError(f"not a schedule tick event ({exc.errors()[0]['msg'] if hasattr(exc, 'errors') else exc}): "
                             f"expected {{'launch_plan': NAME, 'scheduled_time': ISO time}}; got {event!r:.200}") from None


def target_input(launch_plan: str) -> dict[str, str]:
    """The input registration gives the schedule's target."""
    return {"launch_plan": launch_plan, "scheduled_time": SCHEDULED_TIME}


def execution_name(launch_plan: str, scheduled: datetime) -> str:
    """Deterministic, ≤ 80 chars of [A-Za-z0-9_-]: `<launch plan>-at-20261201T230000Z-<hash>`."""
    at = scheduled.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    digest = hashlib.sha256(f"{launch_plan}\x1f{at}".encode()).hexdigest()[:10]
    head = re.sub(r"[^A-Za-z0-9_-]", "-", launch_plan)[:48]
    return f"{head}-at-{at}-{digest}"


def tick_request(spec: ScheduleSpec, scheduled: datetime) -> RunRequest:
    inputs = {**spec.default_inputs, **spec.fixed_inputs}
    if spec.kickoff_input:
        inputs[spec.kickoff_input] = {"$datetime": iso(scheduled)}
    meta = {"workflow": spec.workflow, "launch_plan": spec.launch_plan, "launch_plan_version": spec.lp_version,
            "triggered_by": None, "scheduled_at": iso(scheduled)}
    return RunRequest(launch_plan=spec.launch_plan, state_machine_arn=spec.state_machine_arn,
                      name=execution_name(spec.launch_plan, scheduled), input={"meta": meta, "inputs": inputs})
