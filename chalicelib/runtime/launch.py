"""Starting a workflow by hand: parse and check its inputs, then StartExecution on its state machine."""

from __future__ import annotations

import json
import typing
import uuid
from datetime import date, datetime
from typing import Any

from chalicelib.compile import state_machine_name
from chalicelib.config import Settings
from chalicelib.errors import InputError
from chalicelib.sdk import literals
from chalicelib.sdk.task import InputDef
from chalicelib.sdk.workflow import WorkflowDef


def parse_cli_inputs(args: list[str]) -> dict[str, str]:
    """`--key1 value1 --n=3` → {"key1": "value1", "n": "3"}."""
    out: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or len(arg) == 2:
            raise InputError(f"unexpected argument {arg!r}; give workflow inputs as --NAME VALUE")
        name, eq, value = arg[2:].partition("=")
        if not eq:
            if i + 1 >= len(args) or args[i + 1].startswith("--"):
                raise InputError(f"input --{name} has no value; give it as --{name} VALUE")
            value = args[i + 1]
            i += 1
        out[name.replace("-", "_")] = value
        i += 1
    return out


def _convert(spec: InputDef, text: str, workflow: str) -> Any:
    hint = spec.type
    if typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = args[0] if len(args) == 1 else str
    try:
        if hint in (str, Any):
            return text
        if hint is bool:
            lowered = text.lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError("expected true or false")
            return lowered in ("true", "1", "yes")
        if hint is int:
            return int(text)
        if hint is float:
            return float(text)
        if hint is datetime:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        if hint is date:
            return date.fromisoformat(text)
        if typing.get_origin(hint) in (list, dict) or hint in (list, dict):
            return json.loads(text)
    except ValueError as exc:
        raise InputError(
            f"workflow {workflow!r} input {spec.name!r} expects {getattr(hint, '__name__', hint)}; got {text!r} ({exc})"
        ) from exc
    raise InputError(
        f"workflow {workflow!r} input {spec.name!r} has type {hint!r}, which cannot be given on the command line"
    )


def check_inputs(wf: WorkflowDef, given: dict[str, Any], from_text: bool = False) -> dict[str, Any]:
    """Validate names (no missing, no extra) and convert; returns JSON literals for the execution input."""
    specs = {i.name: i for i in wf.inputs}
    extra = sorted(set(given) - set(specs))
    if extra:
        raise InputError(
            f"workflow {wf.short_name!r} has no input {extra[0]!r}; its inputs are {sorted(specs) or 'none'}"
        )
    missing = [n for n, s in specs.items() if n not in given and not s.has_default]
    if missing:
        raise InputError(f"workflow {wf.short_name!r} needs input {missing[0]!r}; pass --{missing[0]} VALUE")
    out = {}
    for name, value in given.items():
        value = _convert(specs[name], value, wf.short_name) if from_text else value
        out[name] = literals.encode(value, f"workflow {wf.short_name!r} input {name!r}")
    return out


def start_workflow(sfn: Any, settings: Settings, wf: WorkflowDef, inputs: dict[str, Any], name: str | None = None,
                   launch_plan: str | None = None) -> str:
    """Start `wf` (already registered) with literal inputs, optionally as a launch plan; returns the execution ARN."""
    arn = _state_machine_arn(sfn, state_machine_name(wf.name, settings.prefix))
    payload = {"meta": {"workflow": wf.name, "launch_plan": launch_plan, "triggered_by": None}, "inputs": inputs}
    resp = sfn.start_execution(stateMachineArn=arn, name=name or f"run-{uuid.uuid4().hex[:16]}", input=json.dumps(payload))
    return resp["executionArn"]


def _state_machine_arn(sfn: Any, name: str) -> str:
    for page in sfn.get_paginator("list_state_machines").paginate():
        for sm in page["stateMachines"]:
            if sm["name"] == name:
                return sm["stateMachineArn"]
    raise InputError(f"state machine {name!r} is not registered; run `python -m chalicelib register` first")
