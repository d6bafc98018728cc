"""Schedules and notifications as flytekit defines them: EventBridge Scheduler's expressions, definition-time
refusals, next fire times, and the tick's execution name and input. No AWS here (see
tests/integration/test_schedules.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import chalicelib
from chalicelib import CronSchedule, Email, FixedRate, LaunchPlan, PagerDuty, Slack, WorkflowExecutionPhase, task, workflow
from chalicelib.errors import DefinitionError, EventError
from chalicelib.schedule import cron
from chalicelib.schedule.tick import SCHEDULED_TIME, TickEvent, execution_name, tick_request
from chalicelib.store.schedules import ScheduleSpec
from tests.unit.test_cold_path import NOT_ON_TRIGGER_PATH, loaded_after


@task
def stamp(kickoff_time: datetime, site: str) -> str:
    return f"{site}@{kickoff_time.isoformat()}"


@workflow
def stamped(kickoff_time: datetime, site: str = "north") -> str:
    return stamp(kickoff_time=kickoff_time, site=site)


@workflow
def needs_count(kickoff_time: datetime, count: int) -> str:
    return stamp(kickoff_time=kickoff_time, site=str(count))


@pytest.mark.parametrize("given, aws", [
    ("0 * * * *", "cron(0 * * * ? *)"),
    ("@hourly", "cron(0 * * * ? *)"),
    ("hourly", "cron(0 * * * ? *)"),
    ("@daily", "cron(0 0 * * ? *)"),
    ("@weekly", "cron(0 0 ? * 1 *)"),
    ("@monthly", "cron(0 0 1 * ? *)"),
    ("@yearly", "cron(0 0 1 1 ? *)"),
    ("annually", "cron(0 0 1 1 ? *)"),
    ("*/15 9-17 * * 1-5", "cron(0/15 9-17 ? * 2,3,4,5,6 *)"),  # Monday-Friday is 2-6 from Sunday on AWS
    ("30 2 * * SUN", "cron(30 2 ? * 1 *)"),
    ("0 0 * * 7", "cron(0 0 ? * 1 *)"),  # 7 is Sunday too
    ("0 0 * * 0-6", "cron(0 0 * * ? *)"),  # every day of the week: no restriction
    ("0 12 15 JAN,JUL *", "cron(0 12 15 JAN,JUL ? *)"),
    ("5 4 * * */2", "cron(5 4 ? * 1,3,5,7 *)"),  # AWS takes no step in day-of-week: listed instead
])
def test_flytekit_cron_becomes_eventbridge_scheduler_cron(given, aws):
    assert CronSchedule(schedule=given).expression == aws


def test_the_older_aws_form_is_accepted_as_is():
    assert CronSchedule(cron_expression="0 12 ? * MON-FRI *").expression == "cron(0 12 ? * MON-FRI *)"


@pytest.mark.parametrize("kwargs, message", [
    ({"schedule": "0 0 1 * 1"}, "both day-of-month"),  # standard cron ORs the day fields; AWS cannot
    ({"schedule": "61 * * * *"}, "61 is outside 0-59"),
    ({"schedule": "* * *"}, "has 3 fields; give 5"),
    ({"schedule": "0 0 30 2 *"}, "never fires"),
    ({"schedule": "0 0 L * *"}, "not standard cron"),
    ({"schedule": "every hour"}, "fields"),
    ({"schedule": "5-1 * * * *"}, "runs backwards"),
    ({"cron_expression": "0 * * * *"}, "has 5 fields; AWS's form has 6"),
    ({"cron_expression": "0 12 * * MON *"}, "exactly one of day-of-month and day-of-week must be '?'"),
    ({"schedule": "0 * * * *", "cron_expression": "0 * * * ? *"}, "exactly one of schedule="),
    ({}, "exactly one of schedule="),
    ({"schedule": "0 * * * *", "offset": "PT1H"}, "no offset"),
    ({"schedule": "0 * * * *", "kickoff_time_input_arg": 3}, "name of a datetime input"),
])
def test_crons_eventbridge_scheduler_would_reject_are_refused(kwargs, message):
    with pytest.raises(DefinitionError, match=message):
        CronSchedule(**kwargs)


def test_fixed_rates_in_aws_units_and_at_least_a_minute():
    assert FixedRate(duration=timedelta(minutes=1)).expression == "rate(1 minute)"
    assert FixedRate(duration=timedelta(minutes=90)).expression == "rate(90 minutes)"
    assert FixedRate(duration=timedelta(hours=2)).expression == "rate(2 hours)"
    assert FixedRate(duration=timedelta(days=1)).expression == "rate(1 day)"
    for bad, message in [(timedelta(seconds=30), "at most once a minute"), (timedelta(seconds=90), "whole number"),
                         (timedelta(0), "at most once a minute"), (10, "datetime.timedelta")]:
        with pytest.raises(DefinitionError, match=message):
            FixedRate(duration=bad)


def test_the_kickoff_input_must_be_a_datetime_input_of_the_workflow():
    lp = LaunchPlan.get_or_create(stamped, name="sdk_sched_ok",
                                  schedule=CronSchedule(schedule="0 * * * *", kickoff_time_input_arg="kickoff_time"))
    assert lp.definition()["schedule"] == {"kind": "cron", "expression": "cron(0 * * * ? *)",
                                           "kickoff_input": "kickoff_time"}
    with pytest.raises(DefinitionError, match=r"launch plan 'sdk_sched_typo': kickoff_time_input_arg='kickof' names "
                                              r"no input .* its datetime inputs are \['kickoff_time'\]"):
        LaunchPlan.get_or_create(stamped, name="sdk_sched_typo",
                                 schedule=CronSchedule(schedule="0 * * * *", kickoff_time_input_arg="kickof"))
    with pytest.raises(DefinitionError, match="launch plan 'sdk_sched_str': kickoff_time_input_arg='site' is annotated"):
        LaunchPlan.get_or_create(stamped, name="sdk_sched_str",
                                 schedule=FixedRate(timedelta(minutes=5), kickoff_time_input_arg="site"))
    with pytest.raises(DefinitionError, match="launch plan 'sdk_sched_fixed': input 'kickoff_time' is the schedule's"):
        LaunchPlan.get_or_create(stamped, name="sdk_sched_fixed", fixed_inputs={"kickoff_time": datetime(2026, 1, 1)},
                                 schedule=CronSchedule(schedule="@daily", kickoff_time_input_arg="kickoff_time"))


def test_a_scheduled_run_must_be_able_to_fill_every_required_input():
    with pytest.raises(DefinitionError, match="a scheduled run cannot fill input 'kickoff_time'"):
        LaunchPlan.get_or_create(stamped, name="sdk_sched_nokick", schedule=CronSchedule(schedule="@daily"))
    with pytest.raises(DefinitionError, match="a scheduled run cannot fill input 'count'"):
        LaunchPlan.get_or_create(needs_count, name="sdk_sched_count",
                                 schedule=CronSchedule(schedule="@daily", kickoff_time_input_arg="kickoff_time"))
    ok = LaunchPlan.get_or_create(needs_count, name="sdk_sched_count2", default_inputs={"count": 2},
                                  schedule=CronSchedule(schedule="@daily", kickoff_time_input_arg="kickoff_time"))
    assert ok.schedule is not None


def test_create_takes_schedule_and_notifications_in_flytekits_positions():
    sched = FixedRate(timedelta(minutes=10), kickoff_time_input_arg="kickoff_time")
    note = Email([WorkflowExecutionPhase.FAILED], ["ops@example.com"])
    lp = LaunchPlan.create("sdk_sched_pos", stamped, {"site": "south"}, None, sched, [note])
    assert lp.schedule is sched and lp.notifications == [note]
    assert lp.definition()["notifications"] == [{"kind": "email", "statuses": ["FAILED"],
                                                 "recipients": ["ops@example.com"]}]


def test_launch_plans_without_schedule_or_notifications_keep_their_versions():
    plain = LaunchPlan.get_or_create(stamped, name="sdk_plain", default_inputs={"kickoff_time": datetime(2026, 1, 1)})
    assert set(plain.definition()) == {"name", "workflow", "trigger", "fixed_inputs", "default_inputs"}


def test_workflow_execution_phase_is_flytekits_and_exported():
    assert "WorkflowExecutionPhase" in chalicelib.__all__
    assert (WorkflowExecutionPhase.SUCCEEDED, WorkflowExecutionPhase.FAILED, WorkflowExecutionPhase.ABORTED,
            WorkflowExecutionPhase.TIMED_OUT) == (4, 6, 7, 8)
    assert WorkflowExecutionPhase.enum_to_string(6) == "FAILED"


@pytest.mark.parametrize("cls", [Email, Slack, PagerDuty])
def test_notifications_map_terminal_phases_to_step_functions_statuses(cls):
    n = cls(phases=[WorkflowExecutionPhase.TIMED_OUT, WorkflowExecutionPhase.SUCCEEDED,
                    WorkflowExecutionPhase.ABORTED, WorkflowExecutionPhase.FAILED],
            recipients_email=["b@example.com", "a@example.com", "a@example.com"])
    assert n.statuses == ["ABORTED", "FAILED", "SUCCEEDED", "TIMED_OUT"]
    assert n.recipients_email == ["a@example.com", "b@example.com"]


@pytest.mark.parametrize("phases, recipients, message", [
    ([WorkflowExecutionPhase.RUNNING], ["a@example.com"], "phase RUNNING is not a terminal phase"),
    ([WorkflowExecutionPhase.FAILING], ["a@example.com"], "phase FAILING is not a terminal phase"),
    ([42], ["a@example.com"], "42 is not a WorkflowExecutionPhase"),
    (["FAILD"], ["a@example.com"], "'FAILD' is not a WorkflowExecutionPhase"),
    ([], ["a@example.com"], "phases must be a non-empty list"),
    ([WorkflowExecutionPhase.FAILED], [], "recipients_email must be a non-empty list"),
    ([WorkflowExecutionPhase.FAILED], "a@example.com", "recipients_email must be a non-empty list"),
    ([WorkflowExecutionPhase.FAILED], ["not an address"], "'not an address' is not an email address"),
])
def test_bad_notifications_are_refused(phases, recipients, message):
    with pytest.raises(DefinitionError, match=message):
        Email(phases=phases, recipients_email=recipients)


def test_a_launch_plan_refuses_what_is_not_a_notification():
    with pytest.raises(DefinitionError, match="launch plan 'sdk_note_bad': notifications holds str"):
        LaunchPlan.get_or_create(stamped, name="sdk_note_bad", notifications=["ops@example.com"])


def test_next_fire_times_of_cron_and_rate():
    at = datetime(2026, 12, 1, 22, 40, 12, tzinfo=timezone.utc)
    assert cron.next_fire("cron(0 * * * ? *)", at, at) == datetime(2026, 12, 1, 23, tzinfo=timezone.utc)
    assert cron.next_fire("cron(0 0 ? * 1 *)", at, at) == datetime(2026, 12, 6, tzinfo=timezone.utc)  # a Sunday
    assert cron.next_fire("cron(0 0 29 2 ? *)", at, at) == datetime(2028, 2, 29, tzinfo=timezone.utc)
    assert cron.next_fire("cron(0 0 1 1 ? 2020)", at, at) is None
    anchor = datetime(2026, 12, 1, 22, 0, 30, tzinfo=timezone.utc)
    assert cron.fires_between("rate(15 minutes)", at, at + timedelta(minutes=31), anchor) == [
        datetime(2026, 12, 1, 22, 45, 30, tzinfo=timezone.utc), datetime(2026, 12, 1, 23, 0, 30, tzinfo=timezone.utc)]


def _spec(**kw):
    return ScheduleSpec(**{"launch_plan": "nightly", "lp_version": "v1", "workflow": "m.wf",
                           "state_machine_arn": "arn:aws:states:us-east-1:1:stateMachine:x", "kind": "cron",
                           "expression": "cron(0 * * * ? *)", "kickoff_input": "kickoff_time",
                           "default_inputs": {"site": "north"}, "fixed_inputs": {"n": 1}, **kw})


def test_a_tick_is_named_by_launch_plan_and_scheduled_time_and_kicks_off_at_the_scheduled_time():
    at = datetime(2026, 12, 1, 23, tzinfo=timezone.utc)
    request = tick_request(_spec(), at)
    assert request.name == execution_name("nightly", at) == tick_request(_spec(lp_version="v2"), at).name
    assert request.name.startswith("nightly-at-20261201T230000Z-") and len(request.name) <= 80
    assert execution_name("nightly", at + timedelta(hours=1)) != request.name
    assert execution_name("x" * 128, at) != execution_name("x" * 127 + "y", at)
    assert len(execution_name("x" * 128, at)) <= 80
    assert request.input["inputs"] == {"site": "north", "n": 1, "kickoff_time": {"$datetime": "2026-12-01T23:00:00Z"}}
    assert request.input["meta"]["scheduled_at"] == "2026-12-01T23:00:00Z"


def test_tick_events_are_checked():
    assert TickEvent.parse({"launch_plan": "a", "scheduled_time": "2026-12-01T23:00:00Z"}).scheduled_time == \
        datetime(2026, 12, 1, 23, tzinfo=timezone.utc)
    for bad in [{"launch_plan": "a", "scheduled_time": SCHEDULED_TIME}, {"launch_plan": "a"}, [],
                {"launch_plan": "a", "scheduled_time": "2026-12-01T23:00:00"}]:
        with pytest.raises(EventError):
            TickEvent.parse(bad)


def test_the_schedule_handler_path_stays_light():
    modules = loaded_after("import app, chalicelib.schedule.handler")
    assert [m for m in [*NOT_ON_TRIGGER_PATH, "chalicelib.sdk.schedules", "chalicelib.sdk.notifications"]
            if m in modules] == []


def test_every_run_of_a_launch_plan_starts_with_the_input_head_its_notification_rule_matches():
    """The notification rule tells launch plans of one workflow apart by the start of the execution input."""
    import json

    from chalicelib.ops.notify import input_head
    from chalicelib.store.models import ArtifactVersion, Subscription
    from chalicelib.trigger.decide import decide

    scheduled = tick_request(_spec(), datetime(2026, 12, 1, 23, tzinfo=timezone.utc))
    assert json.dumps(scheduled.input).startswith(input_head("m.wf", "nightly"))
    sub = Subscription(artifact="a", launch_plan="on_a", lp_version="v1", workflow="m.wf",
                       state_machine_arn="arn:aws:states:us-east-1:1:stateMachine:x")
    version = ArtifactVersion(name="a", version="v1", partitions={}, uri="s3://b/k", format="json")
    (triggered,) = decide(version, [sub])
    assert json.dumps(triggered.input).startswith(input_head("m.wf", "on_a"))
    assert not json.dumps(triggered.input).startswith(input_head("m.wf", "on"))
