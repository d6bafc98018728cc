"""Registration with a catalog keeps a Glue table and an Athena view per DataFrame artifact (moto's Glue and
Athena: the tables are real Glue calls; moto records Athena statements without running them)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pandas as pd

from tests.integration.conftest import load

DAY = datetime(2026, 11, 25, tzinfo=timezone.utc)
MADE = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)


def registrar(cloud: Any) -> Any:
    from chalicelib import aws
    from chalicelib.ops.catalog import Catalog
    from chalicelib.ops.register import Registrar, clients_like
    from chalicelib.store.registry import Registry

    s = cloud.settings
    sfn, ddb = aws.client("stepfunctions", s.region), aws.client("dynamodb", s.region)
    clients = clients_like(sfn)
    return Registrar(s, sfn, Registry(s, ddb), cloud.states_role_arn, clients, catalog=Catalog.of(s, clients, ddb))


def athena_statements(cloud: Any) -> list[str]:
    from chalicelib import aws

    athena = aws.client("athena", cloud.settings.region)
    ids = athena.list_query_executions()["QueryExecutionIds"]
    return [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids]


def test_registration_keeps_glue_tables_and_views(cloud: Any) -> None:
    from chalicelib import aws, naming
    from chalicelib.ops.catalog import VIEW_DIGEST, digest
    from chalicelib.store.artifacts import ArtifactStore
    from chalicelib.store.models import make_version

    s = cloud.settings
    glue = aws.client("glue", s.region)
    defs = load("cat_frames")

    first = registrar(cloud).register(defs)  # no version yet: no table, and a warning saying when it comes
    assert not any("Glue" in c for c in first.changed)
    assert any("'cat_sales' has no version yet" in w for w in first.warnings)

    store = ArtifactStore(s, aws.client("s3", s.region), aws.client("dynamodb", s.region))
    store.write("cat_sales", pd.DataFrame({"Amount": [1.5], "sku": ["a"], "region": ["x"]}), {"region": "emea"},
                DAY, make_version(MADE, "one"), produced_by="test")
    store.write("cat-empty", {"not": "a frame"}, {}, None, make_version(MADE, "two"), produced_by="test")
    store.write("Cat.Wide", pd.DataFrame({f"c{i}": [i] for i in range(400)}), {}, None, make_version(MADE, "w"),
                produced_by="test")

    store.write("cat_broken", b"not parquet", {}, None, make_version(MADE, "b"), produced_by="test", fmt="parquet")
    store.write("Cat-Sales", pd.DataFrame({"n": [1]}), {}, None, make_version(MADE, "c"), produced_by="test")

    second = registrar(cloud).register(defs)
    assert any(w.startswith("artifact 'cat_broken' version ") and "not readable parquet" in w
               for w in second.warnings)
    # the artifact spelled as Athena spells it keeps the name, whatever the sort order
    assert any("artifacts 'cat_sales' and 'Cat-Sales' both make Athena table 'cat_sales'" in w for w in second.warnings)
    database = [d["Name"] for d in glue.get_databases()["DatabaseList"]]
    assert database == [naming.glue_database(s.stage)]
    assert f"created Glue database {database[0]}" in second.changed
    table = glue.get_table(DatabaseName=database[0], Name="cat_sales__versions")["Table"]
    assert table["StorageDescriptor"]["Location"] == f"s3://{s.bucket}/artifacts/cat_sales/"
    assert table["StorageDescriptor"]["Columns"] == [{"Name": "amount", "Type": "double"},
                                                     {"Name": "sku", "Type": "string"}]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["region", "time_partition"]
    assert table["Parameters"]["projection.time_partition.interval.unit"] == "DAYS"
    tables = sorted(t["Name"] for t in glue.get_tables(DatabaseName=database[0])["TableList"])
    assert tables == ["cat_sales__versions", "cat_wide__versions"]  # a JSON artifact gets none
    wide = glue.get_table(DatabaseName=database[0], Name="cat_wide__versions")["Table"]
    assert [c["Name"] for c in wide["StorageDescriptor"]["Columns"]] == [f"c{i}" for i in range(400)]
    assert wide["StorageDescriptor"]["Location"] == f"s3://{s.bucket}/artifacts/Cat.Wide/"

    views = sorted(athena_statements(cloud))
    assert len(views) == 2 and views[0].startswith(f'CREATE OR REPLACE VIEW "{database[0]}"."cat_sales" AS ')
    assert views[1].startswith(f'CREATE OR REPLACE VIEW "{database[0]}"."cat_wide" AS ')
    assert table["Parameters"][VIEW_DIGEST] == digest(views[0])
    assert any(c == f"replaced Athena view {database[0]}.cat_sales" for c in second.changed)

    third = registrar(cloud).register(defs)  # nothing changed: no Glue update, no statement
    assert third.changed == []
    assert len(athena_statements(cloud)) == 2
    assert glue.get_table(DatabaseName=database[0], Name="cat_sales__versions")["Table"]["Parameters"] == \
        table["Parameters"]

    # another file's artifact with a clashing name does not take an existing table
    from chalicelib.runtime.loader import Definitions

    clash = load("cat_frames")
    clash = Definitions(artifacts={"Cat-Sales": clash.artifacts["Cat-Sales"]},
                        artifact_modules={"Cat-Sales": clash.artifact_modules["Cat-Sales"]})
    taken = registrar(cloud).register(clash)
    assert any("cat_sales__versions is another artifact's" in w for w in taken.warnings)
    assert glue.get_table(DatabaseName=database[0], Name="cat_sales__versions")["Table"]["Parameters"] == \
        table["Parameters"]

    # a new column in the newest version updates the table and replaces the view
    store.write("cat_sales", pd.DataFrame({"Amount": [2.0], "sku": ["b"], "qty": [3]}), {"region": "apac"},
                DAY, make_version(MADE.replace(hour=10), "three"), produced_by="test")
    fourth = registrar(cloud).register(defs)
    assert f"updated Glue table {database[0]}.cat_sales__versions" in fourth.changed
    columns = glue.get_table(DatabaseName=database[0], Name="cat_sales__versions")["Table"]["StorageDescriptor"]["Columns"]
    assert [c["Name"] for c in columns] == ["amount", "sku", "qty"]
    statements = athena_statements(cloud)
    assert len(statements) == 3 and sum('"qty"' in q for q in statements) == 1


def test_destroy_step_drops_the_stage_database(cloud: Any) -> None:
    """Destroy's catalog step deletes the stage's Glue database with its tables; a second run finds none."""
    from pathlib import Path

    from chalicelib import aws, naming
    from chalicelib.deploy.sequence import Deployment

    s = cloud.settings
    glue = aws.client("glue", s.region)
    database = naming.glue_database(s.stage)
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_database(DatabaseInput={"Name": "someone_elses"})
    glue.create_table(DatabaseName=database, TableInput={"Name": "t__versions"})
    deployment = Deployment(Path("."), s.stage, s.region, echo=lambda _: None)
    step = deployment._delete_catalog()
    assert (step.action, step.detail) == ("deleted", [f"Glue database {database}"])
    assert [d["Name"] for d in glue.get_databases()["DatabaseList"]] == ["someone_elses"]
    assert deployment._delete_catalog().action == "absent"
