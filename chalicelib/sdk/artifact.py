"""Artifacts: named, partitioned, versioned data. Defining one makes no AWS call."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Mapping

from msgspec import Struct, field

from chalicelib.errors import DefinitionError, PartitionMismatchError, TimePartitionError
from chalicelib.sdk.charset import check_name, check_partition_size, check_value
from chalicelib.sdk.timeparts import Granularity, TIME_PARTITION, iso, normalize

MAX_PARTITION_KEYS = 5


class InputRef(Struct, frozen=True):
    """`Inputs.x`: the value of the task's (or workflow's) input named x."""

    name: str


class _Inputs:
    def __getattr__(self, name: str) -> InputRef:
        if name.startswith("__"):
            raise AttributeError(name)
        return InputRef(name)


Inputs = _Inputs()


class TriggerTimeRef(Struct, frozen=True):
    """`A.time_partition` (optionally shifted): the triggering version's time partition."""

    artifact: str
    offset: timedelta = timedelta(0)

    def __add__(self, other: timedelta) -> TriggerTimeRef:
        if not isinstance(other, timedelta):
            return NotImplemented
        return TriggerTimeRef(self.artifact, self.offset + other)

    def __sub__(self, other: timedelta) -> TriggerTimeRef:
        if not isinstance(other, timedelta):
            return NotImplemented
        return TriggerTimeRef(self.artifact, self.offset - other)


class TriggerPartitionRef(Struct, frozen=True):
    """`A.partitions.key`: the triggering version's value for one partition key."""

    artifact: str
    key: str


class _PartitionRefs:
    """`A.partitions.key`. Checked where it is used, so the error can name the binding that uses it."""

    def __init__(self, artifact: Artifact) -> None:
        self._artifact = artifact

    def __getattr__(self, key: str) -> TriggerPartitionRef:
        if key.startswith("_"):
            raise AttributeError(key)
        return TriggerPartitionRef(self._artifact.name, key)


class ArtifactQuery(Struct, frozen=True):
    """A lookup of the latest version matching partitions (and time partition), or of one version."""

    artifact: Artifact
    partitions: Mapping[str, Any] = field(default_factory=dict)
    time_partition: Any = None
    version: str | None = None

    def describe(self) -> str:
        def shown(value: Any) -> Any:
            return f"Inputs.{value.name}" if isinstance(value, InputRef) else value

        parts = [f"{k}={shown(v)}" for k, v in sorted(self.partitions.items())]
        if self.time_partition is not None:
            tp = self.time_partition
            parts.append(f"time_partition={iso(tp) if isinstance(tp, datetime) else shown(tp)}")
        if self.version:
            parts.append(f"version={self.version}")
        return f"{self.artifact.name}[{', '.join(parts)}]"


class ArtifactSpec(Struct, frozen=True):
    """`A(key=Inputs.x, time_partition=...)` in a return annotation: how a task output becomes a version.

    Bindings may be given in steps, as flytekit's: `A(region=Inputs.r)(time_partition=Inputs.day)`. What a
    task's annotation leaves unbound is filled at run time by `A.create_from(value, key=...)`."""

    artifact: Artifact
    partitions: Mapping[str, Any] = field(default_factory=dict)
    time_partition: Any = None

    def __call__(self, *args: Any, **bindings: Any) -> ArtifactSpec:
        if args:
            raise DefinitionError(
                f"artifact {self.artifact.name!r}: partitions are bound by keyword, e.g. "
                f"{self.artifact.name}(key=Inputs.x); got {len(args)} positional value(s)")
        earlier = dict(self.partitions)
        if self.time_partition is not None:
            earlier[TIME_PARTITION] = self.time_partition
        return self.artifact(**{**earlier, **bindings})  # a later binding of a key replaces it, as in flytekit

    def unbound(self) -> list[str]:
        """The partition keys (and `time_partition`) this annotation leaves for run time, in declared order."""
        keys = [k for k in self.artifact.partition_keys if k not in self.partitions]
        if self.artifact.time_partitioned and self.time_partition is None:
            keys.append(TIME_PARTITION)
        return keys

    def check_workflow_output(self, workflow: str, source: Artifact | None) -> None:
        """A workflow-level annotation must bind every partition from the workflow's inputs or constants
        (`create_from` runs only inside tasks), except those the output inherits from the version it is:
        `source` is the artifact that version belongs to, when the output is a task's artifact output."""
        for key in self.unbound():
            inherited = source is not None and (
                source.time_partitioned if key == TIME_PARTITION else key in source.partition_keys)
            if not inherited:
                raise DefinitionError(
                    f"workflow {workflow!r}: its output artifact {self.artifact.name!r} leaves partition {key!r} "
                    f"unbound; a workflow output's partitions come from its inputs or constants: annotate "
                    f"{self.artifact.name}({key}=Inputs.<input>) (create_from works only inside a task)")


class ArtifactValue(Struct):
    """What `A.create_from(value, ...)` returns: the value plus the partitions it belongs to."""

    artifact: Artifact
    value: Any
    partitions: dict[str, str]
    time_partition: datetime | None
    card: Any = None  # the cards given after the value (a tuple), or None


