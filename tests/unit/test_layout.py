"""The S3 key layout: the function that builds a key is the one that parses it, for every kind of version."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.errors import CascadeError
from chalicelib.sdk.charset import check_name, check_value
from chalicelib.store.layout import DataKey, data_key, files_prefix, holds, parse_data_key

V = "20261125T150000000Z-0a1b2c3d4e"


@pytest.mark.parametrize("key, parsed", [
    (f"artifacts/sales/region=emea/time_partition=2026-11-25T00:00:00Z/{V}.parquet", DataKey("sales", V, "object")),
    (f"artifacts/plain/{V}.json", DataKey("plain", V, "object")),
    (f"artifacts/orders/region=emea/time_partition=2026-11-25T00:00:00Z/{V}/orders.csv", DataKey("orders", V, "files")),
    (f"artifacts/reports/{V}/nested/deeper/part-0.txt", DataKey("reports", V, "files")),
    ("artifacts/README.txt", None),
    ("artifacts/../x/v.json", None),
    ("runs/abc/n0/o0.json", None),
    ("artifacts/sales/noext", None),
    ("artifacts/x/y/z/not-a-version/data.bin", None),
    (f"artifacts/sales/{V}.txt", None),  # not an extension the store writes
    (f"artifacts/sales/{V}//x", None),
])
def test_only_keys_of_the_artifact_layout_are_read(key, parsed):
    assert parse_data_key(key) == parsed


def _valid(check: Any) -> Any:
    def ok(text: str) -> bool:
        try:
            check(text)
        except CascadeError:
            return False
        return True
    return ok


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=12).filter(
    _valid(lambda n: check_name("artifact", n)))
values = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC-_.:0123456789 é", min_size=1, max_size=12).filter(
    _valid(lambda v: check_value("a", "k", v)))


@settings(max_examples=200, deadline=None)
@given(name=names, partitions=st.dictionaries(names, values, max_size=3), timed=st.booleans(),
       fmt=st.sampled_from(["parquet", "json"]), filename=st.sampled_from(["orders.csv", "a/b/c.bin", "x"]))
def test_every_key_the_store_builds_parses_back_to_its_version(name, partitions, timed, fmt, filename):
    tp = datetime(2026, 11, 25, 13, tzinfo=timezone.utc) if timed else None
    assert parse_data_key(data_key(name, partitions, tp, V, fmt)) == DataKey(name, V, "object")
    prefix = files_prefix(name, partitions, tp, V)
    assert parse_data_key(prefix + filename) == DataKey(name, V, "files")
    assert holds(f"s3://b/{prefix}", "b", prefix + filename)  # a directory version owns what is under it
    assert holds(f"s3://b/{prefix}{filename}", "b", prefix + filename)
    assert not holds(f"s3://b/{prefix}{filename}", "b", prefix + "other")
