"""Every AWS call a Lambda function makes on the local cloud is granted by that function's IAM policy.

moto does not enforce IAM, so a missing grant would only show on AWS. Here each call our handlers make is
recorded (at botocore's client, attributed to the function whose invocation made it) while every example in
examples/ and every runnable flow in tests/integration/flows/ runs, with uploads (registered, repeated and
quarantined). Each call becomes the IAM actions AWS checks for it, on the resource it names (an object key, a
bucket with the listed prefix, a table or index, a state machine, a queue); each must be allowed by a statement
of the policy `make deploy` gives that function (its actions, resource patterns and `s3:prefix` conditions).
In the other direction, `on_upload` holds nothing it never calls: each grant is seen here, or is listed in
FAILURE_PATHS with the call that needs it.
"""

from __future__ import annotations

import fnmatch
import json
import threading
from datetime import datetime, timezone
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from botocore.client import BaseClient

from chalicelib import aws
from chalicelib.deploy.arns import StageArns
from chalicelib.deploy.policies import policy_for
from chalicelib.errors import DefinitionError, InputError
from chalicelib.naming import APP_NAME, UPLOAD, StackOutputs
from chalicelib.ops import launch
from chalicelib.sdk.artifact import ArtifactQuery
from chalicelib.runtime import loader
from tests.conftest import EXAMPLES, SEED
from tests.integration.conftest import FLOWS, register

# Inputs for workflows that have required ones and are not started by a trigger of their own file.
INPUTS: dict[str, dict[str, str]] = {
    "flyte_launch_plans.ingest": {"site": "north", "at": "2026-11-24T10:00:00Z"},
    "flyte_types.types_wf": {"when": "2026-11-24T10:00:00Z"},
    "reactive_chain.ingest_orders": {"day": "2026-11-24T00:00:00"},
    "uploads.price_check": {"prices": '{"items": []}'},
    "reg_plans.emit": {"source": "s", "n": "1"},
    "reg_plans_v2.emit": {"source": "s", "n": "2"},
    "sem_activation.emit": {"source": "s", "n": "1"},
    "sem_aligned.produce_both": {"region": "emea", "day": "2026-11-24", "units": "3", "temp": "20"},
    "sem_aligned.produce_sales": {"region": "apac", "day": "2026-11-25", "units": "3"},
    "sem_aligned.produce_weather": {"day": "2026-11-25", "temp": "21"},
    "sem_aligned.produce_stock": {"store": "s1", "level": "4"},
    "sem_aligned.produce_orders": {"store": "s1", "day": "2026-11-24", "count": "2"},
    "remote_chain.remote_start": {"n": "2"},
    "sem_bindings.produce_targets": {"region": "emea", "target": "10"},
    "sem_bindings.produce_sales": {"region": "emea", "kind": "daily", "day": "2026-11-24", "units": "5"},
    "sem_cycle_filtered.ingest": {"value": "1"},
    "sem_queries.produce_month": {"region": "live", "when": "2026-10-05T00:00:00Z", "value": "1"},
    "sem_queries.produce_hour": {"when": "2026-11-24T10:00:00Z"},
    "sem_replay.record": {"sensor": "t1", "value": "1"},
    "store_union_artifacts.workflow_c": {"current_datetime": "2026-11-24T10:00:00Z"},
    "store_union_artifacts.workflow_d": {"current_datetime": "2026-11-24T10:00:00Z"},
    "flyte_structured.publish_people": {"region": "emea", "day": "2026-11-24T00:00:00Z"},
    "run_option_names.named_like_options": {"stage": "s"},
    "cat_frames.cat_wf": {"region": "emea", "day": "2026-11-24T00:00:00Z"},
    "cache_tasks.plain_wf": {"x": "3", "note": "n"},
    "cache_tasks.bumped_version_wf": {"x": "3"},
    "cache_tasks.publish_wf": {"x": "3"},
    "cache_tasks.frame_wf": {"n": "3", "salt": "s"},
    "cache_tasks.serialized_wf": {"x": "3"},
    "cache_tasks.body_wf": {"x": "2"},
    "cache_tasks.sized_wf": {"x": "1"},
    "cache_tasks.hashed_output_wf": {"n": "2", "salt": "s"},
    "ctl_flows.inner": {"x": "1"},
    "ctl_flows.middle": {"x": "2"},
}
# Started once every wave has settled: versions whose triggers read an earlier version.
# (So are workflows whose inputs default to a query.)
LATER = [("sem_queries.produce_month", {"region": "live", "when": "2026-11-24T00:00:00Z", "value": "2"}),
         ("store_files.announce", {}),
         ("flyte_structured.read_people", {"region": "emea", "day": "2026-11-24T15:00:00Z"})]
