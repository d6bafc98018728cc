"""Artifact queries as JSON: the `$query` literal, resolved to one version when an execution starts.

    {"$query": {"artifact": "sales", "partitions": {"region": "emea"},
                "time_partition": {"$datetime": "2026-11-24T00:00:00Z"} | null,
                "version": null, "granularity": "DAY"}}

Any subset of the partition keys may be given (a key not given matches any value); the time partition is
normalized to the artifact's granularity when the query is resolved, so `A.time_partition - timedelta(hours=1)`
on a DAY artifact means "the previous day". A query that is a workflow input's default may name the workflow's
other inputs (`A.query(time_partition=Inputs.day, region=Inputs.region)`): each such value is `{"$input": name}`
in the literal until the execution starts, when `bind_inputs` fills it from the execution's inputs. Light:
imported on the trigger path.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field
from msgspec.structs import force_setattr

from chalicelib import checks
from chalicelib.errors import ArtifactError, DefinitionError
from chalicelib.sdk import literals
from chalicelib.sdk.timeparts import Granularity, iso, normalize

INPUT = "$input"  # inside a `$query` body only: the value of the execution's input of that name

if TYPE_CHECKING:
    from chalicelib.sdk.artifact import ArtifactQuery


class QuerySpec(Struct, frozen=True, kw_only=True):
    """The body of a `$query` literal, with plain values (checked: a literal comes from an execution's input)."""

    artifact: str
    partitions: dict[str, str] = field(default_factory=dict)
    time_partition: datetime | None = None
    version: str | None = None
    granularity: Granularity | None = None

    def __post_init__(self) -> None:
        where = f"the query on artifact {self.artifact!r}"
        fix = "pass a query made by the SDK (Artifact.query) or its `$query` literal"
        checks.text(self.artifact, f"{where}: 'artifact'", ArtifactError, fix)
        force_setattr(self, "partitions", checks.text_map(self.partitions, f"{where}: 'partitions'",
                                                               ArtifactError, fix))
        force_setattr(self, "time_partition", checks.optional_timestamp(
            self.time_partition, f"{where}: 'time_partition'", ArtifactError, fix))
        checks.optional_text(self.version, f"{where}: 'version'", ArtifactError, fix)
        if self.granularity is not None and not isinstance(self.granularity, Granularity):
            try:
                force_setattr(self, "granularity", Granularity(self.granularity))
            except ValueError:
                raise ArtifactError(f"{where}: 'granularity' must be one of {[g.value for g in Granularity]}; "
                                    f"got {self.granularity!r}; {fix}") from None

    @classmethod
    def from_literal(cls, body: dict[str, Any]) -> QuerySpec:
        unbound = input_names(body)
        if unbound:
            raise ArtifactError(
                f"the query on artifact {body.get('artifact')!r} reads workflow input {unbound[0]!r}, which was "
                f"not filled when the execution started; pass --{unbound[0]} (or give that input a default)")
        tp = body.get("time_partition")
        time_partition = literals.decode(tp) if tp is not None else None
        granularity = body.get("granularity")
        if time_partition is not None and granularity:
            time_partition = normalize(time_partition, Granularity(granularity))
        return cls(
            artifact=body["artifact"],
            partitions={k: str(literals.decode(v)) for k, v in (body.get("partitions") or {}).items()},
            time_partition=time_partition,
            version=body.get("version"),
            granularity=granularity or None,
        )

    def describe(self) -> str:
        """`sales[region=emea, time_partition=2026-11-24T00:00:00Z]`: names the artifact and the query."""
        parts = [f"{k}={v}" for k, v in sorted(self.partitions.items())]
        if self.time_partition is not None:
            parts.append(f"time_partition={iso(self.time_partition)}")
        if self.version:
            parts.append(f"version={self.version}")
        return f"{self.artifact}[{', '.join(parts)}]"


def _value(value: Any, where: str) -> Any:
    from chalicelib.sdk.artifact import InputRef

    return {INPUT: value.name} if isinstance(value, InputRef) else literals.encode(value, where)


def query_literal(query: ArtifactQuery) -> dict[str, Any]:
    """The `$query` literal of a workflow input's default: constants, and `Inputs.x` as `{"$input": "x"}`."""
    tp = query.time_partition
    where = f"query {query.describe()}"
    return {"$query": {
        "artifact": query.artifact.name,
        "partitions": {k: _value(v, where) for k, v in query.partitions.items()},
        "time_partition": _value(tp, where) if tp is not None else None,
        "version": query.version,
        "granularity": query.artifact.granularity.value if query.artifact.time_partitioned else None,
    }}


def is_query(literal: Any) -> bool:
    return isinstance(literal, dict) and len(literal) == 1 and "$query" in literal


def contains_query(inputs: dict[str, Any]) -> bool:
    """Whether any input is a `$query` literal, i.e. the execution must resolve it when it starts."""
    return any(is_query(v) for v in inputs.values())


def _is_input(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and INPUT in value


def input_names(body: dict[str, Any]) -> list[str]:
    """The workflow inputs a `$query` body reads (`{"$input": name}` values), in order."""
    values = [*(body.get("partitions") or {}).values(), body.get("time_partition")]
    return [v[INPUT] for v in values if _is_input(v)]


def bind_inputs(body: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """The body with each `{"$input": name}` replaced by that input's literal (a partition value as text, as a
    task output's `A(key=Inputs.x)` turns an input into a partition value)."""
    name = body.get("artifact")

    def given(value: Any, what: str) -> Any:
        if not _is_input(value):
            return value
        literal = inputs.get(value[INPUT])
        if literal is None:
            raise ArtifactError(
                f"the query on artifact {name!r} reads workflow input {value[INPUT]!r} for its {what}, but the "
                f"execution has no value for it; pass --{value[INPUT]} (or give that input a default)")
        if not isinstance(literal, (str, int, float, bool)) and not (
                isinstance(literal, dict) and len(literal) == 1 and next(iter(literal)) in ("$datetime", "$date")):
            raise ArtifactError(
                f"the query on artifact {name!r} reads workflow input {value[INPUT]!r} for its {what}, whose value "
                f"is not a scalar (got {str(literal)[:80]}); bind a str, int, date or datetime input")
        return literal

    partitions = {k: given(v, f"partition {k!r}") for k, v in (body.get("partitions") or {}).items()}
    partitions = {k: v if _is_input(v) else str(literals.decode(v)) for k, v in partitions.items()}
    return {**body, "partitions": partitions, "time_partition": given(body.get("time_partition"), "time partition")}


def check_input_refs(workflow: str, inputs: list[Any]) -> None:
    """Definition-time check of queries that are a workflow's input defaults: each `Inputs.x` they read must
    be another input of the workflow that is not itself a query (inputs are filled before queries run)."""
    from chalicelib.sdk import typecheck
    from chalicelib.sdk.artifact import ArtifactQuery, InputRef

    names = {i.name: i for i in inputs}
    for spec in inputs:
        query = spec.default if spec.has_default else None
        if not isinstance(query, ArtifactQuery):
            continue
        refs = [*query.partitions.values(), query.time_partition]
        for ref in refs:
            if not isinstance(ref, InputRef):
                continue
            target = names.get(ref.name)
            where = f"workflow {workflow!r}, input {spec.name!r} = {query.describe()}"
            if target is None:
                raise DefinitionError(
                    f"{where}: reads Inputs.{ref.name}, but the workflow has no input {ref.name!r}; "
                    f"its inputs are {sorted(names)}")
            if target is spec or isinstance(target.default, ArtifactQuery):
                raise DefinitionError(
                    f"{where}: reads Inputs.{ref.name}, which is itself a query; a query can read only plain "
                    f"inputs (str, int, date, datetime)")
            if ref is query.time_partition and not any(typecheck.accepts_type(target.type, kind)
                                                       for kind in (datetime, date, str)):
                raise DefinitionError(
                    f"{where}: reads Inputs.{ref.name} as its time partition, but that input is annotated "
                    f"{typecheck.describe(target.type)}; annotate it datetime (or date)")
