"""The Glue TableInput and the Athena view SQL of a DataFrame artifact (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.ops.catalog import VIEW_DIGEST, columns_of, covers, hive_type, table_input, view_sql
from chalicelib.store.declarations import ArtifactDeclaration
from chalicelib.store.models import make_version


def decl(name: str = "sales", keys: list[str] | None = None, timed: bool = True, granularity: str = "HOUR") -> ArtifactDeclaration:
    return ArtifactDeclaration(name=name, partition_keys=keys if keys is not None else ["region", "country"],
                               time_partitioned=timed, granularity=granularity, accepts_uploads=False)


COLUMNS = [{"Name": "amount", "Type": "double"}, {"Name": "sku", "Type": "string"}]


def test_table_input_is_a_projected_parquet_table_in_the_artifact_folder() -> None:
    t = table_input("bkt", decl(), COLUMNS, "abc")
    assert t["Name"] == "sales__versions" and t["TableType"] == "EXTERNAL_TABLE"
    sd = t["StorageDescriptor"]
    assert sd["Location"] == "s3://bkt/artifacts/sales/"
    assert sd["Columns"] == COLUMNS
    assert sd["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert sd["InputFormat"].endswith("MapredParquetInputFormat")
    # sorted keys, then the time partition: the order the folders nest in (store/layout.py)
    assert t["PartitionKeys"] == [{"Name": "country", "Type": "string"}, {"Name": "region", "Type": "string"},
                                  {"Name": "time_partition", "Type": "string"}]
    p = t["Parameters"]
    assert p["projection.enabled"] == "true" and p["EXTERNAL"] == "TRUE" and p[VIEW_DIGEST] == "abc"
    assert p["storage.location.template"] == \
        "s3://bkt/artifacts/sales/country=${country}/region=${region}/time_partition=${time_partition}/"
    assert p["projection.region.type"] == p["projection.country.type"] == "injected"
    assert p["projection.time_partition.type"] == "date"
    assert p["projection.time_partition.format"] == "yyyy-MM-dd'T'HH:mm:ss'Z'"
    assert p["projection.time_partition.interval.unit"] == "HOURS"
    assert p["projection.time_partition.range"].endswith(",NOW")


def test_the_projection_format_reads_the_folder_values() -> None:
    """The Java pattern, read as strftime, gives back the folder value store/layout.py writes."""
    from chalicelib.sdk.timeparts import iso

    when = datetime(2026, 11, 25, 13, tzinfo=timezone.utc)
    fmt = table_input("b", decl(), COLUMNS)["Parameters"]["projection.time_partition.format"]
    as_strftime = fmt.replace("yyyy", "%Y").replace("MM", "%m").replace("dd", "%d").replace("HH", "%H") \
        .replace("mm", "%M").replace("ss", "%S").replace("'", "")
    assert when.strftime(as_strftime) == iso(when)


def test_unpartitioned_table_has_no_partition_keys() -> None:
    t = table_input("b", decl("plain", [], False), COLUMNS)
    assert t["PartitionKeys"] == []
    assert t["Parameters"]["storage.location.template"] == "s3://b/artifacts/plain/"
    assert VIEW_DIGEST not in t["Parameters"]
    assert not any(k.startswith("projection.time_partition") for k in t["Parameters"])


def test_odd_names_become_glue_names() -> None:
    t = table_input("b", decl("Daily-Sales.v2", [], False), COLUMNS)
    assert t["Name"] == "daily_sales_v2__versions"
    assert t["StorageDescriptor"]["Location"] == "s3://b/artifacts/Daily-Sales.v2/"


def test_columns_lowercase_typed_and_partition_values_win() -> None:
    schema = [("Amount", "float64"), ("n", "int64"), ("flag", "bool"), ("at", "datetime64[ns, UTC]"),
              ("sku", "object"), ("region", "object"), ("AMOUNT", "int64"), ("c", "category")]
    assert columns_of(schema, ["region", "time_partition"]) == [
        {"Name": "amount", "Type": "double"}, {"Name": "n", "Type": "bigint"}, {"Name": "flag", "Type": "boolean"},
        {"Name": "at", "Type": "timestamp"}, {"Name": "sku", "Type": "string"}, {"Name": "c", "Type": "string"}]
    assert hive_type("int32") == "int" and hive_type("float32") == "float"


def test_view_picks_the_greatest_path_per_partition() -> None:
    sql = view_sql("cascade_dev", decl(keys=["region"]), COLUMNS)
    assert sql == (
        'CREATE OR REPLACE VIEW "cascade_dev"."sales" AS SELECT "amount", "sku", "region", "time_partition" FROM ('
        'SELECT *, "$path" AS "__path", max("$path") OVER (PARTITION BY "region", "time_partition") AS "__latest" '
        'FROM "cascade_dev"."sales__versions") AS "__versions" WHERE "__path" = "__latest"')


def test_view_of_an_unpartitioned_artifact_is_its_latest_version() -> None:
    sql = view_sql("db", decl("Daily-Sales", [], False), COLUMNS)
    assert 'VIEW "db"."daily_sales" AS SELECT "amount", "sku" FROM (' in sql
    assert "OVER () " in sql and '"db"."daily_sales__versions"' in sql


def test_version_ids_sort_by_time_so_the_greatest_path_is_the_latest() -> None:
    """What the view relies on: within one folder, a later version's path is greater, whatever its identity."""
    start = datetime(2026, 1, 1, 23, 59, 59, 999000, tzinfo=timezone.utc)
    times = [start + timedelta(milliseconds=m) for m in (0, 1, 2, 1000, 86_400_000, 40 * 86_400_000)]
    paths = [f"s3://b/artifacts/a/region=x/{make_version(t, 'id', str(i), seq=9 - i)}.parquet"
             for i, t in enumerate(times)]
    assert sorted(paths) == paths


