"""Upload keys: decoding real S3 event payloads, reading the layout, checking it against declarations."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib import Artifact, Granularity
from chalicelib.errors import EventError
from chalicelib.events.s3 import objects_created
from chalicelib.store.declarations import ArtifactDeclaration
from chalicelib.uploads.errors import Reason, UploadRejected
from chalicelib.uploads.keys import (
    UPLOAD_PREFIX,
    build_key,
    layout_for,
    object_id,
    parse_key,
    place,
    quarantine_key,
)
from tests.conftest import load_event

RAW_SALES = ArtifactDeclaration.of(Artifact("raw_sales", partition_keys=["region"], time_partitioned=True,
                                            accepts_uploads=True))
HOURLY = ArtifactDeclaration.of(Artifact("clicks", partition_keys=["site", "region"],
                                         time_partition_granularity=Granularity.HOUR, accepts_uploads=True))
PRICES = ArtifactDeclaration.of(Artifact("price_list", accepts_uploads=True))
REPORT = ArtifactDeclaration.of(Artifact("sales_report", partition_keys=["region"]))


# -- decoding real payloads ---------------------------------------------------------------------------
def test_real_aws_put_event_decodes_plus_as_space_and_percent_escapes_as_utf8():
    [obj] = objects_created(load_event("s3_put_aws.json"))
    assert obj.key == "uploads/raw_sales/region=north america/time_partition=2026-11-25T13:00:00+02:00/ventes été 2026.csv"
    assert obj.raw_key.startswith("uploads/raw_sales/region%3Dnorth+america/")
    assert obj.bucket == "cascade-dev-123456789012-us-east-1"
    assert obj.version_id == "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
    assert obj.identity == obj.version_id  # a versioned bucket: the version id names the content
    assert obj.sequencer == "0067448E68A1B2C3D4"
    assert obj.size == 18
    assert obj.event_time == datetime(2026, 11, 25, 15, 17, 28, 123000, tzinfo=timezone.utc)

    parsed = parse_key(obj.key)
    assert (parsed.artifact, parsed.partitions, parsed.filename, parsed.format) == (
        "raw_sales", {"region": "north america"}, "ventes été 2026.csv", "csv")
    # 13:00 at +02:00 is 11:00 UTC, which is 2026-11-25 at DAY granularity
    assert place(parsed, RAW_SALES, obj.key).time_partition == datetime(2026, 11, 25, tzinfo=timezone.utc)


def test_real_aws_batch_keeps_created_objects_only_and_decodes_encoded_plus():
    event = load_event("s3_mixed_aws.json")
    created = objects_created(event)
    assert [o.event_name for o in created] == ["ObjectCreated:CompleteMultipartUpload"]
    [obj] = created
    # '%2B' is a literal '+', '+' is a space, '%25' a literal '%'
    assert obj.key == "uploads/raw_sales/region=a+b/time_partition=2026-11-25/Q4 report (50%).parquet"
    assert obj.version_id is None and obj.identity == "d41d8cd98f00b204e9800998ecf8427e-4"
    assert parse_key(obj.key).partitions == {"region": "a+b"}


def test_moto_shape_encodes_slashes_and_has_no_sequencer():
    [obj] = objects_created(load_event("s3_put_moto.json"))
    assert obj.raw_key.startswith("uploads%2Fraw_sales%2F")
    assert obj.key == "uploads/raw_sales/region=north america/time_partition=2026-11-25T00:00:00+02:00/été 1.csv"
    assert obj.sequencer is None and obj.version_id is None and obj.identity == obj.etag
    placed = place(parse_key(obj.key), RAW_SALES, obj.key)
    assert placed.time_partition == datetime(2026, 11, 24, tzinfo=timezone.utc)  # 2026-11-24T22:00Z, floored


def test_s3_test_event_has_no_objects_and_other_events_are_refused():
    assert objects_created(load_event("s3_test_event.json")) == []
    with pytest.raises(EventError, match="Records"):
        objects_created(load_event("dynamodb_stream_insert.json")["Records"][0])
    with pytest.raises(EventError, match="eventSource"):
        objects_created(load_event("dynamodb_stream_insert.json"))


@given(value=st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9 _.:@+~-]{0,30}", fullmatch=True).filter(
    lambda v: ".." not in v and v == v.strip()),
    name=st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\"), min_size=1,
                 max_size=20).filter(lambda n: n not in (".", "..") and "%" not in n))
def test_any_allowed_value_survives_s3_encoding(value, name):
    """S3 encodes keys like quote_plus (spaces as '+', the rest as UTF-8 %XX); decoding gives the key back."""
    key = f"uploads/raw_sales/region={value}/time_partition=2026-11-25/{name}.csv"
    record = load_event("s3_put_moto.json")
    record["Records"][0]["s3"]["object"]["key"] = quote_plus(key)
    [obj] = objects_created(record)
    assert obj.key == key
    assert parse_key(obj.key).partitions == {"region": value}


# -- the layout ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", [
    "uploads/../artifacts/raw_sales/x.csv",
    "uploads/raw_sales/region=emea/../../artifacts/x.csv",
    "uploads/raw_sales/./region=emea/x.csv",
    "uploads/raw_sales/region=emea/time_partition=2026-11-25/..",
    "uploads/raw_sales/%2e%2e/x.csv",  # decodes once more to '..'
    "uploads/raw_sales/region=emea%2F..%2Fx/x.csv",  # hides a separator
    "uploads/raw_sales\\..\\artifacts/x.csv",
    "uploads/raw_sales/region=emea/x\x00.csv",
])
def test_traversal_attempts_are_refused(key):
    with pytest.raises(UploadRejected) as info:
        parse_key(key)
    assert info.value.reason is Reason.TRAVERSAL


@pytest.mark.parametrize("key, reason", [
    ("uploads/raw_sales.csv", Reason.BAD_KEY),
    ("uploads//raw_sales/x.csv", Reason.BAD_KEY),
    ("uploads/raw_sales/emea/x.csv", Reason.BAD_KEY),
    ("uploads/raw sales/x.csv", Reason.BAD_KEY),
    ("uploads/raw_sales/region=emea/region=apac/x.csv", Reason.BAD_KEY),
    ("uploads/raw_sales/time_partition=2026-11-25/time_partition=2026-11-26/x.csv", Reason.BAD_KEY),
    ("uploads/raw_sales/region=emea/x.xlsx", Reason.UNSUPPORTED_FORMAT),
    ("uploads/raw_sales/region=emea/.csv", Reason.UNSUPPORTED_FORMAT),
    ("uploads/raw_sales/region=île/x.csv", Reason.BAD_PARTITION_VALUE),
    ("uploads/raw_sales/region=a|b/x.csv", Reason.BAD_PARTITION_VALUE),
    ("uploads/raw_sales/region=/x.csv", Reason.BAD_PARTITION_VALUE),
    ("other/raw_sales/x.csv", Reason.BAD_KEY),
])
def test_keys_off_the_layout_are_refused_with_their_reason(key, reason):
    with pytest.raises(UploadRejected) as info:
        parse_key(key)
    assert info.value.reason is reason
    assert repr(key) in str(info.value) or key.split("/")[-1] in str(info.value)


def test_partition_segments_in_any_order_and_extension_case_is_ignored():
    parsed = parse_key("uploads/clicks/time_partition=2026-11-25T13:45:00Z/region=emea/site=shop/Data.JSON")
    assert parsed.partitions == {"region": "emea", "site": "shop"}
    assert parsed.format == "json"
    placed = place(parsed, HOURLY, "k")
    assert placed.time_partition == datetime(2026, 11, 25, 13, tzinfo=timezone.utc)


@pytest.mark.parametrize("key, declaration, reason", [
    ("uploads/raw_sales/region=emea/time_partition=2026-11-25/x.csv", None, Reason.UNKNOWN_ARTIFACT),
    ("uploads/sales_report/region=emea/x.csv", REPORT, Reason.UPLOADS_NOT_ACCEPTED),
    ("uploads/raw_sales/time_partition=2026-11-25/x.csv", RAW_SALES, Reason.PARTITION_MISMATCH),
    ("uploads/raw_sales/regoin=emea/time_partition=2026-11-25/x.csv", RAW_SALES, Reason.PARTITION_MISMATCH),
    ("uploads/raw_sales/region=emea/site=x/time_partition=2026-11-25/x.csv", RAW_SALES, Reason.PARTITION_MISMATCH),
    ("uploads/raw_sales/region=emea/x.csv", RAW_SALES, Reason.TIME_PARTITION_MISSING),
    ("uploads/raw_sales/region=emea/time_partition=yesterday/x.csv", RAW_SALES, Reason.TIME_PARTITION_INVALID),
    ("uploads/raw_sales/region=emea/time_partition=2026-13-01/x.csv", RAW_SALES, Reason.TIME_PARTITION_INVALID),
    ("uploads/price_list/time_partition=2026-11-25/x.json", PRICES, Reason.TIME_PARTITION_UNEXPECTED),
])
def test_keys_are_checked_against_the_declaration(key, declaration, reason):
    with pytest.raises(UploadRejected) as info:
        place(parse_key(key), declaration, key)
    assert info.value.reason is reason


def test_mismatch_message_names_the_keys_and_the_layout():
    key = "uploads/raw_sales/regoin=emea/time_partition=2026-11-25/x.csv"
    with pytest.raises(UploadRejected, match=r"partition keys \['region'\]; the key gives \['regoin'\]") as info:
        place(parse_key(key), RAW_SALES, key)
    assert layout_for(RAW_SALES) in str(info.value)


def test_a_time_without_offset_is_utc_and_a_date_is_midnight_utc():
    naive = "uploads/clicks/region=emea/site=shop/time_partition=2026-11-25T23:30:00/x.csv"
    assert place(parse_key(naive), HOURLY, naive).time_partition == datetime(2026, 11, 25, 23, tzinfo=timezone.utc)
    day = "uploads/raw_sales/region=emea/time_partition=2026-11-25/x.csv"
    assert place(parse_key(day), RAW_SALES, day).time_partition == datetime(2026, 11, 25, tzinfo=timezone.utc)


def test_build_key_round_trips_and_refuses_what_the_handler_would_refuse():
    tp = datetime(2026, 11, 25, tzinfo=timezone.utc)
    key = build_key(RAW_SALES, {"region": "north america"}, tp, "ventes été.csv")
    assert key == "uploads/raw_sales/region=north america/time_partition=2026-11-25T00:00:00Z/ventes été.csv"
    placed = place(parse_key(key), RAW_SALES, key)
    assert (placed.partitions, placed.time_partition) == ({"region": "north america"}, tp)
    with pytest.raises(UploadRejected) as info:
        build_key(RAW_SALES, {"region": "../x"}, tp, "x.csv")
    assert info.value.reason is Reason.BAD_PARTITION_VALUE
    with pytest.raises(UploadRejected) as info:
        build_key(RAW_SALES, {"region": "emea"}, None, "x.csv")
    assert info.value.reason is Reason.TIME_PARTITION_MISSING


def test_object_identity_is_stable_and_prefers_the_version_id():
    a = object_id("b", "uploads/x/y.csv", None, '"abc"')
    assert a == object_id("b", "uploads/x/y.csv", None, "abc") == object_id("b", "uploads/x/y.csv", "null", "abc")
    assert a != object_id("b", "uploads/x/y.csv", None, "abd")
    assert a != object_id("b", "uploads/x/z.csv", None, "abc")
    assert object_id("b", "k", "v1", "abc") == object_id("b", "k", "v1", "other") != object_id("b", "k", "v2", "abc")


def test_quarantine_key_is_flat_and_safe():
    assert quarantine_key("id1", "uploads/../../etc/passwd") == "quarantine/id1/passwd"
    assert quarantine_key("id1", "uploads/x/..") == "quarantine/id1/object"
    assert quarantine_key("id1", "uploads/x/ventes été.csv") == "quarantine/id1/ventes__t_.csv"


def test_the_app_notifies_the_upload_handler_for_created_objects_under_the_upload_prefix():
    import app

    [config] = [e for e in app.app.event_sources if type(e).__name__ == "S3EventConfig"]
    assert config.prefix == UPLOAD_PREFIX
    assert config.events == ["s3:ObjectCreated:*"]
    assert config.handler_string == "app.on_upload"
