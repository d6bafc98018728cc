"""Resolving a partial-partition query: the query index (one Limit-1 Query per write shard) against a filtered
Query over all versions on every write shard (the baseline without the index), on the local cloud, for growing
version counts.

    python benchmarks/query_index.py [N ...]      (default: 100 1000)

Prints, per N: DynamoDB calls and milliseconds for each way, and the write cost of the index per version.
The matching version is the oldest one: the baseline's worst case, the index's usual case.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chalicelib import aws  # noqa: E402
from chalicelib.local.cloud import LocalCloud  # noqa: E402
from chalicelib.sdk.query import QuerySpec  # noqa: E402
from chalicelib.store.artifacts import ArtifactStore  # noqa: E402
from chalicelib.store.index import ArtifactIndex  # noqa: E402
from chalicelib.store.models import make_version, versions_pks  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def baseline(ddb, table: str, name: str, region: str) -> tuple[str | None, int]:
    """Newest first over every version of the artifact, filtering on the partition: on each write shard, pages
    until a hit; the greatest hit of all shards wins."""
    calls, best = 0, None
    for pk in versions_pks(name):
        kwargs = {"TableName": table, "KeyConditionExpression": "pk = :pk", "ScanIndexForward": False,
                  "FilterExpression": "#p.#r = :r", "ExpressionAttributeNames": {"#p": "partitions", "#r": "region"},
                  "ExpressionAttributeValues": {":pk": {"S": pk}, ":r": {"S": region}}, "ConsistentRead": True}
        while True:
            resp = ddb.query(**kwargs)
            calls += 1
            if resp.get("Items"):
                found = resp["Items"][0]["version"]["S"]
                best = found if best is None else max(best, found)
                break
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    return best, calls


def main(sizes: list[int]) -> None:
    print(f"{'versions':>8} {'index calls':>11} {'index ms':>9} {'baseline calls':>14} {'baseline ms':>11} {'write ms/version':>16}")
    for n in sizes:
        with LocalCloud() as cloud:
            s = cloud.settings
            ddb = aws.client("dynamodb", s.region)
            store = ArtifactStore(s, aws.client("s3", s.region), ddb)
            name = "bench_sales"
            started = time.perf_counter()
            for i in range(n):
                region = "rare" if i == 0 else f"r{i % 7}"
                store.write(name, i, {"region": region, "channel": f"c{i % 3}"}, T0 + timedelta(hours=i),
                          make_version(T0 + timedelta(minutes=i), str(i)), produced_by="bench",
                          card={"pad": "x" * 2000})
            write_ms = (time.perf_counter() - started) * 1000 / n
            index = ArtifactIndex.of(ddb, s)
            calls: list[str] = []
            ddb.meta.events.register("before-call.dynamodb.*", lambda event_name, **_: calls.append(event_name))
            idx_ms, base_ms = [], []
            for _ in range(5):
                calls.clear()
                t = time.perf_counter()
                found = index.find(QuerySpec(artifact=name, partitions={"region": "rare"}))
                idx_ms.append((time.perf_counter() - t) * 1000)
                idx_calls = len(calls)
                t = time.perf_counter()
                version, base_calls = baseline(ddb, s.artifacts_table, name, "rare")
                base_ms.append((time.perf_counter() - t) * 1000)
                assert version == found.version
            print(f"{n:>8} {idx_calls:>11} {statistics.median(idx_ms):>9.1f} {base_calls:>14} "
                  f"{statistics.median(base_ms):>11.1f} {write_ms:>16.1f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000])
