"""The capacity benchmark's models: the token bucket, shard queues, DynamoDB item sizes, and the workload written
through the store's real write path."""

from __future__ import annotations

from collections import Counter

from benchmarks import capacity


def test_token_bucket_starts_full_then_serves_only_its_refill():
    seconds = capacity.token_bucket([2, 2, 2], capacity=2, refill=1)
    assert [(s.served, s.backlog) for s in seconds] == [(2, 0), (1, 1), (1, 2)]
    assert capacity.first_throttled(seconds) == 2


def test_token_bucket_refill_is_capped_at_its_size():
    seconds = capacity.token_bucket([0, 0, 5], capacity=3, refill=2)
    assert [s.served for s in seconds] == [0, 0, 3]
    assert seconds[-1].backlog == 2


def test_start_execution_at_1000_per_second_throttles_in_the_second_second():
    seconds = capacity.token_bucket([1_000] * 60, capacity.START_BUCKET, capacity.START_REFILL)
    assert capacity.first_throttled(seconds) == 2
    assert sum(s.served for s in seconds) == 1_300 + 59 * 300
    assert seconds[-1].backlog == 60 * 1_000 - (1_300 + 59 * 300)


def test_no_throttling_under_the_refill_rate():
    assert capacity.first_throttled(capacity.token_bucket([300] * 100, 1_300, 300)) is None


def test_shard_backlog_grows_by_the_excess_and_drains():
    assert capacity.shard_backlog([150, 150, 0, 0], capacity=100) == [50, 100, 0, 0]


def test_item_bytes_follow_dynamodb_rules():
    assert capacity.item_bytes({"pk": {"S": "abc"}}) == 2 + 3
    assert capacity.item_bytes({"n": {"N": "12345"}}) == 1 + 3
    assert capacity.item_bytes({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)
    assert capacity.write_units(1024) == 1 and capacity.write_units(1025) == 2
    assert capacity.write_units(10, transactional=True) == 2
    assert capacity.read_units(4097) == 2 and capacity.read_units(10, consistent=False) == 0.5


def test_concurrency_is_arrivals_times_duration():
    assert capacity.concurrency(1_000, 2.0) == 2_000


def test_the_workload_counts_the_keys_the_store_writes():
    from chalicelib.store.models import VERSION_SHARDS, versions_pks

    sim = capacity.simulate(rate=20, seconds=2, hot_share=1.0)
    hot = [("artifacts", pk) for pk in versions_pks(capacity.HOT)]
    assert sum(sum(sim.key_items.get(k, Counter()).values()) for k in hot) == 40  # one version item per version
    assert sum(sum(sim.key_units.get(k, Counter()).values()) for k in hot) == 80  # in a transaction: 2 units each
    assert len(sim.stream) == 40 and {pk for _, pk, _ in sim.stream} <= {pk for _, pk in hot}
    assert len({pk for _, pk, _ in sim.stream}) > VERSION_SHARDS // 2  # spread over the write shards
    assert not any("/" in table for table in sim.table_units)  # no GSI updates: the artifacts table has none
    # every version claims its runs once, under a key of its own
    claims = [k for k in sim.key_items if k[0] == "registry" and k[1].startswith("START#")]
    assert len(claims) == 40
    assert sum(sim.s3_prefix_puts.values()) == 40


def test_shard_suffixes_are_taken_off_only_where_the_store_puts_them():
    from chalicelib.store.models import VERSION_SHARDS

    assert capacity.unsharded("A#sales#3") == "A#sales"
    assert capacity.unsharded("Q#sales|region=emea|2026-01-05T00:00:00Z#1") == "Q#sales|region=emea|2026-01-05T00:00:00Z"
    assert capacity.unsharded("A#sales") == "A#sales"
    assert capacity.unsharded(f"A#sales#{VERSION_SHARDS}") == f"A#sales#{VERSION_SHARDS}"
    assert capacity.unsharded("START#sales#v1") == "START#sales#v1"


def test_one_artifact_at_the_target_rate_stays_under_the_per_key_limit():
    sim = capacity.simulate(rate=1_000, seconds=1, hot_share=1.0)
    groups = capacity.artifact_keys(sim, capacity.HOT)
    version_shards = groups[("artifacts", f"A#{capacity.HOT}")]
    assert sum(sim.key_items[k][0] for k in version_shards) == 1_000
    worst = max(capacity.peak(sim.key_units[k]) for members in groups.values() for k in members)
    unsharded = max(capacity.peak(capacity.summed(sim.key_units[k] for k in members)) for members in groups.values())
    assert unsharded == 2_000  # what one key took before write shards: twice the limit
    assert worst * capacity.HEADROOM <= capacity.KEY_WCU_LIMIT


def test_batches_count_one_subscription_query_per_artifact_in_a_batch():
    stream = [(0, "A#a", "a")] * 150 + [(0, "A#b", "b")] * 10
    counted = capacity.batch_count(stream, partitions=1)
    assert counted == {"batches": 2, "queries": 3}  # [a x100], [a x50, b x10]
    assert Counter(capacity.partition_of(pk, 4) for pk in ["A#a"] * 3) == {capacity.partition_of("A#a", 4): 3}


def test_stack_figures_resolve_intrinsics_to_their_longest_values():
    from benchmarks import stack_figures as sf

    resources = {"Table": {"Type": "AWS::DynamoDB::Table",
                           "Properties": {"TableName": {"Fn::Sub": "${AppName}-${Stage}-artifacts"}}},
                 "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q"}}}
    names = {**sf.LONGEST, "AppName": "cascade"}
    stage = "s" * 20
    assert sf.resolve({"Fn::Sub": "${Table}"}, resources, names) == f"cascade-{stage}-artifacts"
    assert sf.resolve({"Fn::Sub": "${Table.StreamArn}"}, resources, names) == (
        f"arn:aws-us-gov:dynamodb:ap-southeast-2:123456789012:table/cascade-{stage}-artifacts"
        f"/stream/2026-01-01T00:00:00.000")
    assert sf.resolve({"Ref": "Queue"}, resources, names) == "https://sqs.ap-southeast-2.amazonaws.com/123456789012/q"
    # a stage the template spells out counts as the longest stage name
    assert sf.env_bytes({"K": "x-bench-y"}, resources, names, "bench") == 1 + len(f"x-{stage}-y")
