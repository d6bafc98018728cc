"""S3 delivers at least once: the same event, delivered again and again (one after the other, or at the
same time), makes one version and one downstream execution; a batch with bad records still registers the
good one. Events are delivered the AWS way, by invoking the upload function through the Lambda API."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator
from urllib.parse import quote_plus

import pytest

from chalicelib.cli.local import register_all
from chalicelib.runtime import loader
from tests.conftest import EXAMPLES, load_event
from tests.integration.test_uploads import csv_bytes, executions, failed_uploads, plain, versions

TIME = "time_partition=2026-11-25"


@pytest.fixture
def server() -> Iterator[Any]:
    """The local cloud server with the bucket's notification removed, so that this test alone delivers."""
    from chalicelib.local.server import LocalServer

    with LocalServer(port=0) as s:
        register_all(s, loader.load_paths([EXAMPLES / "uploads.py"]))
        plain(s, "s3").put_bucket_notification_configuration(Bucket=s.settings.bucket, NotificationConfiguration={})
        yield s


def put(server: Any, key: str, body: bytes) -> dict[str, Any]:
    """Put an object and return the S3 record that announces it, in the shape moto sends."""
    s3, bucket = plain(server, "s3"), server.settings.bucket
    etag = s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"].strip('"')
    record = load_event("s3_put_moto.json")["Records"][0]
    record["s3"]["bucket"] = {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"}
    record["s3"]["object"].update({"key": quote_plus(key), "size": len(body), "eTag": etag})
    return record


def deliver(server: Any, records: list[dict[str, Any]]) -> dict[str, Any]:
    resp = plain(server, "lambda").invoke(FunctionName=f"{server.settings.prefix}on_upload",
                                          Payload=json.dumps({"Records": records}).encode())
    payload = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, payload
    return payload


def test_the_same_event_three_times_makes_one_version_and_one_execution(server):
    key = f"uploads/raw_sales/region=north america/{TIME}/ventes été.csv"
    record = put(server, key, csv_bytes([("a", 1), ("b", 2)]))
    outcomes = [deliver(server, [record])["uploads"][0] for _ in range(3)]
    server.wait_quiet(30)

    assert [o["outcome"] for o in outcomes] == ["registered", "duplicate", "duplicate"]
    assert len({o["version"] for o in outcomes}) == 1
    [version] = versions(server)
    assert version["version"] == outcomes[0]["version"] and version["partitions"] == {"region": "north america"}
    [run] = executions(server)
    assert run["status"] == "SUCCEEDED" and run["triggered_by"]["version"] == version["version"]
    assert server.errors == []


def test_the_same_event_three_times_at_once_makes_one_version_and_one_execution(server):
    record = put(server, f"uploads/raw_sales/region=emea/{TIME}/x.csv", csv_bytes([("a", 5)]))
    with ThreadPoolExecutor(3) as pool:
        outcomes = [p["uploads"][0] for p in pool.map(lambda _: deliver(server, [record]), range(3))]
    server.wait_quiet(30)

    assert len({o["version"] for o in outcomes}) == 1
    assert len(versions(server)) == 1
    [run] = executions(server)
    assert run["status"] == "SUCCEEDED"
    assert server.errors == []


def test_bad_records_do_not_block_the_good_one_in_the_same_event(server):
    bad_key = "uploads/raw_sales/region=emea/x.csv"  # no time partition
    records = [
        put(server, bad_key, csv_bytes([("a", 1)])),
        put(server, f"uploads/raw_sales/region=apac/{TIME}/good.csv", csv_bytes([("a", 2)])),
        put(server, f"uploads/raw_sales/region=emea/{TIME}/broken.json", b"{"),
    ]
    result = deliver(server, records)
    server.wait_quiet(30)

    assert [o["outcome"] for o in result["uploads"]] == ["quarantined", "registered", "quarantined"]
    [version] = versions(server)
    assert version["partitions"] == {"region": "apac"}
    assert [r["status"] for r in executions(server)] == ["SUCCEEDED"]
    assert sorted(r["reason"] for r in failed_uploads(server)) == ["time_partition_missing", "unparseable"]
    # and a redelivery of the whole batch changes nothing
    again = deliver(server, records)
    assert [o["outcome"] for o in again["uploads"]] == ["duplicate"] * 3
    assert len(versions(server)) == 1 and len(executions(server)) == 1 and len(failed_uploads(server)) == 2


def test_events_for_other_buckets_or_replaced_objects_change_nothing(server):
    # a real AWS event for another stage's bucket
    assert deliver(server, load_event("s3_put_aws.json")["Records"])["uploads"][0]["outcome"] == "ignored"
    # an event for content that has since been overwritten: the newer object has its own event
    key = f"uploads/raw_sales/region=emea/{TIME}/x.csv"
    old = put(server, key, csv_bytes([("a", 1)]))
    new = put(server, key, csv_bytes([("a", 2)]))
    assert deliver(server, [old])["uploads"][0]["outcome"] == "gone"
    assert versions(server) == [] and executions(server) == [] and failed_uploads(server) == []
    assert deliver(server, [new])["uploads"][0]["outcome"] == "registered"
    server.wait_quiet(30)
    assert len(versions(server)) == 1
