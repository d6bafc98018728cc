"""The deploy sequence for one stage, and its teardown. Every step is idempotent and safe to re-run after a
failure half-way: each one first reads what exists, then changes only what differs.

deploy:   infra stack → tasks layer → stage config → `chalice deploy` → stream mapping → upload destination
          → registration
destroy:  state machines → `chalice delete` → tasks layer → data (bucket, tables) → infra stack
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel

from chalicelib import aws, naming
from chalicelib.config import region as region_rule
from chalicelib.aws import error_code
from chalicelib.deploy import layer, stack
from chalicelib.deploy.appinfo import AppInfo, app_info
from chalicelib.deploy.chalice_cli import deployed_resources, run_chalice
from chalicelib.deploy.errors import DeployError
from chalicelib.deploy.arns import StageArns
from chalicelib.naming import APP_NAME, TASK_RUNNER, TRIGGER, UPLOAD
from chalicelib.deploy.stage_config import write_stage_config
from chalicelib.deploy.wiring import wire_stream_mapping, wire_upload_destination

STAGE_NAME = re.compile(r"[a-z0-9-]{1,20}")
CONNECTION_TIMEOUT = 300  # seconds; uploading a function zip over a slow link outlasts botocore's default 60


class Step(BaseModel):
    name: str
    action: str  # what happened: "unchanged", "created", "updated", ...
    detail: list[str] = []


class Deployment:
    """One stage of the project in `project`, in one region."""

    def __init__(self, project: Path, stage: str, region: str | None = None,
                 echo: Callable[[str], None] = print) -> None:
        if not STAGE_NAME.fullmatch(stage):
            raise DeployError(f"stage {stage!r} must be 1-20 characters of a-z, 0-9 and '-' (it names AWS resources "
                              f"and must match infra/template.yaml's Stage pattern)")
        self.project = project.resolve()
        self.stage = stage
        self.region = region_rule(region)
        self.echo = echo
        self.stack_name = naming.stack_name(stage)

    def client(self, service: str) -> Any:
        return aws.client(service, self.region)

    def _chalice(self, args: list[str]) -> None:
        env = {**os.environ, "AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region}
        run_chalice(args, self.project, echo=self.echo, env=env)

    def info(self) -> StageArns:
        outputs = stack.read_outputs(self.client("cloudformation"), self.stack_name)
        return StageArns.from_outputs(APP_NAME, self.stage, self.region, outputs)

    # -- deploy steps ---------------------------------------------------------------------------------
    def infra(self) -> tuple[StageArns, Step]:
        template = (self.project / stack.TEMPLATE).read_text()
        result = stack.deploy_stack(self.client("cloudformation"), self.stack_name, template,
                                    {"Stage": self.stage, "AppName": APP_NAME})
        info = StageArns.from_outputs(APP_NAME, self.stage, self.region, result.outputs)
        return info, Step(name="infra", action=result.action, detail=[f"stack {result.name}"])

    def tasks_layer(self, info: StageArns) -> tuple[str, Step]:
        built = layer.build(self.project)
        published = layer.publish(self.client("lambda"), self.client("s3"), info.tasks_layer_name, built,
                                  info.outputs.bucket)
        detail = [published.arn, f"{built.zipped_bytes / 2**20:.1f} MiB zipped, "
                                 f"{built.unzipped_bytes / 2**20:.1f} MiB unzipped"]
        return published.arn, Step(name="tasks layer", action=published.action, detail=detail)

    def stage_config(self, info: StageArns, app: AppInfo, layer_arn: str) -> Step:
        changed = write_stage_config(self.project, info, app.functions, layer_arn)
        return Step(name="stage config", action="updated" if changed else "unchanged", detail=changed)

    def chalice_deploy(self, connection_timeout: int) -> Step:
        self._chalice(["deploy", "--stage", self.stage, "--connection-timeout", str(connection_timeout)])
        return Step(name="chalice deploy", action="deployed",
                    detail=["chalice uploads the function code on every deploy; unchanged code keeps its sha256"])

    def wire(self, info: StageArns) -> Step:
        recorded = next((r.get("event_uuid") for r in deployed_resources(self.project, self.stage)
                         if r.get("resource_type") == "dynamodb_event"), None)
        result = wire_stream_mapping(self.client("lambda"), info.function_name(TRIGGER),
                                     info.outputs.artifacts_stream_arn, info.outputs.trigger_dlq_arn, recorded)
        detail = [f"mapping {result.uuid}"] + [f"set {k}" for k in result.changed] + \
                 [f"deleted duplicate mapping {u}" for u in result.removed]
        return Step(name="stream mapping", action="updated" if result.changed or result.removed else "unchanged",
                    detail=detail)

    def upload_destination(self, info: StageArns, app: AppInfo) -> Step:
        """The upload function's EventInvokeConfig: bounded retries, then the upload dead-letter queue."""
        if UPLOAD not in app.functions:
            return Step(name="upload destination", action="absent", detail=[f"app.py declares no {UPLOAD}"])
        dlq = info.outputs.upload_dlq_arn
        result = wire_upload_destination(self.client("lambda"), info.function_name(UPLOAD), dlq)
        return Step(name="upload destination", action="updated" if result.changed else "unchanged",
                    detail=[f"{result.function} on failure → {dlq}"] + [f"set {k}" for k in result.changed])

    def register(self, info: StageArns, paths: list[Path]) -> Step:
        from chalicelib.deploy.registration import register_paths

        registered = register_paths(info, paths, self.client("lambda"), self.client("stepfunctions"),
                                    self.client("dynamodb"))
        detail = registered.changed or [f"{len(registered.state_machines)} state machine(s) already current"]
        detail += [f"launch plan {lp}" for lp in registered.launch_plans]
        return Step(name="register", action="updated" if registered.changed else "unchanged", detail=detail)

    def deploy(self, workflows: list[Path], connection_timeout: int = CONNECTION_TIMEOUT) -> list[Step]:
        app = app_info(self.project)
        if app.app_name != APP_NAME:
            raise DeployError(f"app.py names the app {app.app_name!r}; the infra and stage config use {APP_NAME!r}")
        steps = []

        def done(step: Step) -> None:
            steps.append(step)
            self.echo(f"== {step.name}: {step.action}" + "".join(f"\n   {d}" for d in step.detail))

        info, step = self.infra()
        done(step)
        layer_arn, step = self.tasks_layer(info)
        done(step)
        done(self.stage_config(info, app, layer_arn))
        done(self.chalice_deploy(connection_timeout))
        done(self.wire(info))
        done(self.upload_destination(info, app))
        done(self.register(info, workflows))
        return steps

    # -- teardown -------------------------------------------------------------------------------------
    def destroy(self, keep_data: bool = False) -> list[Step]:
        cfn = self.client("cloudformation")
        try:
            info: StageArns | None = self.info()
        except stack.StackError:
            info = None
        steps = [self._delete_schedules(), self._delete_state_machines(), self._chalice_delete(), self._delete_layer()]
        if info is not None and not keep_data:
            steps.append(self._delete_data(info))
        elif info is not None:
            out = info.outputs
            steps.append(Step(name="data", action="kept",
                              detail=[f"bucket {out.bucket}", f"tables {out.artifacts_table}, {out.registry_table}, {out.index_table}"]))
        existed = stack.delete_stack(cfn, self.stack_name)
        steps.append(Step(name="infra", action="deleted" if existed else "absent", detail=[f"stack {self.stack_name}"]))
        for step in steps:
            self.echo(f"== {step.name}: {step.action}" + "".join(f"\n   {d}" for d in step.detail))
        return steps

    def _delete_schedules(self) -> Step:
        """Schedules first (no tick starts an execution meanwhile), and notification rules and topics."""
        from chalicelib.ops.notify import remove_all
        from chalicelib.ops.schedule import delete_group

        prefix = naming.prefix(self.stage)
        deleted = delete_group(self.client("scheduler"), prefix)
        deleted += remove_all(self.client("events"), self.client("sns"), prefix)
        return Step(name="schedules and notifications", action="deleted" if deleted else "absent", detail=deleted)

    def _delete_state_machines(self) -> Step:
        sfn = self.client("stepfunctions")
        prefix = naming.prefix(self.stage)
        runner = f":function:{prefix}{TASK_RUNNER}"
        deleted = []
        for page in sfn.get_paginator("list_state_machines").paginate():
            for sm in page["stateMachines"]:
                if not sm["name"].startswith(prefix):
                    continue
                definition = json.loads(sfn.describe_state_machine(stateMachineArn=sm["stateMachineArn"])["definition"])
                if invokes(definition, runner):  # another stage's name may share the prefix (dev, dev-2)
                    sfn.delete_state_machine(stateMachineArn=sm["stateMachineArn"])
                    deleted.append(sm["name"])
        return Step(name="state machines", action="deleted" if deleted else "absent", detail=deleted)

    def _chalice_delete(self) -> Step:
        if not deployed_resources(self.project, self.stage):
            return Step(name="chalice delete", action="absent", detail=["nothing recorded in .chalice/deployed/"])
        self._chalice(["delete", "--stage", self.stage])
        return Step(name="chalice delete", action="deleted")

    def _delete_layer(self) -> Step:
        name = naming.tasks_layer_name(self.stage)
        count = layer.delete_all(self.client("lambda"), name)
        return Step(name="tasks layer", action="deleted" if count else "absent", detail=[f"{count} version(s) of {name}"])

    def _delete_data(self, info: StageArns) -> Step:
        out = info.outputs
        s3, ddb = self.client("s3"), self.client("dynamodb")
        detail = []
        try:
            removed = 0
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=out.bucket):
                objects = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                           for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
                for i in range(0, len(objects), 1000):
                    s3.delete_objects(Bucket=out.bucket, Delete={"Objects": objects[i:i + 1000], "Quiet": True})
                removed += len(objects)
            s3.delete_bucket(Bucket=out.bucket)
            detail.append(f"bucket {out.bucket} ({removed} object version(s))")
        except Exception as exc:
            if error_code(exc) != "NoSuchBucket":
                raise
        for table in (out.artifacts_table, out.registry_table, out.index_table):
            try:
                ddb.delete_table(TableName=table)
            except Exception as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise
                continue
            ddb.get_waiter("table_not_exists").wait(TableName=table, WaiterConfig={"Delay": 2, "MaxAttempts": 150})
            detail.append(f"table {table}")
        return Step(name="data", action="deleted" if detail else "absent", detail=detail)


def invokes(definition: Any, function_suffix: str) -> bool:
    """Whether any state in an ASL definition (branches included) invokes a function whose ARN ends so."""
    if isinstance(definition, dict):
        for key, value in definition.items():
            if key in ("Resource", "FunctionName") and isinstance(value, str) and value.endswith(function_suffix):
                return True
            if invokes(value, function_suffix):
                return True
    elif isinstance(definition, list):
        return any(invokes(v, function_suffix) for v in definition)
    return False
