"""Partition-aligned triggers (`OnArtifacts`): decide which aligned set a new version completes.

For a new version of member M with alignment value v (its time partition, or its value of the aligned
partition key), the aligned set for v is the latest version of every member (within its filter) for v.
Looking each member up is one strongly consistent Query on the query index (chalicelib.store.index),
so an event costs one Query per member, whatever the history. The run's name is a hash of the launch
plan and the set of versions, so:

  * duplicate deliveries, and the events of the other members of the same set, name the same run, which
    starts once (ExecutionAlreadyExists counts as started);
  * whichever member arrives last completes the set: index items commit with the version item (one
    transaction) before its stream record exists, and reads are consistent, so at least one of two
    concurrent arrivals sees the other;
  * a later version of one member makes a new set for v only.

A version superseded before its event is handled is merged into the newer one (the run uses the latest).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from msgspec import Struct, field

from chalicelib import checks
from chalicelib.errors import DefinitionError
from chalicelib.sdk.query import contains_query
from chalicelib.sdk.timeparts import TIME_PARTITION, iso
from chalicelib.store.index import ArtifactIndex
from chalicelib.store.models import SUBSCRIPTION_FIX, ArtifactVersion, Subscription
from chalicelib.trigger.decide import RunRequest, _bind


class Member(Struct, frozen=True, kw_only=True):
    artifact: str
    filter: dict[str, str] = field(default_factory=dict)


class AlignSpec(Struct, frozen=True, kw_only=True):
    on: str
    members: list[Member]

    @classmethod
    def of(cls, sub: Subscription) -> AlignSpec:
        """The aligned trigger a subscription stores (`align`), checked: it was read from the registry."""
        where = f"the aligned trigger of launch plan {sub.launch_plan!r} (artifact {sub.artifact!r})"

        def check(what: Any, value: Any, where: str) -> Any:
            return what(value, where, DefinitionError, SUBSCRIPTION_FIX)

        data = checks.fields(sub.align, ("on", "members"), ("on", "members"), where, DefinitionError, SUBSCRIPTION_FIX)
        members = []
        for i, raw in enumerate(check(checks.records, data["members"], f"{where}: 'members'")):
            member = f"{where}: member {i}"
            members.append(Member(artifact=check(checks.text, raw.get("artifact"), f"{member} 'artifact'"),
                                  filter=check(checks.text_map, raw.get("filter", {}), f"{member} 'filter'")))
        return cls(on=check(checks.text, data["on"], f"{where}: 'on'"), members=members)


MemberQuery = tuple[dict[str, str], Any]  # (partitions, time partition) to look up


def alignment_value(spec: AlignSpec, version: ArtifactVersion) -> str | None:
    if spec.on == TIME_PARTITION:
        return iso(version.time_partition) if version.time_partition is not None else None
    return version.partitions.get(spec.on)


def member_queries(sub: Subscription, version: ArtifactVersion) -> dict[str, MemberQuery] | None:
    """What to look up for each member, or None when this version does not take part (inactive plan,
    another artifact, outside the member's filter)."""
    if not sub.active or sub.align is None or sub.artifact != version.name:
        return None
    spec = AlignSpec.of(sub)
    mine = next((m for m in spec.members if m.artifact == version.name), None)
    if mine is None or any(version.partitions.get(k) != v for k, v in mine.filter.items()):
        return None
    value = alignment_value(spec, version)
    if value is None:
        return None
    out: dict[str, MemberQuery] = {}
    for m in spec.members:
        if spec.on == TIME_PARTITION:
            out[m.artifact] = (dict(m.filter), version.time_partition)
        else:
            out[m.artifact] = ({**m.filter, spec.on: value}, None)
    return out


def execution_name(launch_plan: str, lp_version: str, versions: dict[str, ArtifactVersion], salt: str = "") -> str:
    """Deterministic from the set of versions: ≤ 80 chars of [A-Za-z0-9_-]."""
    members = [f"{name}={versions[name].version}" for name in sorted(versions)]
    digest = hashlib.sha256("\x1f".join([launch_plan, lp_version, *members, salt]).encode()).hexdigest()[:16]
    head = re.sub(r"[^A-Za-z0-9_-]", "-", launch_plan)[:40]
    return f"{head}-set-{digest}"


def bind(binding: dict[str, Any], versions: dict[str, ArtifactVersion]) -> Any:
    """A binding of an aligned trigger: references say which member (`of`) they read."""
    if "of" in binding:
        rest = {k: v for k, v in binding.items() if k != "of"}
        return _bind(rest, versions[binding["of"]])
    if "query" in binding:
        spec = binding["query"]
        partitions = {k: bind(v, versions) for k, v in spec["partitions"].items()}
        time = bind(spec["time_partition"], versions) if spec.get("time_partition") else None
        return {"$query": {**spec, "partitions": partitions, "time_partition": time}}
    return binding["const"]


def decide_aligned(version: ArtifactVersion, sub: Subscription, found: dict[str, ArtifactVersion | None],
                   salt: str = "") -> RunRequest | None:
    """The run for the aligned set `found` (latest version per member), or None if a member has none yet."""
    versions: dict[str, ArtifactVersion] = {}
    for name, hit in found.items():
        if name == version.name and (hit is None or hit.version < version.version):
            hit = version  # the triggering version is in the set even if a lookup lagged
        if hit is None:
            return None
        versions[name] = hit
    spec = AlignSpec.of(sub)
    inputs = {**sub.default_inputs, **{k: bind(b, versions) for k, b in sub.bindings.items()}, **sub.fixed_inputs}
    meta: dict[str, Any] = {
        "workflow": sub.workflow,
        "launch_plan": sub.launch_plan,
        "launch_plan_version": sub.lp_version,
        "triggered_by": {
            "artifact": version.name,
            "version": version.version,
            "aligned_on": {spec.on: alignment_value(spec, version)},
            "set": {name: v.version for name, v in sorted(versions.items())},
        },
    }
    if contains_query(inputs):
        meta["resolve"] = True
    return RunRequest(
        launch_plan=sub.launch_plan,
        state_machine_arn=sub.state_machine_arn,
        name=execution_name(sub.launch_plan, sub.lp_version, versions, salt),
        input={"meta": meta, "inputs": inputs},
    )


class Aligner:
    """Looks up aligned sets for the aligned subscriptions of a new version (one Query per member)."""

    def __init__(self, index: ArtifactIndex) -> None:
        self.index = index

    def requests(self, version: ArtifactVersion, subscriptions: list[Subscription], salt: str = "") -> list[RunRequest]:
        out = []
        for sub in subscriptions:
            queries = member_queries(sub, version)
            if queries is None:
                continue
            found: dict[str, ArtifactVersion | None] = {}
            for name, (partitions, time_partition) in queries.items():
                found[name] = self.index.latest(name, partitions, time_partition)
                if found[name] is None and name != version.name:
                    break  # incomplete: a later member's arrival completes the set
            else:
                request = decide_aligned(version, sub, found, salt)
                if request is not None:
                    out.append(request)
        return out
