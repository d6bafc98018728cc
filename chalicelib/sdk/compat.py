"""flytekit keywords and constructs: what each one means here, decided in one place.

Every keyword flytekit's `@task` takes is accepted or refused *at definition* with a DefinitionError that says
why and what to do instead; none is silently dropped. Keywords that have no effect on AWS Lambda are accepted
and reported as warnings when the task is registered (see `task_warnings`). Constructs that need a runtime
we do not have (`@eager`, reference entities, ...) are importable, and raise a DefinitionError when
used, so a ported file fails at import with a message instead of an AttributeError.
"""

from __future__ import annotations

from typing import Any, Callable, NoReturn

from chalicelib.errors import DefinitionError
from chalicelib.sdk.options import check_task_options
from chalicelib.sdk.control import conditional
from chalicelib.sdk.dynamic import dynamic
from chalicelib.sdk.gates import approve, sleep, wait_for_input
from chalicelib.sdk.mapping import map_task
from chalicelib.sdk.task import task as _task

LAUNCH_PLAN_NO_EFFECT = {
    "labels": "not attached to executions",
    "annotations": "not attached to executions",
    "raw_output_data_config": "outputs go to the stage's bucket",
    "max_parallelism": "independent tasks all run at once (a Parallel state)",
    "security_context": "executions run with the stage's IAM roles",
    "auth_role": "executions run with the stage's IAM roles",
    "overwrite_cache": "nothing is cached",
    "auto_activate": "a launch plan with a trigger is active when registered",
    "concurrency": "every triggered run starts",
}
LAUNCH_PLAN_REFUSED = {
    "schedule": "schedules are not supported yet: trigger the launch plan from an artifact, or start the "
                "workflow from an EventBridge schedule",
    "notifications": "notifications are not supported: subscribe to Step Functions execution events in "
                     "EventBridge instead",
}


def check_launch_plan_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    kept = {}
    for key, value in options.items():
        if value is None:
            continue
        if key in LAUNCH_PLAN_REFUSED:
            raise DefinitionError(f"launch plan {name!r}: {key}= is not supported: {LAUNCH_PLAN_REFUSED[key]}")
        if key not in LAUNCH_PLAN_NO_EFFECT:
            known = ["default_inputs", "fixed_inputs", "trigger", *LAUNCH_PLAN_NO_EFFECT]
            raise DefinitionError(f"launch plan {name!r}: unknown keyword {key}=; LaunchPlan accepts {', '.join(known)}")
        kept[key] = value
    return kept


def launch_plan_warnings(name: str, options: dict[str, Any]) -> list[str]:
    return [f"launch plan {name!r}: {k}= has no effect here: {LAUNCH_PLAN_NO_EFFECT[k]}" for k in options
            if k in LAUNCH_PLAN_NO_EFFECT and k != "auto_activate"]


# -- constructs that need a runtime we do not have --------------------------------------------------------
UNSUPPORTED = {
    "eager": "@eager workflows are not supported: an eager body awaits task results in Python while it runs, "
             "which a state machine cannot do; use @dynamic (its body is traced when it runs, with its inputs' "
             "values) or conditional(...) to branch on a task's result",
    "reference_task": "reference tasks are not supported: import the task's module instead",
    "reference_launch_plan": "reference launch plans are not supported: trigger the other workflow from an artifact",
    "reference_workflow": "reference workflows are not supported: import the workflow's module instead",
    "ContainerTask": "ContainerTask is not supported: tasks are Python functions run in Lambda",
    "ShellTask": "ShellTask is not supported: run the command with subprocess inside a @task",
    "StructuredDataset": "StructuredDataset is not supported: use pandas.DataFrame (stored as parquet)",
    "CronSchedule": "schedules are not supported yet: trigger the launch plan from an artifact, or start the "
                    "workflow from an EventBridge schedule",
    "FixedRate": "schedules are not supported yet: trigger the launch plan from an artifact, or start the "
                 "workflow from an EventBridge schedule",
    "Email": "notifications are not supported: subscribe to Step Functions execution events in EventBridge",
    "Slack": "notifications are not supported: subscribe to Step Functions execution events in EventBridge",
    "PagerDuty": "notifications are not supported: subscribe to Step Functions execution events in EventBridge",
}


