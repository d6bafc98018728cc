"""What `@task(...)` keywords mean on Lambda: honoured, accepted with no effect, or refused at definition."""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Any

from msgspec import Struct

from chalicelib.errors import DefinitionError

LAMBDA_MAX_SECONDS = 900
DEFAULT_RUNNER_MEMORY_MB = 1024


class Resources(Struct, frozen=True):
    """flytekit's Resources. A task runs in the task-runner function whose memory fits what it asks for (see
    `runner_memory`); a tuple `(request, limit)` sets both, as in flytekit's `@task(resources=...)`."""

    cpu: Any = None
    mem: Any = None
    gpu: Any = None
    ephemeral_storage: Any = None

    def __post_init__(self) -> None:
        kinds = {"cpu": (str, int, float), "mem": (str, int), "gpu": (str, int), "ephemeral_storage": (str, int)}
        for name, types in kinds.items():
            value = getattr(self, name)
            if value is None:
                continue
            several = isinstance(value, (list, tuple))
            values = list(value) if several else [value]
            if several and len(values) != 2:
                raise DefinitionError(f"Resources({name}={value!r}): a pair is (request, limit), of two values")
            for v in values:
                if isinstance(v, bool) or not isinstance(v, types):
                    example = "'2'" if name in ("cpu", "gpu") else "'4Gi'"
                    raise DefinitionError(f"Resources({name}={value!r}): give a number or a string such as {example}")

    def split(self) -> tuple[Resources, Resources]:
        """(requests, limits) of a `resources=` value: a pair gives both, a single value is the request."""
        req: dict[str, Any] = {}
        lim: dict[str, Any] = {}
        for name in ("cpu", "mem", "gpu", "ephemeral_storage"):
            value = getattr(self, name)
            if isinstance(value, (list, tuple)):
                req[name], lim[name] = value
            elif value is not None:
                req[name] = value
        return Resources(**req), Resources(**lim)


