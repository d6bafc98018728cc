"""Property: however the stream delivers, every (artifact version, active launch plan) starts exactly once.

Random versions across artifacts, partitions and launch plans (examples/fanout.py); every stream record
delivered 1-3 times in shuffled batches of 1-10; throttling, 5xx and lost responses injected into the
trigger's AWS calls; invocations killed part-way; failed records redelivered with the rest of their batch.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chalicelib import aws
from chalicelib.local.faults import FaultInjector
from chalicelib.local.cloud import LocalCloud
from chalicelib.local.delivery import DeliveryStats, deliver, started_runs
from tests.conftest import FIGURES
from tests.integration.support import invoke_trigger, records_of, register, set_stream_delivery, write_version

TOTALS = DeliveryStats()
FAULTS: Counter[str] = Counter()
EXAMPLES: Counter[str] = Counter()


@pytest.fixture(scope="module")
def delivery_cloud() -> Iterator[Any]:
    with LocalCloud() as cloud:
        register(cloud)
        set_stream_delivery(cloud, False)  # records wait in the stream; the test delivers them
        yield cloud
    FIGURES.append(
        f"delivery property: {EXAMPLES['examples']} examples, {TOTALS.records} records, {TOTALS.deliveries} deliveries "
        f"in {TOTALS.invocations} invocations ({TOTALS.timeouts} killed part-way, {TOTALS.reported_failures} "
        f"records reported failed and redelivered); {sum(FAULTS.values())} faults injected {dict(FAULTS)}; "
        f"{EXAMPLES['runs']} runs started, each exactly once"
    )


def expected_launch_plans(artifact: str, site: str) -> list[str]:
    if artifact == "readings":
        return ["every_reading"] + (["north_only"] if site == "north" else [])  # never `paused`
    if artifact == "alerts":
        return ["on_alert"]
    return []


version_specs = st.lists(st.tuples(st.sampled_from(["readings", "readings", "alerts", "unwatched"]),
                                   st.sampled_from(["north", "south", "east"])), min_size=1, max_size=6)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=version_specs, seed=st.integers(0, 2**32 - 1), fault_rate=st.sampled_from([0.0, 0.2, 0.5]),
       timeout_rate=st.sampled_from([0.0, 0.2]))
@example(specs=[("readings", "north"), ("readings", "south"), ("alerts", "east"), ("unwatched", "north")] * 2,
         seed=5, fault_rate=0.6, timeout_rate=0.3)  # always run one harsh case (5 invocations killed)
def test_every_version_starts_each_active_launch_plan_exactly_once(delivery_cloud, specs, seed, fault_rate,
                                                                   timeout_rate):
    cloud = delivery_cloud
    versions = [write_version(cloud, artifact, {"site": site} if artifact == "readings" else {})
                for artifact, site in specs]
    records = records_of(cloud, {v.version for v in versions})
    assert len(records) == len(versions)
    region = cloud.settings.region
    faults = FaultInjector(fault_rate, seed=seed).attach(aws.client("dynamodb", region),
                                                          aws.client("stepfunctions", region))
    try:
        stats = deliver(records, lambda event: invoke_trigger(cloud, event), random.Random(seed),
                       timeout_rate=timeout_rate)
    finally:
        faults.detach()
    cloud.wait_quiet()

    runs = started_runs(aws.client("stepfunctions", region), cloud.settings.prefix, {v.version for v in versions})
    expected = Counter({(v.name, v.version, lp): 1 for v, (artifact, site) in zip(versions, specs)
                        for lp in expected_launch_plans(artifact, site)})
    assert runs == expected
    TOTALS.add(stats)
    FAULTS.update(faults.injected)
    EXAMPLES.update(examples=1, runs=sum(expected.values()))
