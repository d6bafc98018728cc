"""Helpers for integration tests: load a flow file, run a workflow to quiescence, read what happened."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

FLOWS = Path(__file__).resolve().parent / "flows"


def load(*names: str) -> Any:
    from chalicelib.runtime import loader

    return loader.load_paths([FLOWS / f"{n}.py" for n in names])


def without_launch_plans(defs: Any) -> Any:
    """The same workflows, registering no launch plan (to run producers after plans were changed)."""
    from chalicelib.runtime.loader import Definitions

    return Definitions(workflows=dict(defs.workflows), tasks=dict(defs.tasks))


def run(cloud: Any, defs: Any, workflow: str, **inputs: Any) -> dict[str, Any]:
    """Register `defs`, start `workflow` with Python values, wait until every cascade settled; the report."""
    from chalicelib.cli.run import run_in_cloud

    return run_in_cloud(cloud, defs, workflow, inputs, from_text=False, timeout=120)


def runs_of(report: dict[str, Any], launch_plan: str) -> list[dict[str, Any]]:
    return [e for e in report["executions"] if e["launch_plan"] == launch_plan]


def stage_of(cloud: Any) -> Any:
    from chalicelib.ops.stage import Stage

    return Stage(cloud.settings)


def register(cloud: Any, defs: Any) -> Any:
    from chalicelib.ops.register import Registrar

    stage = stage_of(cloud)
    return Registrar(cloud.settings, stage.sfn, stage.registry, cloud.states_role_arn).register(defs)


def report(cloud: Any) -> dict[str, Any]:
    from chalicelib.observe import Observer

    stage = stage_of(cloud)
    return Observer(cloud.settings, stage.dynamodb, stage.sfn).report()


def redeliver(cloud: Any, artifact: str, version: str, times: int = 1) -> None:
    """Deliver a stored version's stream record to the trigger Lambda again, as a real INSERT record."""
    from chalicelib import aws

    ddb = aws.client("dynamodb", cloud.settings.region)
    from chalicelib.store.dynamo import to_dynamo
    from chalicelib.store.models import version_key

    item = ddb.get_item(TableName=cloud.settings.artifacts_table, Key=to_dynamo(version_key(artifact, version)))["Item"]
    record = {
        "eventID": f"redelivery-{version}", "eventName": "INSERT", "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": cloud.settings.region,
        "dynamodb": {"Keys": {"pk": item["pk"], "sk": item["sk"]}, "NewImage": item,
                     "SequenceNumber": "1", "SizeBytes": 900, "StreamViewType": "NEW_IMAGE"},
        "eventSourceARN": cloud.outputs["ArtifactsStreamArn"],
    }
    lam = aws.client("lambda", cloud.settings.region)
    resp = lam.invoke(FunctionName=f"{cloud.settings.prefix}on_artifact_event",
                      Payload=json.dumps({"Records": [record] * times}).encode())
    body = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp and body.get("batchItemFailures") == [], body
    cloud.wait_quiet(60)


@pytest.fixture(scope="module")
def module_cloud() -> Iterator[Any]:
    """One local cloud for a module whose tests use distinct artifacts and launch plans."""
    from chalicelib.local.cloud import LocalCloud

    with LocalCloud() as c:
        yield c
