"""The stage's stack: create or update it through a change set, read its outputs, delete it.

Decide, then act: a change set is made only when the template or parameters differ from what is deployed, so
a second deploy (from any copy of the same code) makes no CloudFormation call that changes anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from chalicelib.aws import error_code
from chalicelib.deploy.errors import StackError
from chalicelib.naming import StackOutputs

TEMPLATE = Path("infra") / "template.yaml"
WAIT = {"Delay": 5, "MaxAttempts": 360}  # up to 30 minutes
# A stack whose creation failed can only be deleted; anything *_IN_PROGRESS must finish first.
DEAD_ON_ARRIVAL = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"}


class StackResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)  # outputs: a plain Struct

    name: str
    action: str  # "created", "updated", "unchanged", "recreated"
    outputs: StackOutputs


def _describe(cfn: Any, name: str) -> dict[str, Any] | None:
    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]
    except Exception as exc:
        if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
            return None
        raise


def _failure_reason(cfn: Any, name: str) -> str:
    try:
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    except Exception:
        return "(no stack events)"
    reasons = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
               for e in events if e.get("ResourceStatus", "").endswith("_FAILED")]
    return "; ".join(reasons[:3]) or "(no failed resource reported)"


def _wait(cfn: Any, waiter: str, name: str) -> None:
    try:
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig=WAIT)
    except Exception as exc:
        raise StackError(f"stack {name!r} did not reach the expected state ({waiter}): "
                         f"{_failure_reason(cfn, name)}. Fix the cause and run the deploy again.") from exc


def read_outputs(cfn: Any, name: str) -> StackOutputs:
    desc = _describe(cfn, name)
    if desc is None:
        raise StackError(f"stack {name!r} does not exist in this account and region; deploy the stage first "
                         f"(make deploy STAGE=...)")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in desc.get("Outputs", [])}
    missing = StackOutputs.missing(outputs)
    if missing:
        raise StackError(f"stack {name!r} has no output(s) {missing}; it was made from an older template. "
                         f"Run the deploy again to update it.")
    return StackOutputs.from_outputs(outputs)


def deployed_template(cfn: Any, stack_name: str) -> dict[str, Any]:
    """The stack's template as deployed ({} when there is no stack)."""
    try:
        body = cfn.get_template(StackName=stack_name, TemplateStage="Original")["TemplateBody"]
    except Exception as exc:
        if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
            return {}
        raise
    if not isinstance(body, str):
        return dict(body)
    from samtranslator.yaml_helper import yaml_parse  # JSON, or YAML (a stack made from infra/template.yaml)

    return dict(yaml_parse(body))


def _params(parameters: dict[str, str]) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(parameters.items())]


def needs_update(deployed_template: str, deployed_params: list[dict[str, str]], template: str,
                 parameters: dict[str, str]) -> bool:
    current = {p["ParameterKey"]: p.get("ParameterValue") for p in deployed_params}
    return deployed_template != template or any(current.get(k) != v for k, v in parameters.items())


class Change(BaseModel):
    action: str  # Add, Modify, Remove
    logical_id: str
    resource_type: str
    replacement: str = ""

    def line(self) -> str:
        replace = " (replaced)" if self.replacement == "True" else ""
        return f"{self.action:<6} {self.logical_id} ({self.resource_type}){replace}"


class ChangeResult(BaseModel):
    name: str
    action: str  # "created", "updated", "no changes"
    changes: list[Change] = []
    outputs: dict[str, str] = {}


TEMPLATE_BODY_LIMIT = 51_200  # bytes CloudFormation accepts as TemplateBody; larger goes through S3
BROKEN = {
    "UPDATE_ROLLBACK_FAILED": "run `aws cloudformation continue-update-rollback --stack-name {name}`, then deploy again",
    "DELETE_FAILED": "run `python -m chalicelib destroy --stage {stage}` (it retries the deletion), then deploy again",
    "ROLLBACK_FAILED": "run `python -m chalicelib destroy --stage {stage}`, then deploy again",
    "UPDATE_FAILED": "deploy again (the update failed and was not rolled back)",
}
UNCREATED = {"REVIEW_IN_PROGRESS"}  # a change set was made for a new stack and never executed


def _canonical(body: Any) -> str:
    import json

    data = json.loads(body) if isinstance(body, str) else body
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _settle(cfn: Any, name: str) -> dict[str, Any] | None:
    """The stack once no operation is in progress on it (an interrupted deploy's update still runs)."""
    import time

    for _ in range(WAIT["MaxAttempts"]):
        desc = _describe(cfn, name)
        if desc is None or not desc["StackStatus"].endswith("_IN_PROGRESS") or desc["StackStatus"] in UNCREATED:
            return desc
        time.sleep(WAIT["Delay"])
    raise StackError(f"stack {name!r} is still {desc['StackStatus']} after 30 minutes; run the deploy again later")


