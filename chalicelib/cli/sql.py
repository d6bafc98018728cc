"""`sql "SELECT ..."`: DuckDB over the stage's DataFrame artifacts, the latest version per partition by default.

Each artifact whose versions are DataFrames (parquet) is two tables:

  <name>            the latest version of every partition (every partition key and time partition seen)
  <name>__versions  every version, with `version` and `created_at`

Both carry the partition keys as VARCHAR columns and `time_partition` as a TIMESTAMP (UTC), after the
DataFrame's own columns; where a DataFrame has a column of the same name, the partition's value replaces it.
The versions and their objects come through the store; the parquet objects the query names are downloaded
into a temporary folder (DuckDB's S3 support is an extension it would download; this works offline and against
any endpoint) and read there. Only the tables the query names are loaded.
"""

from __future__ import annotations

import csv
import re
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from msgspec import Struct, field
import click
from rich.table import Table
from rich.text import Text

from chalicelib.cli import main
from chalicelib.cli.options import stage_options
from chalicelib.cli.output import out, print_json
from chalicelib.errors import CascadeError, InputError
from chalicelib.store.models import ArtifactVersion, iso_ms, partition_key

VERSIONS = "__versions"
TIME_PARTITION = "time_partition"
META = ("version", "created_at")
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SqlError(CascadeError):
    """A query DuckDB refused, or a table that is not there."""


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def needs_quotes(name: str, reserved: frozenset[str] = frozenset()) -> bool:
    """Must a query quote `name`: a dot or dash in it, or a reserved word (`order`, `select`...)?"""
    return not _PLAIN.fullmatch(name) or name.lower() in reserved


# -- decide (pure): which files make which table ---------------------------------------------------------
class ArtifactTables(Struct):
    """One artifact's DataFrame versions, and the latest of each partition."""

    name: str
    versions: list[ArtifactVersion]
    partition_keys: list[str] = field(default_factory=list)
    time_partitioned: bool = False

    @classmethod
    def of(cls, name: str, versions: list[ArtifactVersion]) -> ArtifactTables:
        frames = [v for v in versions if v.format == "parquet"]
        keys = sorted({k for v in frames for k in v.partitions})
        return cls(name, sorted(frames, key=lambda v: v.version), keys, any(v.time_partition for v in frames))

    def latest(self) -> list[ArtifactVersion]:
        """The greatest version of each (partitions, time partition): versions sort by when they were made."""
        newest: dict[tuple[str, datetime | None], ArtifactVersion] = {}
        for v in self.versions:
            slot = (partition_key(v.partitions), v.time_partition)
            if slot not in newest or v.version > newest[slot].version:
                newest[slot] = v
        return sorted(newest.values(), key=lambda v: v.version)

    def columns(self, every: bool) -> list[tuple[str, str]]:
        cols = [(k, "VARCHAR") for k in self.partition_keys]
        if self.time_partitioned:
            cols.append((TIME_PARTITION, "TIMESTAMP"))
        if every:
            cols += [("version", "VARCHAR"), ("created_at", "TIMESTAMP")]
        return cols

    def rows(self, versions: list[ArtifactVersion], every: bool, files: dict[str, str]) -> list[tuple[Any, ...]]:
        def naive(dt: datetime | None) -> datetime | None:
            return dt.astimezone(timezone.utc).replace(tzinfo=None) if dt else None

        out_: list[tuple[Any, ...]] = []
        for v in versions:
            row: list[Any] = [files[v.version], *(v.partitions.get(k) for k in self.partition_keys)]
            if self.time_partitioned:
                row.append(naive(v.time_partition))
            if every:
                row += [v.version, naive(v.created_at)]
            out_.append(tuple(row))
        return out_


def quote_hint(sql: str, artifacts: list[str], reserved: frozenset[str] = frozenset()) -> str:
    """A hint for an artifact name with '.' or '-', or a reserved word, that the query spells without quotes."""
    odd = [n for n in artifacts if needs_quotes(n, reserved)
           and re.search(rf"(?<![\w\"]){re.escape(n)}(?![\w\"])", sql, flags=re.IGNORECASE)]
    if not odd:
        return ""
    return (f"; artifact names with '.' or '-' and reserved words go in double quotes: "
            f"SELECT * FROM {quoted(odd[0])}")


