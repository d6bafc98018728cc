"""The infra stack (infra/template.yaml): create or update it, read its outputs, delete it.

Decide, then act: the stack is updated only when its template or parameters differ from what is deployed, so
a second deploy makes no CloudFormation call that changes anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from chalicelib.aws import error_code
from chalicelib.deploy.errors import StackError
from chalicelib.naming import StackOutputs

TEMPLATE = Path("infra") / "template.yaml"
WAIT = {"Delay": 5, "MaxAttempts": 360}  # up to 30 minutes
# A stack whose creation failed can only be deleted; anything *_IN_PROGRESS must finish first.
DEAD_ON_ARRIVAL = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"}


class StackResult(BaseModel):
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
    return StackOutputs.model_validate(outputs)


def _params(parameters: dict[str, str]) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(parameters.items())]


def needs_update(deployed_template: str, deployed_params: list[dict[str, str]], template: str,
                 parameters: dict[str, str]) -> bool:
    current = {p["ParameterKey"]: p.get("ParameterValue") for p in deployed_params}
    return deployed_template != template or any(current.get(k) != v for k, v in parameters.items())


def deploy_stack(cfn: Any, name: str, template: str, parameters: dict[str, str]) -> StackResult:
    """Create the stack, or update it if its template or parameters changed. Safe to re-run after a failure."""
    desc = _describe(cfn, name)
    action = "created"
    if desc is not None and desc["StackStatus"] in DEAD_ON_ARRIVAL:
        cfn.delete_stack(StackName=name)
        _wait(cfn, "stack_delete_complete", name)
        desc, action = None, "recreated"
    elif desc is not None and desc["StackStatus"].endswith("_IN_PROGRESS"):
        raise StackError(f"stack {name!r} is busy ({desc['StackStatus']}); wait until it settles and run the "
                         f"deploy again")
    kwargs = {"StackName": name, "TemplateBody": template, "Parameters": _params(parameters),
              "Capabilities": ["CAPABILITY_NAMED_IAM"]}
    if desc is None:
        cfn.create_stack(**kwargs)
        _wait(cfn, "stack_create_complete", name)
    else:
        deployed = cfn.get_template(StackName=name, TemplateStage="Original")["TemplateBody"]
        if not isinstance(deployed, str) or needs_update(deployed, desc.get("Parameters", []), template, parameters):
            try:
                cfn.update_stack(**kwargs)
            except Exception as exc:
                if "No updates are to be performed" not in str(exc):
                    raise
                action = "unchanged"
            else:
                _wait(cfn, "stack_update_complete", name)
                action = "updated"
        else:
            action = "unchanged"
    return StackResult(name=name, action=action, outputs=read_outputs(cfn, name))


def delete_stack(cfn: Any, name: str) -> bool:
    """Delete the stack if it exists. Returns whether there was one."""
    if _describe(cfn, name) is None:
        return False
    cfn.delete_stack(StackName=name)
    _wait(cfn, "stack_delete_complete", name)
    return True
