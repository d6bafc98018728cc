"""Hostile uploads and events: whatever arrives, each upload ends as a version or in `uploads --failed`, with
its reason, and the upload function never crashes. Objects are put with a plain boto3 client into the local
cloud's bucket, so the S3 notification invokes the function as on AWS; malformed events are invoked through
the Lambda API with real event shapes from tests/events/."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from typing import Any, Iterator
from urllib.parse import quote_plus

import pandas as pd
import pytest

from chalicelib.cli.local import register_all
from chalicelib.runtime import loader
from tests.conftest import EXAMPLES, load_event
from tests.integration.test_uploads import executions, failed_uploads, plain, versions

TIME = "time_partition=2026-11-25"


@pytest.fixture
def server() -> Iterator[Any]:
    from chalicelib.local.server import LocalServer

    with LocalServer(port=0) as s:
        register_all(s, loader.load_paths([EXAMPLES / "uploads.py"]))
        yield s


def put(server: Any, key: str, body: bytes) -> str:
    etag = plain(server, "s3").put_object(Bucket=server.settings.bucket, Key=key, Body=body)["ETag"]
    server.wait_quiet(60)
    return etag.strip('"')


def failed_by_key(server: Any) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in failed_uploads(server)}


def invoke(server: Any, event: Any) -> dict[str, Any]:
    resp = plain(server, "lambda").invoke(FunctionName=f"{server.settings.prefix}on_upload",
                                          Payload=json.dumps(event).encode())
    payload = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, payload
    return payload


def test_deep_json_and_out_of_range_time_partitions_are_quarantined(server):
    probes = {
        "uploads/price_list/deep.json": (b"[" * 100_000 + b"]" * 100_000, "too_deep"),
        "uploads/price_list/deep 65.json": (b"[" * 65 + b"]" * 65, "too_deep"),
        "uploads/raw_sales/region=emea/time_partition=9999-12-31T23:00:00-05:00/late.csv":
            (b"sku,units\na,1\n", "time_partition_out_of_range"),
        "uploads/raw_sales/region=emea/time_partition=0001-01-01T00:00:00+01:00/early.csv":
            (b"sku,units\na,1\n", "time_partition_out_of_range"),
    }
    for key, (body, _) in probes.items():
        put(server, key, body)
    assert server.errors == []
    failed = failed_by_key(server)
    assert {k: failed[k]["reason"] for k in probes} == {k: reason for k, (_, reason) in probes.items()}
    assert "limit is 64 (CASCADE_MAX_JSON_DEPTH)" in failed["uploads/price_list/deep.json"]["message"]
    assert "outside the years 1-9999" in failed[next(k for k in probes if "9999" in k)]["message"]
    for record in failed.values():  # the bytes are kept for the operator
        copy = plain(server, "s3").get_object(Bucket=server.settings.bucket, Key=record["quarantine_key"])
        assert copy["Body"].read() == probes[record["key"]][0]
    assert versions(server) == [] and executions(server) == []
    # the extremes that are in range still make versions
    put(server, "uploads/raw_sales/region=emea/time_partition=9999-12-31T23:00:00Z/last.csv", b"sku,units\na,1\n")
    [version] = versions(server)
    assert version["time_partition"] == "9999-12-31T00:00:00Z"


def test_a_csv_is_converted_in_chunks_to_the_same_table_as_one_read(server, monkeypatch):
    from chalicelib.uploads.handler import default_uploads

    monkeypatch.setenv("CASCADE_CSV_CHUNK_BYTES", str(256 * 1024))  # a few MiB make many chunks
    default_uploads.cache_clear()
    lines = [f"s{i},{i},{i * 0.25},{'north' if i % 3 else 'south'}\n" for i in range(120_000)]
    lines[100_000] = "s100000,,not a number,north\n"  # late in the file: units becomes float, price text
    body = ("sku,units,price,region\n" + "".join(lines)).encode()
    assert len(body) > 3 * 1024 * 1024
    put(server, f"uploads/raw_sales/region=emea/{TIME}/big.csv", body)
    assert server.errors == [] and failed_uploads(server) == []
    [version] = versions(server)
    key = version["uri"].removeprefix(f"s3://{server.settings.bucket}/")
    stored = plain(server, "s3").get_object(Bucket=server.settings.bucket, Key=key)["Body"].read()
    from fastparquet import ParquetFile

    assert len(ParquetFile(io.BytesIO(stored)).row_groups) > 5  # one per chunk
    table = pd.read_parquet(io.BytesIO(stored), engine="fastparquet")
    whole = pd.read_csv(io.BytesIO(body), dtype={"price": str})  # one read of the whole file, as before
    assert table.dtypes.astype(str).to_dict() == {"sku": "object", "units": "float64", "price": "object",
                                                  "region": "object"}
    pd.testing.assert_frame_equal(table, whole)
    [run] = executions(server)
    assert run["status"] == "SUCCEEDED" and run["outputs"]["o0"]["rows"] == 120_000


def test_a_failure_of_our_own_code_quarantines_the_object_with_its_error(server):
    """A version id already taken by another producer (VersionConflictError) is no fault of the file, and no
    AWS error either: the object is quarantined as processing_error, and nothing is retried for ever."""
    from chalicelib.ops.stage import Stage
    from chalicelib.store.models import make_version
    from chalicelib.uploads.keys import object_id

    bucket = server.settings.bucket
    plain(server, "s3").put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    key = f"uploads/raw_sales/region=emea/{TIME}/x.csv"
    etag = put(server, key, b"sku,units\na,1\n")
    record = load_event("s3_put_moto.json")["Records"][0]
    record["s3"]["bucket"] = {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"}
    record["s3"]["object"].update({"key": quote_plus(key), "size": 14, "eTag": etag})
    at = datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00"))
    taken = make_version(at, "upload", bucket, key, etag)
    Stage(server.settings).store.write("raw_sales", pd.DataFrame({"sku": ["z"], "units": [9]}), {"region": "emea"},
                                       datetime(2026, 11, 25, tzinfo=timezone.utc), taken, produced_by="someone")
    server.wait_quiet(60)

    assert invoke(server, {"Records": [record]})["uploads"][0]["outcome"] == "quarantined"
    [failed] = failed_uploads(server)
    assert failed["reason"] == "processing_error" and failed["key"] == key
    assert "VersionConflictError" in failed["message"] and failed["id"] == object_id(bucket, key, None, etag)
    assert invoke(server, {"Records": [record]})["uploads"][0]["outcome"] == "duplicate"
    assert server.errors == []


def test_malformed_events_are_recorded_and_test_events_skipped(server):
    assert invoke(server, load_event("s3_test_event.json")) == {"uploads": [], "test_event": True}
    without_key = load_event("s3_record_without_key.json")
    for event in ({}, {"Records": []}, without_key, {"Records": "x"}):
        assert invoke(server, event)["uploads"][0]["outcome"] == "malformed"
    invoke(server, without_key)  # a redelivery finds its record
    failed = failed_uploads(server)
    assert [r["reason"] for r in failed] == ["malformed_event"] * 4
    messages = " | ".join(r["message"] for r in failed)
    assert "no 'Records' list" in messages and "an empty 'Records' list" in messages
    assert "s3.object.key is None" in messages
    [no_key] = [r for r in failed if "s3.object.key" in r["message"]]
    assert no_key["bucket"] == "cascade-local-123456789012-us-east-1" and json.loads(no_key["event"])["s3"]
    assert server.errors == []


def test_an_invocation_that_keeps_failing_lands_in_the_upload_dead_letter_queue(server):
    """AWS errors are raised so that Lambda retries; after the retries the event is in the queue named by the
    stack output UploadDlqUrl, and `uploads --failed` shows it."""
    from chalicelib import aws
    from chalicelib.local.faults import FaultInjector

    faults = FaultInjector(rate=1.0, operations=["GetObject"]).attach(aws.client("s3", server.settings.region))
    key = f"uploads/raw_sales/region=emea/{TIME}/unlucky.csv"
    try:
        put(server, key, b"sku,units\na,1\n")
    finally:
        faults.detach()
    assert [e.function for e in server.errors] == [f"{server.settings.prefix}on_upload"] * 3  # 1 + 2 retries
    [letter] = failed_uploads(server)
    assert letter["reason"] == "dead_letter" and letter["key"] == key
    assert "RetriesExhausted after 3 attempt(s): UploadProcessingError" in letter["message"]
    assert versions(server) == []
    # listing leaves the message in the queue
    assert [r["key"] for r in failed_uploads(server)] == [key]


def test_lambdas_on_failure_record_reads_as_the_uploads_it_carries():
    from chalicelib.uploads.deadletters import entries

    body = json.dumps(load_event("lambda_async_on_failure_upload.json"))
    [entry] = entries("m1", body)
    assert entry["key"].startswith("uploads/raw_sales/region=north america/")
    assert entry["reason"] == "dead_letter" and "SlowDown" in entry["message"]
    [odd] = entries("m2", "not json")
    assert odd["reason"] == "dead_letter" and "not Lambda's on-failure record" in odd["message"]
