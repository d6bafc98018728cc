"""Every name of a stage's resources, and the one rule for the region.

    app                 cascade
    resource prefix     cascade-<stage>-            (chalice names functions `<app>-<stage>-<function>`)
    functions           cascade-<stage>-task_runner, -on_artifact_event, -on_upload, -on_schedule; the web API is
                        cascade-<stage>
    sized task runners  cascade-<stage>-task_runner_<MB> for the larger TASK_RUNNER_SIZES (task_runner is the first)
    schedules           group cascade-<stage>-schedules, one schedule per scheduled launch plan (schedule_name);
                        EventBridge Scheduler assumes the role cascade-<stage>-scheduler to invoke on_schedule
    notifications       per launch plan with notifications: SNS topic and EventBridge rule cascade-<stage>-notify-<lp>
    infra stack         cascade-<stage>-infra       (infra/template.yaml: bucket, tables, queue, roles)
    state machines      cascade-<stage>-<module>-<workflow>
    Glue / Athena       database cascade_<stage>; per DataFrame artifact the table <name>__versions and the view
                        <name> (lowercase, other characters than [a-z0-9_] as `_`: catalog_name)
    bucket, tables      outputs of the infra stack (StackOutputs), read into Settings (`Settings.from_outputs`)

The region rule is chalicelib.config.region.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, ClassVar

from msgspec import Struct

from chalicelib.errors import StageConfigError

APP_NAME = "cascade"
TASK_RUNNER = "task_runner"
TRIGGER = "on_artifact_event"
UPLOAD = "on_upload"
SCHEDULE = "on_schedule"
# The task runner's memory sizes (MB): `task_runner` has the first, `task_runner_<MB>` each other one; a task
# runs in the smallest that fits its requests (chalicelib.sdk.options.runner_memory).
TASK_RUNNER_SIZES = (1769, 3008, 5120, 10240)
# chalice's REST API function (the lineage page and /api): named `<app>-<stage>`, without a suffix
API = "api_handler"
# The task runner's alias (the stack publishes a version per code change and points it there): Task states
# that call it run the code they were registered with until the next deploy moves the alias.
TASK_RUNNER_ALIAS = "live"


def task_runner_function(memory_mb: int) -> str:
    """The task-runner function (without the stage prefix) of one of TASK_RUNNER_SIZES."""
    return TASK_RUNNER if memory_mb <= TASK_RUNNER_SIZES[0] else f"{TASK_RUNNER}_{memory_mb}"


def task_runner_functions() -> list[str]:
    return [task_runner_function(mb) for mb in TASK_RUNNER_SIZES]


def is_task_runner(function_name: str) -> bool:
    """Is this (prefixed) function name one of the task runners?"""
    short = function_name.rsplit("-", 1)[-1]
    return short in task_runner_functions()


def sized_task_runner_arn(runner_arn: str, memory_mb: int) -> str:
    """The ARN of the sized task runner, from the default one's (`...:function:<prefix>task_runner`, or with the
    alias qualifier `...task_runner:live`, which every size has)."""
    suffix = task_runner_function(memory_mb)[len(TASK_RUNNER):]
    base, sep, qualifier = runner_arn.partition(f"{TASK_RUNNER}:")
    return f"{base}{TASK_RUNNER}{suffix}:{qualifier}" if sep else runner_arn + suffix


def prefix(stage: str, app_name: str = APP_NAME) -> str:
    return f"{app_name}-{stage}-"


def function_name(stage: str, function: str, app_name: str = APP_NAME) -> str:
    return prefix(stage, app_name).rstrip("-") if function == API else f"{prefix(stage, app_name)}{function}"


def stack_name(stage: str, app_name: str = APP_NAME) -> str:
    return f"{prefix(stage, app_name)}infra"


def tasks_layer_name(stage: str, app_name: str = APP_NAME) -> str:
    return f"{prefix(stage, app_name)}tasks"


def catalog_name(name: str) -> str:
    """A name as Glue and Athena accept it: lowercase, and `_` for any character other than [a-z0-9_]."""
    return re.sub(r"[^a-z0-9_]", "_", name.lower())


def glue_database(stage: str, app_name: str = APP_NAME) -> str:
    """The stage's Glue database (one per stage; destroy deletes it with its tables)."""
    return catalog_name(f"{app_name}_{stage}")


