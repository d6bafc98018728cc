from datetime import datetime, timedelta, timezone
from chalicelib import task, workflow, LaunchPlan, CronSchedule, FixedRate, Email, Slack, WorkflowExecutionPhase

@task
def report(kickoff_time: datetime, site: str) -> str:
    if site == "bad":
        raise ValueError("no rows")
    return f"{site}@{kickoff_time.isoformat()}"

@workflow
def daily(kickoff_time: datetime, site: str = "north") -> str:
    return report(kickoff_time=kickoff_time, site=site)

hourly = LaunchPlan.get_or_create(daily, name="hourly",
    schedule=CronSchedule(schedule="0 * * * *", kickoff_time_input_arg="kickoff_time"),
    notifications=[Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["ops@example.com"]),
                   Slack(phases=[WorkflowExecutionPhase.SUCCEEDED, WorkflowExecutionPhase.FAILED], recipients_email=["chan@example.slack.com"])])
broken = LaunchPlan.get_or_create(daily, name="broken", fixed_inputs={"site": "bad"},
    schedule=FixedRate(duration=timedelta(minutes=10), kickoff_time_input_arg="kickoff_time"),
    notifications=[Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["ops@example.com"])])
