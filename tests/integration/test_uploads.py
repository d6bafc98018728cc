"""Uploads through the local cloud server, with a plain boto3 client over HTTP: good files become versions
and start the triggered workflows; bad files are quarantined and change nothing else."""

from __future__ import annotations

import io
import json
from functools import lru_cache
from typing import Any, Iterator

import boto3
import pandas as pd
import pytest
from click.testing import CliRunner

from chalicelib.cli import main
from chalicelib.cli.local import register_all
from chalicelib.config import Settings
from chalicelib.observe import Observer
from chalicelib.runtime import loader
from tests.conftest import EXAMPLES


@pytest.fixture
def server() -> Iterator[Any]:
    from chalicelib.local.server import LocalServer

    with LocalServer(port=0) as s:
        register_all(s, loader.load_paths([EXAMPLES / "uploads.py"]))
        yield s


def plain(server: Any, service: str) -> Any:
    """A client that knows nothing of this project: only the endpoint."""
    return _client(server.endpoint_url, service)


@lru_cache(maxsize=None)
def _client(endpoint_url: str, service: str) -> Any:
    return boto3.session.Session().client(service, endpoint_url=endpoint_url, region_name="us-east-1",
                                          aws_access_key_id="anything", aws_secret_access_key="anything")


def csv_bytes(rows: list[tuple[str, int]]) -> bytes:
    return ("sku,units\n" + "".join(f"{sku},{units}\n" for sku, units in rows)).encode()


def parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, engine="fastparquet", index=False)
    return buf.getvalue()


def observer(server: Any) -> Observer:
    settings: Settings = server.settings
    return Observer(settings, plain(server, "dynamodb"), plain(server, "stepfunctions"))


def versions(server: Any) -> list[dict[str, Any]]:
    return observer(server).report()["artifacts"]


def executions(server: Any) -> list[dict[str, Any]]:
    return observer(server).report()["executions"]


def keys(server: Any, prefix: str) -> dict[str, str]:
    s3 = plain(server, "s3")
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=server.settings.bucket, Prefix=prefix):
        found.update({o["Key"]: o["ETag"] for o in page.get("Contents", [])})
    return found


def failed_uploads(server: Any) -> list[dict[str, Any]]:
    result = CliRunner().invoke(main, ["uploads", "--failed", "--json", "--endpoint-url", server.endpoint_url])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_csv_parquet_and_json_uploads_become_versions_and_trigger_their_launch_plans(server):
    s3, bucket = plain(server, "s3"), server.settings.bucket
    csv_key = "uploads/raw_sales/region=north america/time_partition=2026-11-25T13:00:00+02:00/ventes été.csv"
    s3.put_object(Bucket=bucket, Key=csv_key, Body=csv_bytes([("a", 1), ("b", 2), ("c", 4)]))
    pq_key = "uploads/raw_sales/time_partition=2026-11-24/region=emea/part-0.parquet"
    s3.put_object(Bucket=bucket, Key=pq_key, Body=parquet_bytes(pd.DataFrame({"sku": ["x", "y"], "units": [10, 20]})))
    s3.put_object(Bucket=bucket, Key="uploads/price_list/prices 2026.json",
                  Body=json.dumps({"items": [{"sku": "a", "price": 1.5}, {"sku": "b", "price": 2.0}]}).encode())
    server.wait_quiet(60)
    assert server.errors == []

    got = {(v["name"], v["partitions"].get("region")): v for v in versions(server)}
    assert sorted(got) == [("price_list", None), ("raw_sales", "emea"), ("raw_sales", "north america")]
    na, emea, prices = got["raw_sales", "north america"], got["raw_sales", "emea"], got["price_list", None]
    assert na["time_partition"] == "2026-11-25T00:00:00Z" and na["format"] == "parquet"  # csv stored as parquet
    assert emea["time_partition"] == "2026-11-24T00:00:00Z" and emea["format"] == "parquet"
    assert prices["time_partition"] is None and prices["format"] == "json"
    assert na["produced_by"]["kind"] == "upload" and (na["produced_by"]["bucket"], na["produced_by"]["key"]) == (bucket, csv_key)
    # the data objects sit in the artifact layout and hold the uploaded rows
    na_key = na["uri"].removeprefix(f"s3://{bucket}/")
    assert na_key.startswith("artifacts/raw_sales/region=north america/time_partition=2026-11-25T00:00:00Z/")
    table = pd.read_parquet(io.BytesIO(s3.get_object(Bucket=bucket, Key=na_key)["Body"].read()), engine="fastparquet")
    assert table.to_dict("list") == {"sku": ["a", "b", "c"], "units": [1, 2, 4]}

    runs = executions(server)
    assert [r["status"] for r in runs] == ["SUCCEEDED"] * 3
    by_version = {r["triggered_by"]["version"]: r for r in runs}
    assert by_version[na["version"]]["outputs"]["o0"] == {"region": "north america", "rows": 3, "units": 7}
    assert by_version[emea["version"]]["outputs"]["o0"] == {"region": "emea", "rows": 2, "units": 30}
    assert by_version[prices["version"]]["outputs"]["o0"] == 2
    assert by_version[na["version"]]["launch_plan"] == "summarize_on_upload"

    listing = CliRunner().invoke(main, ["uploads", "--json", "--endpoint-url", server.endpoint_url])
    assert listing.exit_code == 0, listing.output
    states = {u["key"]: u for u in json.loads(listing.stdout)}
    assert states[csv_key]["state"] == "registered" and states[csv_key]["version"] == na["version"]
    assert failed_uploads(server) == []


