"""Scheduled launch plans and notifications on the local cloud (moto's EventBridge Scheduler, EventBridge, SNS,
Step Functions): registration makes and removes the schedule, rule and topic; each tick starts one execution
whatever the deliveries; the kickoff input is the scheduled time; an execution's ending notifies its recipients."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from click.testing import CliRunner

from chalicelib.cli import main
from chalicelib.runtime import loader
from tests.conftest import load_event
from tests.integration.conftest import load, register, stage_of

GROUP = "cascade-local-schedules"
TICK = datetime(2026, 12, 1, 23, tzinfo=timezone.utc)

SOURCE = '''
from datetime import datetime, timedelta
from chalicelib import task, workflow, LaunchPlan, CronSchedule, FixedRate, Email, WorkflowExecutionPhase

@task
def echo(kickoff_time: datetime) -> str:
    return kickoff_time.isoformat()

@workflow
def src_wf(kickoff_time: datetime) -> str:
    return echo(kickoff_time=kickoff_time)

src_keep = LaunchPlan.get_or_create(src_wf, name="src_keep",
    schedule=CronSchedule(schedule="{cron}", kickoff_time_input_arg="kickoff_time"){notes})
'''
DROPPED = '''
src_drop = LaunchPlan.get_or_create(src_wf, name="src_drop",
    schedule=FixedRate(duration=timedelta(minutes=5), kickoff_time_input_arg="kickoff_time"),
    notifications=[Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["ops@example.com"])])
'''
NOTES = ''',
    notifications=[Email(phases=[WorkflowExecutionPhase.SUCCEEDED], recipients_email=["team@example.com"])]'''


def _cli(*args: str, code: int = 0) -> dict | str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.output
    return json.loads(result.output) if "--json" in args else result.output


def _write(folder: Path, cron: str, notes: bool, dropped: bool) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "sched_src.py"
    path.write_text(SOURCE.format(cron=cron, notes=NOTES if notes else "") + (DROPPED if dropped else ""))
    return path


def _schedules(cloud) -> dict[str, dict]:
    sch = stage_of(cloud).client("scheduler")
    try:
        names = [s["Name"] for s in sch.list_schedules(GroupName=GROUP)["Schedules"]]
    except sch.exceptions.ResourceNotFoundException:
        return {}
    return {n: sch.get_schedule(Name=n, GroupName=GROUP) for n in names}


def _notification_resources(cloud) -> tuple[list[str], list[str]]:
    stage = stage_of(cloud)
    rules = [r["Name"] for r in stage.client("events").list_rules(NamePrefix="cascade-local-notify-")["Rules"]]
    topics = [t["TopicArn"].rsplit(":", 1)[1] for t in stage.client("sns").list_topics()["Topics"]
              if ":cascade-local-notify-" in t["TopicArn"]]  # not the stack's alarms topic
    return sorted(rules), sorted(topics)


def _executions(cloud, workflow_suffix: str) -> list[dict]:
    sfn = stage_of(cloud).sfn
    out = []
    for sm in sfn.list_state_machines()["stateMachines"]:
        if sm["name"].endswith(workflow_suffix):
            for e in sfn.list_executions(stateMachineArn=sm["stateMachineArn"])["executions"]:
                out.append(sfn.describe_execution(executionArn=e["executionArn"]))
    return out


def test_registration_creates_updates_and_removes_schedules_rules_and_topics(cloud, tmp_path):
    source = _write(tmp_path / "flows", "0 * * * *", notes=True, dropped=True)
    first = register(cloud, loader.load_paths([source]))
    schedules = _schedules(cloud)
    assert sorted(schedules) == ["src_drop", "src_keep"]
    keep = schedules["src_keep"]
    assert keep["ScheduleExpression"] == "cron(0 * * * ? *)" and keep["State"] == "ENABLED"
    assert keep["Target"]["Arn"].endswith(":function:cascade-local-on_schedule")
    assert keep["Target"]["RoleArn"].endswith(":role/cascade-local-scheduler")
    assert json.loads(keep["Target"]["Input"]) == {"launch_plan": "src_keep",
                                                   "scheduled_time": "<aws.scheduler.scheduled-time>"}
    assert schedules["src_drop"]["ScheduleExpression"] == "rate(5 minutes)"
    names = ["cascade-local-notify-src_drop", "cascade-local-notify-src_keep"]
    assert _notification_resources(cloud) == (names, names)
    sns = stage_of(cloud).client("sns")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith("notify-src_keep"))
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("email", "team@example.com")]
    assert any("created schedule" in c for c in first.changed)

    assert register(cloud, loader.load_paths([source])).changed == [], "registering again changes nothing"

    _write(tmp_path / "flows", "30 6 * * 1-5", notes=False, dropped=False)  # src_drop deleted from the file
    result = register(cloud, loader.load_paths([source]))
    assert result.removed == ["src_drop"]
    schedules = _schedules(cloud)
    assert sorted(schedules) == ["src_keep"], "the removed launch plan's schedule is deleted"
    assert schedules["src_keep"]["ScheduleExpression"] == "cron(30 6 ? * 2,3,4,5,6 *)"
    assert _notification_resources(cloud) == ([], []), "rules and topics go with the notifications"
    assert register(cloud, loader.load_paths([source])).changed == []


def test_each_tick_starts_one_execution_under_duplicated_delivery_with_the_scheduled_time(cloud):
    register(cloud, load("sched_basic"))
    schedules = _schedules(cloud)
    answers = []
    for name, at in [("hourly", TICK), ("broken", TICK + timedelta(minutes=7, seconds=3))]:
        for _ in range(2):  # EventBridge Scheduler delivers at least once; Step Functions answers a repeated
            answers.append(cloud.clock.deliver(schedules[name], at))  # start of a running execution with it
        cloud.wait_quiet()
        answers.append(cloud.clock.deliver(schedules[name], at))  # and refuses one of an ended execution
    assert [a["outcome"] for a in answers][2::3] == ["already_started"] * 2
    assert len({a["execution"] for a in answers}) == 2
    runs = {e["name"]: e for e in _executions(cloud, "sched_basic-daily")}
    assert len(runs) == 2
    hourly = next(e for e in runs.values() if e["name"].startswith("hourly-"))
    assert json.loads(hourly["input"])["inputs"]["kickoff_time"] == {"$datetime": "2026-12-01T23:00:00Z"}
    assert json.loads(hourly["output"])["outputs"]["o0"].startswith("north@2026-12-01T23:00:00")
    broken = next(e for e in runs.values() if e["name"].startswith("broken-"))
    assert json.loads(broken["input"])["inputs"]["kickoff_time"] == {"$datetime": "2026-12-01T23:07:03Z"}
    assert broken["status"] == "FAILED"
    assert cloud.errors == []


def test_the_clock_fires_due_cron_and_rate_ticks_once_each(cloud):
    register(cloud, load("sched_basic"))
    start = cloud.clock.checked
    end = start + timedelta(minutes=61)
    first = cloud.clock.advance(end)
    again = cloud.clock.advance(end)  # the same window is not fired twice
    cloud.wait_quiet()
    by = {}
    for f in first:
        by.setdefault(f["schedule"], []).append(f["answer"]["outcome"])
    # one top of the hour in 61 minutes, two when the test starts in an hour's last minute
    tops = (end.replace(minute=0, second=0, microsecond=0) - start.replace(minute=0, second=0, microsecond=0)
            ) // timedelta(hours=1)
    assert by["hourly"] == ["started"] * tops and len(by["broken"]) in (6, 7) and set(by["broken"]) == {"started"}
    assert again == []
    assert len(_executions(cloud, "sched_basic-daily")) == len(first)


def test_notifications_follow_the_step_functions_status_change_event(cloud):
    register(cloud, load("sched_basic"))
    stage = stage_of(cloud)
    # the event as AWS puts it, read off the bus through a rule of our own
    sqs, events = stage.client("sqs"), stage.client("events")
    queue = sqs.create_queue(QueueName="status-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="watch", EventPattern=json.dumps({"source": ["aws.states"]}))
    events.put_targets(Rule="watch", Targets=[{"Id": "q", "Arn": arn}])
    schedules = _schedules(cloud)
    cloud.clock.deliver(schedules["hourly"], TICK)
    cloud.clock.deliver(schedules["broken"], TICK)
    cloud.wait_quiet()

    got = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]]
    fixture = load_event("stepfunctions_status_change_failed.json")
    failed = next(e for e in got if e["detail"]["status"] == "FAILED")
    assert failed["detail-type"] == fixture["detail-type"] and failed["source"] == fixture["source"]
    assert {"executionArn", "stateMachineArn", "name", "status", "startDate", "stopDate", "input", "error",
            "cause"} <= set(failed["detail"]) <= set(fixture["detail"])
    assert failed["resources"] == [failed["detail"]["executionArn"]]
    assert sorted(e["detail"]["status"] for e in got) == ["FAILED", "SUCCEEDED"]

    rows = {r["launch_plan"]: r for r in _cli("executions", "--json")}
    # hourly: Email on FAILED to ops, Slack on SUCCEEDED and FAILED to the channel; it succeeded
    assert rows["hourly"]["notified"] == ["chan@example.slack.com (SUCCEEDED)"]
    assert rows["broken"]["notified"] == ["ops@example.com (FAILED)"]
    assert rows["hourly"]["scheduled_at"] == "2026-12-01T23:00:00Z"
    table = _cli("executions")
    assert "notified" in table and "schedule 2026-12-01T23:00:00Z" in table


def test_a_notification_hears_only_its_own_launch_plan(cloud):
    """Launch plans of one workflow share its state machine; a run of another one notifies nobody."""
    from chalicelib.ops import launch

    defs = load("sched_basic")
    register(cloud, defs)
    wf = defs.workflows["sched_basic.daily"]
    launch.start_workflow(stage_of(cloud).sfn, cloud.settings, wf,
                          launch.inputs_for(wf, None, {"kickoff_time": TICK, "site": "bad"}, from_text=False))
    cloud.wait_quiet()
    rows = _cli("executions", "--json")
    assert len(rows) == 1 and rows[0]["status"] == "FAILED" and rows[0]["notified"] == []
    broken = defs.launch_plans["broken"]  # started by hand as the launch plan: its notification is sent
    launch.start_workflow(stage_of(cloud).sfn, cloud.settings, wf,
                          launch.inputs_for(wf, broken, {"kickoff_time": TICK}, from_text=False), launch_plan="broken")
    cloud.wait_quiet()
    rows = {r["launch_plan"]: r for r in _cli("executions", "--json")}
    assert rows["broken"]["notified"] == ["ops@example.com (FAILED)"]


def test_schedule_tick_by_hand_and_activation(cloud):
    register(cloud, load("sched_basic"))
    one = _cli("schedule", "tick", "hourly", "--at", "2026-12-01T23:00:00Z", "--json")
    cloud.wait_quiet()
    two = _cli("schedule", "tick", "hourly", "--at", "2026-12-01T23:00:00+00:00", "--json")
    assert (one["outcome"], two["outcome"]) == ("started", "already_started") and one["execution"] == two["execution"]
    cloud.wait_quiet()

    listed = {p["name"]: p for p in _cli("launchplan", "list", "--json")["launch_plans"]}
    assert listed["hourly"]["schedule"]["expression"] == "cron(0 * * * ? *)"
    nxt = datetime.fromisoformat(listed["hourly"]["schedule"]["next_fire"].replace("Z", "+00:00"))
    assert nxt.minute == 0 and nxt > datetime.now(timezone.utc)

    _cli("launchplan", "deactivate", "hourly", "--json")
    assert _schedules(cloud)["hourly"]["State"] == "DISABLED"
    listed = {p["name"]: p for p in _cli("launchplan", "list", "--json")["launch_plans"]}
    assert listed["hourly"]["schedule"]["next_fire"] is None
    late = _cli("schedule", "tick", "hourly", "--at", "2026-12-02T00:00:00Z", "--json")
    assert late["outcome"] == "inactive"
    assert all(f["schedule"] != "hourly" for f in cloud.clock.advance(cloud.clock.checked + timedelta(hours=2)))
    register(cloud, load("sched_basic"))  # the operator's choice survives a re-registration
    assert _schedules(cloud)["hourly"]["State"] == "DISABLED"
    _cli("launchplan", "activate", "hourly", "--json")
    assert _schedules(cloud)["hourly"]["State"] == "ENABLED"
    cloud.wait_quiet()

    out = _cli("schedule", "tick", "nope", code=1)
    assert "launch plan 'nope' has no schedule in stage 'local'; scheduled launch plans: broken, hourly" in out
    out = _cli("schedule", "tick", "hourly", "--at", "yesterday", code=1)
    assert "--at 'yesterday' is not an ISO time" in out
