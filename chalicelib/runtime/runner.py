"""The task runner: what runs inside the task Lambda for one Task state.

It resolves the node's inputs (literals, workflow inputs, upstream outputs, artifact versions and queries),
runs the task while capturing what it prints, stores outputs (artifact versions in the artifact layout, other
large values under runs/), and returns the outputs as JSON literals for the state machine.

The result goes into the execution's state, which Step Functions caps at 256 KiB (262,144 bytes of UTF-8 JSON)
together with the execution's inputs, its metadata and every earlier task's result. So the result carries each
version's reference and summary but never its card (cards live on the version's item, up to 300,000 bytes), and
its size is checked, with the state it joins, before any version is written (chalicelib.runtime.publish).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib import capture, logs
from chalicelib.aws import is_transient
from chalicelib.config import Settings
from chalicelib.errors import DefinitionError, TransientAwsError
from chalicelib.events.task import PublishEvent, ResolveEvent, TaskEvent, parse_runner_event
from chalicelib.runtime import dynamic, gates, loader, mapping, publish, resolve
from chalicelib.runtime.cache import TaskCache
from chalicelib.runtime.binding import Binder
from chalicelib.runtime.trail import TaskTrail, producer
from chalicelib.sdk import carry, cards, context
from chalicelib.sdk.artifact import ArtifactValue, InputRef
from chalicelib.sdk.dynamic import DynamicTaskDef
from chalicelib.sdk.task import TaskDef, split_result
from chalicelib.sdk.timeparts import to_utc
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.cache import CacheStore
from chalicelib.store.gates import GateStore
from chalicelib.store.map_items import MapItems
from chalicelib.store.models import make_version
from chalicelib.store.registry import Registry

log = logs.get_logger("task_runner")


class Runner:
    def __init__(self, settings: Settings, store: ArtifactStore, registry: Registry) -> None:
        self.settings = settings
        self.store = store
        self.registry = registry
        self.binder = Binder(store)
        self.cache = TaskCache(CacheStore(settings.registry_table, store.dynamodb, store.s3),
                               lambda literal, hint: carry.to_python(self.binder.materialize(literal), hint, store.s3),
                               note=registry.put_logs)
        self.map_items = MapItems(settings, store.s3)

    # -- outputs ----------------------------------------------------------------------------------
    def _prepare_artifact(self, task: TaskDef, output: Any, result: Any, values: dict[str, Any],
                          event: TaskEvent) -> publish.PendingVersion:
        """Everything the version's write needs, checked (names, partitions, the card's size) before anything
        is written."""
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
        version = make_version(started, event.execution_id, event.node, output.name, seq=event.node_index)
        card = cards.to_record(produced.card, artifact.name) if produced is not None else None
        value = produced.value if produced else result
        return publish.PendingVersion(name=artifact.name, value=value, partitions=partitions,
                                      time_partition=time_partition, version=version, produced_by=producer(event),
                                      card=card)

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
        if isinstance(raw, dict) and raw.get("mode") == gates.MODE:  # a gate records what it waits on
            return gates.record(GateStore(self.settings, self.registry.dynamodb), raw)
        if isinstance(raw, dict) and raw.get("mode") in mapping.MODES:  # a mapped task's first and last states
            mode, map_event, count, spec = mapping.parse(raw)
            if mode == "map_prepare":
                return mapping.prepare(self.binder, map_event)
            return mapping.collect(self.map_items, map_event, count, self.settings.max_inline_bytes, spec)
        event = parse_runner_event(raw)
        if isinstance(event, PublishEvent):  # the state after a workflow's last task, see chalicelib.compile.asl
            return publish.publish_workflow_output(self.store, self.binder, event)
        if isinstance(event, ResolveEvent):  # the Resolve state at the start of an execution
            return resolve.run(self.store.index, event)
        task = getattr(loader.import_module(event.task.module), event.task.name, None)
        if isinstance(task, DynamicTaskDef):  # a @dynamic task builds the graph it runs
            return dynamic.run(self, event, task)
        if event.map_index is not None:  # one item of a mapped task: a node of its own, its result kept in S3
            item = event.with_node(mapping.item_node(event))
            return mapping.store_item(self.map_items, event, self.run_task(item))
        return self.run_task(event)

    def run_task(self, event: TaskEvent) -> dict[str, Any]:
        module = loader.import_module(event.task.module)
        task = getattr(module, event.task.name, None)
        if not isinstance(task, TaskDef):
            raise DefinitionError(f"{event.task.module}.{event.task.name} is not a @task in the deployed code; "
                                  f"register and deploy the same files")
        run_id = event.execution_id.rsplit(":", 1)[-1]
        with context.task_context(event.execution_id, f"{event.node}-{task.short_name}", to_utc(event.execution_start),
                                  f"s3://{self.settings.bucket}/runs/{run_id}/"):
            trail = TaskTrail.from_event(self.store.lineage, event)
            given = {name: self.binder.literal(event, b) for name, b in event.bindings.items()}
            bound = trail.pin(given, self.binder.resolve_query)  # `$query` inputs resolved once, and recorded
            slot = self.cache.lookup(event, task, bound)  # a cached node: the stored result, without running
            if slot.hit is not None:
                return publish.check_state(event, slot.hit, f"task {task.short_name!r}")
            return slot.run(lambda: self._compute(event, task, bound))

    def _compute(self, event: TaskEvent, task: TaskDef, bound: dict[str, Any]) -> dict[str, Any]:
        """Run the task on its bound inputs and store its outputs; the task's result for the state machine."""
        hints = {i.name: i.type for i in task.inputs}
        values = {name: carry.to_python(self.binder.materialize(literal), hints.get(name), self.store.s3)
                  for name, literal in bound.items()}
        with capture.captured() as out:
            try:
                result = task.fn(**values)
            finally:
                self.registry.put_logs(event.execution_id, event.node, out.getvalue().splitlines())
        defaults = {i.name: i.default for i in task.inputs if i.has_default}
        outputs: dict[str, Any] = {}
        pending: dict[str, publish.PendingVersion] = {}
        plain: dict[str, Any] = {}
        returned = split_result(task.outputs, task.output_tuple_name, result, f"task {task.short_name!r}")
        for output in task.outputs:
            where = f"task {task.short_name!r} output {output.name!r}"
            result = returned[output.name]
            if isinstance(result, ArtifactValue):
                result.value = carry.to_output(result.value, output.type, where)
            else:
                result = carry.to_output(result, output.type, where)
            if output.artifact is not None or isinstance(result, ArtifactValue):
                pending[output.name] = self._prepare_artifact(task, output, result, {**defaults, **values}, event)
            else:
                plain[output.name] = result
                outputs[output.name] = self.cache.hashed_output(task, result, self.store.put_run_value(
                    event.execution_id, event.node, output.name, result, self.settings.max_inline_bytes))
        where = f"task {task.short_name!r}"
        if not publish.fits_state(event, _result(outputs, pending, self.settings.bucket)):
            # inline values would overflow the execution's state: pass them through S3 instead
            for name, value in plain.items():
                outputs[name] = self.cache.hashed_output(task, value, self.store.put_run_value(
                    event.execution_id, event.node, name, value, -1))
        publish.check_state(event, _result(outputs, pending, self.settings.bucket), where)  # before any version
        artifacts = []
        for name, write in pending.items():
            record = write.write(self.store)
            artifacts.append(publish.summary(record))
            outputs[name] = record.reference()
        return publish.check_state(event, {"outputs": outputs, "artifacts": artifacts}, where)


def _result(outputs: dict[str, Any], pending: dict[str, publish.PendingVersion], bucket: str) -> dict[str, Any]:
    """The task's result at its largest: every version to write with the longest location S3 allows."""
    placeholders = {name: w.placeholder(bucket) for name, w in pending.items()}
    return {"outputs": {**outputs, **{name: v.reference() for name, v in placeholders.items()}},
            "artifacts": [publish.summary(v) for v in placeholders.values()]}


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