TIME = "time_partition=2026-11-25"
BAD = [
    ("unknown_artifact", "uploads/nope/region=emea/x.csv", csv_bytes([("a", 1)])),
    ("uploads_not_accepted", "uploads/sales_report/region=emea/x.csv", csv_bytes([("a", 1)])),
    ("partition_mismatch", f"uploads/raw_sales/{TIME}/missing key.csv", csv_bytes([("a", 1)])),
    ("partition_mismatch", f"uploads/raw_sales/regoin=emea/{TIME}/wrong key.csv", csv_bytes([("a", 1)])),
    ("partition_mismatch", f"uploads/raw_sales/region=emea/site=x/{TIME}/extra key.csv", csv_bytes([("a", 1)])),
    ("bad_partition_value", f"uploads/raw_sales/region=île/{TIME}/x.csv", csv_bytes([("a", 1)])),
    ("time_partition_missing", "uploads/raw_sales/region=emea/x.csv", csv_bytes([("a", 1)])),
    ("time_partition_invalid", "uploads/raw_sales/region=emea/time_partition=tomorrow/x.csv", csv_bytes([("a", 1)])),
    ("time_partition_unexpected", f"uploads/price_list/{TIME}/p.json", b'{"items": []}'),
    ("unsupported_format", f"uploads/raw_sales/region=emea/{TIME}/x.xlsx", b"PK\x03\x04"),
    ("unparseable", f"uploads/raw_sales/region=emea/{TIME}/x.parquet", b"PAR1 but not parquet PAR1"),
    ("unparseable", "uploads/price_list/cut.json", b'{"items": [1, 2'),
    ("unparseable", "uploads/price_list/forged.json", b'{"$ref": {"uri": "s3://elsewhere/secret", "format": "json"}}'),
    ("empty", f"uploads/raw_sales/region=emea/{TIME}/empty.csv", b""),
    ("empty", f"uploads/raw_sales/region=emea/{TIME}/header only.csv", b"sku,units\n"),
    ("traversal", f"uploads/raw_sales/region=emea/{TIME}/../../../artifacts/raw_sales/x.csv", csv_bytes([("a", 1)])),
    ("traversal", f"uploads/raw_sales/%2e%2e/region=emea/{TIME}/x.csv", csv_bytes([("a", 1)])),
    ("oversize", f"uploads/raw_sales/region=emea/{TIME}/big.csv", csv_bytes([("a", 1)] * 1000)),
]


def test_each_bad_upload_is_quarantined_with_its_reason_and_changes_nothing_else(server, monkeypatch):
    from chalicelib.uploads.handler import default_uploads

    monkeypatch.setenv("CASCADE_MAX_UPLOAD_BYTES", "2048")  # the stage setting, as the function's environment
    default_uploads.cache_clear()
    s3, bucket = plain(server, "s3"), server.settings.bucket

    def world() -> tuple[Any, ...]:
        return (versions(server), [e["id"] for e in executions(server)], keys(server, "artifacts/"),
                keys(server, "runs/"))

    before = world()
    for i, (reason, key, body) in enumerate(BAD):
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        server.wait_quiet(30)
        assert server.errors == [], key
        records = failed_uploads(server)
        assert len(records) == i + 1, key
        record = next(r for r in records if r["key"] == key)
        assert record["reason"] == reason, (key, record["message"])
        assert record["at"] and record["uploaded_at"] and record["bucket"] == bucket
        copy = s3.get_object(Bucket=bucket, Key=record["quarantine_key"])["Body"].read()
        assert copy == body
        assert world() == before, f"{key} changed something besides the quarantine"
    assert len(keys(server, "quarantine/")) == len(BAD)

    # bad uploads block nothing: a good one right after still becomes a version and runs downstream
    s3.put_object(Bucket=bucket, Key=f"uploads/raw_sales/region=emea/{TIME}/good.csv", Body=csv_bytes([("a", 3)]))
    server.wait_quiet(30)
    [version] = versions(server)
    assert version["partitions"] == {"region": "emea"}
    [run] = executions(server)
    assert run["status"] == "SUCCEEDED" and run["triggered_by"]["version"] == version["version"]


def test_registration_stores_artifact_declarations_once(cloud):
    from chalicelib import aws
    from chalicelib.store.declarations import Declarations

    defs = loader.load_paths([EXAMPLES / "uploads.py"])
    first = register_all(cloud, defs)
    assert first.artifacts == ["price_list", "raw_sales", "sales_report"]
    assert sorted(c for c in first.changed if c.startswith("declared")) == [
        "declared artifact price_list", "declared artifact raw_sales", "declared artifact sales_report"]
    assert register_all(cloud, defs).changed == []  # registering again changes nothing
    declarations = Declarations(cloud.settings.registry_table, aws.client("dynamodb", cloud.settings.region))
    raw = declarations.get("raw_sales")
    assert raw is not None
    assert (raw.partition_keys, raw.time_partitioned, raw.granularity, raw.accepts_uploads) == (
        ["region"], True, "DAY", True)
    report_decl = declarations.get("sales_report")
    assert report_decl is not None and report_decl.accepts_uploads is False
    assert declarations.get("never_declared") is None
