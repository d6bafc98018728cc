"""Capacity at 1,000 artifact versions per second: the README's plan checked by simulation with the project's code.

    python -m benchmarks.capacity [--json] [--rate 1000] [--seconds 60] [--written-seconds 10]
                                  [--hot-share 0.6] [--batch-seconds S] [--one-artifact-seconds 5]
                                  [--latest-rounds 30]

1. DynamoDB keys. A workload of `--rate` versions/s (one hot artifact with
   two partition keys and a daily time partition taking `--hot-share` of the versions, 200 others sharing the
   rest by a Zipf law, four in five versions made by an execution, the rest uploads) is written through the
   real write path, `ArtifactStore.write`, and claimed through the real trigger path, `decide` then
   `StartLedger.claim`, against recording clients that answer as DynamoDB and S3 would and keep every item
   sent. So the keys counted are the ones the store writes, whatever it writes. The first `--written-seconds`
   go through the store (about 1 ms of CPU per version); the queues over `--seconds` repeat them. The global
   secondary indexes are read from infra/template.yaml. Each item costs its size in write units (1 KB each, DynamoDB's item-size
   rules), twice in a transaction; a GSI update costs the projected item's size. The figure per key is the
   peak over the simulated seconds, against DynamoDB's 1,000 write units/s per partition-key value (adaptive
   capacity isolates a hot key on its own partition, but splits a partition by sort key only when the sort keys
   written are not ever-increasing, and version sort keys start with their creation time). Then `--rate`
   versions/s of ONE artifact (the hot one, alone) for `--one-artifact-seconds`: the peak write units/s of each
   of its keys, on every write shard (chalicelib.store.models.VERSION_SHARDS), against the same limit, and
   with the 2x headroom the store's shard count is chosen for. And what shards cost a reader: "latest" for a
   subset, timed on the local cloud with modelled round trips, the store's way (N Limit-1 Queries at once)
   against the same Queries in sequence and a single Query.
2. Stream shards and ParallelizationFactor. Shards follow the artifacts table's partitions; each partition key
   lands on one. The trigger's time for a batch of 100 records with one subscriber is measured on the local
   cloud (each AWS call first waits a modelled in-region round trip, as in handler_time; moto's CPU, in this
   process, comes on top, so the figure is pessimistic), or given with `--batch-seconds`. A shard keeps up with
   ParallelizationFactor N when its records/s stay under N x 100 / batch time; then IteratorAge stays flat.
3. StartExecution and Lambda quotas: the StartExecution token bucket second by second at the start rate; the
   task runner's concurrency = starts/s x its duration.
4. Cost per million versions, from the counted units and us-east-1 public prices (constants below), against
   a polling scheduler that runs all day.
"""

from __future__ import annotations

import hashlib
import math
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from benchmarks.common import ROOT, Report, emit, parser

# -- AWS limits and quotas (us-east-1 defaults, as published) -------------------------------------------------
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
KEY_WCU_LIMIT = 1_000  # write units/s one partition-key value can take (one partition)
KEY_RCU_LIMIT = 3_000  # read units/s one partition-key value can take
ON_DEMAND_INITIAL_WCU = 4_000  # a new on-demand table serves this at once (DynamoDB: "up to 4,000 WRU/s")
WRITE_UNIT, READ_UNIT = 1024, 4096  # bytes per write unit, per strongly consistent read unit
# https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html
BATCH_SIZE = 100  # app.py: @app.on_dynamodb_record(batch_size=100)
MAX_PARALLELIZATION = 10
# https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html (us-east-1, us-west-2, eu-west-1)
START_BUCKET, START_REFILL = 1_300, 300  # StartExecution (Standard): bucket size, refill per second
TRANSITION_BUCKET, TRANSITION_REFILL = 5_000, 5_000  # state transitions
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html, .../scaling-behavior.html
ACCOUNT_CONCURRENCY = 1_000
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html
S3_PUT_PER_PREFIX = 3_500
SCALING_PER_10S = 1_000  # new execution environments per function every 10 seconds

# -- prices: us-east-1 list prices, on demand, from the pages below (prices change: check them before relying) ---
PRICES_READ = "2026-12-02"  # when these were last checked
PRICES = {
    # https://aws.amazon.com/dynamodb/pricing/on-demand/
    "dynamodb_write_unit": 0.625 / 1e6,
    "dynamodb_read_unit": 0.125 / 1e6,
    "dynamodb_stream_read_by_lambda": 0.0,  # "GetRecords calls invoked by AWS Lambda as part of triggers: free"
    # https://aws.amazon.com/lambda/pricing/ (x86)
    "lambda_gb_second": 0.0000166667,
    "lambda_request": 0.20 / 1e6,
    # https://aws.amazon.com/step-functions/pricing/ (Standard)
    "sfn_transition": 0.025 / 1e3,
    # https://aws.amazon.com/s3/pricing/ (S3 Standard)
    "s3_put": 0.005 / 1e3,
    "s3_get": 0.0004 / 1e3,
    # https://aws.amazon.com/ec2/pricing/on-demand/ (t4g.small, Linux)
    "ec2_t4g_small_hour": 0.0168,
}
PRICE_PAGES = ["https://aws.amazon.com/dynamodb/pricing/on-demand/", "https://aws.amazon.com/lambda/pricing/",
               "https://aws.amazon.com/step-functions/pricing/", "https://aws.amazon.com/s3/pricing/",
               "https://aws.amazon.com/ec2/pricing/on-demand/"]

