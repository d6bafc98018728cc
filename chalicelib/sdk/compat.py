"""flytekit keywords and constructs: what each one means here, decided in one place.

Every keyword flytekit's `@task` takes is accepted or refused *at definition* with a DefinitionError that says
why and what to do instead; none is silently dropped. Keywords that have no effect on AWS Lambda are accepted
and reported as warnings when the task is registered (see `task_warnings`). Constructs that need a runtime
we do not have (`map_task`, `@dynamic`, `conditional`, ...) are importable, and raise a DefinitionError when
used, so a ported file fails at import with a message instead of an AttributeError.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, NoReturn

from chalicelib.errors import DefinitionError

LAMBDA_MAX_SECONDS = 900
DEFAULT_RUNNER_MEMORY_MB = 1024


@dataclass(frozen=True)
class Resources:
    """flytekit's Resources. Tasks run in the task-runner Lambda, whose memory (and so CPU) is set for the
    function in .chalice/config.json (`lambda_memory_size`); registration warns when a task asks for more."""

    cpu: Any = None
    mem: Any = None
    gpu: Any = None
    ephemeral_storage: Any = None


@dataclass(frozen=True)
class Secret:
    """flytekit's Secret: read inside the task with `current_context().secrets.get(group, key)`, from the
    task runner's environment variable GROUP_KEY (see chalicelib.sdk.context.secret_env_name)."""

    group: str | None = None
    key: str | None = None
    group_version: str | None = None
    mount_requirement: Any = None
    env_var: str | None = None


# -- @task keywords -------------------------------------------------------------------------------------
TASK_HONOURED = {
    "retries": "the task's own errors are retried by its Step Functions state (1 s, then doubling); a retried "
               "task writes the same artifact version",
    "timeout": "the Step Functions state's TimeoutSeconds (at most Lambda's 900 s)",
    "secret_requests": "read from the task runner's environment, see current_context().secrets",
}
TASK_NO_EFFECT = {
    "cache": "not cached: every run executes the task",
    "cache_version": "not cached: every run executes the task",
    "cache_serialize": "not cached: every run executes the task",
    "cache_ignore_input_vars": "not cached: every run executes the task",
    "requests": "Lambda sizes CPU by memory: set lambda_memory_size for the task runner in .chalice/config.json",
    "limits": "Lambda sizes CPU by memory: set lambda_memory_size for the task runner in .chalice/config.json",
    "resources": "Lambda sizes CPU by memory: set lambda_memory_size for the task runner in .chalice/config.json",
    "environment": "not applied: set environment variables for the task runner in .chalice/config.json",
    "interruptible": "Lambda invocations are not preemptible",
    "deprecated": "no deprecation notice is shown",
    "docs": "kept in the code only",
    "enable_deck": "decks are not rendered",
    "deck_fields": "decks are not rendered",
    "labels": "not attached to anything",
    "annotations": "not attached to anything",
    "pod_template": "there are no pods: tasks run in Lambda",
    "pod_template_name": "there are no pods: tasks run in Lambda",
    "accelerator": "Lambda has no accelerators",
    "shared_memory": "there are no pods: tasks run in Lambda",
    "node_dependency_hints": "dynamic workflows are not supported",
    "task_resolver": "tasks are found by module and name",
    "pickle_untyped": "untyped values travel as JSON",
    "execution_mode": "tasks always run in the task runner",
    "container_image": "see the ImageSpec check at registration",
}
TASK_REFUSED = {
    "task_config": "task plugins (Spark, Ray, Dask, Pytorch, ...) need their own cluster; run that work elsewhere "
                   "and publish its result as an artifact (e.g. by S3 upload)",
}


def _seconds(value: Any) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise DefinitionError(f"timeout must be seconds or a timedelta; got {value!r}")


def check_task_options(task: str, options: dict[str, Any]) -> None:
    """Refuse, at definition, what cannot work; everything else is kept in TaskDef.options."""
    for key, value in options.items():
        if key in TASK_REFUSED:
            raise DefinitionError(f"task {task!r}: {key}= is not supported: {TASK_REFUSED[key]}")
        if key not in TASK_HONOURED and key not in TASK_NO_EFFECT:
            known = sorted([*TASK_HONOURED, *TASK_NO_EFFECT])
            raise DefinitionError(f"task {task!r}: unknown keyword {key}=; @task accepts {', '.join(known)}")
    retries = options.get("retries")
    if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int) or retries < 0):
        raise DefinitionError(f"task {task!r}: retries must be a whole number >= 0; got {retries!r}")
    if options.get("timeout") is not None:
        seconds = _seconds(options["timeout"])
        if not 0 < seconds <= LAMBDA_MAX_SECONDS:
            raise DefinitionError(
                f"task {task!r}: timeout {seconds:.0f} s is outside what Lambda can run (1 to {LAMBDA_MAX_SECONDS} s); "
                f"split the work into several tasks"
            )
    for key in ("requests", "limits", "resources"):
        if options.get(key) is not None and not isinstance(options[key], Resources):
            raise DefinitionError(f"task {task!r}: {key}= takes Resources(cpu=..., mem=...); got {options[key]!r}")
    secrets = options.get("secret_requests") or []
    if not isinstance(secrets, (list, tuple)) or not all(isinstance(s, Secret) for s in secrets):
        raise DefinitionError(f"task {task!r}: secret_requests= takes a list of Secret(group=..., key=...)")