# Workflows that never start here, and why (their trigger's artifact is made only by hand in their tests, or the
# file's registration is refused on purpose).
NOT_RUN = {
    "reg_artifact_changed.on_changed": "its artifact is written by hand in test_registration",
    "reg_late.late_wf": "its artifact is written by hand in test_registration",
    "reg_other.on_event_other": "its artifact is written by hand in test_registration",
    "sem_activation_v2.on_event_b": "a re-registration in test_semantics_activation",
    "sem_cycle_direct.loop_wf": "registration refuses the cycle",
    "sem_cycle_part2.wf_y_to_x": "registration refuses the cycle it closes with sem_cycle_part1",
    "sem_cycle_part1.wf_x_to_y": "its artifact is never made: the other half of the refused cycle",
    "uploads.summarize_sales": None,  # started by the upload below
    "ctl_flows.gated": "waits for signals; test_control_flow answers its gates",
    "flyte_control_flow.reviewed": "waits for signals (see the example's docstring)",
}
REFUSED = {"reg_dup_artifact.py": "an artifact declared twice", "sem_cycle_direct.py": "a trigger cycle",
           "sem_cycle_part2.py": "a trigger cycle",
           "reg_artifact_changed.py": "changes the declaration of reg_events that the other reg_ flows share"}
LAST = ["reg_artifact_changed.py"]  # registered after the files whose declaration it changes
# Grants of on_upload that the runs here cannot reach, with the call that needs each.
FAILURE_PATHS = {
    UPLOAD: {
        "ReadUploads:s3:GetObjectVersion": "a versioned bucket (AWS) names the upload's VersionId; the local one is not",
        "Quarantine:s3:AbortMultipartUpload": "the managed copy of a rejected upload over 8 MB aborts a failed multipart copy",
        "ArtifactVersions:dynamodb:GetItem": "a repeated write of a version reads the stored item (store/artifacts.py)",
        "QueryIndex:dynamodb:BatchWriteItem": "a version with more index items than a transaction holds (store/index.py)",
        "DeadLetters:sqs:SendMessage": "Lambda's on-failure destination, sent with the function's role after retries",
        "Logs:logs:CreateLogGroup": "Lambda's own logging", "Logs:logs:CreateLogStream": "Lambda's own logging",
        "Logs:logs:PutLogEvents": "Lambda's own logging",
    },
}


@dataclass(frozen=True)
class Need:
    action: str
    resource: str
    prefix: str | None = None  # s3:prefix of a ListBucket request

    def __str__(self) -> str:
        return f"{self.action} on {self.resource}" + (f" (prefix {self.prefix!r})" if self.prefix is not None else "")


def _s3(bucket: str, key: str | None = None) -> str:
    return f"arn:aws:s3:::{bucket}" + (f"/{key}" if key is not None else "")


def needs(stage: StageArns, service: str, operation: str, params: dict[str, Any]) -> list[Need]:
    """What IAM checks for one call: actions on resources (the AWS documentation of each operation)."""
    if service == "s3":
        bucket, key = params.get("Bucket", ""), params.get("Key")
        read = "s3:GetObjectVersion" if params.get("VersionId") else "s3:GetObject"
        if operation in ("ListObjectsV2", "ListObjects"):
            return [Need("s3:ListBucket", _s3(bucket), params.get("Prefix", ""))]
        if operation in ("GetObject", "HeadObject"):
            return [Need(read, _s3(bucket, key))]
        if operation in ("CopyObject", "UploadPartCopy"):
            src = params["CopySource"]
            src = src if isinstance(src, dict) else dict(zip(("Bucket", "Key"), src.split("?")[0].split("/", 1)))
            src_read = "s3:GetObjectVersion" if src.get("VersionId") else "s3:GetObject"
            return [Need(src_read, _s3(src["Bucket"], src["Key"])), Need("s3:PutObject", _s3(bucket, key))]
        if operation in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
            return [Need("s3:PutObject", _s3(bucket, key))]
        if operation == "DeleteObjects":
            return [Need("s3:DeleteObject", _s3(bucket, o["Key"])) for o in params["Delete"]["Objects"]]
        if operation == "ListObjectVersions":
            return [Need("s3:ListBucketVersions", _s3(bucket), params.get("Prefix", ""))]
        return [Need(f"s3:{operation}", _s3(bucket, key))]
    if service == "dynamodb":
        def table(name: str, index: str | None = None) -> str:
            return stage.table_arn(name) + (f"/index/{index}" if index else "")

        if operation == "TransactWriteItems":  # IAM checks each item of the transaction as its own action
            kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
            return [Need(f"dynamodb:{kinds[kind]}", table(body["TableName"]))
                    for item in params["TransactItems"] for kind, body in item.items()]
        if operation in ("BatchWriteItem", "BatchGetItem"):
            return [Need(f"dynamodb:{operation}", table(name)) for name in params["RequestItems"]]
        if "TableName" in params:
            return [Need(f"dynamodb:{operation}", table(params["TableName"], params.get("IndexName")))]
        return [Need(f"dynamodb:{operation}", params.get("StreamArn", "*"))]
    if service == "states":
        if operation == "CreateStateMachine":  # a @dynamic graph's state machine, run by the stage's role
            arn = stage.state_machines_arn.rsplit(":", 1)[0] + ":" + params["name"]
            return [Need("states:CreateStateMachine", arn), Need("iam:PassRole", params["roleArn"])]
        arn = params.get("stateMachineArn") or params.get("executionArn") or "*"
        return [Need(f"states:{operation}", arn)]
    if service == "sqs":
        url = params.get("QueueUrl", "")
        account, name = url.rstrip("/").split("/")[-2:] if url else ("", "")
        return [Need(f"sqs:{operation}", f"arn:aws:sqs:{stage.region}:{account}:{name}")]
    return [Need(f"{service}:{operation}", "*")]