def test_covers_ignores_what_glue_adds_but_not_what_differs() -> None:
    wanted = table_input("b", decl(), COLUMNS, "x")
    returned = {**wanted, "CreateTime": "now", "DatabaseName": "db",
                "StorageDescriptor": {**wanted["StorageDescriptor"], "Compressed": False}}
    assert covers(returned, wanted)
    assert not covers(returned, table_input("b", decl(), COLUMNS, "y"))
    assert not covers(returned, table_input("b", decl(), COLUMNS[:1], "x"))


def test_partition_keys_glue_cannot_spell_keep_their_folder_text() -> None:
    """A key `Sales-Region` is the column `sales_region`, and the folder still reads `Sales-Region=<value>`."""
    d = decl("s", ["Sales-Region"], False)
    t = table_input("b", d, COLUMNS)
    assert t["PartitionKeys"] == [{"Name": "sales_region", "Type": "string"}]
    assert t["Parameters"]["storage.location.template"] == "s3://b/artifacts/s/Sales-Region=${sales_region}/"
    assert t["Parameters"]["projection.sales_region.type"] == "injected"
    assert 'PARTITION BY "sales_region"' in view_sql("db", d, COLUMNS)


def test_schema_comes_from_the_footer_alone() -> None:
    import pandas as pd
    import pytest

    from chalicelib.errors import ArtifactError
    from chalicelib.store import codec

    data = codec.dumps(pd.DataFrame({"a": range(50_000), "b": ["x"] * 50_000}), "parquet")
    need = codec.parquet_tail_bytes(data[-8:])
    assert need < 4096 < len(data)
    assert codec.parquet_schema(data[-need:]) == codec.parquet_schema(data) == [("a", "int64"), ("b", "object")]
    with pytest.raises(ArtifactError, match="not parquet"):
        codec.parquet_tail_bytes(b'{"json": 1}')


def test_view_sql_runs_and_keeps_each_partitions_latest_version() -> None:
    """The statement as submitted, run by DuckDB over a table with the same columns and a `"$path"` column."""
    import duckdb

    def path(region: str, day: str, minute: int) -> str:
        version = make_version(datetime(2026, 11, 25, 9, minute, tzinfo=timezone.utc), region, str(minute))
        return f"s3://b/artifacts/sales/region={region}/time_partition={day}/{version}.parquet"

    con = duckdb.connect(":memory:")
    con.execute("CREATE SCHEMA cascade_dev")
    con.execute('CREATE TABLE cascade_dev.sales__versions (amount DOUBLE, sku VARCHAR, region VARCHAR, '
                'time_partition VARCHAR, "$path" VARCHAR)')
    rows = [(1, "a", "emea", "2026-11-24T00:00:00Z", path("emea", "2026-11-24T00:00:00Z", 0)),
            (2, "b", "emea", "2026-11-24T00:00:00Z", path("emea", "2026-11-24T00:00:00Z", 5)),  # newer: kept
            (3, "c", "emea", "2026-11-24T00:00:00Z", path("emea", "2026-11-24T00:00:00Z", 5)),  # same version
            (4, "d", "apac", "2026-11-24T00:00:00Z", path("apac", "2026-11-24T00:00:00Z", 1)),
            (5, "e", "emea", "2026-11-25T00:00:00Z", path("emea", "2026-11-25T00:00:00Z", 2))]
    con.executemany("INSERT INTO cascade_dev.sales__versions VALUES (?, ?, ?, ?, ?)", rows)
    con.execute(view_sql("cascade_dev", decl(keys=["region"]), COLUMNS))
    got = con.execute("SELECT amount FROM cascade_dev.sales ORDER BY amount").fetchall()
    assert got == [(2,), (3,), (4,), (5,)]
