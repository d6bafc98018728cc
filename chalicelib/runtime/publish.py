"""The workflow-output state: a workflow-level annotated output becomes an artifact version, through the store.

Workflow-level annotations (`@workflow def wf(...) -> Annotated[T, A(key=Inputs.x)]`) are published by one
extra Task state that the compiler appends after the workflow's last task (see `chalicelib.compile.asl`). It
invokes the same task-runner Lambda with `{"mode": "publish", ...}`. That state is the simplest correct place:

* it runs exactly when every task has succeeded, so a failed workflow publishes nothing;
* the workflow's output may come from any node (not only the last one), from a workflow input or a constant;
* `Inputs.x` in the annotation means the *workflow's* input x, which only the workflow-level state sees;
* its version id is a hash of (execution, "workflow-output", output name) at the execution's start time, so a
  retried state writes the same version and never a second one.

The data is copied as it is stored (a DataFrame's parquet bytes are never decoded; files are copied within S3). When the output already is a
version of the same artifact (a task returned `A.create_from(...)`), that version is the workflow's version:
nothing is written twice. Partitions and time partition the annotation does not bind are taken from the
version the output came from, when it came from one.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from msgspec import Struct

from chalicelib.errors import DefinitionError, OversizeInputError
from chalicelib.events.task import PublishEvent, TaskEvent, TaskRef
from chalicelib.runtime import loader
from chalicelib.runtime.binding import Binder
from chalicelib.runtime.trail import producer
from chalicelib.sdk import carry, files, literals
from chalicelib.sdk.artifact import InputRef
from chalicelib.sdk.timeparts import to_utc
from chalicelib.sdk.workflow import WorkflowDef
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.models import ArtifactVersion, Producer, make_version

NODE = "workflow-output"

# Step Functions' limit on a state's input, output and a task's result: 256 KiB of JSON as UTF-8.
MAX_STATE_BYTES = 256 * 1024
# A task's own result stays this far below it: room for the state's other fields (the execution's meta and
# inputs, earlier results), for sibling branches of a Parallel state, and for how Step Functions re-encodes JSON.
RESULT_HEADROOM = 16 * 1024
MAX_RESULT_BYTES = MAX_STATE_BYTES - RESULT_HEADROOM
MAX_S3_KEY_BYTES = 1024


def json_bytes(value: Any) -> int:
    """The size Step Functions counts: the value as compact JSON, in UTF-8 bytes."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8", "replace"))


def summary(record: ArtifactVersion) -> dict[str, Any]:
    """A version as a task's result reports it: its report without the card (which can take 300,000 bytes and
    is on the version's item; `artifacts show` and `run --json` read it from there)."""
    return {k: v for k, v in record.report().items() if k != "card"}


def _state_after(event: TaskEvent, result: dict[str, Any]) -> dict[str, Any]:
    """The execution's state once `result` is stored under the node (compile/asl.py: `$.results.<node>`, or
    `$.published` for the workflow-output state)."""
    state = {"meta": event.meta, "inputs": event.inputs, "results": dict(event.results)}
    if event.node == NODE:
        state["published"] = result
    else:
        state["results"][event.node] = result
    return state


def fits_state(event: TaskEvent, result: dict[str, Any]) -> bool:
    return json_bytes(result) <= MAX_RESULT_BYTES and json_bytes(_state_after(event, result)) <= MAX_STATE_BYTES


def check_state(event: TaskEvent, result: dict[str, Any], where: str) -> dict[str, Any]:
    """`result`, if it and the execution state it joins fit Step Functions' limit; else OversizeInputError
    naming the limit (raised before any version is written: callers check the largest result they could return)."""
    own = json_bytes(result)
    if own > MAX_RESULT_BYTES:
        raise OversizeInputError(
            f"{where}: its result would take {own:,} bytes of JSON; a task's result may take at most "
            f"{MAX_RESULT_BYTES:,} bytes (Step Functions' 256 KiB state limit, {MAX_STATE_BYTES:,} bytes, less "
            f"{RESULT_HEADROOM:,} for the state's other fields). No version was written. Return fewer or smaller "
            f"outputs, or large values as artifacts or DataFrames (they pass through S3)"
        )
    total = json_bytes(_state_after(event, result))
    if total > MAX_STATE_BYTES:
        raise OversizeInputError(
            f"{where}: the execution's state would take {total:,} bytes of JSON with this result ({own:,} bytes) "
            f"and the earlier ones; Step Functions' state limit is 256 KiB ({MAX_STATE_BYTES:,} bytes). No version "
            f"was written. Make the workflow's inputs or earlier tasks' outputs smaller"
        )
    return result


