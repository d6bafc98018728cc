"""The stage stack's share of chalicelib/workflows/: one state machine per workflow, the schedule group with one
schedule per scheduled launch plan, and per launch plan with notifications its topic, topic policy, e-mail
subscriptions and EventBridge rule. Pure: no AWS call.

The state machines are compiled by the compiler registration used to call (chalicelib.compile) against the task
runners' alias, with the account, region and partition left to CloudFormation (`Fn::Sub`), so two copies of the
same code build the same resources. Registration of a deployed stage compares what it would make with the
stack's template (`differences`) and changes none of these: they change through a deploy.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import BaseModel

from chalicelib import naming
from chalicelib.compile import compile_workflow
from chalicelib.naming import TASK_RUNNER, TASK_RUNNER_ALIAS, state_machine_name
from chalicelib.ops.notify import filter_policy, plan_of
from chalicelib.ops.schedule import ScheduleTarget, desired, spec_of
from chalicelib.runtime.loader import Definitions

SCHEDULE_GROUP = "ScheduleGroup"  # its logical id; a stack that has it owns the stage's workflows
STATES_ROLE = "StatesRole"
SCHEDULER_ROLE = "SchedulerRole"
SCHEDULE_FUNCTION = "OnSchedule"  # chalice's logical id of on_schedule (template.function_id)
STATE_MACHINE = "AWS::StepFunctions::StateMachine"
SCHEDULE_TYPE = "AWS::Scheduler::Schedule"
RULE = "AWS::Events::Rule"
TOPIC = "AWS::SNS::Topic"
KINDS = ("StateMachine", "Schedule", "Notify")  # how the logical ids of these resources begin (`logical_id`)
OWNED_TYPES = (STATE_MACHINE, "AWS::Scheduler::ScheduleGroup", SCHEDULE_TYPE, RULE, TOPIC, "AWS::SNS::TopicPolicy",
               "AWS::SNS::Subscription")
# Stand-ins compiled into the ASL where CloudFormation supplies the value; no `${` and no `:` in them, so the
# compiler's ARN parsing sees an ordinary ARN.
_TOKENS = {"cfnxpartitionx": "${AWS::Partition}", "cfnxregionx": "${AWS::Region}", "cfnxaccountx": "${AWS::AccountId}"}


class Owned(BaseModel):
    """What a deployed stack template holds of the stage's workflows (names as CloudFormation creates them)."""

    stack: bool  # the template is of this code (it has the schedule group)
    state_machines: set[str] = set()
    rules: set[str] = set()
    schedule_group: str | None = None


def logical_id(kind: str, name: str) -> str:
    """A CloudFormation logical id ([A-Za-z0-9]) for `name`: readable, and unique through a hash of it."""
    words = "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", name) if w)
    return f"{kind}{words[:180]}{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def definition_string(definition: dict[str, Any]) -> dict[str, str]:
    """The ASL text for `DefinitionString`: canonical JSON, literal `${` escaped for Fn::Sub, stand-ins replaced."""
    text = json.dumps(definition, sort_keys=True).replace("${", "${!")
    for token, value in _TOKENS.items():
        text = text.replace(token, value)
    return {"Fn::Sub": text}


def _runner(stage: str, app_name: str) -> str:
    name = naming.function_name(stage, TASK_RUNNER, app_name)
    return f"arn:cfnxpartitionx:lambda:cfnxregionx:cfnxaccountx:function:{name}:{TASK_RUNNER_ALIAS}"


