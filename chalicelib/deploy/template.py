"""The stage's one CloudFormation template: what `chalice package --merge-template` merges into chalice's SAM
template, and the SAM → plain CloudFormation translation. Pure: no AWS call, no file written.

The merge template is infra/template.yaml (bucket, tables, queues, roles, alarms) plus what only this code
can spell for the stage:

    functions     FunctionName (cascade-<stage>-<fn>), environment variables, Layers: the functions layer
                  first (every function), then the tasks layer (functions that run task code)
    roles         RoleName and the generated policy (chalicelib/deploy/policies.py)
    trigger       the stream mapping's source (the table's stream) and failure settings, ParallelizationFactor
    task runner   a published version and the alias `live` (AutoPublishAlias)
    upload        the bucket's notification to on_upload, its invoke permission, its EventInvokeConfig
    layers        an AWS::Lambda::LayerVersion each (functions layer, tasks layer) from the zips uploaded to
                  the stage bucket under deploy/layers/<sha256>.zip

and, after the translation, the workflows of chalicelib/workflows/ (state machines, schedules, notifications:
chalicelib/deploy/workflow_stack.py) and the checkov findings the template accepts (chalicelib/deploy/hardening.py).

Values that only exist in the stack (table names, the stream ARN, queue URLs, the account) are written as
`${...}` and wrapped in Fn::Sub, so the template does not depend on the account it is deployed to and two
copies of the same code build the same template. The bucket is named from pseudo parameters, not referenced:
the bucket's notification depends on the upload function, which would otherwise depend on the bucket.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib import naming
from chalicelib.deploy.appinfo import AppInfo
from chalicelib.deploy.arns import StageArns
from chalicelib.deploy.errors import DeployError
from chalicelib.deploy.policies import policy_for
from chalicelib.deploy.stage_config import TASK_CODE_FUNCTIONS
from chalicelib.deploy.wiring import desired_invoke_config, desired_settings
from chalicelib.naming import API, APP_NAME, TASK_RUNNER, TRIGGER, UPLOAD, StackOutputs

if TYPE_CHECKING:
    from chalicelib.runtime.loader import Definitions

TASK_RUNNER_ALIAS = naming.TASK_RUNNER_ALIAS
TASKS_LAYER = "TasksLayer"
FUNCTIONS_LAYER = "FunctionsLayer"
BUCKET = "ArtifactBucket"
REST_API = "RestAPI"  # chalice's logical id of the REST API


class StageOptions(BaseModel):
    """Per-stage settings, from `stages.<stage>.cascade` in .chalice/config.json. Defaults are in README."""

    model_config = ConfigDict(extra="forbid")

    parallelization_factor: int = Field(1, ge=1, le=10)  # concurrent batches per stream shard (Lambda: 1-10)
    uploads_expiration_days: int = Field(7, ge=1)  # objects under uploads/ (processed or quarantined by then)
    quarantine_expiration_days: int = Field(90, ge=1)  # rejected uploads kept for inspection
    noncurrent_version_expiration_days: int = Field(30, ge=1)  # overwritten/deleted object versions
    iterator_age_alarm_seconds: int = Field(600, ge=60)  # trigger behind the stream by more than this
    dead_letter_alarm_messages: int = Field(1, ge=1)  # a dead-letter queue holding this many messages
    alarm_email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$")  # subscribed to the alarms topic

    def parameters(self) -> dict[str, str]:
        """The template parameters these set (infra/template.yaml Parameters)."""
        return {
            "UploadsExpirationDays": str(self.uploads_expiration_days),
            "QuarantineExpirationDays": str(self.quarantine_expiration_days),
            "NoncurrentVersionExpirationDays": str(self.noncurrent_version_expiration_days),
            "IteratorAgeAlarmMilliseconds": str(self.iterator_age_alarm_seconds * 1000),
            "DeadLetterAlarmMessages": str(self.dead_letter_alarm_messages),
            "AlarmEmail": self.alarm_email or "",
        }


def bucket_name(stage: str, app_name: str = APP_NAME) -> str:
    """The stage bucket's name as infra/template.yaml sets it, with CloudFormation's pseudo parameters."""
    return f"{naming.prefix(stage, app_name)}${{AWS::AccountId}}-${{AWS::Region}}"


def symbolic_stage(stage: str, app_name: str = APP_NAME) -> StageArns:
    """The StageArns of `stage` in whatever account and region the stack is created: `${...}` references."""
    outputs = StackOutputs.from_outputs(dict(
        BucketName=bucket_name(stage, app_name),
        ArtifactsTable="${ArtifactsTable}",
        ArtifactsStreamArn="${ArtifactsTable.StreamArn}",
        RegistryTable="${RegistryTable}",
        IndexTable="${IndexTable}",
        StatesRoleArn="${StatesRole.Arn}",
        TriggerDlqArn="${TriggerDeadLetterQueue.Arn}",
        TriggerDlqUrl="${TriggerDeadLetterQueue}",
        UploadDlqArn="${UploadDeadLetterQueue.Arn}",
        UploadDlqUrl="${UploadDeadLetterQueue}",
    ))
    return StageArns(app_name=app_name, stage=stage, region="${AWS::Region}", account="${AWS::AccountId}",
                     partition="${AWS::Partition}", outputs=outputs)


def sub(value: Any) -> Any:
    """`value` with every string that holds `${` wrapped in Fn::Sub (existing intrinsics left alone). Pure."""
    if isinstance(value, str):
        return {"Fn::Sub": value} if "${" in value else value
    if isinstance(value, list):
        return [sub(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref")):
            return value
        return {k: sub(v) for k, v in value.items()}
    return value


def function_id(function: str) -> str:
    """chalice's logical id of a function's resource (chalice.utils.to_cfn_resource_name; the API is special)."""
    from chalice.utils import to_cfn_resource_name

    return "APIHandler" if function == API else to_cfn_resource_name(function)


def role_id(function: str) -> str:
    from chalice.utils import to_cfn_resource_name

    return f"{to_cfn_resource_name(function)}Role"


def _s3_filter(prefix: str | None, suffix: str | None) -> dict[str, Any] | None:
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v]
    return {"S3Key": {"Rules": rules}} if rules else None


def functions_layer_name(stage: str, app_name: str = APP_NAME) -> str:
    return f"{naming.prefix(stage, app_name)}functions"


def function_layers(fn: str, layer_key: str | None, functions_layer_key: str | None) -> list[dict[str, str]]:
    """A function's Layers: the functions layer first (what every function imports), then the tasks layer."""
    refs = [{"Ref": FUNCTIONS_LAYER}] if functions_layer_key else []
    if fn in TASK_CODE_FUNCTIONS and layer_key:
        refs.append({"Ref": TASKS_LAYER})
    return refs


