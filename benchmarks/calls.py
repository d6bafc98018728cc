"""(1) AWS calls per artifact event, by operation, as the history and the number of launch plans grow.

Ours: a version is written through the artifact store, the stream delivers it to the trigger Lambda
(in-process), and the calls the trigger's clients make on that thread are counted with botocore hooks.
Baseline: the same trigger with the subscription lookup replaced by a scan of all subscriptions, given the
same kind of record. Exactly one launch plan matches in every scenario.
"""

from __future__ import annotations

import sys
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from benchmarks import flows
from benchmarks.baselines import scanning_trigger
from benchmarks.common import (
    CallCounter, Report, emit, make_versions, new_client, parser, paused_trigger, seed_versions, silenced,
    stream_event,
)
from chalicelib import aws
from chalicelib.local.cloud import LocalCloud
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.models import ArtifactVersion, make_version

HISTORY = [10, 1_000, 10_000]  # three orders of magnitude of history: ours must cost the same at each
PLANS = [1, 100, 1_000]
EVENTS = 3  # per scenario; every event must cost the same
BUDGET = 2  # AWS calls per event besides one StartExecution per matching launch plan


class Bench:
    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        s = cloud.settings
        self.writer = ArtifactStore(s, new_client("s3", s.region), new_client("dynamodb", s.region))
        self.ours = CallCounter(aws.client("dynamodb", s.region), aws.client("stepfunctions", s.region))
        naive_ddb, naive_sfn = new_client("dynamodb", s.region), new_client("stepfunctions", s.region)
        self.naive = scanning_trigger(s, naive_ddb, naive_sfn)
        self.naive_calls = CallCounter(naive_ddb, naive_sfn)
        self.serial = 0
        self.seeded = 0

    def _new_version(self) -> ArtifactVersion:
        self.serial += 1
        made = datetime(2030, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=self.serial)
        return ArtifactVersion(name=flows.Events.name, version=make_version(made, "bench", str(self.serial)),
                               partitions=dict(flows.PARTITIONS), uri="s3://unused", format="json")

    def grow_history(self, total: int) -> None:
        if total > self.seeded:
            print(f"  seeding {total - self.seeded:,} versions ...", file=sys.stderr, flush=True)
            seed_versions(self.cloud, make_versions(flows.Events.name, total - self.seeded, flows.PARTITIONS,
                                                    start=self.seeded))
            self.seeded = total

    def ours_per_event(self) -> list[tuple[dict[str, int], int]]:
        out = []
        me = threading.get_ident()
        for _ in range(EVENTS):
            v = self._new_version()
            with self.ours as calls:
                self.writer.write(v.name, b"{}", v.partitions, None, v.version, "bench", fmt="json")
            out.append((calls.counts(thread=me), calls.items_read(thread=me)))
            calls.reset()
            self.cloud.wait_quiet()
        return out

    def naive_per_event(self) -> list[tuple[dict[str, int], int]]:
        out = []
        for _ in range(EVENTS):
            v = self._new_version()
            with paused_trigger(self.cloud):
                self.writer.write(v.name, b"{}", v.partitions, None, v.version, "bench", fmt="json")
            with self.naive_calls as calls, silenced():
                self.naive.handle(stream_event([v], self.cloud.outputs["ArtifactsStreamArn"]))
            out.append((calls.counts(), calls.items_read()))
            calls.reset()
            self.cloud.wait_quiet()
        return out


def breakdown(counts: dict[str, int]) -> str:
    return ", ".join(f"{k.split('.', 1)[1]} {v}" for k, v in counts.items())


def same(samples: list[tuple[dict[str, int], int]]) -> dict[str, int] | None:
    """The per-event counts when every event cost the same, else None."""
    first = samples[0][0]
    return first if all(s[0] == first for s in samples) else None


def run() -> Report:
    report = Report("calls", "AWS calls per artifact event (one matching launch plan), ours vs a scanning trigger")
    table = report.table(
        f"calls per event ({EVENTS} events per row; a row shows 'varies' if they differ)",
        "versions", "launch plans", "others listen to", "ours: calls", "ours", "baseline: calls", "baseline",
        "baseline/ours", "items read: ours", "baseline",
    )
    seen: list[dict[str, int]] = []

    def row(bench: Bench, versions: int, plans: int, where: str) -> None:
        ours, naive = bench.ours_per_event(), bench.naive_per_event()
        o, n = same(ours), same(naive)
        seen.append(o or {"varies": -1})
        o_total = sum(o.values()) if o else None
        n_total = sum(n.values()) if n else None
        table.add(versions, plans, where, breakdown(o) if o else "varies", o_total,
                  breakdown(n) if n else "varies", n_total,
                  round(n_total / o_total, 2) if o_total and n_total else None, ours[-1][1], naive[-1][1])

    with LocalCloud() as cloud:
        bench = Bench(cloud)
        flows.register(cloud, flows.definitions(1))
        for size in HISTORY:
            bench.grow_history(size)
            row(bench, size, 1, "-")
        for plans in PLANS[1:]:
            print(f"  registering {plans:,} launch plans ...", file=sys.stderr, flush=True)
            flows.register(cloud, flows.definitions(plans))
            row(bench, bench.seeded, plans, "other artifacts")
    with LocalCloud() as cloud:
        bench = Bench(cloud)
        bench.grow_history(HISTORY[0])
        for plans in PLANS[1:]:
            flows.register(cloud, flows.definitions(plans, elsewhere="partitions"))
            row(bench, bench.seeded, plans, "this artifact, other partitions")

    flat = len({tuple(sorted(s.items())) for s in seen}) == 1
    first = seen[0]
    starts = first.get("stepfunctions.StartExecution", 0)
    others = sum(v for k, v in first.items() if k != "stepfunctions.StartExecution")
    report.goal(f"at most {BUDGET} calls + 1 StartExecution per matching launch plan, per event",
                starts == 1 and 0 <= others <= BUDGET, breakdown(first))
    report.goal("the same calls per event at every history size and number of launch plans", flat,
                f"{len(seen)} scenarios, {'one' if flat else 'several'} distinct breakdown(s)")
    report.notes.append("items read = ScannedCount of Query/Scan responses (what DynamoDB bills read units on)")
    return report


def main(argv: list[str] | None = None) -> Any:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    emit(run(), args.json)


if __name__ == "__main__":
    main()
