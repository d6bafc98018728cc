"""A three-level cascade with hourly granularity and a query relative to the trigger.

    clicks (HOUR, source=live) → summarize_clicks → clicks_summary (HOUR)
        → compare_hours (also reads the previous hour's clicks: time_partition - 30 minutes, normalized
          to the hour, any source) → hourly_alert (HOUR) → notify_on_alert

`ingest_clicks` first backfills the previous hour (source=backfill, which the trigger filters out), then
records the live hour.

    python -m chalicelib run examples/hourly_cascade.py ingest_clicks --json
"""

from datetime import datetime, timedelta, timezone

from typing_extensions import Annotated

from chalicelib import Artifact, Granularity, Inputs, LaunchPlan, OnArtifact, task, workflow

Clicks = Artifact(name="clicks", partition_keys=["source"], time_partition_granularity=Granularity.HOUR)
Summary = Artifact(name="clicks_summary", time_partition_granularity=Granularity.HOUR)
Alert = Artifact(name="hourly_alert", time_partition_granularity=Granularity.HOUR)

NOW = datetime(2026, 11, 24, 9, 40, tzinfo=timezone.utc)


@task
def record_clicks(source: str, hour: datetime, count: int, after: list) -> Annotated[
        list, Clicks(source=Inputs.source, time_partition=Inputs.hour)]:
    return [count] * 3


@task
def backfill(hour: datetime, count: int) -> Annotated[list, Clicks(source="backfill", time_partition=Inputs.hour)]:
    return [count] * 3


@workflow
def ingest_clicks(hour: datetime = NOW, previous: datetime = NOW - timedelta(hours=1)) -> list:
    earlier = backfill(hour=previous, count=5)
    return record_clicks(source="live", hour=hour, count=7, after=earlier)


@task
def summarize(clicks: list, hour: datetime) -> Annotated[int, Summary(time_partition=Inputs.hour)]:
    return sum(clicks)


@workflow
def hourly_summary(clicks: list, hour: datetime) -> int:
    return summarize(clicks=clicks, hour=hour)


@task
def compare(now: int, before: list, hour: datetime) -> Annotated[dict, Alert(time_partition=Inputs.hour)]:
    return {"hour": hour.isoformat(), "now": now, "before": sum(before), "up": now > sum(before)}


@workflow
def compare_hours(now: int, before: list, hour: datetime) -> dict:
    return compare(now=now, before=before, hour=hour)


@task
def send(alert: dict) -> str:
    message = f"clicks {'up' if alert['up'] else 'down'} at {alert['hour']}: {alert['before']} -> {alert['now']}"
    print(message)
    return message


@workflow
def notify(alert: dict) -> str:
    return send(alert=alert)


summary_lp = LaunchPlan.create(
    "summarize_clicks", hourly_summary,
    trigger=OnArtifact(trigger_on=Clicks.query(source="live"), inputs={"clicks": Clicks, "hour": Clicks.time_partition}),
)
compare_lp = LaunchPlan.create(
    "compare_hours", compare_hours,
    trigger=OnArtifact(trigger_on=Summary, inputs={
        "now": Summary,
        "before": Clicks.query(time_partition=Summary.time_partition - timedelta(minutes=30)),
        "hour": Summary.time_partition,
    }),
)
notify_lp = LaunchPlan.create("notify_on_alert", notify, trigger=OnArtifact(trigger_on=Alert, inputs={"alert": Alert}))
