"""What every benchmark shares: AWS call counting with botocore event hooks, seeding the local cloud fast,
stream events in the real Lambda shape, simple statistics, and printing a table or JSON.

Tests import `CallCounter`, `seed_versions`, `paused_trigger` and `stream_event` from here too, so the
figures a benchmark prints and the counts a test asserts come from the same instrument.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chalicelib import capture  # noqa: E402
from chalicelib.trigger.pool import origin_thread  # noqa: E402
from chalicelib.store.dynamo import to_dynamo  # noqa: E402
from chalicelib.store.models import ArtifactVersion, make_version  # noqa: E402

STREAM_TEMPLATE = ROOT / "tests" / "events" / "dynamodb_stream_insert.json"


# -- counting AWS calls ---------------------------------------------------------------------------
@dataclass
class Call:
    """One API call as the client saw it (retries of the same call are one call)."""

    service: str
    operation: str
    thread: int
    started: float
    ended: float | None = None
    items_read: int = 0  # ScannedCount of a Query or Scan, 1 for a GetItem that found its item
    cpu_started: float = 0.0  # time.thread_time() of the calling thread (moto serves it in that thread)
    cpu_ended: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.service}.{self.operation}"

    @property
    def seconds(self) -> float:
        return (self.ended or self.started) - self.started

    @property
    def cpu_seconds(self) -> float:
        return max(0.0, self.cpu_ended - self.cpu_started)


class CallCounter:
    """Records every API call the given boto3 clients make, through botocore's event hooks: from
    `provide-client-params` (the call begins, before botocore builds the request) to `after-call` (parsed).

    `with CallCounter(ddb, sfn) as calls: ...` then `calls.counts()` → {"dynamodb.Query": 1, ...}.
    Pass `thread=` to `counts()` to keep only the calls one thread made (stream handlers of the local cloud run
    in the writing thread; Step Functions executions run in threads of their own); a call the trigger's pool
    makes on behalf of a thread counts as that thread's (chalicelib.trigger.pool.origin_thread).
    """

    def __init__(self, *clients: Any, cpu: bool = True) -> None:
        self.clients = clients
        self.cpu = cpu  # also read each call's thread CPU time (a system call per hook; off where calls abound)
        self.calls: list[Call] = []
        self._id = f"call-counter-{uuid.uuid4().hex}"

    def __enter__(self) -> CallCounter:
        for client in self.clients:
            client.meta.events.register("provide-client-params", self._before, unique_id=self._id + "-before")
            client.meta.events.register("after-call", self._after, unique_id=self._id + "-after")
        return self

    def __exit__(self, *exc: Any) -> None:
        for client in self.clients:
            client.meta.events.unregister("provide-client-params", self._before, unique_id=self._id + "-before")
            client.meta.events.unregister("after-call", self._after, unique_id=self._id + "-after")

    def _before(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        call = Call(model.service_model.service_name, model.name, origin_thread(), time.perf_counter(),
                    cpu_started=time.thread_time() if self.cpu else 0.0)
        context[self._id] = call
        self.calls.append(call)

    def _after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        call = context.get(self._id)
        if call is None:
            return
        call.ended = time.perf_counter()
        call.cpu_ended = time.thread_time() if self.cpu else 0.0
        if "ScannedCount" in parsed:
            call.items_read = int(parsed["ScannedCount"])
        elif "Item" in parsed:
            call.items_read = 1

    def reset(self) -> None:
        self.calls.clear()

    def select(self, thread: int | None = None) -> list[Call]:
        return [c for c in list(self.calls) if thread is None or c.thread == thread]

    def counts(self, thread: int | None = None) -> dict[str, int]:
        return dict(sorted(Counter(c.name for c in self.select(thread)).items()))

    def total(self, thread: int | None = None) -> int:
        return len(self.select(thread))

    def items_read(self, thread: int | None = None) -> int:
        return sum(c.items_read for c in self.select(thread))

    def seconds(self, thread: int | None = None) -> float:
        return sum(c.seconds for c in self.select(thread))


def new_client(service: str, region: str) -> Any:
    """A boto3 client of its own (not the cached one the handlers use), so its calls are not counted with theirs."""
    from botocore.config import Config

    from chalicelib import aws

    return aws.session().client(service, region_name=region, config=Config(parameter_validation=False))


# -- seeding the local cloud ----------------------------------------------------------------------
@contextmanager
def paused_trigger(cloud: Any) -> Iterator[None]:
    """Disable the stream → trigger mapping while writing history that should start nothing."""
    lam = new_client("lambda", cloud.settings.region)
    function = f"{cloud.settings.prefix}on_artifact_event"
    uuids = [m["UUID"] for m in lam.list_event_source_mappings()["EventSourceMappings"]
             if m["FunctionArn"].endswith(f":function:{function}")]
    if not uuids:
        raise RuntimeError(f"no event source mapping invokes {function}; is the local cloud started?")
    for u in uuids:
        lam.update_event_source_mapping(UUID=u, Enabled=False)
    try:
        yield
    finally:
        for u in uuids:
            lam.update_event_source_mapping(UUID=u, Enabled=True)


BASE_TIME = datetime(2020, 1, 1, tzinfo=timezone.utc)


def make_versions(name: str, count: int, partitions: dict[str, str] | None = None, time_partitions: int = 0,
                  start: int = 0, bucket: str = "bucket") -> list[ArtifactVersion]:
    """`count` versions of artifact `name`, one second apart from 2020-01-01, oldest first.

    With `time_partitions=k`, version i lands in day i % k (from 2020-01-01); with 0, the artifact is untimed.
    """
    partitions = dict(partitions or {})
    out = []
    for i in range(start, start + count):
        made = BASE_TIME + timedelta(seconds=i)
        version = make_version(made, name, "seed", str(i))
        tp = BASE_TIME + timedelta(days=i % time_partitions) if time_partitions else None
        out.append(ArtifactVersion(
            name=name, version=version, partitions=partitions, time_partition=tp,
            uri=f"s3://{bucket}/artifacts/{name}/{version}.json", format="json", produced_by="seed", created_at=made,
        ))
    return out


def seed_versions(cloud: Any, versions: Iterable[ArtifactVersion], ddb: Any | None = None) -> int:
    """Write version items (artifacts table) and their query index items (index table) with BatchWriteItem,
    with the trigger paused. The items are the real ones (`ArtifactVersion.to_item`, `index_items`); only the
    data objects are left out."""
    from chalicelib.store.index import index_items

    ddb = ddb or new_client("dynamodb", cloud.settings.region)
    written = 0
    batch: list[tuple[str, dict[str, Any]]] = []

    def flush() -> None:
        nonlocal batch
        pending: dict[str, list[dict[str, Any]]] = {}
        for table, item in batch:
            pending.setdefault(table, []).append({"PutRequest": {"Item": to_dynamo(item)}})
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        batch = []

    with paused_trigger(cloud):
        for v in versions:
            rows = [(cloud.settings.artifacts_table, v.to_item())]
            rows += [(cloud.settings.index_table, item) for item in index_items(v)]
            for row in rows:
                batch.append(row)
                if len(batch) == 25:
                    flush()
            written += 1
        if batch:
            flush()
    return written


def stream_event(versions: list[ArtifactVersion], stream_arn: str, first_sequence: int = 1) -> dict[str, Any]:
    """A DynamoDB stream event announcing `versions` as INSERTs, in the shape of tests/events (as Lambda sends it)."""
    template = json.loads(STREAM_TEMPLATE.read_text())["Records"][0]
    records = []
    for i, v in enumerate(versions):
        item = to_dynamo(v.to_item())
        record = copy.deepcopy(template)
        record["eventID"] = uuid.uuid4().hex
        record["dynamodb"]["Keys"] = {"pk": item["pk"], "sk": item["sk"]}
        record["dynamodb"]["NewImage"] = item
        record["dynamodb"]["SequenceNumber"] = str(first_sequence + i)
        record["dynamodb"]["SizeBytes"] = len(json.dumps(item))
        record["dynamodb"]["ApproximateCreationDateTime"] = int(v.created_at.timestamp())
        record["eventSourceARN"] = stream_arn
        records.append(record)
    return {"Records": records}


def wait_started(sfn: Any, state_machine_arn: str, names: set[str], timeout: float = 30) -> None:
    """Wait until executions with these names exist (any status)."""
    deadline = time.monotonic() + timeout
    while True:
        found = {e["name"] for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn)
                 for e in page["executions"]}
        if names <= found:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"executions never started: {sorted(names - found)[:3]}")
        time.sleep(0.05)


# -- statistics -----------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (p in 0..100)."""
    data = sorted(values)
    if not data:
        return float("nan")
    k = (len(data) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 3), "p95_ms": round(percentile(ms, 95), 3),
            "max_ms": round(max(ms), 3) if ms else float("nan")}