class PendingVersion(Struct):
    """A version a task will write, checked but not yet written."""

    name: str
    value: Any
    partitions: dict[str, str]
    time_partition: datetime | None
    version: str
    produced_by: Producer | None
    card: dict[str, Any] | None = None
    fmt: str | None = None

    def placeholder(self, bucket: str) -> ArtifactVersion:
        """The version as its largest possible summary: the longest location S3 allows."""
        return ArtifactVersion(name=self.name, version=self.version, partitions=self.partitions,
                               time_partition=self.time_partition, uri=f"s3://{bucket}/{'k' * MAX_S3_KEY_BYTES}",
                               format="parquet", produced_by=self.produced_by)

    def write(self, store: ArtifactStore) -> ArtifactVersion:
        return store.write(self.name, self.value, self.partitions, self.time_partition, self.version,
                           produced_by=self.produced_by, card=self.card, fmt=self.fmt)


def _workflow(name: str) -> WorkflowDef:
    module, _, attr = name.rpartition(".")
    wf = getattr(loader.import_module(module), attr, None)
    if not isinstance(wf, WorkflowDef):
        raise DefinitionError(f"{name} is not a @workflow in the deployed code; register and deploy the same files")
    return wf


def publish_workflow_output(store: ArtifactStore, binder: Binder, raw: PublishEvent) -> dict[str, Any]:
    wf = _workflow(raw.workflow)
    out_name = raw.output
    output = next((o for o in wf.outputs if o.name == out_name), None)
    spec = output.artifact if output is not None else None
    if spec is None:
        raise DefinitionError(f"workflow {wf.name} has no annotated output {out_name!r} in the deployed code; "
                              f"register and deploy the same files")
    event = TaskEvent(workflow=wf.name, node=NODE, task=TaskRef(module=wf.module, name=wf.short_name),
                      bindings={out_name: raw.binding}, meta=raw.meta, inputs=raw.inputs, results=raw.results,
                      execution_id=raw.execution_id, execution_start=raw.execution_start)
    literal = binder.literal(event, raw.binding)
    if isinstance(literal, dict) and len(literal) == 1 and "$query" in literal:  # an input defaulting to a query
        literal = binder.resolve_query(literal["$query"]).reference()
    source = literal.get("$artifact") if isinstance(literal, dict) and len(literal) == 1 else None
    if source and source["name"] == spec.artifact.name:
        return {"outputs": {out_name: literal}, "artifacts": []}

    hints = {i.name: i.type for i in wf.inputs}

    def bound(ref: Any) -> Any:
        if not isinstance(ref, InputRef):
            return ref
        lit = binder.literal(event, {"input": ref.name})
        return carry.to_python(binder.materialize(lit), hints.get(ref.name), store.s3)

    partitions = {k: str(bound(v)) for k, v in spec.partitions.items()}
    time_partition = bound(spec.time_partition) if spec.time_partition is not None else None
    if source:  # inherit what the annotation leaves open from the version the value came from
        origin = store.get(source["name"], source["version"])
        for key in spec.artifact.partition_keys:
            if key not in partitions and key in origin.partitions:
                partitions[key] = origin.partitions[key]
        if time_partition is None and spec.artifact.time_partitioned:
            time_partition = origin.time_partition
    partitions, time_partition = spec.artifact.finalize(partitions, time_partition)
    version = make_version(to_utc(event.execution_start), event.execution_id, NODE, out_name, seq=0xFFF)  # after every task
    body = literal.get("$ref") or source if isinstance(literal, dict) and len(literal) == 1 else None
    if files.is_file_literal(literal):
        value: Any = files.from_literal(literal, store.s3)
        fmt = None
    elif body and "uri" in body:  # stored bytes are copied as they are (a DataFrame is never decoded)
        value, fmt = store.read_bytes(body["uri"]), body["format"]
    else:
        value, fmt = literals.decode(literal), None
    pending = PendingVersion(name=spec.artifact.name, value=value, partitions=partitions,
                             time_partition=time_partition, version=version, produced_by=producer(event, NODE), fmt=fmt)
    where = f"workflow {wf.name} output {out_name!r}"
    largest = pending.placeholder(store.settings.bucket)
    check_state(event, {"outputs": {out_name: largest.reference()}, "artifacts": [summary(largest)]}, where)
    record = pending.write(store)
    return check_state(event, {"outputs": {out_name: record.reference()}, "artifacts": [summary(record)]}, where)