# -- the workload and what a run costs (parameters, not measured here) ----------------------------------------
RATE, SECONDS, HOT_SHARE = 1_000, 60, 0.6
WRITTEN_SECONDS = 10  # seconds written through the store (about 1 ms of CPU per version); the rest repeat them
ONE_ARTIFACT_SECONDS = 5  # seconds of `rate` versions/s of the hot artifact alone
LATEST_ROUNDS = 30  # timed "latest" calls per way (0: not measured)
HEADROOM = 2  # the store's write shards are sized for this margin under the per-key limit at RATE of one artifact
OTHER_ARTIFACTS = 200
HOT = "capacity_hot"
HOT_KEYS = {"region": [f"r{i}" for i in range(8)], "source": [f"s{i:02d}" for i in range(16)]}
EXECUTION_SHARE = 0.8  # versions made by a task; the rest are uploads
TRIGGER_MEMORY_GB = 256 / 1024  # .chalice/config.json: on_artifact_event
TASK_MEMORY_GB = 1769 / 1024  # .chalice/config.json: task_runner
TASK_SECONDS = 2.0  # the README's plan: one task of 2 s per started run
TRANSITIONS_PER_RUN = 3  # the README's plan: at least 3 state transitions per one-task execution
ROUND_TRIP_S = {"dynamodb": 0.005, "sfn": 0.020}  # benchmarks/common.py ROUND_TRIP_MS
POLL_SECONDS = 10  # the polling scheduler's interval
TABLES = {"ArtifactsTable": "artifacts", "IndexTable": "index", "RegistryTable": "registry"}  # template → name


# -- item sizes and units (pure) -----------------------------------------------------------------------------
def attribute_bytes(value: dict[str, Any]) -> int:
    """Bytes of one typed attribute value, by DynamoDB's item-size rules (strings and binary by length,
    numbers about one byte per two digits, 3 bytes per list or map plus 1 per element)."""
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "B":
        return len(v)
    if kind == "N":
        return len(str(v).lstrip("-").replace(".", "")) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_bytes(x) + 1 for k, x in v.items())
    if kind == "L":
        return 3 + sum(attribute_bytes(x) + 1 for x in v)
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_bytes({kind[0]: x}) for x in v)
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_bytes(item: dict[str, Any]) -> int:
    """Bytes DynamoDB counts for a typed item: attribute names plus values."""
    return sum(len(name.encode()) + attribute_bytes(value) for name, value in item.items())


def write_units(size: int, transactional: bool = False) -> int:
    return max(1, math.ceil(size / WRITE_UNIT)) * (2 if transactional else 1)


def read_units(size: int, consistent: bool = True) -> float:
    units = max(1, math.ceil(size / READ_UNIT))
    return units if consistent else units / 2


# -- the quota models (pure) ---------------------------------------------------------------------------------
@dataclass
class BucketSecond:
    second: int
    demand: int  # new requests this second
    served: int
    backlog: int  # requests waiting (throttled, to be retried) at the end of the second


def token_bucket(demand: Iterable[int], capacity: int, refill: int) -> list[BucketSecond]:
    """Second by second: the bucket starts full; each second the waiting and new requests take what tokens
    there are, the rest wait; then the bucket refills (up to its capacity)."""
    tokens, backlog, out = capacity, 0, []
    for second, new in enumerate(demand, start=1):
        want = backlog + new
        served = min(want, tokens)
        tokens -= served
        backlog = want - served
        out.append(BucketSecond(second, new, served, backlog))
        tokens = min(capacity, tokens + refill)
    return out


def first_throttled(seconds: list[BucketSecond]) -> int | None:
    return next((s.second for s in seconds if s.backlog), None)


def shard_backlog(arrivals: Iterable[float], capacity: float) -> list[float]:
    """Records waiting on one shard at the end of each second, processed at `capacity` records/s."""
    backlog, out = 0.0, []
    for new in arrivals:
        backlog = max(0.0, backlog + new - capacity)
        out.append(backlog)
    return out


def partition_of(pk: str, partitions: int) -> int:
    """Which of `partitions` a partition-key value hashes to (a stand-in for DynamoDB's internal hash)."""
    return int.from_bytes(hashlib.md5(pk.encode()).digest()[:8], "big") % partitions


def unsharded(pk: str) -> str:
    """A partition key without its write-shard suffix (chalicelib.store.models.sharded): the key it would be
    without write shards."""
    from chalicelib.store.models import SHARD_MARK, VERSION_SHARDS

    base, mark, shard = pk.rpartition(SHARD_MARK)
    return base if mark and shard.isdigit() and 0 < int(shard) < VERSION_SHARDS else pk


def artifact_keys(sim: Simulated, name: str) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(table, unsharded key) → its write-shard keys, for the version and index keys of one artifact."""
    out: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for table, pk in sim.key_units:
        if table in ("artifacts", "index") and (unsharded(pk) == f"A#{name}" or pk.startswith(f"Q#{name}|")):
            out[(table, unsharded(pk))].append((table, pk))
    return dict(out)


def summed(counters: Iterable[Counter]) -> Counter:
    total: Counter = Counter()
    for c in counters:
        total.update(c)
    return total


def concurrency(arrivals_per_s: float, seconds_each: float) -> float:
    """Little's law: requests in flight = arrival rate x time each."""
    return arrivals_per_s * seconds_each


# -- recording clients: they answer as DynamoDB and S3 would and keep what was sent ---------------------------
@dataclass
class Write:
    table: str
    item: dict[str, Any]  # typed
    transactional: bool