def ratio(ours: float, baseline: float) -> float | None:
    """How many times the baseline's figure ours is (below 1: ours is smaller)."""
    if not baseline:
        return None
    return round(ours / baseline, 3)


# -- output ---------------------------------------------------------------------------------------
@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)

    def add(self, *row: Any) -> None:
        self.rows.append(list(row))

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "rows": [dict(zip(self.columns, r)) for r in self.rows]}


@dataclass
class Report:
    name: str
    description: str
    tables: list[Table] = field(default_factory=list)
    goals: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def table(self, title: str, *columns: str) -> Table:
        t = Table(title, list(columns))
        self.tables.append(t)
        return t

    def goal(self, text: str, met: bool, value: Any) -> None:
        self.goals.append({"goal": text, "met": bool(met), "value": value})

    def to_json(self) -> dict[str, Any]:
        return {"benchmark": self.name, "description": self.description, "machine": machine(),
                "tables": [t.to_json() for t in self.tables], "goals": self.goals, "notes": self.notes}

    def render(self) -> str:
        lines = [f"== {self.name}: {self.description}"]
        for t in self.tables:
            lines.append("")
            lines.append(t.title)
            cells = [t.columns] + [[fmt(v) for v in r] for r in t.rows]
            widths = [max(len(str(row[i])) for row in cells) for i in range(len(t.columns))]
            for j, row in enumerate(cells):
                lines.append("  " + "  ".join(str(v).rjust(w) if j and _numeric(v) else str(v).ljust(w)
                                              for v, w in zip(row, widths)).rstrip())
                if j == 0:
                    lines.append("  " + "  ".join("-" * w for w in widths))
        if self.goals:
            lines.append("")
            for g in self.goals:
                lines.append(f"  [{'met' if g['met'] else 'MISSED'}] {g['goal']}: {fmt(g['value'])}")
        for n in self.notes:
            lines.append(f"  note: {n}")
        return "\n".join(lines)


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {fmt(v)}" for k, v in value.items()) or "-"
    return str(value)