def _partition_text(value: Any) -> Any:
    """Scalars as text (flytekit does the same); anything else is left for the charset check to refuse."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


class Artifact:
    """A named, optionally partitioned and time-partitioned artifact.

    `Artifact("sales", partition_keys=["region"], time_partitioned=True)`
    """

    def __init__(
        self,
        name: str,
        partition_keys: list[str] | tuple[str, ...] | None = None,
        time_partitioned: bool = False,
        time_partition_granularity: Granularity | str | None = None,
        description: str | None = None,
        accepts_uploads: bool = False,
        partitions: Mapping[str, Any] | None = None,
        project: str | None = None,
        domain: str | None = None,
        short_description: str | None = None,
    ) -> None:
        self.name = check_name("artifact", name)
        # flytekit's static partitions: `partitions={"region": "emea"}` declares the keys and fixes their values
        keys = list(partition_keys or [k for k in (partitions or {}) if k != TIME_PARTITION])
        for key in keys:
            check_name(f"artifact {name!r} partition key", key)
            if key == TIME_PARTITION:
                raise DefinitionError(
                    f"artifact {name!r}: 'time_partition' is reserved; use time_partitioned=True instead"
                )
        if len(set(keys)) != len(keys):
            raise DefinitionError(f"artifact {name!r} lists a partition key twice: {keys}")
        if len(keys) > MAX_PARTITION_KEYS:
            # every subset of the keys is indexed so that any partial query is one DynamoDB Query
            raise DefinitionError(
                f"artifact {name!r} has {len(keys)} partition keys; at most {MAX_PARTITION_KEYS} are supported. "
                f"Fold rarely queried keys into one, e.g. 'country_city'"
            )
        self.partition_keys: tuple[str, ...] = tuple(keys)
        self.time_partitioned = bool(time_partitioned or time_partition_granularity)
        try:
            self.granularity = Granularity(time_partition_granularity or Granularity.DAY)
        except ValueError as exc:
            raise DefinitionError(
                f"artifact {name!r}: unknown granularity {time_partition_granularity!r}; "
                f"use one of {[g.value for g in Granularity]}"
            ) from exc
        self.description = description or short_description
        self.accepts_uploads = accepts_uploads
        self.project, self.domain = project, domain  # one stage is one namespace: kept, not used
        unknown = sorted(set(partitions or {}) - set(keys))
        if unknown:
            raise PartitionMismatchError(self.name, keys, sorted(partitions or {}))
        self.static_partitions = {k: check_value(self.name, k, _partition_text(v)) for k, v in (partitions or {}).items()}

    def __repr__(self) -> str:
        return f"Artifact({self.name!r}, partition_keys={list(self.partition_keys)}, time_partitioned={self.time_partitioned})"

    # -- binding in annotations -------------------------------------------------------------------
    def __call__(self, **bindings: Any) -> ArtifactSpec:
        bindings = {**self.static_partitions, **bindings}
        time_partition = bindings.pop(TIME_PARTITION, None)
        unknown = sorted(set(bindings) - set(self.partition_keys))
        if unknown:
            raise PartitionMismatchError(self.name, list(self.partition_keys), sorted(bindings))
        if time_partition is not None and not self.time_partitioned:
            raise TimePartitionError(
                f"artifact {self.name!r} is not time partitioned; drop time_partition= "
                f"or declare Artifact({self.name!r}, time_partitioned=True)"
            )
        return ArtifactSpec(self, dict(bindings), time_partition)

    # -- producing versions -----------------------------------------------------------------------
    def create_from(
        self, value: Any, *cards: Any, time_partition: datetime | date | str | None = None, **partitions: Any
    ) -> ArtifactValue:
        unknown = set(partitions) - set(self.partition_keys)
        if unknown:
            raise PartitionMismatchError(self.name, list(self.partition_keys), sorted(partitions))
        # flytekit turns partition values into text; so do we, for scalars (paths and keys stay checked).
        partitions = {**self.static_partitions, **{k: _partition_text(v) for k, v in partitions.items()}}
        for key, val in partitions.items():
            check_value(self.name, key, val)
        tp = None
        if time_partition is not None:
            if not self.time_partitioned:
                raise TimePartitionError(
                    f"artifact {self.name!r} is not time partitioned; drop time_partition= "
                    f"or declare Artifact({self.name!r}, time_partitioned=True)"
                )
            tp = normalize(time_partition, self.granularity)
        return ArtifactValue(self, value, dict(partitions), tp, tuple(cards) or None)

    def finalize(self, partitions: Mapping[str, Any], time_partition: Any) -> tuple[dict[str, str], datetime | None]:
        """Check a complete partition set for a new version; returns it with the time partition normalized."""
        if set(partitions) != set(self.partition_keys):
            raise PartitionMismatchError(self.name, list(self.partition_keys), sorted(partitions))
        clean = {k: check_value(self.name, k, v) for k, v in partitions.items()}
        check_partition_size(self.name, clean)
        if self.time_partitioned and time_partition is None:
            raise TimePartitionError(
                f"artifact {self.name!r} is time partitioned; pass time_partition= to create_from "
                f"or bind it in the annotation, e.g. {self.name}(time_partition=Inputs.date)"
            )
        if not self.time_partitioned and time_partition is not None:
            raise TimePartitionError(f"artifact {self.name!r} is not time partitioned; drop time_partition=")
        tp = normalize(time_partition, self.granularity) if time_partition is not None else None
        return clean, tp

    # -- querying and trigger references ----------------------------------------------------------
    def query(
        self,
        time_partition: Any = None,
        partitions: Mapping[str, Any] | None = None,
        version: str | None = None,
        project: str | None = None,
        domain: str | None = None,
        **more: Any,
    ) -> ArtifactQuery:
        """The latest version matching the partition keys given (a key not given matches any value, as in
        Union, where a query names only the keys it constrains), and the time partition, or one `version`.
        Values are constants; the workflow's own inputs (`Inputs.day`) when the query is a workflow input's
        default, filled when the execution starts; or references to a trigger (`B.partitions.region`,
        `B.time_partition - timedelta(days=1)`) inside `OnArtifact(inputs=...)`. `project` and `domain` are
        accepted as in flytekit; a stage is one namespace."""
        merged = {**(partitions or {}), **more}
        for name, value in (("project", project), ("domain", domain)):
            if value is not None and name in self.partition_keys:  # a partition key of that name
                merged[name] = value
        unknown = set(merged) - set(self.partition_keys)
        if unknown:
            raise PartitionMismatchError(self.name, list(self.partition_keys), sorted(merged))
        for key, value in merged.items():
            if not isinstance(value, (TriggerPartitionRef, InputRef)):
                check_value(self.name, key, value)  # text only, as flytekit's query (create_from converts)
        if time_partition is not None and not self.time_partitioned:
            raise TimePartitionError(f"artifact {self.name!r} is not time partitioned; drop time_partition=")
        if time_partition is not None and not isinstance(time_partition, (TriggerTimeRef, InputRef, datetime, date, str)):
            raise TimePartitionError(
                f"artifact {self.name!r}: query time_partition must be a datetime, date, ISO string, "
                f"{self.name}.time_partition or Inputs.<input>; got {type(time_partition).__name__}"
            )
        if version is not None and not isinstance(version, str):
            raise DefinitionError(f"artifact {self.name!r}: query version must be a string; got {version!r}")
        return ArtifactQuery(self, merged, time_partition, version)

    def as_default(self, where: str) -> ArtifactQuery:
        """`def wf(data: T = A)`: as in flytekit, the latest version of A, allowed only when nothing is left to
        choose (every partition key fixed by `partitions=`, and no time partition)."""
        open_keys = [k for k in self.partition_keys if k not in self.static_partitions]
        if open_keys or self.time_partitioned:
            what = f"partition {open_keys[0]!r}" if open_keys else "its time partition"
            raise DefinitionError(
                f"{where}: the default {self.name!r} is an artifact whose {what} is not fixed; default to a query "
                f"that says which version, e.g. {self.name}.query({(open_keys or [TIME_PARTITION])[0]}=...)")
        return ArtifactQuery(self, dict(self.static_partitions))

    @property
    def partitions(self) -> _PartitionRefs:
        return _PartitionRefs(self)

    @property
    def time_partition(self) -> TriggerTimeRef:
        """The triggering version's time partition; checked where it is used (see `check_ref`)."""
        return TriggerTimeRef(self.name)

    def check_ref(self, ref: TriggerPartitionRef | TriggerTimeRef, where: str) -> None:
        """Refuse a reference to a partition (or time partition) this artifact does not have."""
        if isinstance(ref, TriggerPartitionRef) and ref.key not in self.partition_keys:
            raise DefinitionError(
                f"{where}: artifact {self.name!r} has no partition {ref.key!r}; "
                f"its partition keys are {list(self.partition_keys)}"
            )
        if isinstance(ref, TriggerTimeRef) and not self.time_partitioned:
            raise DefinitionError(
                f"{where}: artifact {self.name!r} is not time partitioned, so it has no time_partition; "
                f"declare Artifact({self.name!r}, time_partitioned=True) or bind another value"
            )


def check_workflow_artifacts(wf: Any) -> None:
    """At a workflow's definition (`wf` is a chalicelib.sdk.workflow.WorkflowDef): queries among its input
    defaults read only plain inputs; an annotated output binds every partition it
    does not inherit from the task output it is (see ArtifactSpec.check_workflow_output)."""
    from chalicelib.sdk.query import check_input_refs

    check_input_refs(wf.short_name, wf.inputs)
    nodes = {n.id: n for n in wf.nodes}
    for output in wf.outputs:
        if output.artifact is None:
            continue
        binding = wf.output_bindings.get(output.name, {})
        node = nodes.get(binding.get("node", ""))
        made = next((o.artifact for o in node.task.outputs if o.name == binding.get("output")), None) if node else None
        query = next((i.default for i in wf.inputs if i.name == binding.get("input")), None)
        source = made.artifact if made is not None else query.artifact if isinstance(query, ArtifactQuery) else None
        output.artifact.check_workflow_output(wf.short_name, source)
