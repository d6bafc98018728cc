"""Scheduled launch plans on AWS: one EventBridge Scheduler schedule each, in the stage's schedule group,
invoking the schedule Lambda (`on_schedule`) with the role EventBridge Scheduler assumes.

Decide, then act: `desired` is pure (launch plan → the schedule it should have); `Schedules` is the small
adapter that makes the stage match, changing only what differs (so registering again changes nothing).
A deactivated launch plan keeps its schedule, DISABLED; a removed one loses it. On a deployed stage the stack
holds the schedules (chalicelib/deploy/workflow_stack.py builds them from `desired`): `Schedules(stack_owned=True)`
stores only the specs, which each tick reads (an inactive or removed launch plan's tick starts nothing).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from chalicelib import naming
from chalicelib.aws import error_code
from chalicelib.schedule import cron
from chalicelib.schedule.tick import target_input
from chalicelib.store.schedules import ScheduleSpec, ScheduleStore

if TYPE_CHECKING:
    from chalicelib.sdk.launch_plan import LaunchPlan

# EventBridge Scheduler's own defaults for a target, written out so a re-registration compares equal
RETRY_POLICY = {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}


class ScheduleTarget(BaseModel):
    """Where a stage's schedules deliver: the schedule Lambda, through the scheduler role."""

    function_arn: str
    role_arn: str
    group: str

    @classmethod
    def of(cls, prefix: str, task_runner_arn: str, states_role_arn: str) -> ScheduleTarget:
        """The on_schedule function beside the task runner (its ARN with or without the alias qualifier), the
        scheduler role beside the states role."""
        function_arn = task_runner_arn.split(":function:", 1)[0] + f":function:{prefix}{naming.SCHEDULE}"
        role_arn = states_role_arn.rsplit("/", 1)[0] + "/" + naming.scheduler_role_name(prefix)
        return cls(function_arn=function_arn, role_arn=role_arn, group=naming.schedule_group_name(prefix))


def spec_of(lp: LaunchPlan, state_machine_arn: str, active: bool) -> ScheduleSpec | None:
    if lp.schedule is None:
        return None
    return ScheduleSpec(launch_plan=lp.name, lp_version=lp.version, workflow=lp.workflow.name,
                        state_machine_arn=state_machine_arn, active=active, kind=lp.schedule.kind,  # type: ignore[arg-type]
                        expression=lp.schedule.expression, kickoff_input=lp.schedule.kickoff_time_input_arg,
                        fixed_inputs=lp.fixed_inputs, default_inputs=lp.default_inputs)


def desired(spec: ScheduleSpec, target: ScheduleTarget) -> dict[str, Any]:
    """The CreateSchedule/UpdateSchedule request of a launch plan's schedule (pure)."""
    return {
        "Name": naming.schedule_name(spec.launch_plan), "GroupName": target.group,
        "ScheduleExpression": spec.expression, "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED" if spec.active else "DISABLED",
        "Description": f"launch plan {spec.launch_plan}",
        "Target": {"Arn": target.function_arn, "RoleArn": target.role_arn,
                   "Input": json.dumps(target_input(spec.launch_plan), sort_keys=True), "RetryPolicy": RETRY_POLICY},
    }


def _same(current: dict[str, Any], want: dict[str, Any]) -> bool:
    target, want_target = current.get("Target") or {}, want["Target"]
    return all(current.get(k) == want[k] for k in ("ScheduleExpression", "ScheduleExpressionTimezone", "State",
                                                   "FlexibleTimeWindow", "Description")) and \
        all(target.get(k) == want_target[k] for k in ("Arn", "RoleArn", "Input", "RetryPolicy"))


class Schedules:
    """The stage's schedules: the registry's specs (what a tick starts) and EventBridge Scheduler's schedules."""

    def __init__(self, scheduler: Any, store: ScheduleStore, target: ScheduleTarget, stack_owned: bool = False) -> None:
        self.scheduler = scheduler
        self.store = store
        self.target = target
        self.stack_owned = stack_owned  # the stage's stack holds the schedules: only the specs are ours
        self.group = target.group
        self._names: set[str] | None = None
        self._stored: dict[str, ScheduleSpec] | None = None

    def _specs(self) -> dict[str, ScheduleSpec]:
        if self._stored is None:
            self._stored = {s.launch_plan: s for s in self.store.all()}
        return self._stored

    def _existing(self) -> set[str]:
        if self._names is None:
            names: set[str] = set()
            try:
                for page in self.scheduler.get_paginator("list_schedules").paginate(GroupName=self.target.group):
                    names.update(s["Name"] for s in page["Schedules"])
            except Exception as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise
            self._names = names
        return self._names

    def _ensure_group(self) -> bool:
        try:
            self.scheduler.get_schedule_group(Name=self.target.group)
            return False
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
        self.scheduler.create_schedule_group(Name=self.target.group)
        return True

    def apply(self, name: str, spec: ScheduleSpec | None) -> list[str]:
        """Make launch plan `name`'s schedule match `spec` (None: it has none). Returns what changed."""
        changed: list[str] = []
        sched = naming.schedule_name(name)
        if spec is None:
            if self._specs().pop(name, None) is not None and self.store.delete(name):
                changed.append(f"removed schedule spec of {name}")
            if not self.stack_owned and sched in self._existing():
                self._delete(sched)
                changed.append(f"deleted schedule {self.target.group}/{sched}")
            return changed
        if self._specs().get(name) != spec:
            self.store.put(spec)
            self._specs()[name] = spec
            changed.append(f"stored schedule of {name} ({spec.expression})")
        if self.stack_owned:
            return changed
        want = desired(spec, self.target)
        if sched not in self._existing():
            if self._ensure_group():
                changed.append(f"created schedule group {self.target.group}")
            self.scheduler.create_schedule(**want)
            self._existing().add(sched)
            changed.append(f"created schedule {self.target.group}/{sched} {spec.expression}")
            return changed
        current = self.scheduler.get_schedule(Name=sched, GroupName=self.target.group)
        if not _same(current, want):
            self.scheduler.update_schedule(**want)
            changed.append(f"updated schedule {self.target.group}/{sched} {spec.expression} {want['State']}")
        return changed

    def _delete(self, sched: str) -> None:
        try:
            self.scheduler.delete_schedule(Name=sched, GroupName=self.target.group)
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
        self._existing().discard(sched)


