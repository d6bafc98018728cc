"""`sql`: DuckDB over a stage's DataFrame artifacts on the local cloud, the latest version per partition."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pandas as pd
import pytest
from click.testing import CliRunner

T0 = datetime(2026, 11, 24, tzinfo=timezone.utc)
MADE = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def stage() -> Iterator[dict[str, Any]]:
    """sq_sales (region, daily): two versions of emea/T0, one of apac/T0, one of emea/T0+1 day; a dashed
    name; a JSON artifact. Each written through the store, as a task writes its outputs."""
    from chalicelib import aws
    from chalicelib.local.cloud import LocalCloud
    from chalicelib.store.artifacts import ArtifactStore
    from chalicelib.store.models import make_version

    with LocalCloud() as cloud:
        s = cloud.settings
        store = ArtifactStore(s, aws.client("s3", s.region), aws.client("dynamodb", s.region))

        def write(name: str, value: Any, partitions: dict[str, str], tp: datetime | None, minutes: int) -> str:
            version = make_version(MADE + timedelta(minutes=minutes), name, str(minutes))
            return store.write(name, value, partitions, tp, version, produced_by="test").version

        made = {
            "emea_old": write("sq_sales", pd.DataFrame({"amount": [1, 2], "region": ["x", "y"]}), {"region": "emea"}, T0, 0),
            "emea_new": write("sq_sales", pd.DataFrame({"amount": [10, 20, 30], "region": ["x", "y", "z"]}),
                              {"region": "emea"}, T0, 5),
            "apac": write("sq_sales", pd.DataFrame({"amount": [7]}), {"region": "apac"}, T0, 1),
            "emea_next": write("sq_sales", pd.DataFrame({"amount": [100]}), {"region": "emea"}, T0 + timedelta(days=1), 2),
            "dashed": write("sq-daily.v2", pd.DataFrame({"n": [1, 2, 3]}), {}, None, 0),
            "keyword": write("order", pd.DataFrame({"n": [4]}), {}, None, 0),
            "json": write("sq_settings", {"threshold": 3}, {}, None, 0),
        }
        yield made


@pytest.fixture
def sql(stage: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from chalicelib.cli import main

    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)

    def invoke(query: str, *args: str, ok: bool = True) -> Any:
        result = CliRunner().invoke(main, ["sql", query, *args])
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    return invoke


def rows(result: Any) -> list[dict[str, Any]]:
    return json.loads(result.stdout)


def test_latest_version_per_partition_by_default(sql: Any) -> None:
    got = rows(sql("SELECT region, time_partition, amount FROM sq_sales ORDER BY time_partition, region, amount",
                   "--json"))
    # emea/T0 has two versions: only the newer's three rows; the DataFrame's own `region` column gives way to
    # the partition's value
    assert got == [
        {"region": "apac", "time_partition": "2026-11-24T00:00:00.000Z", "amount": 7},
        {"region": "emea", "time_partition": "2026-11-24T00:00:00.000Z", "amount": 10},
        {"region": "emea", "time_partition": "2026-11-24T00:00:00.000Z", "amount": 20},
        {"region": "emea", "time_partition": "2026-11-24T00:00:00.000Z", "amount": 30},
        {"region": "emea", "time_partition": "2026-11-25T00:00:00.000Z", "amount": 100},
    ]


def test_versions_table_holds_every_version(sql: Any, stage: Any) -> None:
    got = rows(sql("SELECT version, count(*) AS n, min(created_at) AS created_at FROM sq_sales__versions "
                   "WHERE region = 'emea' AND time_partition = TIMESTAMP '2026-11-24' GROUP BY version ORDER BY version",
                   "--json"))
    assert [(r["version"], r["n"]) for r in got] == [(stage["emea_old"], 2), (stage["emea_new"], 3)]
    assert all(r["created_at"].endswith("Z") and len(r["created_at"]) == 24 for r in got)
    total = rows(sql("SELECT count(DISTINCT version) AS n FROM sq_sales__versions", "--json"))
    assert total == [{"n": 4}]


def test_columns_are_typed(sql: Any) -> None:
    got = rows(sql("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM sq_sales__versions)", "--json"))
    types = {r["column_name"]: r["column_type"] for r in got}
    assert types["time_partition"] == "TIMESTAMP" and types["created_at"] == "TIMESTAMP"
    assert types["region"] == "VARCHAR" and types["version"] == "VARCHAR"
    assert types["amount"] in ("BIGINT", "INTEGER")
    latest = rows(sql("SELECT column_name FROM (DESCRIBE SELECT * FROM sq_sales)", "--json"))
    assert [r["column_name"] for r in latest] == ["amount", "region", "time_partition"]  # no version columns
    # a timestamp compares as one: the day after T0 holds one version
    assert rows(sql("SELECT amount FROM sq_sales WHERE time_partition > TIMESTAMP '2026-11-24 12:00'", "--json")) \
        == [{"amount": 100}]


def test_csv_and_table_output(sql: Any, stage: Any) -> None:
    text = sql("SELECT region, amount FROM sq_sales WHERE region = 'apac'", "--csv").stdout
    assert list(csv.reader(io.StringIO(text))) == [["region", "amount"], ["apac", "7"]]
    table = sql("SELECT DISTINCT version FROM sq_sales__versions ORDER BY version").stdout
    assert stage["emea_old"] in table and "4 row(s)" in table


def test_a_name_with_dots_and_dashes_is_quoted(sql: Any) -> None:
    assert rows(sql('SELECT sum(n) AS s FROM "sq-daily.v2"', "--json")) == [{"s": 6}]
    bad = sql("SELECT * FROM sq-daily.v2", ok=False)
    assert bad.exit_code == 1
    message = bad.output.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert 'SELECT * FROM "sq-daily.v2"' in message


def test_a_reserved_word_is_quoted(sql: Any) -> None:
    assert rows(sql('SELECT n FROM "order"', "--json")) == [{"n": 4}]
    bad = sql("SELECT n FROM order", ok=False)
    assert bad.exit_code == 1 and 'SELECT * FROM "order"' in bad.output


def test_unknown_table_names_it_and_lists_the_tables(sql: Any) -> None:
    bad = sql("SELECT * FROM sq_nope", ok=False)
    assert bad.exit_code == 1
    line = bad.output.strip()
    assert len(line.splitlines()) == 1
    assert "'sq_nope'" in line and "sq_sales" in line and "sq-daily.v2" in line and "__versions" in line


def test_json_artifact_is_not_a_table(sql: Any) -> None:
    bad = sql("SELECT * FROM sq_settings", ok=False)
    assert bad.exit_code == 1
    assert "'sq_settings' holds json values, not DataFrames" in bad.output


def test_failing_sql_is_one_line(sql: Any) -> None:
    for query in ("SELEC 1", "SELECT nope FROM sq_sales", "SELECT 1/'x'::INTEGER", ""):
        bad = sql(query, ok=False)
        assert bad.exit_code == 1, (query, bad.output)
        assert bad.output.startswith("error: ") and len(bad.output.strip().splitlines()) == 1, bad.output
    assert "nope" in sql("SELECT nope FROM sq_sales", ok=False).output


def test_json_and_csv_are_exclusive(sql: Any) -> None:
    bad = sql("SELECT 1", "--json", "--csv", ok=False)
    assert bad.exit_code == 1 and "--json and --csv" in bad.output


def test_a_query_with_its_own_tables_runs(sql: Any) -> None:
    got = rows(sql("WITH t AS (SELECT 1 AS one) SELECT one FROM t", "--json"))
    assert got == [{"one": 1}]