def _matches(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)  # IAM globs: * and ?, across "/"


def allowed(doc: dict[str, Any], need: Need) -> bool:
    for s in doc["Statement"]:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        if s["Effect"] != "Allow" or need.action not in actions:
            continue
        if not any(_matches(r, need.resource) for r in resources):
            continue
        condition = s.get("Condition") or {}
        assert set(condition) <= {"StringLike"} and all(set(c) == {"s3:prefix"} for c in condition.values()), s
        patterns = condition.get("StringLike", {}).get("s3:prefix")
        if patterns is not None and (need.prefix is None or not any(_matches(p, need.prefix) for p in patterns)):
            continue
        return True
    return False


def flow_files() -> list[Path]:
    files = [SEED, *sorted(EXAMPLES.glob("*.py")), *sorted(FLOWS.glob("*.py"))]
    return sorted(files, key=lambda p: p.name in LAST)


def waves(files: list[Path]) -> list[list[tuple[Path, Any]]]:
    """Files grouped so that no wave registers one module, workflow or launch plan name twice."""
    out: list[tuple[set[str], list[tuple[Path, Any]]]] = []
    for path in files:
        try:
            defs = loader.load_paths([path])
        except DefinitionError:
            assert path.name in REFUSED, path
            continue
        names = set(defs.files) | set(defs.launch_plans) | {w for w in defs.workflows}
        if path.name in LAST:
            out.append((names, [(path, defs)]))
            continue
        for taken, members in out:
            if not names & taken:
                taken |= names
                members.append((path, defs))
                break
        else:
            out.append((names, [(path, defs)]))
    return [members for _, members in out]


