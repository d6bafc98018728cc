"""The start claim at scale: hundreds of active launch plans on one artifact, each started exactly once per
version, under redelivery, re-registration and replay (chalicelib/store/claims.py)."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest
from click.testing import CliRunner

from benchmarks import flows
from chalicelib import Artifact, LaunchPlan, OnArtifact, aws
from chalicelib.cli import main
from chalicelib.local.delivery import started_runs
from chalicelib.local.faults import FaultInjector
from chalicelib.runtime.loader import Definitions
from chalicelib.store.claims import ITEM_LIMIT, StartLedger, claim_key
from chalicelib.trigger.batch import BatchFailedError
from chalicelib.trigger.handler import Trigger
from tests.conftest import FIGURES
from tests.integration.conftest import redeliver
from tests.integration.support import invoke_trigger, records_of, set_stream_delivery, write_version

Events = Artifact("scale_events", partition_keys=["key1"])


def plans(n: int, changed: bool = False, prefix: str = "scale_lp") -> Definitions:
    """`n` active launch plans on Events, all on one workflow (one state machine). `changed`: the same names
    with another definition (a partition filter every test version passes), hence new launch-plan versions."""
    trigger = OnArtifact(trigger_on=Events.query(key1="a") if changed else Events)
    lps = {f"{prefix}_{i:05d}": LaunchPlan(f"{prefix}_{i:05d}", flows.downstream_wf, trigger=trigger) for i in range(n)}
    return Definitions(workflows={flows.downstream_wf.name: flows.downstream_wf}, launch_plans=lps)


def runs(cloud: Any, version: str) -> Counter[str]:
    """Executions per launch plan for `version`."""
    got = started_runs(aws.client("stepfunctions", cloud.settings.region), cloud.settings.prefix, {version})
    return Counter({lp: n for (_, _, lp), n in got.items()})


def replay_cli(cloud: Any, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["replay", Events.name, *args, "--json"])
    assert result.exit_code == 0, result.output
    cloud.wait_quiet(300)
    return json.loads(result.stdout)  # --json: the report alone on stdout (log lines go to stderr)


def claim_items(cloud: Any, version: str) -> list[dict[str, Any]]:
    ddb = aws.client("dynamodb", cloud.settings.region)
    pk = claim_key(Events.name, version)["pk"]
    return ddb.query(TableName=cloud.settings.registry_table, KeyConditionExpression="pk = :pk",
                     ExpressionAttributeValues={":pk": {"S": pk}}, ConsistentRead=True)["Items"]


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (strings, numbers and binaries as stored)."""
    size = 0
    for name, value in item.items():
        (kind, v), = value.items()
        size += len(name.encode()) + (len(v) if kind == "B" else len(str(v).encode()))
    return size


@pytest.mark.parametrize("n, force", [(200, False), (25, True)])  # 1,000 and 5,000: benchmarks/claims.py
def test_hundreds_of_launch_plans_start_once_each_through_redelivery_reregistration_and_replay(cloud, n, force):
    t0 = time.monotonic()
    flows.register(cloud, plans(n))
    v = write_version(cloud, Events.name, {"key1": "a"})  # delivered once by the stream
    cloud.wait_quiet(300)
    names = set(plans(n).launch_plans)
    assert runs(cloud, v.version) == Counter({lp: 1 for lp in names})
    assert not cloud.errors
    items = claim_items(cloud, v.version)
    assert items and all(item_bytes(i) < ITEM_LIMIT for i in items)

    redeliver(cloud, Events.name, v.version, times=2)  # the same record twice in one batch
    assert runs(cloud, v.version) == Counter({lp: 1 for lp in names})

    flows.register(cloud, plans(n, changed=True))  # every launch plan gets a new version, hence new names
    again = replay_cli(cloud)
    assert again["counts"] == {lp: {"already_started": 1} for lp in names}
    assert replay_cli(cloud, "--dry-run")["counts"] == {lp: {"already_started": 1} for lp in names}
    redeliver(cloud, Events.name, v.version)  # the trigger too re-issues the recorded runs, not new names
    assert runs(cloud, v.version) == Counter({lp: 1 for lp in names})

    if not force:
        FIGURES.append(f"claims scale: {n} launch plans on one artifact, {n} runs, {time.monotonic() - t0:.0f} s")
        return
    forced = replay_cli(cloud, "--force")
    assert forced["counts"] == {lp: {"started": 1} for lp in names}
    resumed = replay_cli(cloud, "--force", "--salt", forced["salt"])
    assert resumed["counts"] == {lp: {"already_started": 1} for lp in names}
    assert runs(cloud, v.version) == Counter({lp: 2 for lp in names})
    FIGURES.append(f"claims scale: {n} launch plans on one artifact, {2 * n} runs, {time.monotonic() - t0:.0f} s")


