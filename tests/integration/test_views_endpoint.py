"""The views read a stage through an endpoint URL (a local cloud server), in a separate process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Iterator

import boto3
import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    yield f"http://{host}:{port}"
    srv.stop()


def cli(endpoint: str, *args: str, via_env: bool = False) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASCADE_", "AWS_"))}
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                "CASCADE_STAGE": "srv", "COLUMNS": "200",
                # a stage without an infra stack: its names given as the functions get them
                "CASCADE_BUCKET": "b", "CASCADE_ARTIFACTS_TABLE": "cascade-srv-artifacts",
                "CASCADE_REGISTRY_TABLE": "cascade-srv-registry", "CASCADE_INDEX_TABLE": "cascade-srv-index"})
    extra = []
    if via_env:
        env["AWS_ENDPOINT_URL"] = endpoint
    else:
        extra = ["--endpoint-url", endpoint]
    return subprocess.run([sys.executable, "-m", "chalicelib", *args, *extra], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_views_over_an_endpoint_url(server: str) -> None:
    from chalicelib.config import Settings
    from chalicelib.store.dynamo import to_dynamo
    from chalicelib.store.lineage import Edge, LineageStore
    from chalicelib.store.models import ArtifactVersion

    settings = Settings(stage="srv", bucket="b", artifacts_table="cascade-srv-artifacts",
                        registry_table="cascade-srv-registry",
                        index_table="cascade-srv-index")
    ddb = boto3.client("dynamodb", endpoint_url=server, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    for table in (settings.artifacts_table, settings.registry_table):
        ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    made = "arn:aws:states:us-east-1:123456789012:execution:cascade-srv-wf:made-it"
    used = "arn:aws:states:us-east-1:123456789012:execution:cascade-srv-wf2:used-it"
    version = ArtifactVersion(name="served", version="20261125T000000000Z-abcdef0123", partitions={"k": "v"},
                              uri="s3://b/artifacts/served/k=v/x.json", format="json", produced_by=made)
    ddb.put_item(TableName=settings.artifacts_table, Item=to_dynamo(version.to_item()))
    LineageStore(settings, ddb).put([
        Edge(kind="output", execution=made, artifact="served", version=version.version, workflow="m.wf"),
        Edge(kind="trigger", execution=used, artifact="served", version=version.version, workflow="m.wf2"),
    ])

    listed = cli(server, "artifacts", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [a["name"] for a in json.loads(listed.stdout)] == ["served"]

    graph = cli(server, "lineage", "served", "--json", via_env=True)
    assert graph.returncode == 0, graph.stderr
    ids = {n["id"] for n in json.loads(graph.stdout)["nodes"]}
    assert ids == {f"version:served:{version.version}", f"execution:{made}", f"execution:{used}"}

    tree = cli(server, "lineage", "served")
    assert tree.returncode == 0, tree.stderr
    assert "made by wf" in tree.stdout and "triggered wf2" in tree.stdout
