"""`signal EXECUTION NAME [VALUE] [--approve | --reject]`: answer a gate an execution waits on.

`wait_for_input(NAME, ..., expected_type=T)` takes VALUE, checked against T (int, float, bool, str, or JSON for
dict and list); `approve(..., NAME, ...)` takes --approve or --reject (which fails the execution).
EXECUTION is the execution's name or ARN (as `executions` lists them).
"""

from __future__ import annotations

import json
from typing import Any

import click

from chalicelib.cli import main
from chalicelib.cli.options import stage_options
from chalicelib.errors import InputError

REJECTED = "GateRejected"
TRUE, FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


def parse_value(text: str, expected: str | None, gate: str) -> Any:
    """VALUE as the gate's expected type; InputError names the gate, the type and the value."""
    def bad() -> InputError:
        return InputError(f"gate {gate!r} expects {expected}; {text!r} is not one")

    if expected == "int":
        try:
            return int(text)
        except ValueError:
            raise bad() from None
    if expected == "float":
        try:
            return float(text)
        except ValueError:
            raise bad() from None
    if expected == "bool":
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        raise bad()
    if expected == "json":
        try:
            value = json.loads(text)
        except ValueError:
            raise bad() from None
        if not isinstance(value, (dict, list)):
            raise bad()
        return value
    return text


def send_signal(sfn: Any, gates: Any, execution: str, name: str, value: str | None, approve: bool,
                reject: bool) -> str:
    """Decide what to send (checked), send it, and forget the token; what was done, in words."""
    from chalicelib.aws import error_code

    record = gates.get(execution, name)
    if record.kind == "approve":
        if value is not None or approve == reject:
            raise InputError(f"gate {name!r} is an approval: pass --approve or --reject, and no value")
    elif approve or reject or value is None:
        raise InputError(f"gate {name!r} waits for a value of type {record.expected_type}: pass it, "
                         f"e.g. signal {execution} {name} VALUE")
    try:
        if reject:
            sfn.send_task_failure(taskToken=record.token, error=REJECTED, cause=f"gate {name!r} was rejected")
            done = "rejected"
        elif approve:
            sfn.send_task_success(taskToken=record.token, output=json.dumps({"approved": True}))
            done = "approved"
        else:
            parsed = parse_value(value or "", record.expected_type, name)
            sfn.send_task_success(taskToken=record.token, output=json.dumps({"outputs": {"o0": parsed}}))
            done = f"sent {parsed!r}"
    except Exception as exc:
        code = error_code(exc)
        if code in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
            gates.remove(record)
            raise InputError(f"gate {name!r} of execution {execution!r} no longer waits ({code}): it timed out, "
                             f"or was answered already") from exc
        raise
    gates.remove(record)
    return done


@main.command("signal")
@click.argument("execution")
@click.argument("name")
@click.argument("value", required=False)
@click.option("--approve", is_flag=True, help="Approve an approve() gate.")
@click.option("--reject", is_flag=True, help="Reject an approve() gate; the execution fails.")
@stage_options
def signal_command(execution: str, name: str, value: str | None, approve: bool, reject: bool, stage: str | None,
                   endpoint_url: str | None) -> None:
    """Answer gate NAME that EXECUTION waits on: a VALUE for wait_for_input, --approve/--reject for approve."""
    from chalicelib.ops.stage import resolve
    from chalicelib.store.gates import GateStore

    target = resolve(stage, endpoint_url)
    done = send_signal(target.sfn, GateStore(target.settings, target.dynamodb), execution, name, value, approve,
                       reject)
    click.echo(f"gate {name!r} of {execution.rsplit(':', 1)[-1]}: {done}")
