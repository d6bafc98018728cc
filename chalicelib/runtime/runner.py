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
from chalicelib.runtime import capture, loader, publish, resolve, types
from chalicelib.sdk import cards, context, files, literals
from chalicelib.sdk.artifact import ArtifactQuery, ArtifactValue, InputRef
from chalicelib.sdk.query import QuerySpec, query_literal
from chalicelib.sdk.task import TaskDef
from chalicelib.sdk.timeparts import to_utc
from chalicelib.store import codec
from chalicelib.store.artifacts import ArtifactStore, split_uri
from chalicelib.store.index import ArtifactIndex
from chalicelib.store.lineage import LineageStore, TaskTrail
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




def _node_index(node: str) -> int:
    return int(node[1:]) if node[1:].isdigit() else 0


class Runner:
    def __init__(self, settings: Settings, store: ArtifactStore, registry: Registry) -> None:
        self.settings = settings
        self.store = store
        self.registry = registry
        self.index = ArtifactIndex.of(store.dynamodb, settings)

    # -- inputs -----------------------------------------------------------------------------------
    def _literal(self, event: TaskEvent, name: str, binding: dict[str, Any]) -> Any:
        if "const" in binding:
            return binding["const"]
        if "list" in binding:  # fan-in
            return [self._literal(event, name, b) for b in binding["list"]]
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
        if isinstance(literal, list):
            return [self.materialize(v) for v in literal]
        value = literals.decode(literal)
        if isinstance(value, dict) and len(value) == 1:
            tag, body = next(iter(value.items()))
            if tag in ("$ref", "$artifact"):
                if body.get("format") in files.FORMATS:  # files stay in S3 until the task reads .path
                    return files.from_literal(value, self.store.s3)
                bucket, key = split_uri(body["uri"])
                return codec.loads(self.store.s3.get_object(Bucket=bucket, Key=key)["Body"].read(), body["format"])
            if tag == "$query":
                return self.materialize(self.resolve_query(body).reference())
        return value

    def resolve_query(self, body: dict[str, Any]) -> Any:
        return self.index.find(QuerySpec.from_literal(body))

    # -- outputs ----------------------------------------------------------------------------------
    def _encode_output(self, value: Any, event: TaskEvent, output: str) -> Any:
        run_id = event.execution_id.rsplit(":", 1)[-1]
        files.upload_all(value, self.store.s3, self.settings.bucket, f"runs/{run_id}/{event.node}/{output}")
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
        version = make_version(started, event.execution_id, event.node, output.name, seq=_node_index(event.node))
        card = cards.to_record(produced.card, artifact.name) if produced is not None else None
        value = produced.value if produced else result
        if files.is_file_value(value):
            return publish.put_file_version(self.store, artifact.name, value, partitions, time_partition, version,
                                            produced_by=event.execution_id, card=card)
        return self.store.put(artifact.name, value, partitions, time_partition, version,
                              produced_by=event.execution_id, card=card)

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
        if raw.get("mode") == publish.MODE:  # the state after a workflow's last task, see chalicelib.compile.asl
            return publish.publish_workflow_output(self, raw)
        if "resolve" in raw:  # the Resolve state at the start of an execution
            return resolve.run(self.index, raw)
        try:
            event = TaskEvent.model_validate(raw)
        except ValidationError as exc:
            raise EventError(f"task-runner event is not a Task state payload: {exc}") from exc
        module = loader.import_module(event.task.module)
        task = getattr(module, event.task.name, None)
        if not isinstance(task, TaskDef):
            raise DefinitionError(f"{event.task.module}.{event.task.name} is not a @task in the deployed code; "
                                  f"register and deploy the same files")
        run_id = event.execution_id.rsplit(":", 1)[-1]
        with context.task_context(event.execution_id, f"{event.node}-{task.short_name}", to_utc(event.execution_start),
                                  f"s3://{self.settings.bucket}/runs/{run_id}/"):
            trail = TaskTrail.from_event(LineageStore(self.settings, self.registry.dynamodb), event)
            given = {name: self._literal(event, name, b) for name, b in event.bindings.items()}
            bound = trail.pin(given, self.resolve_query)  # `$query` inputs resolved once, and recorded
            hints = {i.name: i.type for i in task.inputs}
            values = {name: types.to_python(self.materialize(literal), hints.get(name), self.store.s3)
                      for name, literal in bound.items()}
            with capture.captured() as out:
                try:
                    result = task.fn(**values)
                finally:
                    self.registry.put_logs(event.execution_id, event.node, out.getvalue().splitlines())
            defaults = {i.name: i.default for i in task.inputs if i.has_default}
            outputs: dict[str, Any] = {}
            artifacts = []
            for output in task.outputs:
                where = f"task {task.short_name!r} output {output.name!r}"
                if isinstance(result, ArtifactValue):
                    result.value = types.to_output(result.value, output.type, where)
                else:
                    result = types.to_output(result, output.type, where)
                if output.artifact is not None or isinstance(result, ArtifactValue):
                    record = self._store_artifact(task, output, result, {**defaults, **values}, event)
                    trail.produced(record)
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