class StageSchedules:
    """A deployed stage's schedules, for operator commands: switch them, say when they fire next."""

    def __init__(self, scheduler: Any, store: ScheduleStore, prefix: str) -> None:
        self.scheduler = scheduler
        self.store = store
        self.group = naming.schedule_group_name(prefix)

    def _get(self, name: str) -> dict[str, Any] | None:
        try:
            return dict(self.scheduler.get_schedule(Name=naming.schedule_name(name), GroupName=self.group))
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise

    def set_active(self, name: str, active: bool) -> ScheduleSpec | None:
        """Enable or disable launch plan `name`'s schedule (None: it has none). The registry's spec first: a
        tick delivered in between reads it and starts nothing."""
        spec = self.store.set_active(name, active)
        current = self._get(name)
        state = "ENABLED" if active else "DISABLED"
        if current is not None and current.get("State") != state:
            keep = {k: current[k] for k in ("Name", "GroupName", "ScheduleExpression", "FlexibleTimeWindow", "Target")}
            for k in ("ScheduleExpressionTimezone", "Description", "StartDate", "EndDate"):
                if current.get(k) is not None:
                    keep[k] = current[k]
            self.scheduler.update_schedule(**keep, State=state)
        return spec

    def next_fire(self, name: str, now: datetime | None = None) -> str | None:
        """When launch plan `name`'s schedule fires next (ISO, UTC), read from EventBridge Scheduler; None when
        it has no schedule or it is disabled."""
        current = self._get(name)
        if current is None or current.get("State") != "ENABLED":
            return None
        return next_fire_of(current, now or datetime.now(timezone.utc))


def stage_schedules(stage: Any) -> StageSchedules:
    """`stage`: a chalicelib.ops.stage.Stage."""
    return StageSchedules(stage.client("scheduler"), ScheduleStore(stage.settings.registry_table, stage.dynamodb),
                          stage.settings.prefix)


def tick(stage: Any, launch_plan: str, at: datetime) -> Any:
    """Fire one tick of `launch_plan` at `at` by hand, with the schedule Lambda's own logic (the same execution
    name as the scheduled delivery of that tick: firing it twice starts one execution)."""
    from chalicelib.errors import UnknownLaunchPlanError
    from chalicelib.schedule.handler import Scheduler

    result = Scheduler.of(stage.settings, stage.dynamodb, stage.sfn).fire(launch_plan, at)
    if result.outcome == "unscheduled":
        scheduled = sorted(s.launch_plan for s in ScheduleStore(stage.settings.registry_table, stage.dynamodb).all())
        raise UnknownLaunchPlanError(
            f"launch plan {launch_plan!r} has no schedule in stage {stage.settings.stage!r}; scheduled launch plans: "
            f"{', '.join(scheduled) or '(none)'}"
        )
    return result


def next_fire_of(schedule: dict[str, Any], now: datetime) -> str | None:
    """The next fire time of a GetSchedule answer. A rate counts from the schedule's start (or creation)."""
    anchor = schedule.get("StartDate") or schedule.get("CreationDate") or now
    if not isinstance(anchor, datetime):
        anchor = datetime.fromtimestamp(float(anchor), timezone.utc)
    at = cron.next_fire(schedule["ScheduleExpression"], now, anchor.astimezone(timezone.utc))
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


def delete_group(scheduler: Any, prefix: str) -> list[str]:
    """Tear down: the stage's schedule group, and with it every schedule in it."""
    group = naming.schedule_group_name(prefix)
    try:  # asked first: moto answers a DeleteScheduleGroup of a missing group with a 500, not a 404
        scheduler.get_schedule_group(Name=group)
        scheduler.delete_schedule_group(Name=group)
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return []
        raise
    return [f"schedule group {group}"]