def _refuse(name: str) -> Callable[..., NoReturn]:
    def refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
        raise DefinitionError(UNSUPPORTED[name])

    refuse.__name__ = refuse.__qualname__ = name
    refuse.__doc__ = UNSUPPORTED[name]
    return refuse


class _RefusedClass:
    """Importable, so that a ported file fails where the construct is used, with the reason."""

    _name = ""

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        raise DefinitionError(UNSUPPORTED[self._name])

    def __class_getitem__(cls, _item: Any) -> type:
        return cls


def _refused_class(name: str) -> type:
    return type(name, (_RefusedClass,), {"_name": name, "__doc__": UNSUPPORTED[name]})


eager = _refuse("eager")
reference_task = _refuse("reference_task")
reference_launch_plan = _refuse("reference_launch_plan")
reference_workflow = _refuse("reference_workflow")
ContainerTask = _refused_class("ContainerTask")
ShellTask = _refused_class("ShellTask")
StructuredDataset = _refused_class("StructuredDataset")
CronSchedule = _refused_class("CronSchedule")
FixedRate = _refused_class("FixedRate")
Email = _refused_class("Email")
Slack = _refused_class("Slack")
PagerDuty = _refused_class("PagerDuty")


class Labels(dict):
    """flytekit.models.common.Labels: accepted on launch plans, with no effect (registration says so)."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        super().__init__(values or {})


class Annotations(Labels):
    """flytekit.models.common.Annotations: accepted on launch plans, with no effect (registration says so)."""


class ActorEnvironment:
    """Union's actors, supported differently: `@actor.task` is a plain task. Lambda keeps a warm container per
    concurrent invocation and reuses it, so module-level state (a loaded model) is reused much as on an actor;
    `replica_count` and `ttl_seconds` have no effect. The environment's image and keywords apply to its tasks."""

    def __init__(self, name: str, container_image: Any = None, replica_count: int = 1, ttl_seconds: int | None = None,
                 **task_options: Any) -> None:
        self.name, self.container_image = name, container_image
        self.replica_count, self.ttl_seconds = replica_count, ttl_seconds
        check_task_options(f"actor {name}", task_options)
        self.task_options = task_options

    def task(self, _fn: Callable[..., Any] | None = None, **options: Any) -> Any:
        decorate = _task(container_image=self.container_image, **{**self.task_options, **options})
        return decorate if _fn is None else decorate(_fn)


class Deck:
    """flytekit's Deck, supported differently: decks are not rendered. Each one prints a line in the task's
    logs saying so (name and size), so a ported task keeps working and nothing is dropped without notice."""

    def __init__(self, name: str, html: str | None = "", auto_add_to_deck: bool = True) -> None:
        self.name = name
        self.html = html or ""
        print(f"[deck {name!r} not rendered: {len(self.html)} characters of HTML]")

    def append(self, html: str) -> Deck:
        self.html += html
        print(f"[deck {self.name!r} not rendered: {len(html)} more characters of HTML]")
        return self



# -- @workflow keywords -----------------------------------------------------------------------------------
WORKFLOW_NO_EFFECT = {
    "failure_policy": "a failed task fails the execution at once; tasks already running in parallel finish",
    "interruptible": "Lambda invocations are not preemptible",
    "docs": "kept in the code only",
    "pickle_untyped": "untyped values travel as JSON",
    "default_options": "executions run with the stage's settings",
}
WORKFLOW_REFUSED = {
    "on_failure": "failure handlers are not supported: subscribe to Step Functions execution events "
                  "(EventBridge) to react to a failed execution",
}


def check_workflow_options(options: dict[str, Any]) -> None:
    for key, value in options.items():
        if key in WORKFLOW_REFUSED and value is not None:
            raise DefinitionError(f"@workflow({key}=...) is not supported: {WORKFLOW_REFUSED[key]}")
        if key not in WORKFLOW_NO_EFFECT and key not in WORKFLOW_REFUSED:
            raise DefinitionError(
                f"@workflow: unknown keyword {key}=; it accepts {', '.join([*WORKFLOW_NO_EFFECT, *WORKFLOW_REFUSED])}"
            )
