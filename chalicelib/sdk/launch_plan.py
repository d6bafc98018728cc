"""Launch plans and artifact triggers. Defining one validates it; registering it (elsewhere) stores it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from chalicelib.errors import DefinitionError
from chalicelib.sdk import compat, literals
from chalicelib.sdk.artifact import Artifact, ArtifactQuery, TriggerPartitionRef, TriggerTimeRef
from chalicelib.sdk.naming import check_name
from chalicelib.sdk.workflow import WorkflowDef


@dataclass(frozen=True)
class OnArtifact:
    """Start the launch plan for every new version of `trigger_on` (an Artifact, or a query that filters)."""

    trigger_on: Artifact | ArtifactQuery
    inputs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.trigger_on, (Artifact, ArtifactQuery)):
            raise DefinitionError(
                f"OnArtifact(trigger_on=...) takes an Artifact or A.query(...); got {type(self.trigger_on).__name__}"
            )

    @property
    def artifact(self) -> Artifact:
        return self.trigger_on if isinstance(self.trigger_on, Artifact) else self.trigger_on.artifact

    def partition_filter(self) -> dict[str, str]:
        if isinstance(self.trigger_on, ArtifactQuery):
            return {k: str(v) for k, v in self.trigger_on.partitions.items()}
        return {}


def _query_spec(query: ArtifactQuery, trigger: Artifact, where: str) -> dict[str, Any]:
    partitions: dict[str, Any] = {}
    for key, value in query.partitions.items():
        if isinstance(value, TriggerPartitionRef):
            _check_trigger_ref(value.artifact, trigger, where)
            partitions[key] = {"trigger_partition": value.key}
        else:
            partitions[key] = {"const": literals.encode(value, where)}
    time: Any = None
    if isinstance(query.time_partition, TriggerTimeRef):
        _check_trigger_ref(query.time_partition.artifact, trigger, where)
        time = {"trigger_time": query.time_partition.offset.total_seconds()}
    elif query.time_partition is not None:
        time = {"const": literals.encode(query.time_partition, where)}
    return {"artifact": query.artifact.name, "partitions": partitions, "time_partition": time, "version": query.version}


def _check_trigger_ref(name: str, trigger: Artifact, where: str) -> None:
    if name != trigger.name:
        raise DefinitionError(f"{where}: refers to artifact {name!r}, but the trigger is on {trigger.name!r}")


def trigger_bindings(trigger: OnArtifact, wf: WorkflowDef, lp_name: str) -> dict[str, dict[str, Any]]:
    """Validate a trigger's `inputs=` against the workflow and turn each into a JSON binding."""
    names = {i.name for i in wf.inputs}
    out: dict[str, dict[str, Any]] = {}
    for name, value in trigger.inputs.items():
        where = f"launch plan {lp_name!r}, trigger input {name!r}"
        if name not in names:
            raise DefinitionError(f"{where}: workflow {wf.short_name!r} has no input {name!r}; its inputs are {sorted(names)}")
        if isinstance(value, Artifact):
            _check_trigger_ref(value.name, trigger.artifact, where)
            out[name] = {"trigger_artifact": True}
        elif isinstance(value, TriggerPartitionRef):
            _check_trigger_ref(value.artifact, trigger.artifact, where)
            out[name] = {"trigger_partition": value.key}
        elif isinstance(value, TriggerTimeRef):
            _check_trigger_ref(value.artifact, trigger.artifact, where)
            out[name] = {"trigger_time": value.offset.total_seconds()}
        elif isinstance(value, ArtifactQuery):
            out[name] = {"query": _query_spec(value, trigger.artifact, where)}
        else:
            out[name] = {"const": literals.encode(value, where)}
    return out