def resources(defs: Definitions, stage: str, app_name: str = naming.APP_NAME) -> dict[str, Any]:
    """The stack resources of `defs` (every workflow and launch plan of chalicelib/workflows/)."""
    prefix = naming.prefix(stage, app_name)
    runner = _runner(stage, app_name)
    out: dict[str, Any] = {SCHEDULE_GROUP: {"Type": "AWS::Scheduler::ScheduleGroup",
                                            "Properties": {"Name": naming.schedule_group_name(prefix)}}}
    machines: dict[str, tuple[str, str]] = {}  # workflow → (logical id, ARN with stand-ins)
    for name, wf in sorted(defs.workflows.items()):
        machine = state_machine_name(name, prefix)
        lid = logical_id("StateMachine", name)
        machines[name] = (lid, f"arn:cfnxpartitionx:states:cfnxregionx:cfnxaccountx:stateMachine:{machine}")
        out[lid] = {"Type": STATE_MACHINE, "Properties": {
            "StateMachineName": machine, "StateMachineType": "STANDARD",
            "DefinitionString": definition_string(compile_workflow(wf, runner)),
            "RoleArn": {"Fn::GetAtt": [STATES_ROLE, "Arn"]}}}
    target = ScheduleTarget(function_arn="on_schedule", role_arn="scheduler", group=naming.schedule_group_name(prefix))
    for name, lp in sorted(defs.launch_plans.items()):
        lid, arn = machines[lp.workflow.name]
        spec = spec_of(lp, arn, lp.active)
        if spec is not None:
            props = desired(spec, target)
            props["GroupName"] = {"Ref": SCHEDULE_GROUP}
            props["Target"].update(Arn={"Fn::GetAtt": [SCHEDULE_FUNCTION, "Arn"]},
                                   RoleArn={"Fn::GetAtt": [SCHEDULER_ROLE, "Arn"]})
            out[logical_id("Schedule", name)] = {"Type": SCHEDULE_TYPE, "Properties": props}
        plan = plan_of(lp, "state-machine-arn", prefix)
        if plan is not None:
            topic, rule = logical_id("NotifyTopic", name), logical_id("NotifyRule", name)
            pattern = json.loads(json.dumps(plan.pattern))
            pattern["detail"]["stateMachineArn"] = [{"Ref": lid}]
            out[topic] = {"Type": TOPIC, "Properties": {"TopicName": plan.name}}
            out[logical_id("NotifyTopicPolicy", name)] = {"Type": "AWS::SNS::TopicPolicy", "Properties": {
                "Topics": [{"Ref": topic}], "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Sid": "EventBridgePublishes", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sns:Publish", "Resource": {"Ref": topic},
                    "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule, "Arn"]}}}}]}}}
            out[rule] = {"Type": RULE, "Properties": {
                "Name": plan.name, "Description": f"notifications of launch plan {plan.launch_plan}",
                "EventPattern": pattern, "State": "ENABLED", "Targets": [{"Id": "topic", "Arn": {"Ref": topic}}]}}
            for email, statuses in plan.recipients.items():
                out[logical_id("NotifySubscription", f"{name} {email}")] = {"Type": "AWS::SNS::Subscription",
                    "Properties": {"TopicArn": {"Ref": topic}, "Protocol": "email", "Endpoint": email,
                                   "FilterPolicyScope": "MessageBody",
                                   "FilterPolicy": json.loads(filter_policy(statuses))}}
    return out


def state_machine_arns(defs: Definitions, arn_of: Any, stage: str, app_name: str = naming.APP_NAME) -> dict[str, str]:
    """workflow → its state machine's ARN, by `arn_of(service, resource)` (StageArns.arn)."""
    prefix = naming.prefix(stage, app_name)
    return {name: arn_of("states", f"stateMachine:{state_machine_name(name, prefix)}") for name in defs.workflows}


def owned(template: dict[str, Any]) -> Owned:
    """What a deployed template holds of the workflows (nothing, for a stack from before they moved into it)."""
    res = template.get("Resources", {})
    if SCHEDULE_GROUP not in res:
        return Owned(stack=False)
    props = {k: v.get("Properties", {}) for k, v in res.items()}
    return Owned(stack=True, schedule_group=props[SCHEDULE_GROUP].get("Name"),
                 state_machines={p["StateMachineName"] for k, p in props.items()
                                 if res[k].get("Type") == STATE_MACHINE},
                 rules={p["Name"] for k, p in props.items() if res[k].get("Type") == RULE})


def differences(generated: dict[str, Any], deployed: dict[str, Any], complete: bool = False) -> list[str]:
    """What `generated` (resources of some workflow files) has that the deployed template lacks or holds
    otherwise: the resources registration would have to change. `complete`: `generated` is of every workflow
    file, so what else the stack holds of them is no longer defined."""
    have = deployed.get("Resources", {})
    out = [f"{have[lid]['Type'].rsplit('::', 1)[-1]} {lid} is in the stack but no longer defined"
           for lid in sorted(have) if complete and lid not in generated and lid.startswith(KINDS)
           and have[lid].get("Type") in OWNED_TYPES]
    for lid, resource in sorted(generated.items()):
        props = resource.get("Properties", {})
        what = props.get("StateMachineName") or props.get("Name") or props.get("TopicName") or lid
        kind = resource["Type"].rsplit("::", 1)[-1]
        if lid not in have:
            out.append(f"{kind} {what} is not in the stack")
        elif json.loads(json.dumps(have[lid].get("Properties", {}))) != json.loads(json.dumps(props)):
            out.append(f"{kind} {what} differs from the stack's")
    return out

