"""What AWS emits around Step Functions and EventBridge that moto does not, for the local cloud.

* Step Functions puts a "Step Functions Execution Status Change" event on the default event bus when an
  execution ends; moto emits none. Here each ending puts that event (AWS's shape: tests/events/
  stepfunctions_status_change_failed.json) through moto's EventBridge, so the rules registration made match
  it as on AWS.
* moto's EventBridge cannot deliver to an SNS topic (NotImplementedError); here a rule's SNS target publishes
  the event to the topic, as EventBridge does.
* moto's SNS sends no email; here every email the topic would send (the subscription's filter policy passes)
  is recorded in the registry beside the execution (chalicelib/store/notifications.py), where `executions`
  shows it.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from typing import Any, Callable

from chalicelib.ops.notify import DETAIL_TYPE, SOURCE


def _ms(value: Any) -> int | None:
    return int(value.timestamp() * 1000) if isinstance(value, datetime) else None


def status_event(execution: Any) -> dict[str, Any]:
    """The PutEvents entry AWS sends when `execution` (moto's parser Execution) ends."""
    status = execution.exec_status.value
    output = execution.output
    detail = {
        "executionArn": execution.exec_arn, "stateMachineArn": execution.state_machine_arn, "name": execution.name,
        "status": status, "startDate": _ms(execution.start_date), "stopDate": _ms(execution.stop_date),
        "input": execution.execution_input, "output": None if output is None else json.dumps(output),
        "inputDetails": {"included": True}, "outputDetails": {"included": True} if output is not None else None,
        "error": execution.error if status == "FAILED" else None,
        "cause": execution.cause if status == "FAILED" else None,
    }
    # no "Time": moto's own target delivery reads it as a number (it stamps the event with one)
    return {"Source": SOURCE, "DetailType": DETAIL_TYPE, "Detail": json.dumps(detail), "Resources": [execution.exec_arn]}


def emit_status_change(original: Callable[[Any], None],
                       on_error: Callable[[BaseException, dict[str, Any]], None]) -> Callable[[Any], None]:
    """Wrap moto's `BaseExecutionWorkerCommunication.terminated`: after the execution's status is set, put its
    status change event on the execution's account and region's default bus. A failure to deliver it goes to
    `on_error`, never into the execution's thread (the execution has ended either way)."""

    def terminated(comm: Any) -> None:
        original(comm)
        from moto.events.models import events_backends

        execution = comm.execution
        entry = status_event(execution)
        try:
            events_backends[execution.account_id][execution.region_name].put_events([entry])
        except Exception as exc:
            on_error(exc, entry)

    return terminated


def deliver_to_sns(original: Callable[..., None]) -> Callable[..., None]:
    """Wrap moto's `Rule.send_to_targets`: SNS targets publish the (matching) event; other targets go to moto."""

    def send_to_targets(rule: Any, event: dict[str, Any], transform_input: bool = True) -> None:
        sns_targets = [t for t in rule.targets if ":sns:" in t["Arn"]]
        if not sns_targets:
            return original(rule, event, transform_input)
        if not rule.event_pattern.matches_event(event):
            return None
        from moto.sns.models import sns_backends

        message = dict(event)
        if isinstance(message.get("time"), (int, float)):  # moto stamps a number; AWS sends ISO text
            message["time"] = datetime.fromtimestamp(message["time"], timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        message.pop("ingestion-time", None)  # moto's own field
        for target in sns_targets:
            _, _, _, region, account, _ = target["Arn"].split(":", 5)
            body = json.dumps(message, default=str)
            sns_backends[account][region].publish(message=body, arn=target["Arn"])
        others = [t for t in rule.targets if ":sns:" not in t["Arn"]]
        if others:  # the rule's other targets, as moto delivers them (a copy: the rule is shared by threads)
            clone = copy.copy(rule)
            clone.targets = others
            original(clone, event, transform_input)
        return None

    return send_to_targets


def record_emails(original: Callable[..., None], record: Callable[[str, str, dict[str, Any]], None]) -> Callable[..., None]:
    """Wrap moto's SNS `Subscription.publish`: an email subscription whose filter passes records what it sends."""

    def publish(sub: Any, message: str, message_id: str, subject: str | None = None,
                message_attributes: dict[str, Any] | None = None, **kwargs: Any) -> None:
        original(sub, message, message_id, subject=subject, message_attributes=message_attributes, **kwargs)
        if sub.protocol not in ("email", "email-json"):
            return
        matcher = sub._filter_policy_matcher
        if matcher is not None and not matcher.matches(message_attributes, message):
            return
        try:
            event = json.loads(message)
        except ValueError:
            return
        if isinstance(event, dict) and event.get("detail-type") == DETAIL_TYPE:
            record(sub.endpoint, sub.topic.arn, event)

    return publish
