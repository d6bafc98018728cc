"""Launch plans and artifact triggers. Defining one validates it; registering it (elsewhere) stores it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Union

from chalicelib.errors import DefinitionError
from chalicelib.sdk import compat, literals, typecheck
from chalicelib.sdk.aligned import OnArtifacts, member_filter
from chalicelib.sdk.artifact import Artifact, ArtifactQuery, TriggerPartitionRef, TriggerTimeRef
from chalicelib.sdk.charset import check_name
from chalicelib.sdk.task import InputDef
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
        member_filter(self.trigger_on, "OnArtifact(trigger_on=...)")

    @property
    def artifact(self) -> Artifact:
        return self.trigger_on if isinstance(self.trigger_on, Artifact) else self.trigger_on.artifact

    def partition_filter(self) -> dict[str, str]:
        return member_filter(self.trigger_on, "OnArtifact(trigger_on=...)")

    def members(self) -> dict[str, Artifact]:
        return {self.artifact.name: self.artifact}

    @property
    def artifacts(self) -> list[Artifact]:
        return [self.artifact]


Trigger = Union[OnArtifact, OnArtifacts]


class _Binder:
    """Turns one trigger's `inputs=` into JSON bindings, checking names, references and types.

    Bindings of an `OnArtifacts` trigger say which member they read (`"of"`); those of an `OnArtifact`
    need not, since there is only the triggering version."""

    def __init__(self, trigger: Trigger, lp_name: str) -> None:
        self.trigger = trigger
        self.lp_name = lp_name
        self.members = trigger.members()
        self.aligned = isinstance(trigger, OnArtifacts)

    def _member(self, name: str, where: str) -> Artifact:
        if name not in self.members:
            on = " and ".join(repr(m) for m in self.members)
            raise DefinitionError(
                f"{where}: refers to artifact {name!r}, but the trigger is on {on}; "
                f"to read another artifact, bind {name}.query(...)"
            )
        return self.members[name]

    def _ref(self, value: TriggerPartitionRef | TriggerTimeRef | Artifact, where: str) -> dict[str, Any]:
        name = value.name if isinstance(value, Artifact) else value.artifact
        artifact = self._member(name, where)
        if isinstance(value, TriggerPartitionRef):
            artifact.check_ref(value, where)
            out: dict[str, Any] = {"trigger_partition": value.key}
        elif isinstance(value, TriggerTimeRef):
            artifact.check_ref(value, where)
            out = {"trigger_time": value.offset.total_seconds()}
        else:
            out = {"trigger_artifact": True}
        if self.aligned:
            out["of"] = name
        return out

    def query(self, query: ArtifactQuery, where: str) -> dict[str, Any]:
        partitions: dict[str, Any] = {}
        for key, value in query.partitions.items():
            if isinstance(value, TriggerPartitionRef):
                partitions[key] = self._ref(value, f"{where}, {query.artifact.name}.query({key}=...)")
            else:
                partitions[key] = {"const": literals.encode(value, where)}
        time: Any = None
        if isinstance(query.time_partition, TriggerTimeRef):
            time = self._ref(query.time_partition, f"{where}, {query.artifact.name}.query(time_partition=...)")
        elif query.time_partition is not None:
            time = {"const": literals.encode(query.time_partition, where)}
        granularity = query.artifact.granularity.value if query.artifact.time_partitioned else None
        return {"artifact": query.artifact.name, "partitions": partitions, "time_partition": time,
                "version": query.version, "granularity": granularity}

    def binding(self, name: str, value: Any, spec: InputDef) -> dict[str, Any]:
        where = f"launch plan {self.lp_name!r}, trigger input {name!r}"
        if isinstance(value, (Artifact, TriggerPartitionRef, TriggerTimeRef)):
            out = self._ref(value, where)
            kind = {TriggerPartitionRef: typecheck.PARTITION_VALUE, TriggerTimeRef: typecheck.TIME_VALUE}.get(type(value))
            if kind is not None and not typecheck.accepts_type(spec.type, kind):
                what = "a partition value" if kind is str else "a time partition"
                raise DefinitionError(
                    f"{where}: binds {what} ({typecheck.example_of(kind)}) to an input annotated "
                    f"{typecheck.describe(spec.type)}; annotate the input as {typecheck.example_of(kind)}"
                )
            return out
        if isinstance(value, ArtifactQuery):
            return {"query": self.query(value, where)}
        if isinstance(value, (OnArtifact, OnArtifacts)):
            raise DefinitionError(f"{where}: a trigger cannot be an input value")
        literal = literals.encode(value, where)
        if not typecheck.accepts_value(spec.type, value):
            raise DefinitionError(
                f"{where}: the value {value!r} ({type(value).__name__}) does not fit the input's annotation "
                f"{typecheck.describe(spec.type)}"
            )
        return {"const": literal}


def trigger_bindings(trigger: Trigger, wf: WorkflowDef, lp_name: str) -> dict[str, dict[str, Any]]:
    """Validate a trigger's `inputs=` against the workflow and turn each into a JSON binding."""
    specs = {i.name: i for i in wf.inputs}
    binder = _Binder(trigger, lp_name)
    out: dict[str, dict[str, Any]] = {}
    for name, value in trigger.inputs.items():
        if name not in specs:
            raise DefinitionError(
                f"launch plan {lp_name!r}, trigger input {name!r}: workflow {wf.short_name!r} has no input "
                f"{name!r}; its inputs are {sorted(specs)}"
            )
        out[name] = binder.binding(name, value, specs[name])
    return out


