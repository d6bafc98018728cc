"""Launch plans and artifact triggers. Defining one validates it; registering it (elsewhere) stores it."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Mapping, Union

from msgspec import Struct, field

from chalicelib.errors import DefinitionError
from chalicelib.sdk import compat, literals, tracing, typecheck
from chalicelib.sdk.aligned import OnArtifacts, member_filter
from chalicelib.sdk.artifact import Artifact, ArtifactQuery, TriggerPartitionRef, TriggerTimeRef
from chalicelib.sdk.charset import check_name
from chalicelib.sdk.notifications import Notification
from chalicelib.sdk.schedules import Schedule
from chalicelib.sdk.task import InputDef
from chalicelib.sdk.workflow import WorkflowDef


class OnArtifact(Struct, frozen=True):
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


def check_schedule(schedule: Any, lp: LaunchPlan) -> Schedule | None:
    """A launch plan's schedule, checked against its workflow: the kickoff input is a datetime input that
    nothing else fills, and every other required input has a value when a tick starts the workflow."""
    if schedule is None:
        return None
    name, wf = lp.name, lp.workflow
    if not isinstance(schedule, Schedule):
        raise DefinitionError(
            f"launch plan {name!r}: schedule must be CronSchedule(...) or FixedRate(...); got {type(schedule).__name__}"
        )
    specs = {i.name: i for i in wf.inputs}
    kickoff = schedule.kickoff_time_input_arg
    if kickoff is not None:
        if kickoff not in specs:
            datetimes = [i.name for i in wf.inputs if i.type is datetime]
            raise DefinitionError(
                f"launch plan {name!r}: kickoff_time_input_arg={kickoff!r} names no input of workflow "
                f"{wf.short_name!r}; its datetime inputs are {datetimes or 'none: add one, e.g. kickoff_time: datetime'}"
            )
        if not typecheck.accepts_type(specs[kickoff].type, datetime):
            raise DefinitionError(
                f"launch plan {name!r}: kickoff_time_input_arg={kickoff!r} is annotated "
                f"{typecheck.describe(specs[kickoff].type)}; the scheduled time is a datetime: annotate it datetime"
            )
        if kickoff in lp.fixed_inputs or kickoff in lp.bindings:
            raise DefinitionError(
                f"launch plan {name!r}: input {kickoff!r} is the schedule's kickoff time and also "
                f"{'fixed' if kickoff in lp.fixed_inputs else 'bound by the trigger'}; fill it in one place only"
            )
    provided = set(lp.fixed_inputs) | set(lp.default_inputs) | ({kickoff} if kickoff else set())
    missing = [i.name for i in wf.inputs if not i.has_default and i.name not in provided]
    if missing:
        raise DefinitionError(
            f"launch plan {name!r}: a scheduled run cannot fill input {missing[0]!r} of workflow {wf.short_name!r}; "
            f"give it in fixed_inputs or default_inputs, or name it in kickoff_time_input_arg if it is the run's time"
        )
    return schedule


def check_notifications(notifications: Any, name: str) -> list[Notification]:
    if notifications is None:
        return []
    if isinstance(notifications, Notification):
        notifications = [notifications]
    if not isinstance(notifications, (list, tuple)):
        raise DefinitionError(
            f"launch plan {name!r}: notifications must be a list of Email(...), Slack(...) or PagerDuty(...); "
            f"got {type(notifications).__name__}"
        )
    bad = [n for n in notifications if not isinstance(n, Notification)]
    if bad:
        raise DefinitionError(
            f"launch plan {name!r}: notifications holds {type(bad[0]).__name__}; use Email(...), Slack(...) or "
            f"PagerDuty(...) with phases=[WorkflowExecutionPhase.FAILED, ...] and recipients_email=[...]"
        )
    return list(notifications)


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
        schedule: Schedule | None = None,
        notifications: Notification | list[Notification] | None = None,
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
        self.schedule = check_schedule(schedule, self)
        self.notifications = check_notifications(notifications, name)

    @classmethod
    def create(cls, name: str, workflow: WorkflowDef, default_inputs: Mapping[str, Any] | None = None,
               fixed_inputs: Mapping[str, Any] | None = None, schedule: Schedule | None = None,
               notifications: list[Notification] | None = None, *, trigger: Trigger | None = None,
               **kwargs: Any) -> LaunchPlan:
        """flytekit's argument order: `create(name, workflow, default_inputs, fixed_inputs, schedule,
        notifications, ..., trigger=...)`."""
        if isinstance(default_inputs, (OnArtifact, OnArtifacts)) and trigger is None:  # create(name, wf, OnArtifact(...))
            default_inputs, trigger = None, default_inputs
        return cls(name, workflow, trigger=trigger, default_inputs=default_inputs, fixed_inputs=fixed_inputs,
                   schedule=schedule, notifications=notifications, **kwargs)

    @classmethod
    def get_or_create(cls, workflow: WorkflowDef | None = None, name: str | None = None,
                      default_inputs: Mapping[str, Any] | None = None, fixed_inputs: Mapping[str, Any] | None = None,
                      schedule: Schedule | None = None, notifications: list[Notification] | None = None,
                      **kwargs: Any) -> LaunchPlan:
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
        return cls(name or workflow.short_name, workflow, default_inputs=default_inputs, fixed_inputs=fixed_inputs,
                   schedule=schedule, notifications=notifications, **kwargs)

    @classmethod
    def get_default_launch_plan(cls, ctx: Any, workflow: WorkflowDef) -> LaunchPlan:
        """flytekit's `get_default_launch_plan(current_context(), wf)`: the workflow's default launch plan, named
        after the workflow, with its signature's defaults (`ctx` is accepted and not needed)."""
        return cls.get_or_create(workflow)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if tracing.current() is None:
            return self.run_locally(*args, **kwargs)
        from chalicelib.sdk.launching import call_launch_plan  # a node starting this plan's workflow

        return call_launch_plan(self, args, kwargs)

    def run_locally(self, *args: Any, **kwargs: Any) -> Any:
        """flytekit's `lp(x=...)` outside a workflow: run the workflow in this process, its tasks as plain
        functions, with the launch plan's default and fixed inputs (a fixed input cannot be overridden)."""
        if args:
            raise DefinitionError(f"launch plan {self.name!r}: pass inputs by keyword, e.g. {self.name}(x=...)")
        clash = sorted(set(kwargs) & set(self.fixed_inputs))
        if clash:
            raise DefinitionError(f"launch plan {self.name!r}: input {clash[0]!r} is fixed and cannot be overridden")
        given = {k: literals.decode(v) for k, v in {**self.default_inputs, **self.fixed_inputs}.items()}
        return self.workflow(**{**given, **kwargs})

    def definition(self) -> dict[str, Any]:
        """The JSON that identifies this launch plan's behaviour; its hash is the launch plan version."""
        trig = trigger_definition(self.trigger, self.bindings) if self.trigger is not None else None
        out = {"name": self.name, "workflow": self.workflow.name, "trigger": trig,
               "fixed_inputs": self.fixed_inputs, "default_inputs": self.default_inputs}
        if self.schedule is not None:  # only when set: launch plans without one keep their versions
            out["schedule"] = self.schedule.definition()
        if self.notifications:
            out["notifications"] = [n.definition() for n in self.notifications]
        return out

    @property
    def version(self) -> str:
        blob = json.dumps(self.definition(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def __repr__(self) -> str:
        return f"LaunchPlan({self.name!r}, {self.workflow.short_name})"