def schedule_group_name(prefix: str) -> str:
    return f"{prefix}schedules"


def scheduler_role_name(prefix: str) -> str:
    return f"{prefix}scheduler"


def _bounded(text: str, limit: int, allowed: str) -> str:
    """`text` with characters outside `allowed` replaced by '-', cut to `limit` with a hash when it changed."""
    clean = re.sub(f"[^{allowed}]", "-", text)
    if len(clean) > limit or clean != text:
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        clean = f"{clean[:limit - 9]}-{digest}"
    return clean


def schedule_name(launch_plan: str) -> str:
    """The EventBridge Scheduler schedule of a launch plan, in the stage's group (≤ 64 of [0-9A-Za-z_.-])."""
    return _bounded(launch_plan, 64, "0-9A-Za-z_.-")


def notification_name(launch_plan: str, prefix: str = "") -> str:
    """The SNS topic (≤ 256 of [A-Za-z0-9_-]) and the EventBridge rule (≤ 64 of [A-Za-z0-9_.-]) of a launch
    plan's notifications: the same name for both."""
    return _bounded(f"{prefix}notify-{launch_plan}", 64, "A-Za-z0-9_-")


def state_machine_name(workflow_name: str, prefix: str = "") -> str:
    """A valid, stable state machine name (≤ 80 chars of [A-Za-z0-9_-]) for a workflow."""
    clean = re.sub(r"[^A-Za-z0-9_-]", "-", f"{prefix}{workflow_name}")
    if len(clean) > 80 or clean != f"{prefix}{workflow_name}".replace(".", "-"):
        digest = hashlib.sha256(workflow_name.encode()).hexdigest()[:8]
        clean = f"{clean[:71]}-{digest}"
    return clean


def names_workflow(machine: str, workflow: str) -> bool:
    """Does a state machine name (without the stage prefix) belong to `workflow` (short or full name)?"""
    clean = workflow.replace(".", "-")
    return machine == clean or machine.endswith("-" + clean)


class StackOutputs(Struct, frozen=True, kw_only=True):
    """The infra stack's Outputs that the stage's code reads (`from_outputs`; other outputs are ignored)."""

    # the output each field is read from
    KEYS: ClassVar[dict[str, str]] = {
        "bucket": "BucketName", "artifacts_table": "ArtifactsTable", "artifacts_stream_arn": "ArtifactsStreamArn",
        "registry_table": "RegistryTable", "index_table": "IndexTable", "states_role_arn": "StatesRoleArn",
        "trigger_dlq_arn": "TriggerDlqArn", "trigger_dlq_url": "TriggerDlqUrl", "upload_dlq_arn": "UploadDlqArn",
        "upload_dlq_url": "UploadDlqUrl",
    }

    bucket: str
    artifacts_table: str
    artifacts_stream_arn: str
    registry_table: str
    index_table: str
    states_role_arn: str
    trigger_dlq_arn: str
    trigger_dlq_url: str
    upload_dlq_arn: str
    upload_dlq_url: str

    def __post_init__(self) -> None:
        for name, key in self.KEYS.items():
            if not isinstance(getattr(self, name), str):
                raise StageConfigError(f"stack output {key} must be text; got {getattr(self, name)!r}: deploy the "
                                       f"infra stack again (`python -m chalicelib deploy --stage STAGE`)")

    @classmethod
    def from_outputs(cls, outputs: dict[str, Any]) -> StackOutputs:
        """From the stack's outputs by key (`{"BucketName": ..., ...}`); field names are accepted too."""
        lacking = [key for name, key in cls.KEYS.items() if key not in outputs and name not in outputs]
        if lacking:
            raise StageConfigError(f"the infra stack has no output {', '.join(lacking)}; deploy the infra stack "
                                   f"again (`python -m chalicelib deploy --stage STAGE`)")
        return cls(**{name: outputs[key] if key in outputs else outputs[name] for name, key in cls.KEYS.items()})

    @classmethod
    def missing(cls, outputs: dict[str, Any]) -> list[str]:
        return [key for key in cls.KEYS.values() if key not in outputs]