def _layer_version(name: str, what: str, key: str, bucket: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.deploy import layer

    return {"Type": "AWS::Lambda::LayerVersion", "Properties": {
        "LayerName": name, "Description": f"{what} ({key})", "Content": {"S3Bucket": bucket, "S3Key": key},
        "CompatibleRuntimes": [layer.runtime()], "CompatibleArchitectures": [layer.ARCHITECTURE]}}


def merge_template(infra: dict[str, Any], stage: str, app: AppInfo, options: StageOptions,
                   layer_key: str | None, functions_layer_key: str | None = None) -> dict[str, Any]:
    """infra/template.yaml (parsed) plus the stage's generated parts, for `chalice package --merge-template`.
    `layer_key`, `functions_layer_key`: the tasks and functions layers' zips in the stage bucket."""
    out = copy.deepcopy(infra)
    resources: dict[str, Any] = out.setdefault("Resources", {})
    symbolic = symbolic_stage(stage, app.app_name)
    env = symbolic.environment()
    code_bucket = {"Fn::Sub": bucket_name(stage, app.app_name)}
    for fn in app.functions:
        props: dict[str, Any] = {"FunctionName": symbolic.function_name(fn),
                                 "Environment": {"Variables": sub(dict(sorted(env.items())))}}
        layers = function_layers(fn, layer_key, functions_layer_key)
        if layers:
            props["Layers"] = layers
        resources[function_id(fn)] = {"Properties": props}
        resources[role_id(fn)] = {"Properties": {
            "RoleName": f"{symbolic.prefix}{fn}",
            "Policies": [{"PolicyName": fn, "PolicyDocument": sub(policy_for(fn, symbolic))}]}}
    if TRIGGER in app.functions:
        settings = desired_settings("${TriggerDeadLetterQueue.Arn}")
        settings["DestinationConfig"]["OnFailure"]["Type"] = "SQS"
        event = {"Stream": {"Fn::GetAtt": ["ArtifactsTable", "StreamArn"]},
                 "ParallelizationFactor": options.parallelization_factor, **sub(settings)}
        events = {f"{function_id(TRIGGER)}DynamodbEventSource": {"Properties": event}}
        resources[function_id(TRIGGER)]["Properties"]["Events"] = events
    if API in app.functions:  # chalice's REST API (its Body's title is the app name; the stage names it here)
        resources[REST_API] = {"Properties": {"Name": symbolic.function_name(API)}}
    for fn in set(naming.task_runner_functions()) & set(app.functions):  # every size: Task states call the alias
        resources[function_id(fn)]["Properties"]["AutoPublishAlias"] = TASK_RUNNER_ALIAS
    if UPLOAD in app.functions:
        config = sub(desired_invoke_config("${UploadDeadLetterQueue.Arn}"))
        resources["UploadInvokeConfig"] = {"Type": "AWS::Lambda::EventInvokeConfig", "Properties": {
            "FunctionName": {"Ref": function_id(UPLOAD)}, "Qualifier": "$LATEST", **config}}
    notifications, permissions = [], []
    for handler in app.s3_handlers:
        permission = f"{function_id(handler.function)}S3Permission"
        permissions.append(permission)
        resources[permission] = {"Type": "AWS::Lambda::Permission", "Properties": {
            "FunctionName": {"Ref": function_id(handler.function)}, "Action": "lambda:InvokeFunction",
            "Principal": "s3.amazonaws.com", "SourceAccount": {"Ref": "AWS::AccountId"},
            "SourceArn": {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{bucket_name(stage, app.app_name)}"}}}
        for event_name in handler.events:
            entry: dict[str, Any] = {"Event": event_name,
                                     "Function": {"Fn::GetAtt": [function_id(handler.function), "Arn"]}}
            rule = _s3_filter(handler.prefix, handler.suffix)
            if rule:
                entry["Filter"] = rule
            notifications.append(entry)
    if notifications:
        bucket = resources.get(BUCKET)
        if bucket is None:
            raise DeployError(f"infra/template.yaml has no {BUCKET} resource; app.py's S3 handlers need it")
        bucket.setdefault("Properties", {})["NotificationConfiguration"] = {"LambdaConfigurations": notifications}
        bucket["DependsOn"] = sorted(set(bucket.get("DependsOn", [])) | set(permissions))
    if functions_layer_key:
        resources[FUNCTIONS_LAYER] = _layer_version(functions_layer_name(stage, app.app_name),
                                                    "what every function imports", functions_layer_key, code_bucket)
    if layer_key:
        resources[TASKS_LAYER] = _layer_version(symbolic.tasks_layer_name, "what task code imports", layer_key,
                                                code_bucket)
    return out


def bootstrap_template(infra: dict[str, Any]) -> dict[str, Any]:
    """The first version of a new stack: infra/template.yaml without what refers to the functions (the bucket's
    notification), so the packages can be uploaded to its bucket before the functions reference them."""
    out = copy.deepcopy(infra)
    bucket = out.get("Resources", {}).get(BUCKET)
    if bucket is None:
        raise DeployError(f"infra/template.yaml has no {BUCKET} resource (the stage bucket)")
    bucket.get("Properties", {}).pop("NotificationConfiguration", None)
    bucket.pop("DependsOn", None)
    from chalicelib.deploy import hardening

    # the accepted findings' Metadata as the full template has it: the update that adds the functions then
    # leaves the tables as they are (moto's CloudFormation would "update" them, which it cannot, and lose them)
    return hardening.justify(out)


def place_code(sam: dict[str, Any], stage: str, code_key: str, app_name: str = APP_NAME) -> dict[str, Any]:
    """chalice's `CodeUri: ./deployment.zip` → the zip uploaded to the stage bucket under `code_key`."""
    out = copy.deepcopy(sam)
    for resource in out.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = {"Bucket": bucket_name(stage, app_name), "Key": code_key}
    return out


def check_merged(template: dict[str, Any]) -> None:
    """Every resource the merge template names must exist in chalice's template (else its logical id drifted)."""
    untyped = sorted(k for k, v in template.get("Resources", {}).items() if "Type" not in v)
    if untyped:
        raise DeployError(f"the merged template has resources without a Type: {untyped}; chalice names them "
                          f"differently from chalicelib/deploy/template.py (function_id, role_id). Fix the names there.")


def translate(sam: dict[str, Any], parameters: dict[str, str], region: str) -> dict[str, Any]:
    """SAM → plain CloudFormation, offline (aws-sam-translator), so that the stack needs no transform. The
    translator picks the partition's ARN forms from the region."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import to_py27_compatible_template, undo_mark_unicode_str_in_template

    # Code locations as intrinsics: the translator requires literal strings, so a placeholder stands in.
    placeholder = "code-bucket-placeholder"
    located = copy.deepcopy(sam)
    bucket_sub = None
    for resource in located.get("Resources", {}).values():
        uri = resource.get("Properties", {}).get("CodeUri")
        if isinstance(uri, dict) and "${" in str(uri.get("Bucket")):
            bucket_sub = uri["Bucket"]
            uri["Bucket"] = placeholder
    values: dict[str, Any] = dict(parameters)
    to_py27_compatible_template(located, values)
    # chalice gives every function its own role, so there are no managed policy names to look up in IAM
    translator = Translator({}, Parser(), boto_session=boto3.session.Session(region_name=region))
    try:
        cfn = undo_mark_unicode_str_in_template(translator.translate(located, parameter_values=values))
    except Exception as exc:
        raise DeployError(f"the SAM template does not translate to CloudFormation: {exc}") from exc
    text = json.dumps(cfn)
    if bucket_sub is not None:
        text = text.replace(json.dumps(placeholder), json.dumps({"Fn::Sub": bucket_sub}))
    result: dict[str, Any] = json.loads(text)
    result.pop("Transform", None)
    return result


def stage_template(translated: dict[str, Any], defs: Definitions, stage: str,
                   app_name: str = APP_NAME) -> dict[str, Any]:
    """The translated template with the workflows' resources (chalicelib/deploy/workflow_stack.py) and the
    checkov findings it accepts, each with its reason (chalicelib/deploy/hardening.py)."""
    from chalicelib.deploy import hardening, workflow_stack

    out = copy.deepcopy(translated)
    resources = out.setdefault("Resources", {})
    added = workflow_stack.resources(defs, stage, app_name)
    clash = sorted(set(added) & set(resources))
    if clash:
        raise DeployError(f"the workflows' resources {clash} clash with resources of the template; rename "
                          f"the workflow or launch plan")
    resources.update(added)
    return hardening.justify(out)


def dumps(template: dict[str, Any]) -> str:
    """The template body: canonical JSON (sorted keys), so equal templates are equal strings."""
    return json.dumps(template, sort_keys=True, separators=(",", ":"))