def test_every_call_is_granted_and_on_upload_holds_only_what_it_calls(cloud, clients, tmp_path):
    stage = StageArns.from_outputs(APP_NAME, cloud.stage, cloud.settings.region,
                                   StackOutputs.from_outputs(cloud.outputs))
    calls: dict[str, set[Need]] = defaultdict(set)
    current = threading.local()
    invoke = cloud._invoke

    def attributed(function_name, handler, timeout, event):
        previous = getattr(current, "function", None)
        current.function = function_name.removeprefix(cloud.settings.prefix)
        try:
            return invoke(function_name, handler, timeout, event)
        finally:
            current.function = previous

    make_call = BaseClient._make_api_call
    submit = ThreadPoolExecutor.submit

    def submit_attributed(executor, fn, /, *args, **kwargs):  # s3transfer (upload_file, copy) calls from its pool
        function = getattr(current, "function", None)

        def run(*a, **kw):
            previous = getattr(current, "function", None)
            current.function = function
            try:
                return fn(*a, **kw)
            finally:
                current.function = previous
        return submit(executor, run, *args, **kwargs)

    def recorded(client, operation, params):
        function = getattr(current, "function", None)
        if function:
            calls[function].update(needs(stage, client.meta.service_model.signing_name, operation, params))
        return make_call(client, operation, params)

    sfn = aws.client("stepfunctions", cloud.settings.region)
    orders = tmp_path / "orders.csv"
    orders.write_text("id,amount\n1,3\n2,4\n")
    inputs = {**INPUTS, "flyte_files.total_wf": {"orders": str(orders)}}  # a local file, uploaded when started
    expected: set[str] = set()
    workflows: dict[str, Any] = {}
    later: list[tuple[str, dict[str, str]]] = []
    refused: dict[str, str] = {}
    with mock.patch.object(cloud, "_invoke", attributed), mock.patch.object(BaseClient, "_make_api_call", recorded), \
            mock.patch.object(ThreadPoolExecutor, "submit", submit_attributed):
        for wave in waves(flow_files()):
            for path, defs in wave:
                try:
                    register(cloud, defs)
                except DefinitionError as exc:  # a trigger cycle, or a declaration clashing with one registered
                    refused[path.name] = type(exc).__name__
                    continue
                expected |= {w for w in defs.workflows if w not in NOT_RUN}
                workflows.update(defs.workflows)
                for name, wf in defs.workflows.items():
                    given = inputs.get(name)
                    if given is None and any(not i.has_default for i in wf.inputs):
                        continue  # started by a trigger
                    if any(isinstance(i.default, ArtifactQuery) for i in wf.inputs if i.has_default):
                        later.append((name, given or {}))
                    elif name not in {n for n, _ in LATER}:
                        launch.start_workflow(sfn, cloud.settings, wf, launch.inputs_for(wf, None, given or {}))
                for lp in defs.launch_plans.values():  # launch plans with fixed inputs, started by hand
                    if lp.trigger is None and lp.fixed_inputs:
                        try:
                            given_lp = launch.inputs_for(lp.workflow, lp, {})
                        except InputError:  # needs inputs at start (a schedule gives them)
                            continue
                        launch.start_workflow(sfn, cloud.settings, lp.workflow, given_lp, launch_plan=lp.name)
            for schedule in cloud.clock.schedules():  # one tick of each scheduled launch plan, through on_schedule
                cloud.clock.deliver(schedule, datetime(2026, 11, 24, 10, tzinfo=timezone.utc))
            cloud.wait_quiet(120)
        for name, given in [*LATER, *later]:
            launch.start_workflow(sfn, cloud.settings, workflows[name], launch.inputs_for(workflows[name], None, given))
        cloud.wait_quiet(120)
        bucket = cloud.settings.bucket
        for key, body in [("uploads/price_list/prices.json", b'{"items": [1, 2]}'),
                          ("uploads/raw_sales/region=emea/time_partition=2026-11-24/sales.csv", b"sku,units\na,3\n"),
                          ("uploads/store_dropped/region=emea/time_partition=2026-11-24/d.csv", b"sku,units\na,3\n"),
                          ("uploads/sales_report/region=emea/report.csv", b"sku,units\na,3\n"),  # quarantined
                          ("uploads/raw_sales/region=emea/sales.csv", b"sku,units\na,3\n")]:  # quarantined
            clients["s3"].put_object(Bucket=bucket, Key=key, Body=body)
        cloud.wait_quiet(60)
        clients["s3"].put_object(Bucket=bucket, Key="uploads/price_list/prices.json", Body=b'{"items": [1, 2]}')
        cloud.wait_quiet(60)

    ran = set()
    for page in sfn.get_paginator("list_state_machines").paginate():
        for sm in page["stateMachines"]:
            if sfn.list_executions(stateMachineArn=sm["stateMachineArn"])["executions"]:
                ran.add(json.loads(sfn.describe_state_machine(stateMachineArn=sm["stateMachineArn"])["definition"])
                        ["Comment"].removeprefix("workflow "))
    assert sorted(refused) == sorted(set(REFUSED) - {"reg_dup_artifact.py"}), refused
    assert sorted(expected - ran) == [], f"workflows that never ran: add their inputs to INPUTS: {sorted(expected - ran)}"
    assert {"task_runner", "on_artifact_event", "on_upload", "on_schedule"} <= set(calls), sorted(calls)
    listed = {n.prefix.split("/")[0] for n in calls["task_runner"] if n.action == "s3:ListBucket"}
    assert listed == {"artifacts", "runs"}, listed  # FlyteDirectory versions and directories between tasks

    missing = {fn: sorted(str(n) for n in needed if not allowed(policy_for(fn, stage), n))
               for fn, needed in calls.items()}
    assert {fn: m for fn, m in missing.items() if m} == {}, "calls made but not granted"

    unused = []
    for statement in policy_for(UPLOAD, stage)["Statement"]:
        for action in statement["Action"]:
            alone = {"Statement": [{**statement, "Action": [action]}]}
            grant = f"{statement['Sid']}:{action}"
            if not any(allowed(alone, n) for n in calls[UPLOAD]) and grant not in FAILURE_PATHS[UPLOAD]:
                unused.append(grant)
    assert unused == [], "on_upload holds grants it never uses"
