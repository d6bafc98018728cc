"""Concurrent producers of one artifact partition: no version lost or overwritten, one well-defined latest."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import datetime, timezone

import pytest

from chalicelib import aws
from chalicelib.errors import VersionConflictError
from chalicelib.ops.launch import check_inputs, start_workflow
from tests.integration.support import executions, register, store, write_version

WRITERS, EACH = 6, 4


def test_racing_writers_lose_nothing_and_agree_on_latest(cloud):
    register(cloud)
    same_instant = datetime(2026, 11, 25, 15, 0, 0, 123000, tzinfo=timezone.utc)  # ties broken by the hash
    made: list[tuple[str, str]] = []  # (version, producer)
    seen_latest: list[list[str]] = [[] for _ in range(WRITERS)]
    lock = threading.Lock()
    gate = threading.Barrier(WRITERS)

    def writer(i: int) -> None:
        gate.wait()
        for j in range(EACH):
            producer = f"arn:aws:states:us-east-1:123456789012:execution:test:writer-{i}-{j}"
            when = same_instant if j % 2 == 0 else datetime.now(timezone.utc)
            v = write_version(cloud, "readings", {"site": "south"}, value={"writer": i, "n": j}, made_at=when,
                              producer=producer)
            with lock:
                made.append((v.version, producer))
            seen_latest[i].append(store(cloud).latest("readings", {"site": "south"}).version)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cloud.wait_quiet()

    versions = store(cloud).versions("readings")
    assert len(made) == len({v for v, _ in made}) == WRITERS * EACH  # all distinct
    assert sorted(v.version for v in versions) == sorted(v for v, _ in made)  # none lost
    by_version = {v.version: v for v in versions}
    for version, producer in made:  # none overwritten: each data object holds what its writer wrote
        record = by_version[version]
        assert record.execution == producer
        i, j = producer.rsplit("-", 2)[-2:]
        assert store(cloud).load(record) == {"writer": int(i), "n": int(j)}
    latest = store(cloud).latest("readings", {"site": "south"})
    assert latest.version == max(v for v, _ in made)  # the total order: version strings
    for seen in seen_latest:  # each writer's view of latest only moves forward
        assert seen == sorted(seen)
    runs = Counter(e["triggered_by"]["version"] for e in executions(cloud) if e["launch_plan"] == "every_reading")
    assert set(runs) == {v for v, _ in made} and set(runs.values()) == {1}


def test_two_executions_writing_the_same_partition_make_two_versions(cloud):
    defs = register(cloud)
    sfn = aws.client("stepfunctions", cloud.settings.region)
    wf = defs.workflow("ingest")
    arns = [start_workflow(sfn, cloud.settings, wf, check_inputs(wf, {"site": "east", "value": n}), name=f"race-{n}")
            for n in (1, 2)]
    cloud.wait_quiet()
    assert [sfn.describe_execution(executionArn=a)["status"] for a in arns] == ["SUCCEEDED", "SUCCEEDED"]
    versions = store(cloud).versions("readings")
    assert len(versions) == 2 and {v.execution for v in versions} == set(arns)
    assert sorted(store(cloud).load(v)["value"] for v in versions) == [1, 2]
    outputs = [json.loads(sfn.describe_execution(executionArn=a)["output"])["outputs"]["o0"]["$artifact"]["version"]
               for a in arns]
    assert store(cloud).latest("readings", {"site": "east"}).version == max(outputs)


def test_a_second_producer_of_the_same_version_id_is_refused(cloud):
    """Version ids carry a hash of the producer; should two ever collide, the second write is refused
    rather than mistaken for a retry of the first."""
    from chalicelib.store.models import make_version

    when = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)
    first = "arn:aws:states:us-east-1:123456789012:execution:test:first"
    version = make_version(when, first, "n0", "o0")
    s = store(cloud)
    s.write("readings", b"{}", {"site": "west"}, None, version, produced_by=first, fmt="json")
    assert s.write("readings", b"{}", {"site": "west"}, None, version, produced_by=first, fmt="json").version == version
    with pytest.raises(VersionConflictError, match="nothing was overwritten"):
        s.write("readings", b'{"x": 1}', {"site": "west"}, None, version, produced_by="someone-else", fmt="json")
    assert s.load(s.get("readings", version)) == {}
