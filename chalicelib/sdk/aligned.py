"""`OnArtifacts`: one run per aligned set of versions of several artifacts.

    OnArtifacts(all_of=[Sales, Weather], align_on="time_partition",
                inputs={"sales": Sales, "weather": Weather, "day": Sales.time_partition})

fires when every member has a version for the same alignment value (the same time partition, or the
same value of a partition key all members share), with inputs bound to the latest version of each
member for that value. A later version of any member fires again for its alignment value only.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from msgspec import Struct, field

from chalicelib.errors import DefinitionError
from chalicelib.sdk.artifact import TIME_PARTITION, Artifact, ArtifactQuery, TriggerPartitionRef
from chalicelib.sdk.charset import check_value


def member_filter(member: Artifact | ArtifactQuery, where: str) -> dict[str, str]:
    """The partition filter of a trigger member: `A` (none) or `A.query(region="emea")`."""
    if isinstance(member, Artifact):
        return {}
    if not isinstance(member, ArtifactQuery):
        raise DefinitionError(f"{where}: expected an Artifact or A.query(...); got {type(member).__name__}")
    name = member.artifact.name
    if member.time_partition is not None or member.version is not None:
        raise DefinitionError(
            f"{where}: a trigger fires on new versions, so it filters by partitions only; "
            f"drop time_partition= and version= from {name}.query(...)"
        )
    out = {}
    for key, value in member.partitions.items():
        if isinstance(value, TriggerPartitionRef):
            raise DefinitionError(f"{where}: filter {name}.query({key}=...) must be a constant string")
        out[key] = check_value(name, key, value)
    return out


class OnArtifacts(Struct, frozen=True):
    """Start the launch plan once per aligned set of versions of `all_of` (Artifacts or filtering queries)."""

    all_of: Sequence[Artifact | ArtifactQuery]
    align_on: str = TIME_PARTITION
    inputs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        members = list(self.all_of) if isinstance(self.all_of, (list, tuple)) else None
        if not members or len(members) < 2:
            raise DefinitionError(
                "OnArtifacts(all_of=[...]) needs a list of at least two artifacts; for one, use OnArtifact(trigger_on=A)"
            )
        names = []
        for i, member in enumerate(members):
            member_filter(member, f"OnArtifacts all_of[{i}]")
            names.append(self._artifact(member).name)
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise DefinitionError(f"OnArtifacts lists artifact {dupes[0]!r} twice; each member appears once")
        arts = [self._artifact(m) for m in members]
        if not isinstance(self.align_on, str):
            raise DefinitionError(f"OnArtifacts align_on must be 'time_partition' or a partition key; got {self.align_on!r}")
        if self.align_on == TIME_PARTITION:
            untimed = [a.name for a in arts if not a.time_partitioned]
            if untimed:
                raise DefinitionError(
                    f"OnArtifacts(align_on='time_partition'): artifact {untimed[0]!r} is not time partitioned; "
                    f"align on a partition key they all have, or declare it time_partitioned=True"
                )
            grains = {a.granularity for a in arts}
            if len(grains) > 1:
                detail = ", ".join(f"{a.name}: {a.granularity.value}" for a in arts)
                raise DefinitionError(
                    f"OnArtifacts(align_on='time_partition') needs one granularity for all members; got {detail}"
                )
        else:
            missing = [a.name for a in arts if self.align_on not in a.partition_keys]
            if missing:
                raise DefinitionError(
                    f"OnArtifacts(align_on={self.align_on!r}): artifact {missing[0]!r} has no partition "
                    f"{self.align_on!r}; its partition keys are {list(self._by_name()[missing[0]].partition_keys)}"
                )

    @staticmethod
    def _artifact(member: Artifact | ArtifactQuery) -> Artifact:
        return member if isinstance(member, Artifact) else member.artifact

    def _by_name(self) -> dict[str, Artifact]:
        return {self._artifact(m).name: self._artifact(m) for m in self.all_of}

    def members(self) -> dict[str, Artifact]:
        """Member artifacts by name, in the order given."""
        return self._by_name()

    def filters(self) -> dict[str, dict[str, str]]:
        return {self._artifact(m).name: member_filter(m, "OnArtifacts") for m in self.all_of}

    @property
    def artifacts(self) -> list[Artifact]:
        return list(self._by_name().values())