def _numeric(text: str) -> bool:
    return bool(text) and text.replace(",", "").replace(".", "").replace("-", "").replace("x", "").isdigit()


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    return {"nproc": os.cpu_count(), "cpu": cpu or platform.processor(), "python": platform.python_version(),
            "platform": platform.platform(), "moto": version("moto"), "boto3": version("boto3")}


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--json", action="store_true", help="print the figures as JSON instead of tables")
    return p


GOALS_FILE_ENV = "BENCHMARK_GOALS_FILE"  # set by `python -m benchmarks`: each report appends its goals there


def emit(report: Report, as_json: bool) -> None:
    goals_file = os.environ.get(GOALS_FILE_ENV)
    if goals_file:
        with open(goals_file, "a") as f:
            for g in report.goals:
                f.write(json.dumps({"benchmark": report.name, **g}, default=str) + "\n")
            for n in report.notes:  # a part not measured (something it needs is missing) shows in the summary too
                if n.startswith("skipped"):
                    f.write(json.dumps({"benchmark": report.name, "skipped": n}) + "\n")
    if as_json:
        print(json.dumps(report.to_json(), indent=2, default=str))
    else:
        print(report.render(), flush=True)


@contextmanager
def silenced() -> Iterator[None]:
    """Keep what handlers print (their log lines) off the benchmark's output, as the local cloud's dispatch does."""
    with capture.captured(passthrough=False):
        yield


# -- network latency --------------------------------------------------------------------------------
# moto answers in-process in microseconds of wire time; a Lambda waits a network round trip for every call.
# A model of in-region round trips (typical figures, not measured here): DynamoDB single-item calls and
# Queries a few milliseconds, Step Functions' StartExecution a few tens.
ROUND_TRIP_MS = {"dynamodb": 5.0, "sfn": 20.0}  # by botocore service id (before-send.<id>.<operation>)


class NetworkLatency:
    """Every attempt of a call on the attached clients first waits its service's round trip (a sleep, as
    a socket read is: other threads run meanwhile), then reaches moto. `with NetworkLatency(ddb, sfn): ...`"""

    def __init__(self, *clients: Any, round_trip_ms: dict[str, float] | None = None) -> None:
        self.clients = clients
        self.round_trip_ms = dict(ROUND_TRIP_MS if round_trip_ms is None else round_trip_ms)
        self._id = f"network-latency-{uuid.uuid4().hex}"

    def __enter__(self) -> NetworkLatency:
        for client in self.clients:
            client.meta.events.register_first("before-send", self._wait, unique_id=self._id)
        return self

    def __exit__(self, *exc: Any) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-send", self._wait, unique_id=self._id)

    def _wait(self, event_name: str = "", **_: Any) -> None:
        parts = event_name.split(".")
        ms = self.round_trip_ms.get(parts[1] if len(parts) > 1 else "", 0.0)
        if ms:
            time.sleep(ms / 1000)


@contextmanager
def executions_held(run: bool = True) -> Iterator[list[Any]]:
    """Executions started inside the block run when it ends (with `run=False`, never: they stay RUNNING).
    Step Functions runs an execution on its own fleet, not in the Lambda that started it; moto runs it in a
    thread of this process, whose CPU time would otherwise land inside a handler's figure. Starting is
    unchanged: names, inputs, start dates and ExecutionAlreadyExists are decided at StartExecution, as before
    (a held execution is RUNNING, so a start with its name and input gets it back, as on AWS while it runs)."""
    from unittest import mock

    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.backend.execution import Execution

    held: list[Any] = []
    original = Execution.start
    lock = threading.Lock()

    def hold(execution: Any) -> None:
        execution.exec_status = ExecutionStatus.RUNNING  # as Execution.start sets it, before its worker starts
        with lock:
            held.append(execution)

    with mock.patch.object(Execution, "start", hold):
        try:
            yield held
        finally:
            pass
    if run:
        for execution in held:
            original(execution)
