"""(4) `A.query()` resolved to the latest version: DynamoDB calls and time, at 10, 1,000 and 10,000 versions.

Resolved the way the task runner resolves a query input (`Runner.resolve_query`), for partitions alone and for
partitions plus a time partition. Baseline: read every version of the artifact and keep the greatest that
matches. Both answers are checked against the seeded history.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from typing import Any

from benchmarks.baselines import latest_by_listing
from benchmarks.common import (
    BASE_TIME, CallCounter, Report, emit, make_versions, new_client, parser, seed_versions, summary_ms,
)
from chalicelib.local.cloud import LocalCloud
from chalicelib.runtime.runner import Runner
from chalicelib.sdk.query import query_literal
from chalicelib.sdk.artifact import Artifact
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.models import VERSION_SHARDS
from chalicelib.store.registry import Registry

History = Artifact("bench_history", partition_keys=["key1"], time_partitioned=True)
PARTITIONS = {"key1": "value1"}
DAYS = 30
SIZES = [10, 1_000, 10_000]  # three orders of magnitude: enough for the baseline's cost to grow and ours not to
REPEAT = {10: 20, 1_000: 10, 10_000: 5}
BASELINE_REPEAT = {10: 10, 1_000: 3, 10_000: 1}  # the baseline lists every version: one listing of 10,000 is seconds


def run() -> Report:
    report = Report("query_latest", "A.query() → latest version: DynamoDB calls and time, ours vs listing")
    table = report.table(
        "per resolution", "query", "versions", "ours: calls", "ours p50 ms", f"vs {SIZES[0]} versions",
        "baseline: calls", "baseline p50 ms", "baseline/ours (time)", "items read: ours", "baseline",
    )
    first: dict[str, float] = {}
    calls_seen: list[dict[str, int]] = []
    reads_seen: list[int] = []
    with LocalCloud() as cloud:
        s = cloud.settings
        ddb = new_client("dynamodb", s.region)
        runner = Runner(s, ArtifactStore(s, new_client("s3", s.region), ddb), Registry(s, ddb))
        seeded: list[Any] = []
        for size in SIZES:
            print(f"  seeding {size - len(seeded):,} versions ...", file=sys.stderr, flush=True)
            more = make_versions(History.name, size - len(seeded), PARTITIONS, time_partitions=DAYS, start=len(seeded))
            seed_versions(cloud, more)
            seeded.extend(more)
            day = BASE_TIME + timedelta(days=min(3, DAYS - 1))
            forms = [
                ("partitions", History.query(**PARTITIONS), None),
                ("partitions + time partition", History.query(time_partition=day, **PARTITIONS), day),
            ]
            for label, query, tp in forms:
                expected = max((v for v in seeded if tp is None or v.time_partition == tp), key=lambda v: v.version)
                body = query_literal(query)["$query"]
                ours_t, counts, ours_read = [], {}, 0
                for _ in range(REPEAT[size]):
                    with CallCounter(ddb) as calls:
                        t0 = time.perf_counter()
                        got = runner.binder.resolve_query(body)
                        ours_t.append(time.perf_counter() - t0)
                    counts, ours_read = calls.counts(), calls.items_read()
                    if got.version != expected.version:
                        raise RuntimeError(f"query answered {got.version}, expected {expected.version}")
                calls_seen.append(counts)
                reads_seen.append(ours_read)
                base_t, base_counts, base_read = [], {}, None
                for _ in range(BASELINE_REPEAT.get(size, 0)):
                    with CallCounter(ddb) as calls:
                        t0 = time.perf_counter()
                        got = latest_by_listing(ddb, s, History.name, PARTITIONS, tp)
                        base_t.append(time.perf_counter() - t0)
                    base_counts, base_read = calls.counts(), calls.items_read()
                    if got.version != expected.version:
                        raise RuntimeError(f"baseline answered {got.version}, expected {expected.version}")
                o = summary_ms(ours_t)
                b = summary_ms(base_t) if base_t else None
                first.setdefault(label, o["p50_ms"])
                table.add(label, size, _fmt(counts), o["p50_ms"], round(o["p50_ms"] / first[label], 1),
                          _fmt(base_counts) or "not run", b["p50_ms"] if b else None,
                          round(b["p50_ms"] / o["p50_ms"], 1) if b else None, ours_read, base_read)
    per_shard = all(c == {"dynamodb.Query": VERSION_SHARDS} for c in calls_seen)
    report.goal(f"one Limit-1 Query per write shard ({VERSION_SHARDS}) per resolution, whatever the number of "
                f"versions", per_shard, f"{len(calls_seen)} cases: {sorted({_fmt(c) for c in calls_seen})}")
    report.goal("items read per resolution: at most one per write shard, whatever the number of versions",
                max(reads_seen) <= VERSION_SHARDS, f"at most {max(reads_seen)} in {len(reads_seen)} cases "
                f"(10 to {SIZES[-1]:,} versions)")
    report.notes.append(f"ours reads at most one item per write shard ({VERSION_SHARDS} Limit-1 Queries at once on "
                        f"the query index), as 'items read' shows; the baseline reads every version of every shard")
    report.notes.append("ours' milliseconds still grow a little on the local cloud: moto sorts the asked partition's "
                        "items on every Query (chalicelib/local/speed.py); DynamoDB reads the one item per shard")
    return report


def _fmt(counts: dict[str, int]) -> str:
    return ", ".join(f"{k.split('.', 1)[1]} {v}" for k, v in counts.items())


def main(argv: list[str] | None = None) -> Any:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    emit(run(), args.json)


if __name__ == "__main__":
    main()
