"""The Athena face of a deployed stage: a Glue table and an Athena view per DataFrame artifact.

Athena users get the two tables `python -m chalicelib sql` gives (chalicelib/cli/sql.py), in the stage's Glue
database (naming.glue_database):

  <name>__versions  a Glue external table over every parquet version in the artifact's folder; `"$path"` names
                    the version (`.../<version>.parquet`)
  <name>            an Athena view of it: the rows of the latest version of each partition

Both carry the DataFrame's columns, then the partition keys and `time_partition` as strings (the folder values:
`2026-11-25T00:00:00Z`). The partitions are projected (partition projection), never listed: a new partition is
queryable as soon as its first version is written, with no crawler and no MSCK REPAIR.

Columns come from the newest version's parquet footer, read through the store at registration. An artifact
with no version yet gets no table: registering again after its first version makes it (said in a warning).

Decide, then act: table_input and view_sql are pure; Catalog applies them, changing only what differs, and
records the view's SQL digest on the table so an unchanged view is not resubmitted.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Callable

from chalicelib import naming
from chalicelib.aws import error_code
from chalicelib.config import Settings
from chalicelib.store import codec, layout
from chalicelib.store.declarations import ArtifactDeclaration
from chalicelib.sdk.timeparts import TIME_PARTITION

VERSIONS = "__versions"  # the suffix `sql` gives the every-version table
VIEW_DIGEST = "cascade_view_sha256"
WORKGROUP = "primary"
FOOTER_GUESS = 64 * 1024  # bytes read from the end of the newest version for its schema
# Partition projection of the time partition. Its folder values are ISO times with `Z` (2026-11-25T00:00:00Z):
# the `date` projection type reads them with this Java DateTimeFormatter pattern (the `Z` quoted as a literal),
# so `WHERE time_partition >= '2026-11-01T00:00:00Z'` prunes folders. `injected` would accept any text but
# forces every query to name one exact time; `date` needs a range, from a start before any time partition to NOW.
TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss'Z'"
TIME_RANGE = "2000-01-01T00:00:00Z,NOW"
TIME_UNITS = {"MINUTE": "MINUTES", "HOUR": "HOURS", "DAY": "DAYS", "MONTH": "MONTHS"}
PARQUET = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                  "Parameters": {"serialization.format": "1"}},
}
HIVE_TYPES = {"int8": "tinyint", "int16": "smallint", "int32": "int", "int64": "bigint",
              "uint8": "smallint", "uint16": "int", "uint32": "bigint", "uint64": "bigint",
              "float32": "float", "float64": "double", "bool": "boolean", "boolean": "boolean"}


def hive_type(dtype: str) -> str:
    """The Glue (Hive) type of a pandas dtype as fastparquet reads it; text and anything else is a string."""
    if dtype.startswith("datetime64"):
        return "timestamp"
    return HIVE_TYPES.get(dtype.lower(), "string")


def columns_of(schema: list[tuple[str, str]], partition_columns: list[str]) -> list[dict[str, str]]:
    """Glue columns of a DataFrame schema: lowercase names (Athena's), the first of names equal but for case,
    and none named like a partition column (the partition's value replaces it, as in `sql`)."""
    taken = set(partition_columns)
    out: list[dict[str, str]] = []
    for name, dtype in schema:
        lower = name.lower()
        if lower in taken:
            continue
        taken.add(lower)
        out.append({"Name": lower, "Type": hive_type(dtype)})
    return out


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def view_sql(database: str, declaration: ArtifactDeclaration, columns: list[dict[str, str]]) -> str:
    """`CREATE OR REPLACE VIEW <name>`: the rows of each partition's greatest `"$path"`. A partition's versions
    share its folder and differ only in `<version>.parquet`, and version ids begin with the UTC time they were
    made, fixed-width (store.models.make_version), so the greatest path is the latest version."""
    parts = partition_columns(declaration)
    table = f"{quoted(database)}.{quoted(naming.catalog_name(declaration.name) + VERSIONS)}"
    view = f"{quoted(database)}.{quoted(naming.catalog_name(declaration.name))}"
    picked = ", ".join(quoted(c) for c in [*(c["Name"] for c in columns), *parts])
    by = f"PARTITION BY {', '.join(quoted(p) for p in parts)}" if parts else ""
    return (f"CREATE OR REPLACE VIEW {view} AS SELECT {picked} FROM ("
            f'SELECT *, "$path" AS "__path", max("$path") OVER ({by}) AS "__latest" FROM {table}'
            f') AS "__versions" WHERE "__path" = "__latest"')


def partition_columns(declaration: ArtifactDeclaration) -> list[str]:
    """The table's partition columns: the partition folders' keys as Glue spells columns (naming.catalog_name)."""
    keys = layout.partition_columns(declaration.partition_keys, declaration.time_partitioned)
    return [naming.catalog_name(k) for k in keys]


def digest(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


def table_input(bucket: str, declaration: ArtifactDeclaration, columns: list[dict[str, str]],
                view_digest: str | None = None) -> dict[str, Any]:
    """The Glue TableInput of an artifact's every-version table: parquet in its folder, partitions projected."""
    name = declaration.name
    parts = partition_columns(declaration)
    params = {"EXTERNAL": "TRUE", "classification": "parquet", "projection.enabled": "true",
              "storage.location.template": layout.location_template(
                  bucket, name, declaration.partition_keys, declaration.time_partitioned, naming.catalog_name)}
    for key in parts:
        if key == TIME_PARTITION and declaration.time_partitioned:
            params.update({f"projection.{key}.type": "date", f"projection.{key}.format": TIME_FORMAT,
                           f"projection.{key}.range": TIME_RANGE, f"projection.{key}.interval": "1",
                           f"projection.{key}.interval.unit": TIME_UNITS.get(declaration.granularity, "DAYS")})
        else:  # values are not known in advance: queries give them (`WHERE region = 'eu'`)
            params[f"projection.{key}.type"] = "injected"
    if view_digest:
        params[VIEW_DIGEST] = view_digest
    return {
        "Name": naming.catalog_name(name) + VERSIONS,
        "Description": f"every version of artifact {name}; \"$path\" ends in <version>.parquet",
        "TableType": "EXTERNAL_TABLE",
        "Parameters": params,
        "PartitionKeys": [{"Name": p, "Type": "string"} for p in parts],
        "StorageDescriptor": {"Columns": columns, "Location": layout.artifact_location(bucket, name), **PARQUET},
    }


def covers(current: Any, wanted: Any) -> bool:
    """Does what Glue returns hold everything we asked for? (it adds fields of its own)"""
    if isinstance(wanted, dict):
        return isinstance(current, dict) and all(covers(current.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(current, list) and len(current) == len(wanted) and all(map(covers, current, wanted))
    return bool(current == wanted)


class Catalog:
    """Glue tables and Athena views of a stage's DataFrame artifacts (clients injected)."""

    def __init__(self, settings: Settings, glue: Any, athena: Any, store: Any, wait_seconds: float = 60) -> None:
        self.settings = settings
        self.glue = glue
        self.athena = athena
        self.store = store
        self.database = naming.glue_database(settings.stage, settings.app_name)
        self.wait_seconds = wait_seconds

    @classmethod
    def of(cls, settings: Settings, clients: Callable[[str], Any], dynamodb: Any) -> Catalog:
        from chalicelib.store.artifacts import ArtifactStore

        store = ArtifactStore(settings, clients("s3"), dynamodb)
        return cls(settings, clients("glue"), clients("athena"), store)

    def apply(self, declarations: list[ArtifactDeclaration]) -> tuple[list[str], list[str]]:
        """Create or update each DataFrame artifact's table and view: (what changed, warnings)."""
        changed: list[str] = []
        warnings: list[str] = []
        names: dict[str, str] = {}
        ensured = False
        # where two names make one Athena name, the one spelled as Athena spells it comes first, and keeps it
        for decl in sorted(declarations, key=lambda d: (naming.catalog_name(d.name) != d.name, d.name)):
            table = naming.catalog_name(decl.name)
            parts = partition_columns(decl)
            if len(set(parts)) < len(parts):
                warnings.append(f"artifact {decl.name!r} has partition keys {sorted(decl.partition_keys)} that "
                                f"Athena spells alike ({parts}), so no Athena table: rename one")
                continue
            if table in names:
                warnings.append(f"artifacts {names[table]!r} and {decl.name!r} both make Athena table {table!r}; "
                                f"{decl.name!r} gets none: rename one")
                continue
            try:
                newest = self.store.versions(decl.name, limit=1)
                if not newest:
                    warnings.append(f"artifact {decl.name!r} has no version yet, so no Athena table: register "
                                    f"again after its first version")
                    continue
                if newest[0].format != "parquet":
                    continue  # not a DataFrame artifact
                names[table] = decl.name
                try:
                    columns = columns_of(codec.parquet_schema(self._footer(newest[0].uri)), parts)
                except Exception as exc:  # a damaged or foreign object: the table waits for a readable one
                    warnings.append(f"artifact {decl.name!r} version {newest[0].version} is not readable parquet "
                                    f"({type(exc).__name__}: {exc}), so no Athena table")
                    continue
                if not ensured and self._ensure_database():
                    changed.append(f"created Glue database {self.database}")
                ensured = True
                changed += self._apply(decl, columns, warnings)
            except Exception as exc:
                if not error_code(exc):
                    raise
                # the state machines and launch plans are registered: say what the catalog lacks, go on
                warnings.append(f"Athena table of artifact {decl.name!r} not updated: {error_code(exc)} ({exc}); "
                                f"the operator's credentials need glue:GetDatabase, glue:CreateDatabase, "
                                f"glue:GetTable, glue:CreateTable, glue:UpdateTable and athena:StartQueryExecution")
        return changed, warnings

    def _apply(self, decl: ArtifactDeclaration, columns: list[dict[str, str]], warnings: list[str]) -> list[str]:
        table = naming.catalog_name(decl.name)
        sql = view_sql(self.database, decl, columns)
        wanted = table_input(self.settings.bucket, decl, columns, digest(sql))
        action = self._put_table(wanted)
        if action is None:
            return []
        if action == "taken":
            warnings.append(f"Athena table {self.database}.{wanted['Name']} is another artifact's (its location is "
                            f"not {wanted['StorageDescriptor']['Location']}), so artifact {decl.name!r} gets none: "
                            f"rename one")
            return []
        changed = [f"{action} Glue table {self.database}.{wanted['Name']}"]
        failure = self._run(sql)
        if failure:  # the digest must not claim a view that is not there: the next registration retries
            self._put_table(table_input(self.settings.bucket, decl, columns))
            warnings.append(f"Athena view {self.database}.{table} was not created: {failure}")
        else:
            changed.append(f"replaced Athena view {self.database}.{table}")
        return changed

    def _footer(self, uri: str) -> bytes:
        """The end of a parquet object holding its footer: one ranged read, two when the footer is large."""
        tail = self.store.read_tail(uri, FOOTER_GUESS)
        need = codec.parquet_tail_bytes(tail)
        return tail if need <= len(tail) else self.store.read_tail(uri, need)

    def _ensure_database(self) -> bool:
        try:
            self.glue.get_database(Name=self.database)
            return False
        except Exception as exc:
            if error_code(exc) != "EntityNotFoundException":
                raise
        self.glue.create_database(DatabaseInput={
            "Name": self.database, "Description": f"DataFrame artifacts of stage {self.settings.stage}"})
        return True

    def _put_table(self, wanted: dict[str, Any]) -> str | None:
        """"created", "updated", None when it holds what is wanted, "taken" when another artifact's folder has it."""
        try:
            current = self.glue.get_table(DatabaseName=self.database, Name=wanted["Name"])["Table"]
        except Exception as exc:
            if error_code(exc) != "EntityNotFoundException":
                raise
            self.glue.create_table(DatabaseName=self.database, TableInput=wanted)
            return "created"
        if covers(current, wanted):
            return None
        if current.get("StorageDescriptor", {}).get("Location") != wanted["StorageDescriptor"]["Location"]:
            return "taken"
        self.glue.update_table(DatabaseName=self.database, TableInput=wanted)
        return "updated"

    def _run(self, sql: str) -> str | None:
        """Submit one statement and wait for it: None when it succeeded, else Athena's reason."""
        qid = self.athena.start_query_execution(
            QueryString=sql, QueryExecutionContext={"Database": self.database}, WorkGroup=WORKGROUP,
            ResultConfiguration={"OutputLocation": layout.athena_results(self.settings.bucket)})["QueryExecutionId"]
        deadline = time.monotonic() + self.wait_seconds
        while True:
            status = self.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
            if status["State"] == "SUCCEEDED":
                return None
            if status["State"] in ("FAILED", "CANCELLED"):
                return str(status.get("StateChangeReason") or status["State"])
            if time.monotonic() > deadline:
                return f"still {status['State']} after {self.wait_seconds:.0f}s (query {qid})"
            time.sleep(0.5)


def drop_database(glue: Any, database: str) -> bool:
    """Delete a stage's Glue database with its tables and views; False when it was not there."""
    try:
        glue.delete_database(Name=database)
        return True
    except Exception as exc:
        if error_code(exc) == "EntityNotFoundException":
            return False
        raise
