"""Launch plan notifications on AWS: per launch plan with notifications, one SNS topic with its recipients
subscribed by email, and one EventBridge rule on the "Step Functions Execution Status Change" events of that
launch plan's executions, targeting the topic.

Flyte's terminal phases are Step Functions' statuses of the same names (SUCCEEDED, FAILED, TIMED_OUT,
ABORTED); no other phase ends an execution, so no other is accepted (chalicelib/sdk/notifications.py).
Launch plans of one workflow share its state machine, so the rule also matches the start of the execution's
input, which names the launch plan: every execution input starts `{"meta": {"workflow": ..., "launch_plan":
...` (trigger/decide.py, schedule/tick.py, ops/launch.py). Each recipient's subscription carries a filter
policy on the message body, so an address hears only the statuses its notifications name.

Decide (`plan_of`, pure), then act (`Notifications.apply`, only what differs: registering again changes nothing).
On a deployed stage the stack holds them instead (chalicelib/deploy/workflow_stack.py builds them from `plan_of`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from chalicelib import naming
from chalicelib.aws import error_code

if TYPE_CHECKING:
    from chalicelib.sdk.launch_plan import LaunchPlan

DETAIL_TYPE = "Step Functions Execution Status Change"
SOURCE = "aws.states"


class NotificationPlan(BaseModel):
    name: str  # the topic's and the rule's
    launch_plan: str
    pattern: dict[str, Any]
    recipients: dict[str, list[str]]  # email → the statuses it is sent


def input_head(workflow: str, launch_plan: str) -> str:
    """How the input of every execution of `launch_plan` begins (json.dumps of {"meta": {...}, ...})."""
    return '{"meta": {"workflow": ' + json.dumps(workflow) + ', "launch_plan": ' + json.dumps(launch_plan)


def plan_of(lp: LaunchPlan, state_machine_arn: str, prefix: str) -> NotificationPlan | None:
    if not lp.notifications:
        return None
    recipients: dict[str, set[str]] = {}
    for n in lp.notifications:
        for email in n.recipients_email:
            recipients.setdefault(email, set()).update(n.statuses)
    statuses = sorted({s for v in recipients.values() for s in v})
    pattern = {"source": [SOURCE], "detail-type": [DETAIL_TYPE],
               "detail": {"stateMachineArn": [state_machine_arn], "status": statuses,
                          "input": [{"prefix": input_head(lp.workflow.name, lp.name)}]}}
    return NotificationPlan(name=naming.notification_name(lp.name, prefix), launch_plan=lp.name, pattern=pattern,
                            recipients={e: sorted(s) for e, s in sorted(recipients.items())})


def filter_policy(statuses: list[str]) -> str:
    return json.dumps({"detail": {"status": statuses}}, sort_keys=True)


def topic_policy(topic_arn: str, rule_arn: str) -> str:
    """EventBridge may publish to the topic, for this rule only."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "EventBridgePublishes", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish", "Resource": topic_arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
    }]}, sort_keys=True)


