"""The task runner: what runs inside the task Lambda for one Task state.

It resolves the node's inputs (literals, workflow inputs, upstream outputs, artifact versions and queries),
runs the task while capturing what it prints, stores outputs (artifact versions in the artifact layout, other
large values under runs/), and returns the outputs as JSON literals for the state machine.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError

from chalicelib import logs
from chalicelib.aws import is_transient
from chalicelib.config import Settings
from chalicelib.errors import DefinitionError, EventError, TransientAwsError
from chalicelib.runtime import capture, loader
from chalicelib.sdk import literals
from chalicelib.sdk.artifact import ArtifactQuery, ArtifactValue, InputRef
from chalicelib.sdk.task import TaskDef
from chalicelib.sdk.timeparts import to_utc
from chalicelib.store import codec
from chalicelib.store.artifacts import ArtifactStore, split_uri
from chalicelib.store.models import make_version
from chalicelib.store.registry import Registry

log = logs.get_logger("task_runner")


class TaskRef(BaseModel):
    module: str
    name: str


class TaskEvent(BaseModel):
    workflow: str
    node: str
    task: TaskRef
    bindings: dict[str, dict[str, Any]]
    meta: dict[str, Any]
    inputs: dict[str, Any]
    results: dict[str, Any]
    execution_id: str
    execution_start: str


def query_literal(query: ArtifactQuery) -> dict[str, Any]:
    return {"$query": {
        "artifact": query.artifact.name,
        "partition_keys": list(query.artifact.partition_keys),
        "partitions": {k: literals.encode(v) for k, v in query.partitions.items()},
        "time_partition": literals.encode(query.time_partition) if query.time_partition is not None else None,
        "version": query.version,
    }}


class Runner:
    def __init__(self, settings: Settings, store: ArtifactStore, registry: Registry) -> None:
        self.settings = settings
        self.store = store
        self.registry = registry

    # -- inputs -----------------------------------------------------------------------------------
    def _literal(self, event: TaskEvent, name: str, binding: dict[str, Any]) -> Any:
        if "const" in binding:
            return binding["const"]
        if "node" in binding:
            return event.results[binding["node"]]["outputs"][binding["output"]]
        wf_input = binding["input"]
        if wf_input in event.inputs:
            return event.inputs[wf_input]
        wf = getattr(loader.import_module(event.workflow.rsplit(".", 1)[0]), event.workflow.rsplit(".", 1)[1])
        for spec in wf.inputs:
            if spec.name == wf_input and spec.has_default:
                if isinstance(spec.default, ArtifactQuery):
                    return query_literal(spec.default)
                return literals.encode(spec.default)
        raise DefinitionError(f"workflow {event.workflow!r} was started without input {wf_input!r}")

    def materialize(self, literal: Any) -> Any:
        value = literals.decode(literal)
        if isinstance(value, dict) and len(value) == 1:
            tag, body = next(iter(value.items()))
            if tag in ("$ref", "$artifact"):
                bucket, key = split_uri(body["uri"])
                return codec.loads(self.store.s3.get_object(Bucket=bucket, Key=key)["Body"].read(), body["format"])
            if tag == "$query":
                return self.store.load(self.resolve_query(body))
        return value

    def resolve_query(self, body: dict[str, Any]) -> Any:
        name = body["artifact"]
        if body.get("version"):
            return self.store.get(name, body["version"])
        partitions = {k: str(literals.decode(v)) for k, v in body.get("partitions", {}).items()}
        tp = body.get("time_partition")
        time_partition = literals.decode(tp) if tp is not None else None
        describe = f"{name}[{', '.join(f'{k}={v}' for k, v in sorted(partitions.items()))}" + (
            f"{', ' if partitions else ''}time_partition={time_partition.isoformat()}]" if time_partition else "]")
        return self.store.latest(name, partitions, time_partition, describe=describe)

    # -- outputs ----------------------------------------------------------------------------------
    def _encode_output(self, value: Any, event: TaskEvent, output: str) -> Any:
        if codec.is_dataframe(value):
            fmt = "parquet"
            body = codec.dumps(value, fmt)
        else:
            literal = literals.encode(value, f"task output {output!r}")
            text = json.dumps(literal)
            if len(text) <= self.settings.max_inline_bytes:
                return literal
            fmt, body = "json", text.encode()
        run = event.execution_id.rsplit(":", 1)[-1]
        key = f"runs/{run}/{event.node}/{output}.{codec.EXTENSIONS[fmt]}"
        self.store.s3.put_object(Bucket=self.settings.bucket, Key=key, Body=body)
        return {"$ref": {"uri": f"s3://{self.settings.bucket}/{key}", "format": fmt}}

    def _store_artifact(self, task: TaskDef, output: Any, result: Any, values: dict[str, Any], event: TaskEvent) -> Any:
        spec = output.artifact
        produced = result if isinstance(result, ArtifactValue) else None
        artifact = produced.artifact if produced else spec.artifact
        if spec is not None and produced is not None and produced.artifact.name != spec.artifact.name:
            raise DefinitionError(
                f"task {task.short_name!r} is annotated to produce {spec.artifact.name!r} but returned "
                f"{produced.artifact.name}.create_from(...)"
            )

        def bound(ref: Any) -> Any:
            return values[ref.name] if isinstance(ref, InputRef) else ref

        partitions = {k: str(bound(v)) for k, v in (spec.partitions if spec else {}).items()}
        time_partition = bound(spec.time_partition) if spec and spec.time_partition is not None else None
        if produced:
            partitions.update(produced.partitions)
            time_partition = produced.time_partition or time_partition
        partitions, time_partition = artifact.finalize(partitions, time_partition)
        started = to_utc(event.execution_start)
        version = make_version(started, event.execution_id, event.node, output.name)
        card = None
        if produced is not None and produced.card is not None:
            card = {"kind": type(produced.card).__name__, "text": str(getattr(produced.card, "text", produced.card))}
        record = self.store.put(artifact.name, produced.value if produced else result, partitions, time_partition,
                                version, produced_by=event.execution_id, card=card)
        return record

    # -- the whole step ---------------------------------------------------------------------------
    def run(self, raw: dict[str, Any]) -> dict[str, Any]:
        """One Task state, logged with its correlation ids. An AWS error that outlived the client's retries
        (throttling, 5xx) is raised as TransientAwsError, which the state machine retries (compile/asl.py)."""
        with logs.correlated(log, **_correlation(raw)), logs.failure_logged(log, "task failed"):
            log.info("task started")
            try:
                result = self._run(raw)
            except Exception as exc:
                if is_transient(exc):
                    raise TransientAwsError(f"AWS is throttling or failing; the task is retried: {exc}") from exc
                raise
            made = result.get("artifacts", []) if isinstance(result, dict) else []
            log.info("task finished", extra={"outputs": [
                {"artifact": a.get("name"), "version": a.get("version")} for a in made if isinstance(a, dict)]})
            return result

    def _run(self, raw: dict[str, Any]) -> dict[str, Any]:
        try:
            event = TaskEvent.model_validate(raw)
        except ValidationError as exc:
            raise EventError(f"task-runner event is not a Task state payload: {exc}") from exc
        module = loader.import_module(event.task.module)
        task = getattr(module, event.task.name, None)
        if not isinstance(task, TaskDef):
            raise DefinitionError(f"{event.task.module}.{event.task.name} is not a @task in the deployed code; "
                                  f"register and deploy the same files")
        values = {name: self.materialize(self._literal(event, name, b)) for name, b in event.bindings.items()}
        with capture.captured() as out:
            try:
                result = task.fn(**values)
            finally:
                self.registry.put_logs(event.execution_id, event.node, out.getvalue().splitlines())
        outputs: dict[str, Any] = {}
        artifacts = []
        for output in task.outputs:
            if output.artifact is not None or isinstance(result, ArtifactValue):
                record = self._store_artifact(task, output, result, values, event)
                artifacts.append(record.report())
                outputs[output.name] = record.reference()
            else:
                outputs[output.name] = self._encode_output(result, event, output.name)
        return {"outputs": outputs, "artifacts": artifacts}


def _correlation(raw: Any) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    meta = raw.get("meta") if isinstance(raw.get("meta"), dict) else {}
    trigger = meta.get("triggered_by") if isinstance(meta.get("triggered_by"), dict) else {}
    return {"execution": str(raw.get("execution_id", "")).rsplit(":", 1)[-1] or None, "workflow": raw.get("workflow"),
            "node": raw.get("node"), "launch_plan": meta.get("launch_plan"),
            "trigger_artifact": trigger.get("artifact"), "trigger_version": trigger.get("version")}


@lru_cache(maxsize=1)
def default_runner() -> Runner:
    from chalicelib import aws

    settings = Settings.from_env()
    s3 = aws.client("s3", settings.region)
    ddb = aws.client("dynamodb", settings.region)
    return Runner(settings, ArtifactStore(settings, s3, ddb), Registry(settings, ddb))
