"""Decide which runs a new artifact version starts. Pure: no I/O, no clock, no randomness."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

from msgspec import Struct

from chalicelib import checks
from chalicelib.errors import CascadeError
from chalicelib.sdk.query import contains_query
from chalicelib.sdk.timeparts import iso
from chalicelib.store.models import ArtifactVersion, Subscription


class RunRequest(Struct, frozen=True, kw_only=True):
    launch_plan: str
    state_machine_arn: str
    name: str
    input: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The form a start claim records (chalicelib.store.claims)."""
        return {"launch_plan": self.launch_plan, "state_machine_arn": self.state_machine_arn, "name": self.name,
                "input": self.input}

    @classmethod
    def from_dict(cls, data: Any) -> RunRequest:
        """A request as a start claim recorded it, checked: it was read from the table."""
        where = "a run request recorded in a start claim"
        found = checks.fields(data, _FIELDS, _FIELDS, where, CascadeError, CLAIM_FIX)
        for name in _FIELDS[:3]:
            checks.text(found[name], f"{where}: field {name!r}", CascadeError, CLAIM_FIX)
        return cls(**{**found, "input": checks.document(found["input"], f"{where}: field 'input'", CascadeError,
                                                        CLAIM_FIX)})


_FIELDS = ("launch_plan", "state_machine_arn", "name", "input")
CLAIM_FIX = "the start claim was edited by hand: delete the claim's items to decide again"


def execution_name(artifact: str, version: str, launch_plan: str, lp_version: str, salt: str = "") -> str:
    """Deterministic, ≤ 80 chars of [A-Za-z0-9_-]: a redelivered event maps to the same name."""
    digest = hashlib.sha256("\x1f".join([artifact, version, launch_plan, lp_version, salt]).encode()).hexdigest()[:16]
    head = re.sub(r"[^A-Za-z0-9_-]", "-", launch_plan)[:40]
    return f"{head}-{digest}"


def _bind(binding: dict[str, Any], version: ArtifactVersion) -> Any:
    if "const" in binding:
        return binding["const"]
    if "trigger_artifact" in binding:
        return version.reference()
    if "trigger_partition" in binding:
        return version.partitions[binding["trigger_partition"]]
    if "trigger_time" in binding:
        assert version.time_partition is not None  # validated when the launch plan was defined
        return {"$datetime": iso(version.time_partition + timedelta(seconds=binding["trigger_time"]))}
    if "query" in binding:
        spec = binding["query"]
        partitions = {k: _bind(v, version) for k, v in spec["partitions"].items()}
        time = _bind(spec["time_partition"], version) if spec.get("time_partition") else None
        return {"$query": {**spec, "partitions": partitions, "time_partition": time}}
    raise ValueError(f"unknown binding {binding!r}")


def matches(sub: Subscription, version: ArtifactVersion) -> bool:
    return sub.active and sub.align is None and sub.artifact == version.name and all(
        version.partitions.get(k) == v for k, v in sub.filter.items()
    )


def decide(version: ArtifactVersion, subscriptions: list[Subscription], salt: str = "") -> list[RunRequest]:
    """One run request per active subscription whose filter the version passes."""
    requests = []
    for sub in subscriptions:
        if not matches(sub, version):
            continue
        inputs = {**sub.default_inputs, **{k: _bind(b, version) for k, b in sub.bindings.items()}, **sub.fixed_inputs}
        meta = {
            "workflow": sub.workflow,
            "launch_plan": sub.launch_plan,
            "launch_plan_version": sub.lp_version,
            "triggered_by": {"artifact": version.name, "version": version.version},
        }
        if contains_query(inputs):
            meta["resolve"] = True  # the execution pins its queries when it starts
        requests.append(RunRequest(
            launch_plan=sub.launch_plan,
            state_machine_arn=sub.state_machine_arn,
            name=execution_name(version.name, version.version, sub.launch_plan, sub.lp_version, salt),
            input={"meta": meta, "inputs": inputs},
        ))
    return requests
