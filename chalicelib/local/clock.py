"""The local cloud's EventBridge Scheduler: moto stores schedules but never fires them. Here a clock reads the
stage's schedules as registration made them (expression, state, target and its input) and delivers each due
tick as EventBridge Scheduler does: the target's input with `<aws.scheduler.scheduled-time>` replaced by the
tick's time, to the target function.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable

from chalicelib import naming
from chalicelib.aws import error_code
from chalicelib.schedule import cron
from chalicelib.schedule.tick import SCHEDULED_TIME

# a clock that was not called for a long time (a suspended laptop) fires at most this many missed ticks each
MAX_CATCH_UP = 100


def iso_z(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Clock:
    def __init__(self, scheduler: Any, prefix: str, invoke: Callable[[str, str], Any],
                 now: datetime | None = None) -> None:
        self.scheduler = scheduler
        self.group = naming.schedule_group_name(prefix)
        self.invoke = invoke  # (function ARN, payload text) → what the function returned
        self.checked = now or datetime.now(timezone.utc)

    def schedules(self) -> list[dict[str, Any]]:
        out = []
        try:
            for page in self.scheduler.get_paginator("list_schedules").paginate(GroupName=self.group):
                for item in page["Schedules"]:
                    out.append(self.scheduler.get_schedule(Name=item["Name"], GroupName=self.group))
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":  # no group yet: nothing scheduled
                raise
        return out

    def deliver(self, schedule: dict[str, Any], at: datetime) -> Any:
        """One tick of `schedule` at `at`, delivered as EventBridge Scheduler delivers it."""
        target = schedule["Target"]
        payload = (target.get("Input") or "{}").replace(SCHEDULED_TIME, iso_z(at))
        return self.invoke(target["Arn"], payload)

    def advance(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Fire every enabled schedule's ticks in (last time, now]; returns what each delivery answered."""
        now = now or datetime.now(timezone.utc)
        since, self.checked = self.checked, max(self.checked, now)
        fired = []
        for schedule in self.schedules():
            if schedule.get("State") != "ENABLED":
                continue
            anchor = schedule.get("StartDate") or schedule.get("CreationDate") or since
            if not isinstance(anchor, datetime):
                anchor = datetime.fromtimestamp(float(anchor), timezone.utc)
            for at in cron.fires_between(schedule["ScheduleExpression"], since, now, anchor, limit=MAX_CATCH_UP):
                answer = self.deliver(schedule, at)
                fired.append({"schedule": schedule["Name"], "at": iso_z(at), "answer": answer})
        return fired


def invoker(lam: Any) -> Callable[[str, str], Any]:
    def invoke(function_arn: str, payload: str) -> Any:
        resp = lam.invoke(FunctionName=function_arn, Payload=payload.encode())
        return json.loads(resp["Payload"].read() or b"null")

    return invoke
