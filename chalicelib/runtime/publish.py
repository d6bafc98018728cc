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

from typing import Any

from chalicelib.errors import DefinitionError
from chalicelib.events.task import PublishEvent, TaskEvent, TaskRef
from chalicelib.runtime import loader
from chalicelib.runtime.binding import Binder
from chalicelib.runtime.trail import producer
from chalicelib.sdk import carry, files, literals
from chalicelib.sdk.artifact import InputRef
from chalicelib.sdk.timeparts import to_utc
from chalicelib.sdk.workflow import WorkflowDef
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.models import make_version

NODE = "workflow-output"


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
    record = store.write(spec.artifact.name, value, partitions, time_partition, version,
                         produced_by=producer(event, NODE), fmt=fmt)
    return {"outputs": {out_name: record.reference()}, "artifacts": [record.report()]}