@dataclass
class Recorder:
    writes: list[Write] = field(default_factory=list)
    s3_puts: list[str] = field(default_factory=list)

    # DynamoDB
    def transact_write_items(self, TransactItems: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
        for op in TransactItems:
            put = op["Put"]
            self.writes.append(Write(put["TableName"], put["Item"], True))
        return {}

    def put_item(self, TableName: str, Item: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.writes.append(Write(TableName, Item, False))
        return {}

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]], **_: Any) -> dict[str, Any]:
        for table, requests in RequestItems.items():
            for r in requests:
                self.writes.append(Write(table, r["PutRequest"]["Item"], False))
        return {"UnprocessedItems": {}}

    # S3
    def put_object(self, Bucket: str, Key: str, **_: Any) -> dict[str, Any]:
        self.s3_puts.append(Key)
        return {"ETag": '"0"'}

    def take(self) -> tuple[list[Write], list[str]]:
        writes, puts = self.writes, self.s3_puts
        self.writes, self.s3_puts = [], []
        return writes, puts


# -- the workload ----------------------------------------------------------------------------------------
def zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return [1 / (i + 1) ** s for i in range(n)]


def gsis() -> dict[str, list[tuple[str, str]]]:
    """Table name → [(index name, hash-key attribute)] of its global secondary indexes, from infra/template.yaml."""
    from chalicelib.deploy.build import load_infra

    out: dict[str, list[tuple[str, str]]] = {}
    for logical, resource in load_infra(ROOT)["Resources"].items():
        if resource.get("Type") != "AWS::DynamoDB::Table" or logical not in TABLES:
            continue
        for gsi in resource["Properties"].get("GlobalSecondaryIndexes", []):
            hash_key = next(k["AttributeName"] for k in gsi["KeySchema"] if k["KeyType"] == "HASH")
            out.setdefault(TABLES[logical], []).append((gsi["IndexName"], hash_key))
    return out


@dataclass
class Simulated:
    seconds: int
    versions: int
    key_units: dict[tuple[str, str], Counter]  # (table or table/index, pk) → second → write units
    key_items: dict[tuple[str, str], Counter]  # same, items written
    table_units: dict[str, Counter]  # table or table/index → second → write units
    units_by_kind: Counter  # ("version write" | "claim", table) → write units, total
    item_sizes: dict[str, list[int]]  # what → sizes in bytes
    s3_prefix_puts: Counter  # artifact folder → PUTs, total
    stream: list[tuple[int, str, str]]  # (second, artifacts-table pk, artifact) of each version, in order
    subscription_bytes: int
    wall_s: float