class Secret(Struct, frozen=True):
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
    "cache": "a hit returns the stored outputs without running the task (chalicelib.runtime.cache)",
    "cache_version": "part of the cache key",
    "cache_serialize": "identical executions wait for the one computing, then reuse its result",
    "cache_ignore_input_vars": "left out of the cache key",
    "requests": "the task runs in the task-runner function whose memory fits (1769, 3008, 5120 or 10240 MB)",
    "limits": "the task runs in the task-runner function whose memory fits (1769, 3008, 5120 or 10240 MB)",
    "resources": "the task runs in the task-runner function whose memory fits (1769, 3008, 5120 or 10240 MB)",
}
TASK_NO_EFFECT = {
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
# Lambda's limits: memory 128 to 10,240 MB (CPU in proportion, one vCPU per 1,769 MB, six at most),
# /tmp 512 to 10,240 MB, 900 s per invocation, no GPU.
LAMBDA_MAX_MEMORY_MB = 10240
MB_PER_VCPU = 1769
LAMBDA_MAX_VCPU = 6
LAMBDA_MAX_EPHEMERAL_MB = 10240
LAMBDA_DEFAULT_EPHEMERAL_MB = 512
RESOURCE_KEYS = ("requests", "limits", "resources")


def _seconds(value: Any, where: str = "timeout") -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise DefinitionError(f"{where} must be seconds or a timedelta; got {value!r}")


def _check_timeout(task: str, value: Any) -> None:
    seconds = _seconds(value, f"task {task!r}: timeout")
    if not 0 < seconds <= LAMBDA_MAX_SECONDS:
        raise DefinitionError(
            f"task {task!r}: timeout {seconds:.0f} s is outside what Lambda can run (1 to {LAMBDA_MAX_SECONDS} s); "
            f"split the work into several tasks"
        )


def check_task_options(task: str, options: dict[str, Any]) -> None:
    """Refuse, at definition, what cannot work; everything else is kept in TaskDef.options."""
    from chalicelib.sdk.cache import check_cache_options

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
        _check_timeout(task, options["timeout"])
    for key in RESOURCE_KEYS:
        if options.get(key) is not None and not isinstance(options[key], Resources):
            raise DefinitionError(f"task {task!r}: {key}= takes Resources(cpu=..., mem=...); got {options[key]!r}")
    if options.get("resources") is not None and (options.get("requests") or options.get("limits")):
        raise DefinitionError(f"task {task!r}: resources= cannot be combined with requests= or limits=; "
                              f"give resources=Resources(mem=(request, limit)) alone")
    runner_memory(task, options)  # a size no Lambda has is refused here, at definition
    check_cache_options(task, options)
    secrets = options.get("secret_requests") or []
    if not isinstance(secrets, (list, tuple)) or not all(isinstance(s, Secret) for s in secrets):
        raise DefinitionError(f"task {task!r}: secret_requests= takes a list of Secret(group=..., key=...)")


# -- with_overrides --------------------------------------------------------------------------------------
OVERRIDES_HONOURED = ("name", "node_name", "timeout", "retries", "cache", "requests", "limits", "resources",
                      "container_image")
OVERRIDES_NO_EFFECT = ("aliases", "interruptible", "accelerator", "shared_memory", "pod_template", "task_config")


def check_overrides(task: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The overrides of one node (`result.with_overrides(...)` in a workflow body), checked as the task's own
    keywords are; returns those that matter here."""
    from chalicelib.sdk.cache import Cache

    kept: dict[str, Any] = {}
    for key, value in overrides.items():
        if key in ("cache_serialize", "cache_version", "cache_ignore_input_vars"):
            raise DefinitionError(f"task {task!r}: with_overrides({key}=...) is not supported; "
                                  f"give with_overrides(cache=Cache(version=..., serialize=...))")
        if key not in OVERRIDES_HONOURED and key not in OVERRIDES_NO_EFFECT:
            known = ", ".join([*OVERRIDES_HONOURED, *OVERRIDES_NO_EFFECT])
            raise DefinitionError(f"task {task!r}: with_overrides has no keyword {key}=; it accepts {known}")
        if value is None or key in OVERRIDES_NO_EFFECT:
            continue
        kept[key] = value
    if "cache" in kept and not isinstance(kept["cache"], (bool, Cache)):
        raise DefinitionError(f"task {task!r}: with_overrides(cache=...) takes True, False or Cache(version=...); "
                              f"got {kept['cache']!r}")
    if kept.get("cache") is True:
        raise DefinitionError(f"task {task!r}: with_overrides(cache=True) needs a version, as in flytekit; "
                              f"give with_overrides(cache=Cache(version='1'))")
    if isinstance(kept.get("cache"), Cache) and kept["cache"].version is None:
        raise DefinitionError(f"task {task!r}: with_overrides(cache=Cache(...)) needs a version, as in flytekit; "
                              f"give Cache(version='1')")
    for key in ("name", "node_name", "container_image"):
        if key in kept and not isinstance(kept[key], str):
            raise DefinitionError(f"task {task!r}: with_overrides({key}=...) takes a string; got {kept[key]!r}")
    check_task_options(task, {k: v for k, v in kept.items() if k in ("timeout", "retries", *RESOURCE_KEYS)})
    return kept


def node_options(node: Any) -> dict[str, Any]:
    """A node's effective task keywords: the task's own, then its `with_overrides(...)`."""
    options = dict(node.task.options)
    overrides = getattr(node, "overrides", None) or {}
    if any(k in overrides for k in RESOURCE_KEYS):
        for key in RESOURCE_KEYS:
            options.pop(key, None)
    options.update({k: v for k, v in overrides.items() if k in ("timeout", "retries", *RESOURCE_KEYS)})
    return options


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


# -- sizes --------------------------------------------------------------------------------------------------
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}


def quantity_bytes(value: Any, where: str) -> float:
    """A Kubernetes quantity of bytes ("4Gi", "500M", "1e9", 2048 = bytes), as flytekit passes it on."""
    text = str(value).strip()
    factor = 1
    for suffix, f in [*_BINARY.items(), *_DECIMAL.items()]:
        if text.endswith(suffix):
            text, factor = text[: -len(suffix)], f
            break
    try:
        number = float(text)
    except ValueError:
        raise DefinitionError(f"{where}: {value!r} is not a quantity of memory; write e.g. '4Gi' or '512Mi'") from None
    if number < 0:
        raise DefinitionError(f"{where}: {value!r} is negative")
    return number * factor


def quantity_cpu(value: Any, where: str) -> float:
    """CPUs: 2, 0.5, "500m"."""
    text = str(value).strip()
    try:
        number = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        raise DefinitionError(f"{where}: cpu={value!r} is not a number of CPUs; write e.g. 2 or '500m'") from None
    if number < 0:
        raise DefinitionError(f"{where}: cpu={value!r} is negative")
    return number


def _requests_and_limits(options: dict[str, Any]) -> list[tuple[str, Resources]]:
    out = []
    if isinstance(options.get("resources"), Resources):
        req, lim = options["resources"].split()
        out += [("resources", req), ("resources", lim)]
    for key in ("requests", "limits"):
        if isinstance(options.get(key), Resources):
            out.append((key, options[key]))
    return out


def runner_memory(task: str, options: dict[str, Any]) -> int:
    """The memory (MB) of the task-runner function a task with these keywords runs in: the smallest of
    naming.TASK_RUNNER_SIZES that holds its memory and CPU (one vCPU per 1,769 MB) requests and limits.
    A size no Lambda has (over 10,240 MB, over six vCPUs, any GPU, over 10,240 MB of /tmp) is a
    DefinitionError naming the task and the limit."""
    from chalicelib.naming import TASK_RUNNER_SIZES

    needed = 0.0
    for key, res in _requests_and_limits(options):
        where = f"task {task!r}: {key}"
        if res.mem is not None:
            mb = quantity_bytes(res.mem, where) / 2**20
            if mb > LAMBDA_MAX_MEMORY_MB:
                raise DefinitionError(f"{where} asks for mem={res.mem!r} ({mb:,.0f} MB); Lambda gives a function at "
                                      f"most {LAMBDA_MAX_MEMORY_MB:,} MB. Split the work or process it in chunks")
            needed = max(needed, mb)
        if res.cpu is not None:
            cpus = quantity_cpu(res.cpu, where)
            if cpus > LAMBDA_MAX_VCPU:
                raise DefinitionError(f"{where} asks for cpu={res.cpu!r}; Lambda gives a function at most "
                                      f"{LAMBDA_MAX_VCPU} vCPUs (at {LAMBDA_MAX_MEMORY_MB:,} MB)")
            needed = max(needed, cpus * MB_PER_VCPU)
        if res.gpu is not None and str(res.gpu).strip() not in ("0", ""):
            raise DefinitionError(f"{where} asks for gpu={res.gpu!r}; Lambda has no GPU. Run GPU work elsewhere and "
                                  f"publish its result as an artifact (e.g. by S3 upload)")
        if res.ephemeral_storage is not None:
            mb = quantity_bytes(res.ephemeral_storage, where) / 2**20
            if mb > LAMBDA_MAX_EPHEMERAL_MB:
                raise DefinitionError(f"{where} asks for ephemeral_storage={res.ephemeral_storage!r} ({mb:,.0f} MB); "
                                      f"Lambda's /tmp holds at most {LAMBDA_MAX_EPHEMERAL_MB:,} MB")
    for size in TASK_RUNNER_SIZES:
        if needed <= size:
            return size
    return TASK_RUNNER_SIZES[-1]  # unreachable: the largest size is Lambda's limit


def runner_resource(node: Any, runner_arn: str) -> str:
    """The Resource of a node's Task state: the task-runner function sized for it (`runner_arn` names the
    default-sized one; the sized ones share its name with the size appended, chalicelib.naming)."""
    from chalicelib.naming import sized_task_runner_arn

    return sized_task_runner_arn(runner_arn, runner_memory(node.task.short_name, node_options(node)))


def node_parameters(node: Any) -> dict[str, Any]:
    """Extra Parameters of a node's Task state: `cache` when the node is cached (chalicelib.runtime.cache)."""
    from chalicelib.sdk.cache import settings_for

    settings = settings_for(node.task, getattr(node, "overrides", None))
    return {"cache": settings.to_param()} if settings else {}


def task_warnings(task: str, options: dict[str, Any], runner_memory_mb: int = DEFAULT_RUNNER_MEMORY_MB) -> list[str]:
    """What registration tells the user about a task's flytekit keywords that have no effect here."""
    out = []
    ignored = [k for k in options if k in TASK_NO_EFFECT and k != "container_image" and options[k] not in (None, False)]
    for key in ignored:
        out.append(f"task {task!r}: {key}= has no effect here: {TASK_NO_EFFECT[key]}")
    for key, res in _requests_and_limits(options):
        if res.ephemeral_storage is not None:
            mb = quantity_bytes(res.ephemeral_storage, key) / 2**20
            if mb > LAMBDA_DEFAULT_EPHEMERAL_MB:
                out.append(f"task {task!r}: {key} asks for ephemeral_storage={res.ephemeral_storage!r}; the task "
                           f"runners have Lambda's default {LAMBDA_DEFAULT_EPHEMERAL_MB} MB of /tmp: raise it on the "
                           f"functions (EphemeralStorage) or stream the data through S3")
    for secret in options.get("secret_requests") or []:
        from chalicelib.sdk.context import secret_env_name

        out.append(f"task {task!r}: secret group={secret.group!r} key={secret.key!r} is read from the environment "
                   f"variable {secret_env_name(secret.group, secret.key)} of the task runner")
    return out


# -- LaunchPlan keywords ----------------------------------------------------------------------------------
