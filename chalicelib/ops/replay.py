"""Replay and backfill: fire the triggers of existing artifact versions again, through the trigger's own
plan (decide + aligned sets) and its start claim (chalicelib.store.claims).

Idempotent: for each (version, launch plan) the claim records the run that was started, and replay
re-issues that run (same name, same input), so a version that already started a launch plan starts nothing
more for it, even after the launch plan was registered again with a changed definition. A launch plan with
no recorded run for a version (added later: a backfill) is recorded and started once. `salt` (from
`--force`) changes every name and records under its own key, so each version starts anew, once per salt.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Callable, Literal

from pydantic import BaseModel, Field

from chalicelib.errors import InputError
from chalicelib.sdk.timeparts import to_utc
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.models import Subscription
from chalicelib.trigger.handler import Trigger

Outcome = Literal["started", "already_started", "would_start"]


class ReplayRow(BaseModel):
    version: str
    launch_plan: str
    execution: str
    outcome: Outcome


class ReplayReport(BaseModel):
    artifact: str
    since: str | None = None
    until: str | None = None
    launch_plans: list[str] = Field(default_factory=list)
    salt: str = ""
    dry_run: bool = False
    versions: int = 0
    rows: list[ReplayRow] = Field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        """{launch plan: {outcome: n}}."""
        out: dict[str, dict[str, int]] = {}
        for row in self.rows:
            per = out.setdefault(row.launch_plan, {})
            per[row.outcome] = per.get(row.outcome, 0) + 1
        return out


def parse_time(text: str, flag: str) -> datetime:
    """An ISO 8601 time from the command line; without an offset it is UTC."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"{flag} {text!r} is not ISO 8601; use e.g. 2026-11-24 or 2026-11-24T13:00:00Z") from exc
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else to_utc(value)


def _select(subs: list[Subscription], artifact: str, launch_plan: str | None) -> list[Subscription]:
    if launch_plan is None:
        return subs
    chosen = [s for s in subs if s.launch_plan == launch_plan]
    if not chosen:
        listening = sorted(s.launch_plan for s in subs)
        raise InputError(
            f"launch plan {launch_plan!r} does not listen to artifact {artifact!r}; "
            f"launch plans that do: {', '.join(listening) or '(none)'}"
        )
    if not chosen[0].active:
        raise InputError(
            f"launch plan {launch_plan!r} is inactive, so replay would start nothing; "
            f"activate it first: python -m chalicelib launchplan activate {launch_plan}"
        )
    return chosen


def new_salt() -> str:
    return f"force-{uuid.uuid4().hex[:12]}"


def replay(trigger: Trigger, store: ArtifactStore, artifact: str, since: datetime | None = None,
           until: datetime | None = None, launch_plan: str | None = None, dry_run: bool = False, salt: str = "",
           on_version: Callable[[int, int], None] | None = None) -> ReplayReport:
    """Fire the triggers of every version of `artifact` in [since, until) again; see the module doc."""
    if since and until and since >= until:
        raise InputError(f"--since {since.isoformat()} is not before --until {until.isoformat()}")
    subs = _select(trigger.registry.subscriptions_for(artifact), artifact, launch_plan)
    report = ReplayReport(artifact=artifact, since=since.isoformat() if since else None,
                          until=until.isoformat() if until else None, salt=salt, dry_run=dry_run,
                          launch_plans=sorted({s.launch_plan for s in subs if s.active}))
    versions = store.versions(artifact, since=since, until=until, newest_first=False) if subs else []
    report.versions = len(versions)
    for i, version in enumerate(versions):
        for result in trigger.replay(version, subs, salt, dry_run=dry_run):
            report.rows.append(ReplayRow(version=version.version, launch_plan=result.launch_plan,
                                         execution=result.name, outcome=result.outcome))
        if on_version:
            on_version(i + 1, len(versions))
    return report
