"""Starting a workflow or a launch plan by hand (`run FILE NAME`, as `pyflyte run` takes either).

A launch plan's fixed inputs cannot be overridden; its default inputs fill what is not given; the
workflow's own defaults fill the rest when the task runner reads them. File inputs (FlyteFile,
FlyteDirectory) are given as an s3:// URI or a local path, which the local cloud reads in place.
"""

from __future__ import annotations

from typing import Any

from chalicelib.errors import InputError, UnknownWorkflowError
from chalicelib.runtime import types
from chalicelib.runtime.launch import _convert, check_inputs
from chalicelib.sdk import files, literals
from chalicelib.sdk.launch_plan import LaunchPlan
from chalicelib.sdk.workflow import WorkflowDef


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
    cls = types.optional_inner(types.strip(hint))[0]
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
    file_inputs = {n for n, s in specs.items() if files.is_file_type(types.optional_inner(types.strip(s.type))[0])}
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
