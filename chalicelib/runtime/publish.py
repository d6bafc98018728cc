"""Artifact versions that are not a task's own output: files, and workflow-level annotated outputs.

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

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.aws import error_code
from chalicelib.errors import DefinitionError
from chalicelib.runtime import loader, types
from chalicelib.sdk import files, literals
from chalicelib.sdk.artifact import InputRef
from chalicelib.sdk.timeparts import to_utc
from chalicelib.sdk.workflow import WorkflowDef
from chalicelib.store.artifacts import ArtifactStore, data_key, split_uri
from chalicelib.store.dynamo import to_dynamo
from chalicelib.store.models import ArtifactVersion, make_version

if TYPE_CHECKING:
    from chalicelib.runtime.runner import Runner

MODE = "publish"
NODE = "workflow-output"


def put_file_version(store: ArtifactStore, name: str, value: Any, partitions: dict[str, str],
                     time_partition: datetime | None, version: str, produced_by: str | None,
                     card: dict[str, Any] | None = None) -> ArtifactVersion:
    """A FlyteFile or FlyteDirectory as an artifact version: the object(s) first, then the metadata item."""
    prefix = data_key(name, partitions, time_partition, version, "json").rsplit(".", 1)[0]
    uri, fmt = files.copy_or_upload(value, store.s3, store.settings.bucket, prefix)
    record = ArtifactVersion(name=name, version=version, partitions=partitions, time_partition=time_partition,
                             uri=uri, format=fmt, produced_by=produced_by, card=card)
    try:
        store.dynamodb.put_item(TableName=store.settings.artifacts_table, Item=to_dynamo(record.to_item()),
                                ConditionExpression="attribute_not_exists(pk)")
    except Exception as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
        return store.get(name, version)  # a retry: the version is already there
    return record


def _workflow(name: str) -> WorkflowDef:
    module, _, attr = name.rpartition(".")
    wf = getattr(loader.import_module(module), attr, None)
    if not isinstance(wf, WorkflowDef):
        raise DefinitionError(f"{name} is not a @workflow in the deployed code; register and deploy the same files")
    return wf


def publish_workflow_output(runner: Runner, raw: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.runtime.runner import TaskEvent, TaskRef

    wf = _workflow(raw["workflow"])
    out_name = raw["output"]
    output = next(o for o in wf.outputs if o.name == out_name)
    spec = output.artifact
    assert spec is not None  # the compiler adds this state only for annotated outputs
    event = TaskEvent(workflow=wf.name, node=NODE, task=TaskRef(module=wf.module, name=wf.short_name),
                      bindings={out_name: raw["binding"]}, meta=raw.get("meta") or {}, inputs=raw.get("inputs") or {},
                      results=raw.get("results") or {}, execution_id=raw["execution_id"],
                      execution_start=raw["execution_start"])
    literal = runner._literal(event, out_name, raw["binding"])
    if isinstance(literal, dict) and len(literal) == 1 and "$query" in literal:  # an input defaulting to a query
        literal = runner.resolve_query(literal["$query"]).reference()
    source = literal.get("$artifact") if isinstance(literal, dict) and len(literal) == 1 else None
    if source and source["name"] == spec.artifact.name:
        return {"outputs": {out_name: literal}, "artifacts": []}

    hints = {i.name: i.type for i in wf.inputs}

    def bound(ref: Any) -> Any:
        if not isinstance(ref, InputRef):
            return ref
        lit = runner._literal(event, ref.name, {"input": ref.name})
        return types.to_python(runner.materialize(lit), hints.get(ref.name), runner.store.s3)

    partitions = {k: str(bound(v)) for k, v in spec.partitions.items()}
    time_partition = bound(spec.time_partition) if spec.time_partition is not None else None
    if source:  # inherit what the annotation leaves open from the version the value came from
        origin = runner.store.get(source["name"], source["version"])
        for key in spec.artifact.partition_keys:
            if key not in partitions and key in origin.partitions:
                partitions[key] = origin.partitions[key]
        if time_partition is None and spec.artifact.time_partitioned:
            time_partition = origin.time_partition
    partitions, time_partition = spec.artifact.finalize(partitions, time_partition)
    version = make_version(to_utc(event.execution_start), event.execution_id, NODE, out_name, seq=0xFFF)  # after every task
    store = runner.store
    name = spec.artifact.name
    body = literal.get("$ref") or source if isinstance(literal, dict) and len(literal) == 1 else None
    if files.is_file_literal(literal):
        record = put_file_version(store, name, files.from_literal(literal, store.s3), partitions, time_partition,
                                  version, produced_by=event.execution_id)
    elif body and "uri" in body:
        bucket, key = split_uri(body["uri"])
        data = store.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        record = store.register(name, data, body["format"], partitions, time_partition, version,
                                produced_by=event.execution_id)
    else:
        record = store.put(name, literals.decode(literal), partitions, time_partition, version,
                           produced_by=event.execution_id)
    return {"outputs": {out_name: record.reference()}, "artifacts": [record.report()]}
