"""The schedule Lambda: one EventBridge Scheduler tick of one launch plan → at most one execution.

Ships in Lambda: imports neither the authoring SDK nor pandas. Reads the launch plan's schedule with a
consistent read (a tick of a removed or deactivated launch plan starts nothing), then StartExecution with the
tick's deterministic name (chalicelib/schedule/tick.py): a redelivered tick finds its execution already there.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel

from chalicelib import aws, logs
from chalicelib.config import Settings
from chalicelib.schedule.tick import TickEvent, tick_request
from chalicelib.store.schedules import ScheduleStore
from chalicelib.trigger.start import check_input_size, start

log = logs.get_logger("schedule")


class TickResult(BaseModel):
    launch_plan: str
    scheduled_time: str
    outcome: Literal["started", "already_started", "inactive", "unscheduled"]
    execution: str | None = None
    execution_arn: str | None = None


class Scheduler:
    def __init__(self, schedules: ScheduleStore, sfn: Any) -> None:
        self.schedules = schedules
        self.sfn = sfn

    @classmethod
    def of(cls, settings: Settings, dynamodb: Any, sfn: Any) -> Scheduler:
        return cls(ScheduleStore(settings.registry_table, dynamodb), sfn)

    def fire(self, launch_plan: str, scheduled: datetime) -> TickResult:
        at = scheduled.isoformat().replace("+00:00", "Z")
        spec = self.schedules.get(launch_plan)
        if spec is None:  # removed, or no longer scheduled: a late delivery
            return TickResult(launch_plan=launch_plan, scheduled_time=at, outcome="unscheduled")
        if not spec.active:
            return TickResult(launch_plan=launch_plan, scheduled_time=at, outcome="inactive")
        request = tick_request(spec, scheduled)
        check_input_size(request)
        result = start(self.sfn, request)
        return TickResult(launch_plan=launch_plan, scheduled_time=at, outcome=result.outcome,
                          execution=request.name, execution_arn=result.execution_arn)

    def handle(self, event: Any) -> dict[str, Any]:
        tick = TickEvent.parse(event)
        with logs.correlated(log, launch_plan=tick.launch_plan):
            result = self.fire(tick.launch_plan, tick.scheduled_time)
            log.info(f"tick {result.scheduled_time}: {result.outcome} {result.execution or ''}".rstrip())
        return result.model_dump()


@lru_cache(maxsize=1)
def default_scheduler() -> Scheduler:
    settings = Settings.from_env()
    return Scheduler.of(settings, aws.client("dynamodb", settings.region), aws.client("stepfunctions", settings.region))