def trigger_definition(trigger: Trigger, bindings: dict[str, Any]) -> dict[str, Any]:
    """The JSON identity of a trigger (part of the launch plan version)."""
    if isinstance(trigger, OnArtifact):
        return {"artifact": trigger.artifact.name, "filter": trigger.partition_filter(), "bindings": bindings}
    return {"all_of": [{"artifact": n, "filter": f} for n, f in trigger.filters().items()],
            "align_on": trigger.align_on, "bindings": bindings}


class LaunchPlan:
    """A named way to start a workflow: fixed and default inputs, and optionally a trigger."""

    def __init__(
        self,
        name: str,
        workflow: WorkflowDef,
        trigger: Trigger | None = None,
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
        if trigger is not None and not isinstance(trigger, (OnArtifact, OnArtifacts)):
            raise DefinitionError(
                f"launch plan {name!r}: trigger must be OnArtifact(...) or OnArtifacts(...); got {type(trigger).__name__}"
            )
        if not isinstance(active, bool):
            raise DefinitionError(f"launch plan {name!r}: active must be True or False; got {active!r}")
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
                annotation = next(i.type for i in workflow.inputs if i.name == key)
                if not typecheck.accepts_value(annotation, value):
                    raise DefinitionError(
                        f"launch plan {name!r}, {label}[{key!r}]: the value {value!r} does not fit the input's "
                        f"annotation {typecheck.describe(annotation)}"
                    )
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
               fixed_inputs: Mapping[str, Any] | None = None, *, trigger: Trigger | None = None,
               **kwargs: Any) -> LaunchPlan:
        """flytekit's argument order: `create(name, workflow, default_inputs, fixed_inputs, ..., trigger=...)`."""
        if isinstance(default_inputs, (OnArtifact, OnArtifacts)) and trigger is None:  # create(name, wf, OnArtifact(...))
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
        from chalicelib.sdk.launching import call_launch_plan  # a node starting this plan's workflow

        return call_launch_plan(self, args, kwargs)

    def definition(self) -> dict[str, Any]:
        """The JSON that identifies this launch plan's behaviour; its hash is the launch plan version."""
        trig = trigger_definition(self.trigger, self.bindings) if self.trigger is not None else None
        return {"name": self.name, "workflow": self.workflow.name, "trigger": trig,
                "fixed_inputs": self.fixed_inputs, "default_inputs": self.default_inputs}

    @property
    def version(self) -> str:
        blob = json.dumps(self.definition(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def __repr__(self) -> str:
        return f"LaunchPlan({self.name!r}, {self.workflow.short_name})"