def first_line(exc: BaseException) -> str:
    return " ".join(str(exc).split("\n")[0].split())


# -- act: download, load into DuckDB, query ------------------------------------------------------------
class SqlSession:
    """A DuckDB connection holding the tables one query needs, from one stage's store."""

    def __init__(self, store: Any, stage: str, folder: Path) -> None:
        import duckdb

        self.store = store
        self.stage = stage
        self.folder = folder
        self.con = duckdb.connect(":memory:")
        self.loaded: dict[str, str] = {}  # table name → artifact
        self.not_frames: dict[str, str] = {}  # artifact → the format its versions have instead

    def load(self, names: set[str]) -> None:
        import duckdb

        for table in sorted(names):
            artifact = table.removesuffix(VERSIONS) if table.endswith(VERSIONS) else table
            versions = self.store.versions(artifact, newest_first=False)
            if not versions:
                continue  # a name the query defines itself (a CTE), or one DuckDB will call unknown
            tables = ArtifactTables.of(artifact, versions)
            if not tables.versions:
                self.not_frames[artifact] = versions[-1].format
                continue
            try:
                self._create(table, tables, every=table.endswith(VERSIONS))
            except duckdb.Error as exc:  # e.g. versions whose columns have types that do not unite
                raise SqlError(f"artifact {artifact!r} cannot be read as table {table!r}: {first_line(exc)}") from exc

    def _create(self, table: str, tables: ArtifactTables, every: bool) -> None:
        chosen = tables.versions if every else tables.latest()
        files = self._download(chosen)
        meta = quoted(f"meta{len(self.loaded)}")
        cols = tables.columns(every)
        self.con.execute("CREATE SCHEMA IF NOT EXISTS cascade_meta")
        self.con.execute(f"CREATE TABLE cascade_meta.{meta} (filename VARCHAR"
                         + "".join(f", {quoted(c)} {t}" for c, t in cols) + ")")
        self.con.executemany(f"INSERT INTO cascade_meta.{meta} VALUES ({', '.join('?' * (len(cols) + 1))})",
                             tables.rows(chosen, every, files))
        ours = ", ".join(f"'{c}'" for c, _ in [("filename", ""), *cols])
        paths = ", ".join("'" + p.replace("'", "''") + "'" for p in files.values())
        picked = ", ".join(f"m.{quoted(c)}" for c, _ in cols)
        self.con.execute(
            f"CREATE VIEW {quoted(table)} AS SELECT COLUMNS(lambda c: c NOT IN ({ours})), {picked} "
            f"FROM read_parquet([{paths}], filename = true, union_by_name = true) AS d "
            f"JOIN cascade_meta.{meta} AS m USING (filename)")
        self.loaded[table] = tables.name

    def _download(self, versions: list[ArtifactVersion]) -> dict[str, str]:
        """version → local path of its parquet object (read through the store, a few at a time)."""
        def fetch(v: ArtifactVersion) -> tuple[str, str]:
            path = self.folder / f"{len(self.loaded)}-{v.version}.parquet"
            path.write_bytes(self.store.read_bytes(v.uri))
            return v.version, str(path)

        with ThreadPoolExecutor(max_workers=8) as pool:
            return dict(pool.map(fetch, versions))

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        import duckdb

        try:
            cur = self.con.execute(sql)
        except duckdb.CatalogException as exc:
            raise SqlError(self._unknown(exc, sql)) from exc
        except duckdb.Error as exc:
            raise SqlError(f"the query failed: {first_line(exc)}{quote_hint(sql, self.frame_artifacts())}") from exc
        if cur.description is None:  # a statement, not a query
            return [], []
        return [d[0] for d in cur.description], cur.fetchall()

    def _unknown(self, exc: BaseException, sql: str) -> str:
        message = first_line(exc)
        named = re.search(r'with name "?([^"\s!]+)"? does not exist', message)
        name = named.group(1) if named else None
        artifact = name.removesuffix(VERSIONS) if name else None
        if artifact in self.not_frames:
            return (f"artifact {artifact!r} holds {self.not_frames[artifact]} values, not DataFrames; `sql` reads "
                    f"DataFrame artifacts (parquet); read it with `artifacts show {artifact}`")
        odd = quote_hint(sql, self.frame_artifacts())
        if name is None or odd:
            return f"the query failed: {message}{odd}"
        known = self.frame_artifacts()
        listing = ", ".join(known) if known else "none yet"
        close = [k for k in known if k.lower() == (artifact or "").lower()]
        hint = f" (names are case-sensitive here: did you mean {quoted(close[0])}?)" if close else ""
        return (f"no table {name!r} in stage {self.stage!r}{hint}; tables are the DataFrame artifacts ({listing}), "
                f"each also as <name>{VERSIONS}; list artifacts with `artifacts`")

    def reserved(self) -> frozenset[str]:
        rows = self.con.execute("SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category = 'reserved'")
        return frozenset(r[0].lower() for r in rows.fetchall())

    def frame_artifacts(self) -> list[str]:
        return sorted({i["name"] for i in self.store.scan_versions(["name", "format"]) if i.get("format") == "parquet"})


