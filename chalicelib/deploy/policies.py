"""One IAM policy per Lambda function: exact actions on exact resources of one stage.

chalice deploys each function with its own role (`autogen_policy: false`, one `iam_policy_file` each), so a
function holds only what its code calls. Where an ARN ends in `*` it is scoped to this stage's names
(objects under one prefix, a table or its stream, state machines named `<app>-<stage>-...`).
When code starts calling a new AWS action, add it here; `tests/unit/test_policies.py` checks the shape.
"""

from __future__ import annotations

from typing import Any

from chalicelib.deploy.errors import DeployError
from chalicelib.deploy.arns import StageArns
from chalicelib.naming import API, SCHEDULE, TASK_RUNNER, TRIGGER, UPLOAD, task_runner_functions

VERSION = "2012-10-17"


def _statement(sid: str, actions: list[str], resources: list[str],
               condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def _list(stage: StageArns, sid: str, *prefixes: str) -> dict[str, Any]:
    """ListObjectsV2 on the bucket, only under `prefixes` (the request's Prefix must start with one). Holding
    s3:ListBucket is also what makes S3 answer 404, not 403, for a missing key under them."""
    return _statement(sid, ["s3:ListBucket"], [stage.bucket_arn],
                      {"StringLike": {"s3:prefix": [f"{p}/*" for p in prefixes]}})


def _logs(stage: StageArns, function: str) -> dict[str, Any]:
    group = stage.log_group_arn(function)
    return _statement("Logs", ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                      [group, f"{group}:*"])


def _objects(stage: StageArns, *prefixes: str) -> list[str]:
    return [f"{stage.bucket_arn}/{p}/*" for p in prefixes]


def _table(stage: StageArns, table: str) -> list[str]:
    return [stage.table_arn(table)]


def _task_runner(stage: StageArns, function: str = TASK_RUNNER) -> list[dict[str, Any]]:
    """Every task runner (one per memory size, chalicelib.naming.TASK_RUNNER_SIZES) runs the same code."""
    out = stage.outputs
    return [
        # artifact data and values passed between tasks (runtime/runner.py, store/artifacts.py); files and
        # directories (store/files.py, sdk/files.py) are uploaded and copied in parts when large, and a failed
        # multipart upload is aborted
        _statement("ReadWriteData", ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                   _objects(stage, "artifacts", "runs")),
        # FlyteDirectory listing and copying (ListObjectsV2), and "does it exist" checks (HeadObject → 404)
        _list(stage, "ListData", "artifacts", "runs"),
        # one item per version, written in one transaction (its items need PutItem) with its index items and
        # lineage edge (store/artifacts.py); queries read the index
        _statement("ArtifactVersions", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
                   _table(stage, out.artifacts_table)),
        _statement("QueryIndex", ["dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:Query"],
                   _table(stage, out.index_table)),
        # task logs per execution, and lineage edges (store/lineage.py); the registered workflow modules the
        # runner may import (GetItem; a refusal lists them with a Query: runtime/loader.py, store/declarations.py);
        # the task cache's entries and cache_serialize reservations, given back with a conditional DeleteItem
        # (store/cache.py)
        _statement("TaskLogsAndLineage", ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem",
                                          "dynamodb:PutItem", "dynamodb:Query"], _table(stage, out.registry_table)),
        # a @dynamic task registers the state machine of the graph it built (runtime/dynamic.py), run by the
        # stage's Step Functions role
        _statement("DynamicWorkflows", ["states:CreateStateMachine"], [stage.state_machines_arn]),
        _statement("PassStatesRole", ["iam:PassRole"], [out.states_role_arn]),
        _logs(stage, function),
    ]