def test_a_claim_split_across_items_is_reissued_exactly_after_a_delivery_dies(cloud):
    """A decision larger than one item (here: items cut at 512 bytes) is stored as an entry plus part items; a
    delivery that dies between the claim and the starts is completed by the next, from the parts, with the
    recorded names even after every launch plan was registered again."""
    n = 60
    flows.register(cloud, plans(n))
    set_stream_delivery(cloud, False)
    v = write_version(cloud, Events.name, {"key1": "a"})
    [record] = records_of(cloud, {v.version})
    s = cloud.settings
    ddb, sfn = aws.client("dynamodb", s.region), aws.client("stepfunctions", s.region)
    from chalicelib.store.registry import Registry
    from chalicelib.store.index import ArtifactIndex
    from chalicelib.trigger.align import Aligner

    def trigger() -> Trigger:
        return Trigger(Registry(s, ddb), sfn, Aligner(ArtifactIndex.of(ddb, s)),
                       ledger=StartLedger(s.registry_table, ddb, slice_bytes=512))

    faults = FaultInjector(0.0).attach(ddb, sfn)
    faults.script("StartExecution", *["throttled"] * 5 * 10)  # the first 10 starts fail every attempt
    try:
        with pytest.raises(BatchFailedError):  # its one record failed: Lambda retries the batch
            trigger().handle({"Records": [record]})
    finally:
        faults.detach()
    cloud.wait_quiet(120)
    assert sum(runs(cloud, v.version).values()) == n - 10
    items = claim_items(cloud, v.version)
    assert len(items) > 2 and all(item_bytes(i) < 512 + 1024 for i in items)  # an entry and its parts

    flows.register(cloud, plans(n, changed=True))
    assert trigger().handle({"Records": [record, record]}) == {"batchItemFailures": []}
    cloud.wait_quiet(120)
    assert runs(cloud, v.version) == Counter({lp: 1 for lp in plans(n).launch_plans})


def test_a_version_replayed_before_its_record_is_handled_still_starts_every_launch_plan_once(cloud):
    """Replay of one launch plan claims the version first; the trigger then adds the others, once."""
    flows.register(cloud, plans(5))
    set_stream_delivery(cloud, False)
    v = write_version(cloud, Events.name, {"key1": "a"})
    [record] = records_of(cloud, {v.version})
    assert replay_cli(cloud, "--launch-plan", "scale_lp_00002")["counts"] == {"scale_lp_00002": {"started": 1}}
    assert invoke_trigger(cloud, {"Records": [record]}) == {"batchItemFailures": []}
    flows.register(cloud, plans(7))  # two launch plans added after the trigger decided
    assert invoke_trigger(cloud, {"Records": [record, record]}) == {"batchItemFailures": []}
    cloud.wait_quiet(120)
    assert runs(cloud, v.version) == Counter({f"scale_lp_{i:05d}": 1 for i in range(5)})

    backfill = replay_cli(cloud)  # the two added ones are a backfill: started once, the rest already were
    assert backfill["counts"] == {**{f"scale_lp_{i:05d}": {"already_started": 1} for i in range(5)},
                                  "scale_lp_00005": {"started": 1}, "scale_lp_00006": {"started": 1}}
    assert replay_cli(cloud)["counts"] == {f"scale_lp_{i:05d}": {"already_started": 1} for i in range(7)}
    assert runs(cloud, v.version) == Counter({f"scale_lp_{i:05d}": 1 for i in range(7)})