def _drop_change_sets(cfn: Any, name: str) -> None:
    """Change sets left by an interrupted deploy: never executed, so safe to delete."""
    try:
        summaries = cfn.list_change_sets(StackName=name).get("Summaries", [])
    except Exception as exc:
        if error_code(exc) == "ValidationError":
            return
        raise
    for summary in summaries:
        if summary.get("ExecutionStatus") not in ("EXECUTE_IN_PROGRESS", "EXECUTE_COMPLETE"):
            cfn.delete_change_set(StackName=name, ChangeSetName=summary["ChangeSetName"])


def _changes(desc: dict[str, Any]) -> list[Change]:
    out = []
    for change in desc.get("Changes", []):
        rc = change.get("ResourceChange", {})
        out.append(Change(action=rc.get("Action", "?"), logical_id=rc.get("LogicalResourceId", "?"),
                          resource_type=rc.get("ResourceType", "?"), replacement=str(rc.get("Replacement", ""))))
    return sorted(out, key=lambda c: c.logical_id)


def deploy_change_set(cfn: Any, name: str, stage: str, template: str, parameters: dict[str, str],
                      template_url: str | None = None) -> ChangeResult:
    """Create or update stack `name` through a change set, or leave it alone when the deployed template and
    parameters are the ones given. Safe to re-run after an interruption at any point."""
    import hashlib
    import time

    desc = _settle(cfn, name)
    if desc is not None and desc["StackStatus"] == "ROLLBACK_COMPLETE":
        # its creation failed and was rolled back: it holds nothing, and can only be deleted
        cfn.delete_stack(StackName=name)
        _wait(cfn, "stack_delete_complete", name)
        desc = None
    if desc is not None and desc["StackStatus"] in BROKEN:
        fix = BROKEN[desc["StackStatus"]].format(name=name, stage=stage)
        raise StackError(f"stack {name!r} is {desc['StackStatus']} ({_failure_reason(cfn, name)}): {fix}")
    creating = desc is None or desc["StackStatus"] in UNCREATED
    if not creating:
        deployed = cfn.get_template(StackName=name, TemplateStage="Original")["TemplateBody"]
        if not needs_update(_canonical(deployed), desc.get("Parameters", []), _canonical(template), parameters):
            return ChangeResult(name=name, action="no changes", outputs=_outputs(desc))
    _drop_change_sets(cfn, name)
    digest = hashlib.sha256((template + repr(sorted(parameters.items()))).encode()).hexdigest()[:16]
    change_set = f"deploy-{digest}"
    source = {"TemplateURL": template_url} if template_url else {"TemplateBody": template}
    cfn.create_change_set(StackName=name, ChangeSetName=change_set, ChangeSetType="CREATE" if creating else "UPDATE",
                          Parameters=_params(parameters), Capabilities=["CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
                          **source)
    for _ in range(WAIT["MaxAttempts"]):
        cs = cfn.describe_change_set(StackName=name, ChangeSetName=change_set)
        if cs["Status"] in ("CREATE_COMPLETE", "FAILED"):
            break
        time.sleep(2)
    reason = cs.get("StatusReason", "")
    if cs["Status"] == "FAILED":
        cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
        if "didn't contain changes" in reason or "No updates" in reason:
            return ChangeResult(name=name, action="no changes", outputs=_outputs(_describe(cfn, name) or {}))
        raise StackError(f"change set for stack {name!r} failed: {reason}. Fix the template and deploy again.")
    changes = _changes(cs)  # executed even if empty: the template or parameters differ from the deployed ones
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
    _wait(cfn, "stack_create_complete" if creating else "stack_update_complete", name)
    return ChangeResult(name=name, action="created" if creating else "updated", changes=changes,
                        outputs=_outputs(_describe(cfn, name) or {}))


def create_stack(cfn: Any, name: str, template: str, parameters: dict[str, str]) -> ChangeResult:
    """Create a new stack (or recreate one whose creation failed); later changes go through change sets."""
    import json

    desc = _settle(cfn, name)
    if desc is not None and desc["StackStatus"] in ("ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS"):
        cfn.delete_stack(StackName=name)  # holds nothing: its creation failed, or was never executed
        _wait(cfn, "stack_delete_complete", name)
        desc = None
    if desc is not None:
        return ChangeResult(name=name, action="exists", outputs=_outputs(desc))
    cfn.create_stack(StackName=name, TemplateBody=template, Parameters=_params(parameters),
                     Capabilities=["CAPABILITY_NAMED_IAM"])
    _wait(cfn, "stack_create_complete", name)
    resources = json.loads(template).get("Resources", {})
    changes = [Change(action="Add", logical_id=k, resource_type=v.get("Type", "?")) for k, v in sorted(resources.items())]
    return ChangeResult(name=name, action="created", changes=changes, outputs=_outputs(_describe(cfn, name) or {}))


def _outputs(desc: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in desc.get("Outputs", [])}


def stack_outputs(cfn: Any, name: str) -> dict[str, str] | None:
    """The stack's outputs, or None if there is no stack."""
    desc = _describe(cfn, name)
    return None if desc is None else _outputs(desc)


def delete_stack(cfn: Any, name: str) -> bool:
    """Delete the stack if it exists. Returns whether there was one."""
    if _describe(cfn, name) is None:
        return False
    cfn.delete_stack(StackName=name)
    _wait(cfn, "stack_delete_complete", name)
    return True