def _trigger(stage: StageArns) -> list[dict[str, Any]]:
    out = stage.outputs
    return [
        # the event-source mapping polls with the function's role
        _statement("ReadArtifactStream",
                   ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams"],
                   [f"{stage.table_arn(out.artifacts_table)}/stream/*"]),
        # subscriptions (Query) and start claims (store/claims.py): a conditional PutItem, its part items past one
        # item (BatchWriteItem), a GetItem where a service returns no ALL_OLD item
        _statement("Registry", ["dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
                   _table(stage, out.registry_table)),
        # aligned triggers look up the other members' versions (trigger/align.py)
        _statement("QueryIndex", ["dynamodb:Query"], _table(stage, out.index_table)),
        _statement("StartLaunchPlans", ["states:StartExecution"], [stage.state_machines_arn]),
        # the mapping's on-failure destination is sent with the function's role too
        _statement("DeadLetters", ["sqs:SendMessage"], [out.trigger_dlq_arn]),
        _logs(stage, TRIGGER),
    ]


def _upload(stage: StageArns) -> list[dict[str, Any]]:
    """uploads/handler.py and the store calls on its path, each grant for a call it makes."""
    out = stage.outputs
    return [
        # the uploaded object is read as the event names it: by VersionId (a versioned bucket, so
        # s3:GetObjectVersion) or by ETag (s3:GetObject); the managed copy into quarantine reads it the same way
        _statement("ReadUploads", ["s3:GetObject", "s3:GetObjectVersion"], _objects(stage, "uploads")),
        # the version's data object: one conditional PutObject (store/artifacts.py)
        _statement("WriteArtifacts", ["s3:PutObject"], _objects(stage, "artifacts")),
        # the managed copy of a rejected upload: CopyObject, or a multipart copy (aborted when it fails) past 8 MB
        _statement("Quarantine", ["s3:AbortMultipartUpload", "s3:PutObject"], _objects(stage, "quarantine")),
        # the version's item in one transaction (PutItem); the existing item on a repeated write (GetItem)
        _statement("ArtifactVersions", ["dynamodb:GetItem", "dynamodb:PutItem"], _table(stage, out.artifacts_table)),
        # declarations (GetItem), upload claims, states and quarantine records (PutItem, GetItem)
        _statement("Registry", ["dynamodb:GetItem", "dynamodb:PutItem"], _table(stage, out.registry_table)),
        # index items: in the version's transaction, or in batches first when they do not fit one
        _statement("QueryIndex", ["dynamodb:BatchWriteItem", "dynamodb:PutItem"], _table(stage, out.index_table)),
        # Lambda sends the on-failure record of an asynchronous invocation with the function's role
        _statement("DeadLetters", ["sqs:SendMessage"], [out.upload_dlq_arn]),
        _logs(stage, UPLOAD),
    ]


def _schedule(stage: StageArns) -> list[dict[str, Any]]:
    """schedule/handler.py: one tick of a scheduled launch plan."""
    out = stage.outputs
    return [
        # the launch plan's schedule, one consistent GetItem per tick (store/schedules.py)
        _statement("ReadSchedules", ["dynamodb:GetItem"], _table(stage, out.registry_table)),
        _statement("StartLaunchPlans", ["states:StartExecution"], [stage.state_machines_arn]),
        _logs(stage, SCHEDULE),
    ]


def _api(stage: StageArns) -> list[dict[str, Any]]:
    """The lineage page and its JSON API (chalicelib/observe.py): read-only."""
    out = stage.outputs
    return [
        _statement("ReadMetadata", ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
                   _table(stage, out.artifacts_table) + _table(stage, out.registry_table)
                   + _table(stage, out.index_table)),
        # ListStateMachines has no resource-level permission: AWS only accepts "*" for it
        _statement("ListWorkflows", ["states:ListStateMachines"], ["*"]),
        _statement("ReadExecutions", ["states:DescribeExecution", "states:ListExecutions"],
                   [stage.state_machines_arn, stage.arn("states", f"execution:{stage.prefix}*:*")]),
        _statement("ReadTaskLogs", ["logs:FilterLogEvents"],
                   [f"{stage.log_group_arn(fn)}:*" for fn in task_runner_functions()]),
        _logs(stage, API),
    ]


POLICIES = {TASK_RUNNER: _task_runner, TRIGGER: _trigger, UPLOAD: _upload, SCHEDULE: _schedule, API: _api}
POLICIES.update({fn: (lambda stage, fn=fn: _task_runner(stage, fn)) for fn in task_runner_functions()[1:]})
# Actions AWS cannot scope to a resource: the only ones allowed on "*".
UNSCOPABLE = {"states:ListStateMachines"}


def policy_for(function: str, stage: StageArns) -> dict[str, Any]:
    try:
        statements = POLICIES[function](stage)
    except KeyError:
        raise DeployError(
            f"function {function!r} in app.py has no IAM policy; add its grants to POLICIES in "
            f"chalicelib/deploy/policies.py (known: {', '.join(sorted(POLICIES))})"
        ) from None
    return {"Version": VERSION, "Statement": statements}