class Notifications:
    def __init__(self, events: Any, sns: Any, prefix: str) -> None:
        self.events = events
        self.sns = sns
        self.prefix = prefix
        self._rules: set[str] | None = None

    def _existing(self) -> set[str]:
        if self._rules is None:
            names: set[str] = set()
            for page in self.events.get_paginator("list_rules").paginate(NamePrefix=f"{self.prefix}notify-"):
                names.update(r["Name"] for r in page["Rules"])
            self._rules = names
        return self._rules

    def apply(self, name: str, plan: NotificationPlan | None) -> list[str]:
        """Make launch plan `name`'s notifications match `plan` (None: it has none). Returns what changed."""
        if plan is None:
            resource = naming.notification_name(name, self.prefix)
            return self._remove(resource) if resource in self._existing() else []
        changed: list[str] = []
        topic_arn = self.sns.create_topic(Name=plan.name)["TopicArn"]  # idempotent: the existing topic's ARN
        pattern = json.dumps(plan.pattern, sort_keys=True)
        current = self._rule(plan.name)
        if current is None or json.loads(current.get("EventPattern") or "{}") != plan.pattern \
                or current.get("State") != "ENABLED":
            rule_arn = self.events.put_rule(Name=plan.name, EventPattern=pattern, State="ENABLED",
                                            Description=f"notifications of launch plan {plan.launch_plan}")["RuleArn"]
            changed.append(f"{'created' if current is None else 'updated'} notification rule {plan.name}")
            self._existing().add(plan.name)
        else:
            rule_arn = current["Arn"]
        policy = topic_policy(topic_arn, rule_arn)
        attrs = self.sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
        if json.loads(attrs.get("Policy") or "{}") != json.loads(policy):
            self.sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="Policy", AttributeValue=policy)
            changed.append(f"set the policy of topic {plan.name}")
        targets = self.events.list_targets_by_rule(Rule=plan.name)["Targets"]
        if [(t["Id"], t["Arn"]) for t in targets] != [("topic", topic_arn)]:
            stale = [t["Id"] for t in targets if t["Id"] != "topic"]
            if stale:
                self.events.remove_targets(Rule=plan.name, Ids=stale)
            self.events.put_targets(Rule=plan.name, Targets=[{"Id": "topic", "Arn": topic_arn}])
            changed.append(f"pointed rule {plan.name} at topic {plan.name}")
        changed += self._subscriptions(topic_arn, plan)
        return changed

    def _rule(self, name: str) -> dict[str, Any] | None:
        if name not in self._existing():
            return None
        try:
            return dict(self.events.describe_rule(Name=name))
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise

    def _subscriptions(self, topic_arn: str, plan: NotificationPlan) -> list[str]:
        changed: list[str] = []
        current: dict[str, str] = {}
        for page in self.sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
            for sub in page["Subscriptions"]:
                if sub["Protocol"] == "email":
                    current[sub["Endpoint"]] = sub["SubscriptionArn"]
        for email, statuses in plan.recipients.items():
            want = filter_policy(statuses)
            arn = current.pop(email, None)
            if arn is None:
                self.sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=email, ReturnSubscriptionArn=True,
                                   Attributes={"FilterPolicy": want, "FilterPolicyScope": "MessageBody"})
                changed.append(f"subscribed {email} to {plan.name} ({', '.join(statuses)})")
                continue
            if not arn.startswith("arn:"):  # pending confirmation by its recipient: nothing to compare yet
                continue
            attrs = self.sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
            if json.loads(attrs.get("FilterPolicy") or "{}") != json.loads(want):
                self.sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                                     AttributeValue=want)
                changed.append(f"updated {email}'s statuses on {plan.name} ({', '.join(statuses)})")
        for email, arn in sorted(current.items()):
            if arn.startswith("arn:"):
                self.sns.unsubscribe(SubscriptionArn=arn)
                changed.append(f"unsubscribed {email} from {plan.name}")
        return changed

    def _remove(self, name: str) -> list[str]:
        try:
            targets = self.events.list_targets_by_rule(Rule=name)["Targets"]
            if targets:
                self.events.remove_targets(Rule=name, Ids=[t["Id"] for t in targets])
            self.events.delete_rule(Name=name)
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
        topic = next((t["TopicArn"] for page in self.sns.get_paginator("list_topics").paginate()
                      for t in page["Topics"] if t["TopicArn"].rsplit(":", 1)[1] == name), None)
        if topic:
            self.sns.delete_topic(TopicArn=topic)
        self._existing().discard(name)
        return [f"removed notification rule and topic {name}"]


def remove_all(events: Any, sns: Any, prefix: str, keep: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Tear down: every notification rule and topic of the stage, but those named in `keep` (the stack's)."""
    notes = Notifications(events, sns, prefix)
    return [line for name in sorted(notes._existing() - set(keep)) for line in notes._remove(name)]
