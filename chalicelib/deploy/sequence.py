"""Deploy one stage as one CloudFormation stack, and tear it down. All state is in AWS (the stack, its bucket):
any copy of the project deploys, updates or destroys the stage, and a deploy writes only under build/.

deploy:   build the template and packages (chalicelib/deploy/build.py) → a new stack is first created with
          only its bucket → upload the function zip and the two layer zips to it (content-addressed keys: an
          unchanged package is not uploaded again) → change set: create or update the stack, printing each
          resource it adds, modifies or removes (the workflows' state machines, schedules and notifications among
          them; when a table loses or gains more than one index, first one update per index, CloudFormation's
          rule: chalicelib/deploy/index_steps.py) → registration (launch plans, subscriptions, schedule specs)
destroy:  what the stack does not own (state machines `@dynamic` tasks created, registration's from before the
          stack held the workflows) → data (bucket emptied, tables) → the stack
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel

from chalicelib import aws, naming
from chalicelib.config import region as region_rule
from chalicelib.aws import error_code
from chalicelib.deploy import index_steps, layer, stack, workflow_stack
from chalicelib.deploy.appinfo import app_info
from chalicelib.deploy.build import Built, build_stage, load_infra
from chalicelib.deploy.errors import DeployError
from chalicelib.deploy.arns import StageArns
from chalicelib.deploy.template import bootstrap_template, dumps
from chalicelib.naming import APP_NAME, TASK_RUNNER

# CloudFormation stack names allow [A-Za-z0-9-], S3 bucket names lower case; the stage is in both (and in
# function names, which are capped at 64 characters).
STAGE_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?")


class Step(BaseModel):
    name: str
    action: str  # what happened: "unchanged", "created", "updated", "no changes", ...
    detail: list[str] = []


def check_stage(stage: str) -> str:
    if not STAGE_NAME.fullmatch(stage) or "--" in stage:
        raise DeployError(f"stage {stage!r} must be 1-20 characters of a-z, 0-9 and single '-', starting and "
                          f"ending with a letter or digit (it names the stack, the bucket and the functions), "
                          f"e.g. --stage dev")
    return stage


class Deployment:
    """One stage of the project in `project`, in one region."""

    def __init__(self, project: Path, stage: str, region: str | None = None,
                 echo: Callable[[str], None] = print) -> None:
        self.project = project.resolve()
        self.stage = check_stage(stage)
        self.region = region_rule(region)
        self.echo = echo
        self.stack_name = naming.stack_name(stage)

    def client(self, service: str) -> Any:
        return aws.client(service, self.region)

    def info(self) -> StageArns:
        outputs = stack.read_outputs(self.client("cloudformation"), self.stack_name)
        return StageArns.from_outputs(APP_NAME, self.stage, self.region, outputs)

    def _done(self, steps: list[Step], step: Step) -> None:
        steps.append(step)
        self.echo(f"== {step.name}: {step.action}" + "".join(f"\n   {d}" for d in step.detail))

    # -- deploy steps ---------------------------------------------------------------------------------
    def build(self, with_layer: bool = True) -> Built:
        app = app_info(self.project)
        if app.app_name != APP_NAME:
            raise DeployError(f"app.py names the app {app.app_name!r}; the stack and stage config use {APP_NAME!r}")
        return build_stage(self.project, self.stage, self.region, echo=None, with_layer=with_layer)

    def _change(self, name: str, template: str, parameters: dict[str, str], url: str | None = None) -> Step:
        result = stack.deploy_change_set(self.client("cloudformation"), self.stack_name, self.stage, template,
                                         parameters, template_url=url)
        detail = [f"stack {result.name}"] + [c.line() for c in result.changes]
        return Step(name=name, action=result.action, detail=detail)

    def bootstrap(self, built: Built) -> tuple[str, Step | None]:
        """A new stage's stack starts as infra/template.yaml alone (bucket, tables, queues, roles), so the packages
        can be uploaded to its bucket before the change set that adds the functions references them."""
        cfn = self.client("cloudformation")
        outputs = stack.stack_outputs(cfn, self.stack_name)
        if outputs and outputs.get("BucketName"):
            return outputs["BucketName"], None
        infra = bootstrap_template(load_infra(self.project))
        result = stack.create_stack(cfn, self.stack_name, dumps(infra), built.parameters)
        step = Step(name="stack (storage first)", action=result.action,
                    detail=[f"stack {result.name}"] + [c.line() for c in result.changes])
        return result.outputs["BucketName"], step

    def upload(self, bucket: str, built: Built) -> Step:
        s3 = self.client("s3")
        detail = []
        for path, key in built.uploads():  # the function zip, the functions layer, the tasks layer
            try:
                s3.head_object(Bucket=bucket, Key=key)
                continue
            except Exception as exc:
                if error_code(exc) not in ("404", "NoSuchKey", "NotFound"):
                    raise
            s3.upload_file(str(path), bucket, key)
            detail.append(f"s3://{bucket}/{key} ({path.stat().st_size / 2**20:.1f} MiB)")
        return Step(name="packages", action="uploaded" if detail else "unchanged", detail=detail)

    def template_url(self, bucket: str, body: str) -> str | None:
        """Templates over CloudFormation's TemplateBody limit go through the stage bucket."""
        if len(body.encode()) <= stack.TEMPLATE_BODY_LIMIT:
            return None
        import hashlib

        key = f"deploy/templates/{hashlib.sha256(body.encode()).hexdigest()}.json"
        s3 = self.client("s3")
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
        return f"https://{bucket}.s3.{self.region}.amazonaws.com/{key}"

    def register(self, info: StageArns, paths: list[Path]) -> Step:
        from chalicelib.deploy.registration import register_paths

        registered = register_paths(info, paths, self.client("lambda"), self.client("stepfunctions"),
                                    self.client("dynamodb"))
        held = f"held by stack {registered.owner}" if registered.owner else "already current"
        detail = registered.changed or [f"{len(registered.state_machines)} state machine(s) {held}"]
        detail += [f"launch plan {lp}" for lp in registered.launch_plans]
        return Step(name="register", action="updated" if registered.changed else "unchanged", detail=detail)

    def hand_over(self, built: Built) -> Step | None:
        """A stack from before it held the workflows: registration made their state machines, schedules and
        notifications. They go first (the stack makes them again, by the same names, from the same files)."""
        deployed = stack.deployed_template(self.client("cloudformation"), self.stack_name)
        if workflow_stack.owned(deployed).stack:
            return None
        deleted = self._delete_schedules().detail
        deleted += self._delete_state_machines(only=workflow_stack.owned(built.template).state_machines).detail
        if not deleted:
            return None
        return Step(name="registration-made workflows", action="deleted (the stack makes them now)", detail=deleted)

    def account(self) -> str:
        """Who deploys: fails first, in one line, without credentials (before minutes of building)."""
        return str(self.client("sts").get_caller_identity()["Account"])

    def deploy(self, workflows: list[Path]) -> list[Step]:
        steps: list[Step] = []
        account = self.account()
        self.echo(f"stage {self.stage}: account {account}, region {self.region}, stack {self.stack_name}")
        built = self.build()
        self._done(steps, Step(name="build", action="built", detail=[str(built.path.relative_to(self.project))]))
        bucket, step = self.bootstrap(built)
        if step is not None:
            self._done(steps, step)
        self._done(steps, self.upload(bucket, built))
        handed = self.hand_over(built)
        if handed is not None:
            self._done(steps, handed)
        deployed = stack.deployed_template(self.client("cloudformation"), self.stack_name)
        between = index_steps.intermediate_templates(deployed, built.template)
        for n, template in enumerate(between, 1):  # one index per table and update: CloudFormation's rule
            body = dumps(template)
            self._done(steps, self._change(f"stack (table indexes, step {n} of {len(between) + 1})", body,
                                           built.parameters, self.template_url(bucket, body)))
        body = dumps(built.template)
        self._done(steps, self._change("stack", body, built.parameters, self.template_url(bucket, body)))
        self._done(steps, self.register(self.info(), workflows))
        return steps

    # -- teardown -------------------------------------------------------------------------------------
    def destroy(self, keep_data: bool = False) -> list[Step]:
        cfn = self.client("cloudformation")
        outputs = stack.stack_outputs(cfn, self.stack_name)
        owned = workflow_stack.owned(stack.deployed_template(cfn, self.stack_name) if outputs is not None else {})
        steps: list[Step] = []
        self._done(steps, self._delete_schedules(owned))
        self._done(steps, self._delete_state_machines(skip=owned.state_machines))
        self._done(steps, self._delete_catalog())
        if outputs is not None and not keep_data:
            self._done(steps, self._delete_data(outputs))
        elif outputs is not None:
            kept = [f"bucket {outputs.get('BucketName')}"] + [
                f"table {outputs[k]}" for k in ("ArtifactsTable", "RegistryTable", "IndexTable") if k in outputs]
            self._done(steps, Step(name="data", action="kept", detail=kept))
        existed = stack.delete_stack(cfn, self.stack_name)
        self._done(steps, Step(name="stack", action="deleted" if existed else "absent",
                               detail=[f"stack {self.stack_name}"]))
        count = layer.delete_all(self.client("lambda"), naming.tasks_layer_name(self.stage))  # older deploys'
        if count:
            self._done(steps, Step(name="tasks layer", action="deleted", detail=[f"{count} version(s) left over"]))
        return steps

    def _delete_schedules(self, owned: workflow_stack.Owned | None = None) -> Step:
        """Schedules first (no tick starts an execution meanwhile), and notification rules and topics: those
        registration made (the stack deletes its own)."""
        from chalicelib.ops.notify import remove_all
        from chalicelib.ops.schedule import delete_group

        owned = owned or workflow_stack.Owned(stack=False)
        prefix = naming.prefix(self.stage)
        deleted = [] if owned.stack else delete_group(self.client("scheduler"), prefix)
        deleted += remove_all(self.client("events"), self.client("sns"), prefix, keep=owned.rules)
        return Step(name="schedules and notifications", action="deleted" if deleted else "absent", detail=deleted)

    def _delete_catalog(self) -> Step:
        """The stage's Glue database, with its tables and Athena views (chalicelib/ops/catalog.py)."""
        from chalicelib.ops.catalog import drop_database

        database = naming.glue_database(self.stage)
        deleted = drop_database(self.client("glue"), database)
        return Step(name="Athena tables", action="deleted" if deleted else "absent", detail=[f"Glue database {database}"])

    def _delete_state_machines(self, skip: set[str] = frozenset(), only: set[str] | None = None) -> Step:
        """The stage's state machines the stack does not own (`skip`): those `@dynamic` tasks created at run time,
        and those registration made for a stack from before it held them (`only`: just these names)."""
        sfn = self.client("stepfunctions")
        prefix = naming.prefix(self.stage)
        runner = f":function:{prefix}{TASK_RUNNER}"
        deleted, arns = [], []
        for page in sfn.get_paginator("list_state_machines").paginate():
            for sm in page["stateMachines"]:
                if not sm["name"].startswith(prefix) or sm["name"] in skip or (only is not None and sm["name"] not in only):
                    continue
                definition = json.loads(sfn.describe_state_machine(stateMachineArn=sm["stateMachineArn"])["definition"])
                if invokes(definition, runner):  # another stage's name may share the prefix (dev, dev-2)
                    sfn.delete_state_machine(stateMachineArn=sm["stateMachineArn"])
                    deleted.append(sm["name"])
                    arns.append(sm["stateMachineArn"])
        if only is not None:  # the stack creates them again by name: Step Functions deletes asynchronously
            for arn in arns:
                _wait_deleted(sfn, arn)
        return Step(name="state machines", action="deleted" if deleted else "absent", detail=deleted)

    def _delete_data(self, outputs: dict[str, str]) -> Step:
        """The bucket (emptied first: every version) and the tables, which the stack retains."""
        s3, ddb = self.client("s3"), self.client("dynamodb")
        detail = []
        bucket = outputs.get("BucketName")
        try:
            removed = 0
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                objects = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                           for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
                for i in range(0, len(objects), 1000):
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": objects[i:i + 1000], "Quiet": True})
                removed += len(objects)
            s3.delete_bucket(Bucket=bucket)
            detail.append(f"bucket {bucket} ({removed} object version(s))")
        except Exception as exc:
            if error_code(exc) != "NoSuchBucket" and bucket is not None:
                raise
        for table in (outputs[k] for k in ("ArtifactsTable", "RegistryTable", "IndexTable") if k in outputs):
            try:
                ddb.delete_table(TableName=table)
            except Exception as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise
                continue
            ddb.get_waiter("table_not_exists").wait(TableName=table, WaiterConfig={"Delay": 2, "MaxAttempts": 150})
            detail.append(f"table {table}")
        return Step(name="data", action="deleted" if detail else "absent", detail=detail)


def _wait_deleted(sfn: Any, arn: str, attempts: int = 60) -> None:
    import time

    for _ in range(attempts):
        try:
            sfn.describe_state_machine(stateMachineArn=arn)
        except Exception as exc:
            if error_code(exc) == "StateMachineDoesNotExist":
                return
            raise
        time.sleep(2)
    raise DeployError(f"state machine {arn} is still being deleted (executions still running?); stop them, "
                      f"then deploy again")


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
