"""The local cloud: moto's S3, DynamoDB (with streams), IAM, CloudFormation, Lambda and Step Functions,
executing the real state machine definitions.

One substitution: moto runs Lambda code in Docker; here a Lambda invocation runs our handler in-process
(`app.<function>`, as Lambda resolves its handler string). Events still travel the AWS way: stream
event-source mappings, S3 notifications and Step Functions Task states all invoke through moto's Lambda.

Four moto behaviours are corrected:
  * a DynamoDB stream shard re-sends every record accumulated since the last successful delivery when a
    handler writes to the table; here each write delivers its own record once;
  * handler errors in stream and S3 deliveries are swallowed by moto; here they are collected in `errors`,
    and an S3 notification is an asynchronous invocation as on AWS: retried up to the function's
    MaximumRetryAttempts, then the event and the error are sent to its on-failure destination (the upload
    dead-letter queue, set by the deploy's own wiring, chalicelib/deploy/wiring.py);
  * TransactWriteItems deep-copies every table it touches before writing (to roll back on failure): time
    proportional to the tables' size, and a crash when another thread writes meanwhile. A transaction of
    Puts only (the artifact store's) is checked first and then written, with AWS's all-or-nothing outcome;
    other transactions go to moto unchanged;
  * a Query walks every item of the table while other threads (concurrent executions) write to it, and fails
    with "dictionary changed size during iteration"; here it walks a snapshot.
Two moto costs that grow with everything written before are cut, with the same answers
(chalicelib/local/speed.py): a Query on a table's key sorts the whole table, a StartExecution walks every
execution of its state machine.
What AWS emits and moto does not (chalicelib/local/emitted.py): Step Functions status change events when an
execution ends, EventBridge delivery to SNS topics, and a record of each email SNS would send. moto never fires
EventBridge Scheduler schedules; `clock` does (chalicelib/local/clock.py).
A disabled event-source mapping delivers nothing (moto ignores the flag); records written meanwhile are not
delivered later, unlike on AWS, which resumes from its checkpoint. Tests and benchmarks use this to seed
a long history quickly.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
import warnings
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any, Callable
from unittest import mock

from msgspec import Struct, structs

from chalicelib import aws, naming
from chalicelib.config import Settings
from chalicelib import capture
from chalicelib.local import speed

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT_ROOT / "infra" / "template.yaml"
REGION = "us-east-1"
# Lambda function name (without the stage prefix) → handler string, as chalice deploys them.
FUNCTIONS = {name: f"app.{name}" for name in (*naming.task_runner_functions(), naming.TRIGGER, naming.UPLOAD, naming.SCHEDULE)}
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


class HandlerError(Struct):
    function: str
    error_type: str
    message: str
    event: Any


class LambdaContext:
    """The attributes of Lambda's context object that handlers read."""

    def __init__(self, function_name: str, timeout: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:{function_name}"
        self.memory_limit_in_mb = 1024
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = self.aws_request_id
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _resolve_handler(handler: str) -> Callable[..., Any]:
    module_name, _, attr = handler.rpartition(".")
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    module = __import__(module_name)
    return getattr(module, attr)


def _not_missing_path(record: logging.LogRecord) -> bool:
    """moto logs an ERROR for a missing path even where ASL allows one (Choice `IsPresent`); AWS does not."""
    return "NoSuchJsonPathError" not in record.getMessage()


def _puts_checked_first(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's TransactWriteItems for transactions of Puts: every condition checked, then every item written."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import TransactionCanceledException

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100 or any(set(item) != {"Put"} for item in transact_items):
            return original(backend, transact_items)
        errors: list[tuple[Any, Any, Any]] = []
        for item in transact_items:
            put = item["Put"]
            table = backend.get_table(put["TableName"])
            key = {table.hash_key_attr: put["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = put["Item"][table.range_key_attr]
            condition = put.get("ConditionExpression")
            passed = condition is None or get_filter_expression(
                condition, put.get("ExpressionAttributeNames"), put.get("ExpressionAttributeValues"),
            ).expr(backend.get_item(put["TableName"], key))
            errors.append((None, None, None) if passed else ("ConditionalCheckFailed", "The conditional request failed", None))
        if any(code for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        for item in transact_items:
            backend.put_item(item["Put"]["TableName"], item["Put"]["Item"])

    return transact_write_items


def _all_items_snapshot(table: Any) -> list[Any]:
    """The items of a moto table, sorted by key as moto's Query expects, read from a snapshot of its dicts
    (`list()` of a dict's values copies it without running Python code, so no other thread writes meanwhile).
    Inside a Query on the table's key, only the asked partition (chalicelib.local.speed)."""
    partition = speed.items_of(table)
    if partition is not None:
        return partition
    items: list[Any] = []
    for bucket in list(table.items.values()):
        items.extend(list(bucket.values()) if table.range_key_attr else [bucket])
    return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


class LocalCloud:
    """Use as a context manager: `with LocalCloud() as cloud: ...`."""

    def __init__(self, stage: str = "local") -> None:
        self.stage = stage
        self.errors: list[HandlerError] = []
        self._in_flight = 0
        self._lock = threading.Lock()
        self._patches: list[Any] = []
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}
        self.settings: Settings | None = None
        self.outputs: dict[str, str] = {}
        self.clock: Any = None  # chalicelib.local.clock.Clock, once started

    # -- lifecycle --------------------------------------------------------------------------------
    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def start(self) -> None:
        from moto import mock_aws

        self._set_env(DUMMY_CREDENTIALS)
        capture.install()  # before handlers create loggers bound to sys.stdout
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        self._patch_moto()
        self._clear_caches()
        self._deploy()

    def stop(self) -> None:
        self.wait_quiet(timeout=30, raise_on_timeout=False)
        for p in reversed(self._patches):
            p.stop()
        self._patches.clear()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        self._clear_caches()

    @staticmethod
    def _clear_caches() -> None:
        from chalicelib.runtime.runner import default_runner
        from chalicelib.schedule.handler import default_scheduler
        from chalicelib.trigger.handler import default_trigger
        from chalicelib.uploads.handler import default_uploads

        aws.client.cache_clear()
        default_runner.cache_clear()
        default_scheduler.cache_clear()
        default_trigger.cache_clear()
        default_uploads.cache_clear()

    # -- moto patches -----------------------------------------------------------------------------
    def _patch_moto(self) -> None:
        from moto.awslambda.models import LambdaFunction
        from moto.dynamodb.models.table import StreamRecord, StreamShard

        cloud = self

        def invoke_in_process(fn: Any, event: Any = None) -> tuple[str, bool, str]:
            return cloud._invoke(fn.function_name, fn.handler, int(fn.timeout or 60), event)

        def add_one(shard: Any, old: Any, new: Any) -> None:
            kind = "INSERT" if old is None else ("REMOVE" if new is None else "MODIFY")
            seq = len(shard.items) + shard.starting_sequence_number
            record = StreamRecord(shard.table, shard.table.stream_specification["StreamViewType"], kind, old, new, seq)
            shard.items.append(record)  # kept for GetRecords
            from moto.awslambda.utils import get_backend

            for arn, esm in shard.table.lambda_event_source_mappings.items():
                if not esm.enabled:  # UpdateEventSourceMapping(Enabled=False); records are not replayed later
                    continue
                get_backend(shard.account_id, arn.split(":")[3]).send_dynamodb_items(arn, [record], esm.event_source_arn)

        logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").addFilter(_not_missing_path)
        # moto's Step Functions interpreter logs its whole internal state (FailureEventException, the state's
        # declaration, ...) at ERROR whenever a task fails; the failure reaches the user through the
        # execution's history and cause instead, so none of it is printed.
        for name in ("moto.stepfunctions.parser", "moto.stepfunctions"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        from moto.dynamodb.models import DynamoDBBackend
        from moto.dynamodb.models.table import Table
        from moto.events.models import Rule
        from moto.sns.models import Subscription
        from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

        from chalicelib.local import emitted

        from chalicelib.local import sfn_integration

        self._patches = [
            mock.patch.object(LambdaFunction, "_invoke_lambda", invoke_in_process),
            mock.patch("moto.s3.notifications._invoke_awslambda", self._invoke_async),
            mock.patch.object(StreamShard, "add", add_one),
            mock.patch.object(DynamoDBBackend, "transact_write_items",
                              _puts_checked_first(DynamoDBBackend.transact_write_items)),
            mock.patch.object(Table, "all_items", _all_items_snapshot),
            mock.patch.object(BaseExecutionWorkerCommunication, "terminated",
                              emitted.emit_status_change(BaseExecutionWorkerCommunication.terminated,
                                                         self._event_error)),
            mock.patch.object(Rule, "send_to_targets", emitted.deliver_to_sns(Rule.send_to_targets)),
            mock.patch.object(Subscription, "publish", emitted.record_emails(Subscription.publish, self._record_email)),
            *sfn_integration.patches(),  # startExecution.sync:2 (a launch plan called in a workflow)
            *speed.patches(),  # a Query reads its partition only, no name walk, DynamoDB results without the shape walk
        ]
        for p in self._patches:
            p.start()

    def _invoke(self, function_name: str, handler: str, timeout: int, event: Any) -> tuple[str, bool, str]:
        with self._lock:
            self._in_flight += 1
        try:
            with capture.captured(passthrough=False) as out:
                try:
                    result = _resolve_handler(handler)(event, LambdaContext(function_name, timeout))
                    payload, errored = json.dumps(result), False
                except Exception as exc:
                    payload = json.dumps({
                        "errorMessage": str(exc),
                        "errorType": type(exc).__name__,
                        "stackTrace": traceback.format_exception(exc)[-5:],
                    })
                    errored = True
                    # A task's own error reaches Step Functions, which retries it or fails the execution (and the
                    # report shows that); only errors moto would swallow are collected here.
                    if not naming.is_task_runner(function_name):
                        self.errors.append(HandlerError(function_name, type(exc).__name__, str(exc), event))
            return payload, errored, out.getvalue()
        finally:
            with self._lock:
                self._in_flight -= 1

    def _invoke_async(self, account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        """What Lambda does with an asynchronous invocation (S3 notifications): run it; on an error, retry up to
        the function's MaximumRetryAttempts (Lambda's default: 2); then send Lambda's on-failure record (the
        event and the error) to the OnFailure destination, if the function has one."""
        from moto.awslambda.utils import get_backend

        try:
            fn = get_backend(account_id, region_name).get_function(fn_arn)
        except Exception:  # as moto: S3 does not fail a PutObject for a notification it cannot deliver
            return
        config = fn.event_invoke_config[0].config if fn.event_invoke_config else {}
        attempts = 1 + int(config.get("MaximumRetryAttempts", 2))
        event = json.loads(json.dumps(event_body))
        for _ in range(attempts):
            payload, errored, _logs = self._invoke(fn.function_name, fn.handler, int(fn.timeout or 60), event)
            if not errored:
                return
        destination = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        if not destination or ":sqs:" not in destination:
            return
        record = {
            "version": "1.0",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": f"{fn.function_arn}:$LATEST",
                               "condition": "RetriesExhausted", "approximateInvokeCount": attempts},
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": json.loads(payload),
        }
        sqs = aws.client("sqs", REGION)
        url = sqs.get_queue_url(QueueName=destination.rsplit(":", 1)[1])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))

    # -- resources --------------------------------------------------------------------------------
    def _deploy(self) -> None:
        cfn = aws.client("cloudformation", REGION)
        stack = naming.stack_name(self.stage)
        with warnings.catch_warnings():
            # moto cannot apply AWS::S3::BucketPolicy; the template's policy is checked on the template itself
            warnings.filterwarnings("ignore", message=".*AWS::S3::BucketPolicy.*")
            moto_log = logging.getLogger("moto")
            level = moto_log.level
            moto_log.setLevel(logging.ERROR)
            try:
                cfn.create_stack(
                    StackName=stack,
                    TemplateBody=TEMPLATE.read_text(),
                    Parameters=[{"ParameterKey": "Stage", "ParameterValue": self.stage}],
                    Capabilities=["CAPABILITY_NAMED_IAM"],
                )
            finally:
                moto_log.setLevel(level)
        desc = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if desc["StackStatus"] != "CREATE_COMPLETE":
            raise RuntimeError(f"local infra stack ended in {desc['StackStatus']}: {desc.get('StackStatusReason')}")
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in desc.get("Outputs", [])}
        iam = aws.client("iam", REGION)
        role_arn = iam.create_role(
            RoleName=f"cascade-{self.stage}-lambda",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
        )["Role"]["Arn"]
        lam = aws.client("lambda", REGION)
        zipped = BytesIO()
        with zipfile.ZipFile(zipped, "w") as zf:
            zf.writestr("app.py", "# runs in-process in the local cloud\n")
        settings = Settings.from_outputs(self.stage, REGION, naming.StackOutputs.from_outputs(self.outputs))
        arns = {}
        for short, handler in FUNCTIONS.items():
            arns[short] = lam.create_function(
                FunctionName=f"{settings.prefix}{short}",
                Runtime="python3.11",
                Role=role_arn,
                Handler=handler,
                Code={"ZipFile": zipped.getvalue()},
                Timeout=900 if naming.is_task_runner(short) else 60,
                Environment={"Variables": settings.to_env()},
            )["FunctionArn"]
        settings = structs.replace(settings, task_runner_arn=arns[naming.TASK_RUNNER])
        lam.create_event_source_mapping(
            EventSourceArn=self.outputs["ArtifactsStreamArn"],
            FunctionName=arns[naming.TRIGGER],
            StartingPosition="TRIM_HORIZON",
            BatchSize=100,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )
        self._notify_uploads(settings.bucket, arns[naming.UPLOAD])
        from chalicelib.deploy.wiring import wire_upload_destination

        wire_upload_destination(lam, arns[naming.UPLOAD], naming.StackOutputs.from_outputs(self.outputs).upload_dlq_arn)
        self.settings = settings
        self._set_env(settings.to_env())
        from chalicelib.local.clock import Clock, invoker

        self.clock = Clock(aws.client("scheduler", REGION), settings.prefix, invoker(lam))

    def _event_error(self, exc: BaseException, entry: dict[str, Any]) -> None:
        self.errors.append(HandlerError("events", type(exc).__name__, str(exc), entry))

    def _record_email(self, recipient: str, topic_arn: str, event: dict[str, Any]) -> None:
        """An email SNS would send for a status change event: recorded beside the execution."""
        from chalicelib.store.notifications import NotificationLog, SentNotification

        if self.settings is None:
            return
        detail = event.get("detail") or {}
        NotificationLog(self.settings.registry_table, aws.client("dynamodb", REGION)).put(SentNotification(
            execution_arn=detail.get("executionArn", ""), recipient=recipient, status=detail.get("status", ""),
            topic=topic_arn.rsplit(":", 1)[-1], at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))

    @staticmethod
    def _notify_uploads(bucket: str, function_arn: str) -> None:
        """As `chalice deploy` wires `@app.on_s3_event`: S3 may invoke the function, and notifies it."""
        from chalicelib.uploads.keys import UPLOAD_PREFIX

        aws.client("lambda", REGION).add_permission(
            FunctionName=function_arn, StatementId="s3-uploads", Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{bucket}",
        )
        aws.client("s3", REGION).put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "LambdaFunctionConfigurations": [{
                "Id": "uploads", "LambdaFunctionArn": function_arn, "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": UPLOAD_PREFIX}]}},
            }],
        })

    @property
    def states_role_arn(self) -> str:
        return self.outputs["StatesRoleArn"]

    # -- waiting ----------------------------------------------------------------------------------
    def busy(self) -> bool:
        return self._in_flight > 0 or self.running_executions() > 0

    def running_executions(self) -> int:
        """Step Functions threads that have not finished. moto appends a thread to TMP_THREADS *before* starting
        it, so a thread not yet started counts as running (else a trigger's new execution could be missed);
        finished threads are removed one by one, never by reassigning the list, which would drop a thread another
        thread appends meanwhile."""
        from moto.stepfunctions.parser.utils import TMP_THREADS

        running = 0
        for t in list(TMP_THREADS):
            if t.is_alive() or not t._started.is_set():
                running += 1
            else:
                try:
                    TMP_THREADS.remove(t)  # moto never prunes finished threads
                except ValueError:
                    pass
        return running

    def wait_quiet(self, timeout: float = 300, raise_on_timeout: bool = True, on_tick: Callable[[], None] | None = None) -> bool:
        """Wait until no handler runs and no execution thread is alive (checked three times in a row)."""
        deadline = time.monotonic() + timeout
        calm = 0
        while time.monotonic() < deadline:
            calm = 0 if self.busy() else calm + 1
            if calm >= 3:
                return True
            if on_tick:
                on_tick()
            time.sleep(0.01)
        if raise_on_timeout:
            raise TimeoutError(f"the local cloud was still busy after {timeout:.0f} s")
        return False