def simulate(rate: int = RATE, seconds: int = SECONDS, hot_share: float = HOT_SHARE, seed: int = 7) -> Simulated:
    """`rate` versions a second for `seconds`, each written by ArtifactStore.write and claimed by
    StartLedger.claim (one subscriber per artifact) against a Recorder; every item sent is counted."""
    from chalicelib.config import Settings
    from chalicelib.store.artifacts import ArtifactStore
    from chalicelib.store.claims import StartLedger
    from chalicelib.store.dynamo import to_dynamo
    from chalicelib.store.models import Subscription, make_version
    from chalicelib.trigger.decide import decide

    t0 = time.perf_counter()
    rng = random.Random(seed)
    settings = Settings(bucket="bucket", artifacts_table="artifacts", registry_table="registry", index_table="index")
    rec = Recorder()
    store = ArtifactStore(settings, rec, rec)
    ledger = StartLedger(settings.registry_table, rec)
    indexes = gsis()
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:cascade-prod-downstream_wf"
    others = [f"capacity_{i:03d}" for i in range(OTHER_ARTIFACTS)]
    other_weights = zipf_weights(len(others))
    # a third of the others partitioned by one key, a third also daily time-partitioned
    shape = {name: i % 3 for i, name in enumerate(others)}
    hot_weights = {k: zipf_weights(len(v)) for k, v in HOT_KEYS.items()}
    subs = {name: [Subscription(artifact=name, launch_plan=f"{name}_lp", lp_version="1", workflow="downstream_wf",
                                state_machine_arn=arn, bindings={"data": {"trigger_artifact": True}})]
            for name in [HOT, *others]}
    subscription_bytes = item_bytes(to_dynamo(subs[HOT][0].to_item()))

    key_units: dict[tuple[str, str], Counter] = defaultdict(Counter)
    key_items: dict[tuple[str, str], Counter] = defaultdict(Counter)
    table_units: dict[str, Counter] = defaultdict(Counter)
    units_by_kind: Counter = Counter()
    sizes: dict[str, list[int]] = defaultdict(list)
    prefix_puts: Counter = Counter()
    stream: list[tuple[int, str, str]] = []
    start = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)

    def account(kind: str, second: int, writes: list[Write]) -> None:
        for w in writes:
            size = item_bytes(w.item)
            units = write_units(size, w.transactional)
            targets = [(w.table, w.item["pk"]["S"], units)]
            for index, attr in indexes.get(w.table, []):
                if attr in w.item:  # a GSI update: the projected (ALL) item, a standard write
                    targets.append((f"{w.table}/{index}", w.item[attr]["S"], write_units(size)))
            for table, pk, u in targets:
                key_units[(table, pk)][second] += u
                key_items[(table, pk)][second] += 1
                table_units[table][second] += u
                units_by_kind[(kind, table)] += u
            sizes[f"{kind}: {w.table} {'(transaction)' if w.transactional else ''}".strip()].append(size)

    for second in range(seconds):
        for i in range(rate):
            made = start + timedelta(seconds=second, microseconds=i * 1_000_000 // rate)
            if rng.random() < hot_share:
                name = HOT
                partitions = {k: rng.choices(v, hot_weights[k])[0] for k, v in HOT_KEYS.items()}
                tp: datetime | None = made.replace(hour=0, minute=0, second=0, microsecond=0)
            else:
                name = rng.choices(others, other_weights)[0]
                partitions = {"region": f"r{rng.randrange(4)}"} if shape[name] else {}
                tp = made.replace(hour=0, minute=0, second=0, microsecond=0) if shape[name] == 2 else None
            if rng.random() < EXECUTION_SHARE:
                execution = f"arn:aws:states:us-east-1:123456789012:execution:cascade-prod-wf:run-{second}-{i}"
                producer: Any = {"kind": "execution", "execution": execution, "workflow": "pipeline.wf",
                                 "launch_plan": "pipeline_lp", "node": "n0"}
                identity = (execution, "n0", "o0")
            else:
                producer = f"s3://bucket/uploads/{name}/{second}-{i}.csv"
                identity = (producer,)
            version = make_version(made, name, *identity)
            stored = store.write(name, {"rows": i, "ok": True}, partitions, tp, version, producer)
            writes, puts = rec.take()
            account("version write", second, writes)
            for key in puts:
                prefix_puts[key.split("/")[1]] += 1
            requests = decide(stored, subs[name])
            ledger.claim(name, version, [r.to_dict() for r in requests], now=made)
            account("claim", second, rec.take()[0])
            metadata = next(w for w in writes if w.table == settings.artifacts_table)
            stream.append((second, metadata.item["pk"]["S"], name))
    return Simulated(seconds, rate * seconds, dict(key_units), dict(key_items), dict(table_units), units_by_kind,
                     dict(sizes), prefix_puts, stream, subscription_bytes, time.perf_counter() - t0)


# -- the trigger's time per batch, measured on the local cloud -----------------------------------------------
def measure_batch(records: int = BATCH_SIZE, rounds: int = 3) -> dict[str, float]:
    """Seconds the real trigger handler takes for a batch of `records` records, each starting one launch plan,
    with modelled round trips (executions run after the timed batch, as on Step Functions' fleet)."""
    from benchmarks import flows
    from benchmarks.common import NetworkLatency, executions_held, make_versions, seed_versions, silenced, stream_event
    from chalicelib import aws
    from chalicelib.local.cloud import LocalCloud
    from chalicelib.trigger.handler import default_trigger

    with LocalCloud() as cloud, silenced():
        s = cloud.settings
        flows.register_fanout(cloud, 1)
        versions = make_versions(flows.Fanout.name, records * (rounds + 1), start=20_000_000)
        seed_versions(cloud, versions)
        pool = iter(versions)
        arn = cloud.outputs["ArtifactsStreamArn"]
        trigger = default_trigger()
        ddb, sfn = aws.client("dynamodb", s.region), aws.client("stepfunctions", s.region)
        trigger.handle(stream_event([next(pool) for _ in range(records)], arn))  # warm: clients, caches
        cloud.wait_quiet()
        wall, cpu = [], []
        for _ in range(rounds):
            event = stream_event([next(pool) for _ in range(records)], arn)
            with executions_held(), NetworkLatency(ddb, sfn):
                t0, c0 = time.perf_counter(), time.process_time()
                result = trigger.handle(event)
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            if result["batchItemFailures"]:
                raise RuntimeError(f"the measured batch failed: {result['batchItemFailures'][:3]}")
            cloud.wait_quiet()
    from chalicelib.trigger.pool import MAX_WORKERS

    # What Lambda would take with the same calls: the batch's one subscription Query, then per record one claim
    # (PutItem) and one StartExecution, max_workers records at a time; CPU of our code left out.
    modelled = ROUND_TRIP_S["dynamodb"] + math.ceil(records / MAX_WORKERS) * (ROUND_TRIP_S["dynamodb"]
                                                                           + ROUND_TRIP_S["sfn"])
    return {"records": records, "wall_s": min(wall), "cpu_s": min(cpu), "modelled_s": modelled,
            "max_workers": MAX_WORKERS}


def measure_latest(rounds: int = 30, versions: int = 400) -> dict[str, float]:
    """Median seconds of one "latest for a subset" on the local cloud, with modelled round trips: the store's
    way (one Limit-1 Query per write shard, at once on its pool), the same Queries one after another, and a
    single Query (what an unsharded index took), measured in the same run."""
    import statistics

    from benchmarks.common import NetworkLatency, make_versions, new_client, seed_versions, silenced
    from chalicelib.local.cloud import LocalCloud
    from chalicelib.store.index import ArtifactIndex, index_pks

    name, partitions = "capacity_latest", {"region": "r0"}
    with LocalCloud() as cloud, silenced():
        seed_versions(cloud, make_versions(name, versions, partitions))
        ddb = new_client("dynamodb", cloud.settings.region)
        index = ArtifactIndex.of(ddb, cloud.settings)
        pks = index_pks(name, partitions, None)
        ways = {"pooled": lambda: index.latest(name, partitions, None),
                "sequential": lambda: max((i for pk in pks if (i := index._newest_on(pk))), key=lambda i: i["sk"]),
                "one Query": lambda: index._newest_on(pks[0])}
        times: dict[str, list[float]] = {w: [] for w in ways}
        for way in ways.values():
            way()  # warm: clients, connections, the pool
        with NetworkLatency(ddb):
            for _ in range(rounds):
                for w, way in ways.items():  # interleaved, so a busy moment of the machine hits all three
                    t0 = time.perf_counter()
                    way()
                    times[w].append(time.perf_counter() - t0)
    return {w: statistics.median(t) for w, t in times.items()}


def latest_reads(report: Report, rounds: int) -> None:
    """1c. What write shards cost a reader: "latest" is one Limit-1 Query per shard."""
    from chalicelib.store.models import VERSION_SHARDS

    print("  measuring 'latest' over the write shards on the local cloud ...", file=sys.stderr, flush=True)
    measured = measure_latest(rounds)
    table = report.table(f"'latest for a subset' over {VERSION_SHARDS} write shards: median of {rounds} on the local "
                         f"cloud, each call after a modelled {ROUND_TRIP_S['dynamodb'] * 1000:g} ms round trip "
                         f"(moto's CPU, in this process, on top)", "way", "Queries", "read units", "ms")
    table.add(f"the store: {VERSION_SHARDS} Limit-1 Queries at once", VERSION_SHARDS, VERSION_SHARDS,
              round(measured["pooled"] * 1000, 1))
    table.add(f"the same {VERSION_SHARDS} Queries one after another", VERSION_SHARDS, VERSION_SHARDS,
              round(measured["sequential"] * 1000, 1))
    table.add("one Query (one unsharded key, the baseline)", 1, 1, round(measured["one Query"] * 1000, 1))


# -- the report ------------------------------------------------------------------------------------------
def peak(counter: Counter) -> int:
    return max(counter.values(), default=0)


@dataclass
class TriggerLoad:
    partitions: int
    shard_rates: dict[int, float]
    batch_s: float
    busy: float  # trigger invocations in flight (Little's law, per shard at most MAX_PARALLELIZATION)


def run(rate: int = RATE, seconds: int = SECONDS, hot_share: float = HOT_SHARE,
        batch_seconds: float | None = None, written_seconds: int = WRITTEN_SECONDS,
        one_artifact_seconds: int = ONE_ARTIFACT_SECONDS, latest_rounds: int = LATEST_ROUNDS) -> Report:
    written = min(written_seconds, seconds)
    report = Report("capacity", f"the README's plan at {rate:,} versions/s for {seconds} simulated s "
                                f"(one hot artifact: {hot_share:.0%} of versions)")
    print(f"  writing {rate * written:,} versions through the store's write path ...", file=sys.stderr, flush=True)
    sim = simulate(rate, written, hot_share)
    keys(report, sim, rate)
    print(f"  writing {rate * one_artifact_seconds:,} versions of one artifact ...", file=sys.stderr, flush=True)
    one_artifact(report, simulate(rate, one_artifact_seconds, hot_share=1.0, seed=11), rate)
    if latest_rounds:
        latest_reads(report, latest_rounds)
    trigger = stream(report, sim, seconds, batch_seconds)
    quotas(report, rate, seconds, trigger.busy)
    cost(report, sim, rate, trigger)
    report.notes.append(f"prices: {', '.join(PRICE_PAGES)} (read {PRICES_READ}); quotas: "
                        "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html, "
                        "https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html, "
                        "https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html, "
                        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html")
    report.notes.append(f"wrote {sim.versions:,} versions ({written} s) through the store in {sim.wall_s:.1f} s; "
                        f"queues over {seconds} s repeat those seconds")
    return report


def keys(report: Report, sim: Simulated, rate: int) -> None:
    """1. What each version writes, and the hottest partition-key values against the per-key limit."""
    n = sim.versions
    sizes = report.table("items written per version (sizes by DynamoDB's rules)", "item", "per version",
                         "bytes p50", "bytes max", "write units each")
    for what, values in sorted(sim.item_sizes.items()):
        values = sorted(values)
        sizes.add(what, round(len(values) / n, 2), values[len(values) // 2], values[-1],
                  write_units(values[-1], "(transaction)" in what))
    ranked = sorted(((peak(c), key) for key, c in sim.key_units.items()), reverse=True)
    hot = report.table(f"hottest partition-key values: peak write units/s over {sim.seconds} s written "
                       f"(limit {KEY_WCU_LIMIT:,} per key)", "table / index", "partition key", "items/s",
                       "write units/s", "of limit")
    for units, (table, pk) in ranked[:10]:
        hot.add(table, pk, peak(sim.key_items[(table, pk)]), units, f"{units / KEY_WCU_LIMIT:.0%}")
    tables = report.table("write units/s per table and index (peak second)", "table / index", "write units/s",
                          "partitions needed (1,000 WCU each)")
    for table, c in sorted(sim.table_units.items()):
        tables.add(table, peak(c), math.ceil(peak(c) / KEY_WCU_LIMIT))
    over = [(u, k) for u, k in ranked if u > KEY_WCU_LIMIT]
    top_units, (top_table, top_pk) = ranked[0]
    report.goal(f"no partition key over {KEY_WCU_LIMIT:,} write units/s at {rate:,} versions/s", not over,
                f"hottest {top_table} {top_pk}: {top_units:,} WCU/s; {len(over)} key(s) over")
    shards = artifact_keys(sim, HOT)[("artifacts", f"A#{HOT}")]
    hot_rate = peak(summed(sim.key_items[k] for k in shards))
    per_item = top_units / max(1, peak(sim.key_items[(top_table, top_pk)]))
    per_artifact = int(len(shards) * KEY_WCU_LIMIT // max(1, round(per_item)))
    report.goal(f"the hot artifact's {hot_rate:,} versions/s within what one artifact can take", hot_rate <= per_artifact,
                f"one artifact tops out near {per_artifact:,} versions/s ({len(shards)} write shard(s) x "
                f"{KEY_WCU_LIMIT:,} write units/s / {round(per_item)} units per item, if spread evenly)")
    if over:
        report.notes.append(
            f"FINDING: {len(over)} partition-key value(s) take more than {KEY_WCU_LIMIT:,} write units/s, led by "
            f"{top_table} {top_pk} ({top_units:,}/s, {per_item:.0f} units per item). Version sort keys grow with "
            f"time, so DynamoDB cannot split such a key by sort key; its writes are throttled and retried by "
            f"their producers. More write shards (chalicelib.store.models.VERSION_SHARDS) spread it further")


def one_artifact(report: Report, sim: Simulated, rate: int) -> None:
    """1b. `rate` versions/s of one artifact alone: every key it writes, per write shard, against the limit."""
    from chalicelib.store.models import VERSION_SHARDS

    groups = artifact_keys(sim, HOT)
    rows = []
    for (table, base), members in groups.items():
        without = peak(summed(sim.key_units[k] for k in members))
        hottest = max(members, key=lambda k: peak(sim.key_units[k]))
        rows.append((peak(sim.key_units[hottest]), without, table, base, len(members), peak(sim.key_items[hottest])))
    rows.sort(reverse=True)
    versions_per_s = peak(summed(sim.key_items[k] for k in groups[("artifacts", f"A#{HOT}")]))
    table = report.table(f"one artifact alone at {rate:,} versions/s ({versions_per_s:,} in its peak second, over "
                         f"{sim.seconds} s): peak write units/s per key and write shard (limit {KEY_WCU_LIMIT:,} "
                         f"per key; {VERSION_SHARDS} shards)", "table", "key (shard 0's spelling)",
                         "shards written", "hottest shard: items/s", "hottest shard: write units/s", "of limit",
                         "one key without shards: write units/s")
    for units, without, t, base, n, items in rows[:8]:
        table.add(t, base, n, items, units, f"{units / KEY_WCU_LIMIT:.0%}", without)
    top, without = rows[0][0], rows[0][1]
    report.goal(f"one artifact at {rate:,} versions/s: every key within {KEY_WCU_LIMIT:,} write units/s",
                top <= KEY_WCU_LIMIT, f"hottest key {rows[0][2]} {rows[0][3]} (on its hottest shard): {top:,} "
                f"WCU/s, {KEY_WCU_LIMIT / max(1, top):.1f}x under the limit (one unsharded key would take {without:,})")
    report.goal(f"... with {HEADROOM}x headroom (every key within {KEY_WCU_LIMIT // HEADROOM:,} write units/s)",
                top * HEADROOM <= KEY_WCU_LIMIT, f"{top:,} WCU/s at most")
    report.notes.append(
        f"write shards: each version's item and index items go to one of {VERSION_SHARDS} keys per artifact key, "
        f"chosen by the version id's CRC-32 (chalicelib.store.models.shard_of); 'latest' reads "
        f"{VERSION_SHARDS} Limit-1 Queries (one read unit each, strongly consistent) instead of 1, a listing merges "
        f"{VERSION_SHARDS} Queries")


def stream(report: Report, sim: Simulated, seconds: int, batch_seconds: float | None) -> TriggerLoad:
    """2. Stream shards (the artifacts table's partitions) and the trigger's concurrency per ParallelizationFactor."""
    written = sim.seconds
    artifacts_peak = peak(sim.table_units["artifacts"])
    partitions = max(math.ceil(ON_DEMAND_INITIAL_WCU / KEY_WCU_LIMIT), math.ceil(artifacts_peak / KEY_WCU_LIMIT))
    per_shard: dict[int, Counter] = defaultdict(Counter)
    keys_on: dict[int, set[str]] = defaultdict(set)
    for second, pk, _ in sim.stream:
        per_shard[partition_of(pk, partitions)][second] += 1
        keys_on[partition_of(pk, partitions)].add(pk)
    shard_rates = {s: sum(c.values()) / written for s, c in per_shard.items()}
    hottest = max(shard_rates, key=shard_rates.__getitem__)
    if batch_seconds is None:
        print("  measuring the trigger on a batch of 100 records on the local cloud ...", file=sys.stderr, flush=True)
        measured = measure_batch()
        batch_s, source = measured["wall_s"], "measured on the local cloud, moto's CPU included"
        report.notes.append(
            f"trigger batch of {measured['records']} records x 1 launch plan: {measured['wall_s']:.2f} s measured "
            f"(CPU {measured['cpu_s']:.2f} s, mostly moto's), {measured['modelled_s']:.2f} s modelled for Lambda "
            f"(1 Query + {math.ceil(measured['records'] / measured['max_workers'])} rounds of PutItem + "
            f"StartExecution at max_workers={measured['max_workers']}); the verdicts use the measured figure")
    else:
        batch_s, source = batch_seconds, "given with --batch-seconds"
    shards = report.table(f"stream: {partitions} shards (the artifacts table's partitions at {artifacts_peak:,} "
                          f"WCU/s, and at least the {ON_DEMAND_INITIAL_WCU:,} WCU/s a new on-demand table serves)",
                          "shard", "records/s", "artifacts-table keys on it")
    for s in sorted(shard_rates, key=shard_rates.__getitem__, reverse=True):
        shards.add(s, round(shard_rates[s], 1), len(keys_on[s]))
    pf = report.table(f"trigger per ParallelizationFactor (a batch of {BATCH_SIZE} in {batch_s:.2f} s, {source})",
                      "factor", "concurrency (shards x factor)", "capacity per shard, records/s",
                      "hottest shard, records/s", "keeps up", f"IteratorAge after {seconds} s")
    first_ok = None
    arrivals = [per_shard[hottest][t % written] for t in range(seconds)]  # the written seconds, repeated
    for factor in range(1, MAX_PARALLELIZATION + 1):
        capacity = factor * BATCH_SIZE / batch_s
        keeps = all(r <= capacity for r in shard_rates.values())
        if keeps and first_ok is None:
            first_ok = factor
        pf.add(factor, partitions * factor, round(capacity, 1), round(shard_rates[hottest], 1),
               "yes" if keeps else "no", f"{shard_backlog(arrivals, capacity)[-1] / capacity:.1f} s")
    busy = sum(min(MAX_PARALLELIZATION, concurrency(r, batch_s) / BATCH_SIZE) for r in shard_rates.values())
    report.goal(f"trigger keeps up (IteratorAge flat) with some ParallelizationFactor <= {MAX_PARALLELIZATION}",
                first_ok is not None,
                f"from factor {first_ok}: {partitions * first_ok} concurrent trigger invocations at most, about "
                f"{busy:.0f} busy" if first_ok else f"no: the hottest shard takes {shard_rates[hottest]:.0f} records/s")
    report.notes.append("ParallelizationFactor keeps order per item (partition and sort key) only, and every version "
                        "is an item of its own, so concurrent batches of one shard do split one artifact's versions "
                        "(https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html)")
    return TriggerLoad(partitions, shard_rates, batch_s, busy)


def quotas(report: Report, rate: int, seconds: int, trigger_busy: float) -> None:
    """3. The StartExecution token bucket second by second, and Lambda's concurrency."""
    bucket = token_bucket([rate] * seconds, START_BUCKET, START_REFILL)  # one subscriber: a start per version
    throttled = first_throttled(bucket)
    sfn = report.table(f"StartExecution token bucket (bucket {START_BUCKET:,}, refill {START_REFILL}/s) at "
                       f"{rate:,} starts/s", "second", "new", "started", "waiting (throttled)")
    for b in bucket:
        if b.second <= 3 or b.second in (10, 30, seconds):
            sfn.add(b.second, b.demand, b.served, b.backlog)
    report.goal(f"StartExecution keeps up with {rate:,} starts/s under the default quota (else ask for more)",
                throttled is None,
                f"throttled from second {throttled}; {bucket[-1].backlog:,} starts waiting after {seconds} s, "
                f"growing {rate - START_REFILL:,}/s" if throttled else "yes")
    transitions = token_bucket([rate * TRANSITIONS_PER_RUN] * seconds, TRANSITION_BUCKET, TRANSITION_REFILL)
    lam = report.table("Lambda and Step Functions concurrency", "what", "load", "quota", "fits")
    for label, starts in ((f"at the start quota ({START_REFILL}/s)", min(rate, START_REFILL)),
                          (f"at {rate:,} starts/s", rate)):
        task = concurrency(starts, TASK_SECONDS)
        lam.add(f"task runner {label}: starts/s x {TASK_SECONDS:g} s", round(task), ACCOUNT_CONCURRENCY,
                "yes" if task + trigger_busy <= ACCOUNT_CONCURRENCY else "no: raise the account quota")
    lam.add("trigger invocations busy (above)", round(trigger_busy), "shares the account quota", "-")
    needed = concurrency(rate, TASK_SECONDS)
    ramp = max(0, math.ceil((needed - SCALING_PER_10S) / SCALING_PER_10S) * 10)
    lam.add(f"task runner scaling to {needed:,.0f}", f"{ramp} s", f"{SCALING_PER_10S:,} environments / 10 s", "-")
    lam.add(f"state transitions: {TRANSITIONS_PER_RUN} per run", f"{rate * TRANSITIONS_PER_RUN:,}/s",
            f"bucket {TRANSITION_BUCKET:,}, refill {TRANSITION_REFILL:,}/s",
            "yes" if not first_throttled(transitions) else "no")
    report.goal(f"Lambda concurrency at {rate:,} runs/s of {TASK_SECONDS:g} s within the default "
                f"{ACCOUNT_CONCURRENCY:,}", needed + trigger_busy <= ACCOUNT_CONCURRENCY,
                f"{needed + trigger_busy:,.0f} needed")


def cost(report: Report, sim: Simulated, rate: int, trigger: TriggerLoad) -> None:
    """4. Cost per million versions from the counted units, and against a polling scheduler."""
    p = PRICES
    million = 1e6 / sim.versions
    batches = batch_count(sim.stream, trigger.partitions)
    trigger_gb_s = batches["batches"] * million * trigger.batch_s * TRIGGER_MEMORY_GB
    trigger_usd = trigger_gb_s * p["lambda_gb_second"] + batches["batches"] * million * p["lambda_request"]
    sub_rru = batches["queries"] * million * read_units(sim.subscription_bytes)
    by_table: Counter = Counter()
    for (kind, table), units in sim.units_by_kind.items():
        by_table["start claims" if kind == "claim" else table] += units * million
    labels = {"artifacts": "version items (artifacts table, in the transaction)",
              "index": "query index items (in the transaction)", "registry": "lineage edges (in the transaction)",
              "start claims": "start claims (the trigger's conditional PutItem)"}
    rows = [(f"DynamoDB writes: {labels.get(t, t)}", f"{u:,.0f} WRU", u * p["dynamodb_write_unit"])
            for t, u in sorted(by_table.items())]
    puts = sum(sim.s3_prefix_puts.values()) * million
    rows += [
        ("DynamoDB reads: the trigger's subscription Query per batch and artifact", f"{sub_rru:,.0f} RRU",
         sub_rru * p["dynamodb_read_unit"]),
        ("DynamoDB Streams reads by the trigger (free for Lambda)", f"{batches['batches'] * million:,.0f} GetRecords",
         0.0),
        ("Lambda trigger (measured batch time)", f"{trigger_gb_s:,.0f} GB-s, {batches['batches'] * million:,.0f} "
         f"requests", trigger_usd),
        ("S3 PUT: the versions' data objects", f"{puts:,.0f}", puts * p["s3_put"]),
    ]
    runs = [
        (f"Step Functions Standard: {TRANSITIONS_PER_RUN} transitions per run", f"{TRANSITIONS_PER_RUN * 1e6:,.0f}",
         TRANSITIONS_PER_RUN * 1e6 * p["sfn_transition"]),
        (f"Lambda task runner: {TASK_SECONDS:g} s at {TASK_MEMORY_GB * 1024:.0f} MB",
         f"{1e6 * TASK_SECONDS * TASK_MEMORY_GB:,.0f} GB-s",
         1e6 * TASK_SECONDS * TASK_MEMORY_GB * p["lambda_gb_second"] + 1e6 * p["lambda_request"]),
        ("S3 GET: each run reads its version", "1,000,000", 1e6 * p["s3_get"]),
    ]
    engine = sum(r[2] for r in rows)
    table = report.table(f"cost per million versions, us-east-1 prices read {PRICES_READ}", "item", "units", "USD")
    for label, units, usd in rows:
        table.add(label, units, round(usd, 2))
    table.add("= writing and triggering", "", round(engine, 2))
    for label, units, usd in runs:
        table.add(label, units, round(usd, 2))
    table.add("= with one one-task run started per version", "", round(engine + sum(r[2] for r in runs), 2))

    # A polling scheduler in place of stream + trigger still writes the versions and claims and starts the same
    # runs: it replaces only how new versions are found (the trigger's Lambda and its subscription reads).
    artifacts = OTHER_ARTIFACTS + 1
    poll_rru_day = 86_400 / POLL_SECONDS * artifacts * read_units(0, consistent=False)  # a Query per artifact per poll
    poll_fixed = 24 * p["ec2_t4g_small_hour"] + poll_rru_day * p["dynamodb_read_unit"]
    version_bytes = max(sim.item_sizes["version write: artifacts (transaction)"])
    # a Query's read units are its items' bytes together per 4 KB, halved when eventually consistent
    poll_per_million = 1e6 * version_bytes / READ_UNIT / 2 * p["dynamodb_read_unit"]
    ours = sub_rru * p["dynamodb_read_unit"] + trigger_usd
    per_day = rate * 86_400 / 1e6
    poll = report.table(f"finding new versions: stream + trigger against a polling scheduler that runs all day "
                        f"(a t4g.small querying each of {artifacts} artifacts every {POLL_SECONDS} s)", "scheduler",
                        "fixed USD/day", "USD per million versions", f"USD/day at {rate:,} versions/s",
                        "USD/day at 10,000 versions/day")
    poll.add("stream + trigger Lambda (this project)", 0.0, round(ours, 3), round(ours * per_day, 2),
             round(ours * 0.01, 4))
    poll.add("polling scheduler", round(poll_fixed, 2), round(poll_per_million, 3),
             round(poll_fixed + poll_per_million * per_day, 2), round(poll_fixed + poll_per_million * 0.01, 2))
    report.notes.append("both ways write the same versions and claims and start the same runs, so the last table "
                        "compares only how new versions are found: stream reads by Lambda are free, the poller pays "
                        "its instance all day and a Query per artifact per poll (and one poller on one instance "
                        "would itself have to start 1,000 runs/s, and finds a version up to "
                        f"{POLL_SECONDS} s late)")
    folder_puts = max(sim.s3_prefix_puts.values()) / sim.seconds
    report.goal(f"S3 PUTs per artifact folder under {S3_PUT_PER_PREFIX:,}/s", folder_puts <= S3_PUT_PER_PREFIX,
                f"{folder_puts:,.0f}/s (the hot artifact)")


def batch_count(stream: list[tuple[int, str, str]], partitions: int) -> dict[str, int]:
    """Batches of up to BATCH_SIZE records per shard and second, and the subscription Queries they make (one per
    distinct artifact in a batch, chalicelib.trigger.subscriptions)."""
    groups: dict[tuple[int, int], list[str]] = defaultdict(list)
    for second, pk, artifact in stream:
        groups[(partition_of(pk, partitions), second)].append(artifact)
    batches = queries = 0
    for names in groups.values():
        for i in range(0, len(names), BATCH_SIZE):
            batches += 1
            queries += len(set(names[i:i + BATCH_SIZE]))
    return {"batches": batches, "queries": queries}


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rate", type=int, default=RATE, help="versions per second")
    p.add_argument("--seconds", type=int, default=SECONDS, help="simulated seconds")
    p.add_argument("--hot-share", type=float, default=HOT_SHARE, help="share of versions of the hot artifact")
    p.add_argument("--written-seconds", type=int, default=WRITTEN_SECONDS,
                   help="seconds written through the store's write path; later seconds repeat them")
    p.add_argument("--one-artifact-seconds", type=int, default=ONE_ARTIFACT_SECONDS,
                   help="seconds of --rate versions/s of one artifact alone, written through the store")
    p.add_argument("--latest-rounds", type=int, default=LATEST_ROUNDS,
                   help="timed 'latest' calls over the write shards per way (0: skip)")
    p.add_argument("--batch-seconds", type=float, default=None,
                   help="the trigger's seconds per batch of 100 records, instead of measuring it")
    args = p.parse_args(argv)
    emit(run(args.rate, args.seconds, args.hot_share, args.batch_seconds, args.written_seconds,
             args.one_artifact_seconds, args.latest_rounds), args.json)


if __name__ == "__main__":
    main()