def task_retry(options: dict[str, Any]) -> list[dict[str, Any]]:
    """The extra Retry entry for `retries=N` (States.TaskFailed matches the task's own errors)."""
    retries = options.get("retries") or 0
    if not retries:
        return []
    return [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": retries, "BackoffRate": 2.0}]


def task_timeout(options: dict[str, Any]) -> int | None:
    if options.get("timeout") is None:
        return None
    return int(_seconds(options["timeout"]))


def _memory_mb(mem: Any) -> float | None:
    if mem is None:
        return None
    text = str(mem).strip()
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024 * 1024, "K": 1 / 1000, "M": 1, "G": 1000, "T": 10**6}
    for suffix, factor in sorted(units.items(), key=lambda kv: -len(kv[0])):
        if text.endswith(suffix):
            try:
                return float(text[: -len(suffix)]) * factor
            except ValueError:
                return None
    try:
        return float(text) / (1024 * 1024)
    except ValueError:
        return None


def task_warnings(task: str, options: dict[str, Any], runner_memory_mb: int = DEFAULT_RUNNER_MEMORY_MB) -> list[str]:
    """What registration tells the user about a task's flytekit keywords that have no effect here."""
    out = []
    sizes = ("requests", "limits", "resources", "container_image")
    ignored = [k for k in options if k in TASK_NO_EFFECT and k not in sizes and options[k] not in (None, False)]
    for key in ignored:
        out.append(f"task {task!r}: {key}= has no effect here: {TASK_NO_EFFECT[key]}")
    for key in sizes[:3]:
        res = options.get(key)
        if isinstance(res, Resources):
            mem = _memory_mb(res.mem)
            if mem is not None and mem > runner_memory_mb:
                out.append(f"task {task!r}: {key} asks for {res.mem} of memory; the task runner has "
                           f"{runner_memory_mb} MB. Raise lambda_memory_size in .chalice/config.json (up to 10240)")
            if res.cpu not in (None, 0, "0"):
                out.append(f"task {task!r}: {key} asks for cpu={res.cpu}; Lambda gives CPU in proportion to memory "
                           f"(one vCPU per 1769 MB): size lambda_memory_size in .chalice/config.json")
            if res.gpu not in (None, 0, "0"):
                out.append(f"task {task!r}: {key} asks for gpu={res.gpu}; Lambda has no GPU, the task runs on CPU")
    for secret in options.get("secret_requests") or []:
        from chalicelib.sdk.context import secret_env_name

        out.append(f"task {task!r}: secret group={secret.group!r} key={secret.key!r} is read from the environment "
                   f"variable {secret_env_name(secret.group, secret.key)} of the task runner")
    return out


# -- LaunchPlan keywords ----------------------------------------------------------------------------------
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
    "map_task": "map_task is not supported: loop inside one task, or call the task once per item in the "
                "workflow body over a fixed list (independent calls run in parallel)",
    "dynamic": "@dynamic workflows are not supported: a workflow's shape is fixed when it is defined; loop inside a "
               "task, or call tasks over a fixed list in the workflow body",
    "eager": "@eager workflows are not supported: a workflow's shape is fixed when it is defined",
    "conditional": "conditional() is not supported: branch inside a task (return the chosen result)",
    "reference_task": "reference tasks are not supported: import the task's module instead",
    "reference_launch_plan": "reference launch plans are not supported: trigger the other workflow from an artifact",
    "reference_workflow": "reference workflows are not supported: import the workflow's module instead",
    "approve": "approve() gate nodes are not supported",
    "sleep": "sleep() gate nodes are not supported",
    "wait_for_input": "wait_for_input() gate nodes are not supported",
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


map_task = _refuse("map_task")
dynamic = _refuse("dynamic")
eager = _refuse("eager")
conditional = _refuse("conditional")
reference_task = _refuse("reference_task")
reference_launch_plan = _refuse("reference_launch_plan")
reference_workflow = _refuse("reference_workflow")
approve = _refuse("approve")
sleep = _refuse("sleep")
wait_for_input = _refuse("wait_for_input")
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
        from chalicelib.sdk.task import task

        decorate = task(container_image=self.container_image, **{**self.task_options, **options})
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
