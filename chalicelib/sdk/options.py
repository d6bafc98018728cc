"""What `@task(...)` keywords mean on Lambda: honoured, accepted with no effect, or refused at definition."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

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

    class MountType(enum.Enum):
        """flytekit's Secret.MountType: every secret is read from the environment here, whatever is asked."""

        ANY = 0
        ENV_VAR = 1
        FILE = 2


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
