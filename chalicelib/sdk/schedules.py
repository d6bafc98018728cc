"""flytekit's schedules: `CronSchedule` and `FixedRate`, given to `LaunchPlan.get_or_create(schedule=...)`.

Each is validated when it is made (a DefinitionError names the value and the fix); the launch plan then checks
`kickoff_time_input_arg` against its workflow. Registration turns each into one EventBridge Scheduler schedule
(chalicelib/ops/schedule.py); what one tick starts is chalicelib/schedule/tick.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.errors import DefinitionError
from chalicelib.schedule import cron


class Schedule:
    """What both kinds share: the AWS expression, and the workflow input that receives the scheduled time."""

    kind = ""
    expression = ""
    kickoff_time_input_arg: str | None = None

    def _check_kickoff(self, kickoff_time_input_arg: Any) -> str | None:
        if kickoff_time_input_arg is not None and (not isinstance(kickoff_time_input_arg, str)
                                                   or not kickoff_time_input_arg.isidentifier()):
            raise DefinitionError(
                f"{type(self).__name__}(kickoff_time_input_arg={kickoff_time_input_arg!r}): give the name of a "
                f"datetime input of the workflow, e.g. kickoff_time_input_arg='kickoff_time'"
            )
        return kickoff_time_input_arg

    def definition(self) -> dict[str, Any]:
        return {"kind": self.kind, "expression": self.expression, "kickoff_input": self.kickoff_time_input_arg}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schedule) and self.definition() == other.definition()

    def __hash__(self) -> int:
        return hash(tuple(self.definition().items()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.expression!r}, kickoff_time_input_arg={self.kickoff_time_input_arg!r})"


class CronSchedule(Schedule):
    """`CronSchedule(schedule="0 * * * *" | "@hourly", kickoff_time_input_arg=None)`, as flytekit.

    `cron_expression=` (flytekit's older AWS form, 6 fields with `?`) is accepted as well; `offset=` is not
    (EventBridge Scheduler has no offset: shift the expression instead)."""

    kind = "cron"

    def __init__(self, cron_expression: str | None = None, schedule: str | None = None, offset: str | None = None,
                 kickoff_time_input_arg: str | None = None) -> None:
        self.kickoff_time_input_arg = self._check_kickoff(kickoff_time_input_arg)
        if offset is not None:
            raise DefinitionError(
                f"CronSchedule(offset={offset!r}) is not supported: EventBridge Scheduler has no offset; shift the "
                f"cron expression by the offset instead"
            )
        if (cron_expression is None) == (schedule is None):
            raise DefinitionError(
                "CronSchedule: give exactly one of schedule= (5 fields or an alias, e.g. schedule='0 * * * *') "
                f"and cron_expression= (AWS's 6 fields); got schedule={schedule!r}, cron_expression={cron_expression!r}"
            )
        given = schedule if schedule is not None else cron_expression
        if not isinstance(given, str) or not given.strip():
            raise DefinitionError(f"CronSchedule: the expression must be a non-empty string; got {given!r}")
        self.schedule, self.cron_expression = schedule, cron_expression
        self.aws = (cron.from_standard(given, "CronSchedule") if schedule is not None
                    else cron.parse_aws(given, "CronSchedule"))
        self.expression = self.aws.expression


class FixedRate(Schedule):
    """`FixedRate(duration=timedelta(minutes=10), kickoff_time_input_arg=None)`, as flytekit: whole minutes, at
    least one. The first run is one period after registration; then one per period."""

    kind = "rate"

    def __init__(self, duration: timedelta, kickoff_time_input_arg: str | None = None) -> None:
        self.kickoff_time_input_arg = self._check_kickoff(kickoff_time_input_arg)
        if not isinstance(duration, timedelta):
            raise DefinitionError(
                f"FixedRate(duration={duration!r}): give a datetime.timedelta, e.g. duration=timedelta(minutes=10)"
            )
        if duration < cron.MIN_RATE:
            raise DefinitionError(
                f"FixedRate(duration={duration}): EventBridge Scheduler fires at most once a minute; give at "
                f"least timedelta(minutes=1)"
            )
        if duration.microseconds or duration.seconds % 60:
            raise DefinitionError(
                f"FixedRate(duration={duration}): give a whole number of minutes (flytekit refuses finer rates too)"
            )
        self.duration = duration
        self.seconds = int(duration.total_seconds())
        self.expression = cron.rate_expression(self.seconds)