class LaunchPlan:
    """A named way to start a workflow: fixed and default inputs, and optionally a trigger."""

    def __init__(
        self,
        name: str,
        workflow: WorkflowDef,
        trigger: OnArtifact | None = None,
        default_inputs: Mapping[str, Any] | None = None,
        fixed_inputs: Mapping[str, Any] | None = None,
        active: bool = True,
        **options: Any,
    ) -> None:
        self.name = check_name("launch plan", name)
        self.options = compat.check_launch_plan_options(name, options)  # flytekit's other keywords
        if not isinstance(workflow, WorkflowDef):
            raise DefinitionError(
                f"launch plan {name!r}: expected a @workflow; got {type(workflow).__name__}. Decorate it with @workflow."
            )
        if trigger is not None and not isinstance(trigger, OnArtifact):
            raise DefinitionError(f"launch plan {name!r}: trigger must be OnArtifact(...); got {type(trigger).__name__}")
        self.workflow = workflow
        self.trigger = trigger
        self.active = active
        names = {i.name for i in workflow.inputs}
        self.fixed_inputs: dict[str, Any] = {}
        self.default_inputs: dict[str, Any] = {}
        for label, given, target in (("fixed_inputs", fixed_inputs, self.fixed_inputs),
                                     ("default_inputs", default_inputs, self.default_inputs)):
            for key, value in (given or {}).items():
                if key not in names:
                    raise DefinitionError(f"launch plan {name!r}, {label}: workflow {workflow.short_name!r} has no input {key!r}")
                target[key] = literals.encode(value, f"launch plan {name!r}, {label}[{key!r}]")
        self.bindings = trigger_bindings(trigger, workflow, name) if trigger else {}
        clash = sorted(set(self.bindings) & set(self.fixed_inputs))
        if clash:
            raise DefinitionError(f"launch plan {name!r}: input {clash[0]!r} is both fixed and bound by the trigger")
        if trigger is not None:
            provided = set(self.bindings) | set(self.fixed_inputs) | set(self.default_inputs)
            missing = [i.name for i in workflow.inputs if not i.has_default and i.name not in provided]
            if missing:
                raise DefinitionError(
                    f"launch plan {name!r}: a triggered run cannot fill input {missing[0]!r} of workflow "
                    f"{workflow.short_name!r}; bind it in OnArtifact(inputs={{{missing[0]!r}: ...}}) or give a default"
                )

    @classmethod
    def create(cls, name: str, workflow: WorkflowDef, default_inputs: Mapping[str, Any] | None = None,
               fixed_inputs: Mapping[str, Any] | None = None, *, trigger: OnArtifact | None = None,
               **kwargs: Any) -> LaunchPlan:
        """flytekit's argument order: `create(name, workflow, default_inputs, fixed_inputs, ..., trigger=...)`."""
        if isinstance(default_inputs, OnArtifact) and trigger is None:  # create(name, wf, OnArtifact(...))
            default_inputs, trigger = None, default_inputs
        return cls(name, workflow, trigger=trigger, default_inputs=default_inputs, fixed_inputs=fixed_inputs, **kwargs)

    @classmethod
    def get_or_create(cls, workflow: WorkflowDef | None = None, name: str | None = None, **kwargs: Any) -> LaunchPlan:
        """`get_or_create(workflow, name=None, ...)` as flytekit, also all by keyword; without a name it is the
        workflow's default launch plan, named after the workflow."""
        if workflow is None:
            raise DefinitionError(f"LaunchPlan.get_or_create(name={name!r}): pass workflow=<a @workflow>")
        if isinstance(workflow, str) and isinstance(name, WorkflowDef):  # get_or_create("name", wf)
            workflow, name = name, workflow
        if not isinstance(workflow, WorkflowDef):
            raise DefinitionError(
                f"LaunchPlan.get_or_create: expected a @workflow; got {type(workflow).__name__}. Decorate it with @workflow."
            )
        return cls(name or workflow.short_name, workflow, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise DefinitionError(
            f"launch plan {self.name!r} is called like a task; launching a launch plan from a workflow is not "
            f"supported. Call its workflow's tasks, or let an artifact trigger it"
        )

    def definition(self) -> dict[str, Any]:
        """The JSON that identifies this launch plan's behaviour; its hash is the launch plan version."""
        trig = None
        if self.trigger is not None:
            trig = {"artifact": self.trigger.artifact.name, "filter": self.trigger.partition_filter(),
                    "bindings": self.bindings}
        return {"name": self.name, "workflow": self.workflow.name, "trigger": trig,
                "fixed_inputs": self.fixed_inputs, "default_inputs": self.default_inputs}

    @property
    def version(self) -> str:
        blob = json.dumps(self.definition(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def __repr__(self) -> str:
        return f"LaunchPlan({self.name!r}, {self.workflow.short_name})"
