"""Starting a workflow or a launch plan by hand (`run FILE NAME`, as `pyflyte run` takes either): parse and
check its inputs, then StartExecution on its state machine.

A launch plan's fixed inputs cannot be overridden; its default inputs fill what is not given; the
workflow's own defaults fill the rest when the task runner reads them. File inputs (FlyteFile,
FlyteDirectory) are given as an s3:// URI or a local path, which the local cloud reads in place.
"""

from __future__ import annotations

import enum
import json
import typing
import uuid
from datetime import date, datetime
from typing import Any

from chalicelib.naming import state_machine_name
from chalicelib.config import Settings
from chalicelib.errors import InputError, UnknownWorkflowError
from chalicelib.sdk import carry, files, literals
from chalicelib.sdk.launch_plan import LaunchPlan
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


def type_name(hint: Any) -> str:
    """A type as a person reads it: `int`, `list[str]`, `Color (red|green)`, `FlyteFile`."""
    if typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return " | ".join(type_name(a) for a in args) + (" | None" if type(None) in typing.get_args(hint) else "")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return f"{hint.__name__} ({'|'.join(str(m.name) for m in hint)})"
    if typing.get_origin(hint) is not None:
        return str(hint).replace("typing.", "")
    return getattr(hint, "__name__", str(hint))


def example_of(hint: Any) -> str:
    """A value of `hint` as it is typed on the command line."""
    hint = carry.optional_inner(carry.strip(hint))[0] if hint is not Any else hint
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return next(iter(hint)).name if len(hint) else "NAME"
    origin = typing.get_origin(hint) or hint
    examples = {bool: "true", int: "3", float: "0.5", datetime: "2024-01-31T00:00:00Z", date: "2024-01-31",
                list: '\'["a", "b"]\'', dict: '\'{"k": 1}\''}
    if origin in examples:
        return examples[origin]
    if files.is_file_type(hint):
        return "./data.csv or s3://bucket/key"
    return "text"


def _convert(spec: InputDef, text: str, workflow: str) -> Any:
    hint = spec.type
    if typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = args[0] if len(args) == 1 else str
    try:
        if hint in (str, Any):
            return text
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            for member in hint:
                if text in (member.name, str(member.value)):
                    return member
            raise ValueError(f"not one of {', '.join(m.name for m in hint)}")
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
            value = json.loads(text)
            want = typing.get_origin(hint) or hint
            if not isinstance(value, want):
                raise ValueError(f"JSON {type(value).__name__}, not {want.__name__}")
            return value
    except ValueError as exc:
        raise InputError(
            f"workflow {workflow!r} input {spec.name!r} expects {type_name(spec.type)}; got {text!r} ({exc}); "
            f"e.g. --{spec.name} {example_of(spec.type)}"
        ) from exc
    raise InputError(
        f"workflow {workflow!r} input {spec.name!r} has type {hint!r}, which cannot be given on the command line"
    )


def describe_inputs(wf: WorkflowDef, lp: LaunchPlan | None = None) -> list[dict[str, Any]]:
    """Each input of `wf` (as launch plan `lp`, if given): name, type, default, required, fixed."""
    fixed = lp.fixed_inputs if lp else {}
    lp_defaults = lp.default_inputs if lp else {}
    rows = []
    for spec in wf.inputs:
        if spec.name in fixed:
            default, has = literals.decode(fixed[spec.name]), True
        elif spec.name in lp_defaults:
            default, has = literals.decode(lp_defaults[spec.name]), True
        else:
            default, has = spec.default, spec.has_default
        if isinstance(default, enum.Enum):
            default = default.name
        rows.append({"name": spec.name, "type": type_name(spec.type), "default": default if has else None,
                     "has_default": has, "required": not has, "fixed": spec.name in fixed,
                     "example": example_of(spec.type)})
    return rows


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

def resolve(defs: Any, name: str) -> tuple[WorkflowDef, LaunchPlan | None]:
    """A workflow (by short or full name) or else a launch plan (by name)."""
    try:
        return defs.workflow(name), None
    except UnknownWorkflowError as exc:
        lp = defs.launch_plans.get(name)
        if lp is None:
            plans = sorted(defs.launch_plans)
            raise UnknownWorkflowError(f"{exc}{'; launch plans: ' + ', '.join(plans) if plans else ''}") from exc
        return lp.workflow, lp


def _file_literal(hint: Any, text: str, workflow: str, name: str) -> Any:
    cls = carry.optional_inner(carry.strip(hint))[0]
    try:
        value = cls(text)
    except Exception as exc:
        raise InputError(f"workflow {workflow!r} input {name!r}: {exc}") from exc
    if value.remote_source is None:
        import os

        if not os.path.exists(text):
            raise InputError(f"workflow {workflow!r} input {name!r}: {text!r} does not exist; give a local path or an s3:// URI")
    return value.to_literal()


def inputs_for(wf: WorkflowDef, lp: LaunchPlan | None, given: dict[str, Any], from_text: bool = True) -> dict[str, Any]:
    """The execution's literal inputs: checked, converted, with the launch plan's fixed and default inputs."""
    specs = {i.name: i for i in wf.inputs}
    file_inputs = {n for n, s in specs.items() if files.is_file_type(carry.optional_inner(carry.strip(s.type))[0])}
    if lp is None and not (from_text and file_inputs & set(given)):
        return check_inputs(wf, given, from_text=from_text)
    extra = sorted(set(given) - set(specs))
    if extra:
        raise InputError(f"workflow {wf.short_name!r} has no input {extra[0]!r}; its inputs are {sorted(specs) or 'none'}")
    fixed = lp.fixed_inputs if lp else {}
    clash = sorted(set(given) & set(fixed))
    if clash:
        raise InputError(f"input {clash[0]!r} is fixed by launch plan {lp.name!r} to "  # type: ignore[union-attr]
                         f"{literals.decode(fixed[clash[0]])!r}; it cannot be overridden")
    out: dict[str, Any] = dict(lp.default_inputs) if lp else {}
    for name, value in given.items():
        where = f"workflow {wf.short_name!r} input {name!r}"
        if from_text and name in file_inputs:
            out[name] = _file_literal(specs[name].type, value, wf.short_name, name)
        else:
            out[name] = literals.encode(_convert(specs[name], value, wf.short_name) if from_text else value, where)
    out.update(fixed)
    missing = [n for n, s in specs.items() if n not in out and not s.has_default]
    if missing:
        raise InputError(f"workflow {wf.short_name!r} needs input {missing[0]!r}; pass --{missing[0]} VALUE")
    return out