def run_sql(store: Any, stage: str, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Columns and rows of `sql` over the stage's DataFrame artifacts."""
    if not sql.strip():
        raise InputError('the query is empty; e.g. sql "SELECT * FROM my_artifact LIMIT 10"')
    try:
        import duckdb
    except ImportError as exc:
        raise SqlError("`sql` needs DuckDB, a development dependency: pip install -r requirements-dev.txt") from exc

    with tempfile.TemporaryDirectory(prefix="cascade-sql-") as folder:
        session = SqlSession(store, stage, Path(folder))
        try:
            names = set(duckdb.get_table_names(sql))  # DuckDB parses it: only these tables are loaded
        except duckdb.Error as exc:
            hint = quote_hint(sql, session.frame_artifacts(), session.reserved())
            raise SqlError(f"the query does not parse: {first_line(exc)}{hint}") from exc
        session.load(names)
        return session.query(sql)


# -- printing --------------------------------------------------------------------------------------------
def cell(value: Any) -> Any:
    """A value as JSON and CSV show it: times in UTC with milliseconds and `Z`, like every view."""
    if isinstance(value, datetime):
        return iso_ms(value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, (list, tuple)):
        return [cell(v) for v in value]
    if isinstance(value, dict):
        return {str(k): cell(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def result_table(columns: list[str], rows: list[tuple[Any, ...]]) -> Table:
    table = Table(title=f"{len(rows)} row(s)", title_justify="left")
    for c in columns:
        table.add_column(Text(c), overflow="fold", no_wrap=c in ("version", "created_at", TIME_PARTITION))
    for row in rows:
        table.add_row(*(Text("NULL", style="dim") if v is None else Text(str(cell(v))) for v in row))
    return table


@main.command()
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as a JSON list of objects.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the rows as CSV with a header line.")
@stage_options
def sql(query: str, as_json: bool, as_csv: bool, stage: str | None, endpoint_url: str | None) -> None:
    """Run QUERY (DuckDB SQL) over the stage's DataFrame artifacts.

    Each artifact is a table of its latest version per partition; NAME__versions holds every version, with
    `version` and `created_at` columns. Partition keys are columns, `time_partition` a TIMESTAMP (UTC).
    Names with '.' or '-' go in double quotes: SELECT * FROM "daily-sales".
    """
    from chalicelib.ops.stage import resolve

    if as_json and as_csv:
        raise InputError("--json and --csv are exclusive; pick one")
    conn = resolve(stage, endpoint_url)
    columns, rows = run_sql(conn.store, conn.settings.stage, query)
    if as_json:
        print_json([dict(zip(columns, (cell(v) for v in row))) for row in rows])
    elif as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if v is None else cell(v) for v in row])
    else:
        out.print(result_table(columns, rows))
