"""Every AWS call a Lambda function makes on the local cloud is granted by that function's IAM policy.

moto does not enforce IAM, so a missing grant would only show on AWS. Here each call our handlers make is
recorded (at botocore's client, attributed to the function whose invocation made it) while real cascades run,
then compared with the actions of the policy `make deploy` gives that function.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from unittest import mock

from botocore.client import BaseClient

from chalicelib.cli.run import run_in_cloud
from chalicelib.deploy.policies import policy_for
from chalicelib.deploy.workspace import example_stage
from chalicelib.runtime import loader
from tests.conftest import EXAMPLES, SEED

# S3 operations whose IAM action has another name.
S3_ACTIONS = {
    "HeadObject": ["s3:GetObject"],
    "CopyObject": ["s3:GetObject", "s3:PutObject"],
    "ListObjectsV2": ["s3:ListBucket"],
    "ListObjects": ["s3:ListBucket"],
}


def iam_actions(service: str, operation: str) -> list[str]:
    if service == "s3" and operation in S3_ACTIONS:
        return S3_ACTIONS[operation]
    if service == "dynamodb" and operation == "TransactWriteItems":  # IAM checks each Put of the transaction
        return ["dynamodb:PutItem"]
    return [f"{service}:{operation}"]


def granted(function: str) -> set[str]:
    doc = policy_for(function, example_stage("local"))
    return {a for s in doc["Statement"] if s["Effect"] == "Allow"
            for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}


def test_every_call_is_granted(cloud, clients):
    calls: dict[str, set[str]] = defaultdict(set)
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

    def recorded(client, operation, params):
        function = getattr(current, "function", None)
        if function:
            for action in iam_actions(client.meta.service_model.signing_name, operation):
                calls[function].add(action)
        return make_call(client, operation, params)

    with mock.patch.object(cloud, "_invoke", attributed), mock.patch.object(BaseClient, "_make_api_call", recorded):
        for path, workflow, inputs in [
            (SEED, "upstream_wf", {}),
            (EXAMPLES / "order_cascade.py", "ingest", {}),
            (EXAMPLES / "reactive_chain.py", "ingest_orders", {"day": "2026-11-24T00:00:00"}),
        ]:
            report = run_in_cloud(cloud, loader.load_paths([path]), workflow, inputs)
            assert all(e["status"] == "SUCCEEDED" for e in report["executions"]), report["executions"]
        run_in_cloud(cloud, loader.load_paths([EXAMPLES / "uploads.py"]), "price_check", {"prices": '{"items": []}'})
        clients["s3"].put_object(Bucket=cloud.settings.bucket, Key="uploads/price_list/prices.json",
                                 Body=b'{"items": [1, 2]}')
        cloud.wait_quiet(60)

    assert {"task_runner", "on_artifact_event", "on_upload"} <= set(calls), dict(calls)
    missing = {fn: sorted(actions - granted(fn)) for fn, actions in calls.items() if actions - granted(fn)}
    assert missing == {}, f"calls made but not granted: {missing}"
