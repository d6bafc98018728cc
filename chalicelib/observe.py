"""Read-only views of a stage: artifacts and versions, executions, task logs and lineage graphs.

The one read side: the CLI views (`chalicelib/cli/views.py`), the `run` and `upload` reports and the web API
(`chalicelib/web/`) all call this module, so they show the same data. Tables are read through the store. It works the same against the local cloud (in process, or a server through an endpoint URL)
and a deployed stage: it only reads the stage's tables, Step Functions and CloudWatch Logs.
It never imports pandas (the web API shares its Lambda package with the trigger).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from chalicelib import aws
from chalicelib.aws import error_code
from chalicelib.config import Settings
from chalicelib.errors import CascadeError, UnknownArtifactError
from chalicelib.naming import names_workflow
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.cache import CacheStore
from chalicelib.store.lineage import Edge
from chalicelib.store.models import ArtifactVersion, iso_ms
from chalicelib.store.registry import Registry

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")


class UnknownExecutionError(CascadeError):
    """No execution of this stage has the given name or ARN."""


class ArtifactSummary(BaseModel):
    name: str
    versions: int
    latest: str
    latest_created_at: str


class ExecutionRow(BaseModel):
    id: str  # the execution ARN
    name: str
    workflow: str | None = None
    launch_plan: str | None = None
    status: str
    triggered_by: dict[str, Any] | None = None
    scheduled_at: str | None = None  # the tick of the launch plan's schedule that started it
    notified: list[str] = Field(default_factory=list)  # "<recipient> (<status>)", recorded by the local cloud
    inputs: dict[str, Any] = Field(default_factory=dict)
    started_at: str | None = None
    stopped_at: str | None = None
    duration_s: float | None = None
    error: str | None = None
    cause: str | None = None
    outputs: dict[str, Any] | None = None
    logs: list[str] | None = None  # filled by `report`, which shows what every task printed
    cached: list[dict[str, Any]] | None = None  # filled by `report`: nodes that reused a cached result
    waiting_on: list[str] = Field(default_factory=list)  # gates a RUNNING execution is paused at (`signal`)


class VersionDetail(BaseModel):
    version: dict[str, Any]  # ArtifactVersion.report() plus its card
    produced_by: ExecutionRow | None = None
    edges: list[dict[str, Any]]  # Edge.to_dict() of every execution that produced, was triggered by, or read it


class GraphNode(BaseModel):
    id: str
    kind: Literal["version", "execution"]
    depth: int  # hops from the root: < 0 upstream, > 0 downstream
    layer: int = 0  # column for drawing: every edge goes from a lower layer to a higher one
    label: str
    artifact: str | None = None
    version: str | None = None
    partitions: dict[str, str] = Field(default_factory=dict)
    time_partition: str | None = None
    created_at: str | None = None
    produced_by: dict[str, Any] | None = None  # a version's producer: an execution, an upload or a manual write
    execution: str | None = None
    workflow: str | None = None
    launch_plan: str | None = None
    status: str | None = None
    duration_s: float | None = None


class GraphEdge(BaseModel):
    source: str
    target: str
    kind: str
    input: str | None = None


class LineageGraph(BaseModel):
    """Data flows along edges: version → (trigger | input) → execution → (output) → version."""

    root: str
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool = False


def version_id(artifact: str, version: str) -> str:
    return f"version:{artifact}:{version}"


def execution_id(arn: str) -> str:
    return f"execution:{arn}"


def parse_ref(ref: str) -> tuple[str, str | None]:
    """`NAME` or `NAME:VERSION` → (name, version or None)."""
    name, _, version = ref.partition(":")
    return name, version or None


def short_workflow(name: str | None) -> str:
    return (name or "?").rsplit(".", 1)[-1]


def task_cause(cause: str | None) -> str | None:
    """Step Functions wraps a Lambda error as JSON; show the task's own message."""
    if not cause:
        return cause
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause
    return parsed.get("errorMessage", cause) if isinstance(parsed, dict) else cause


class Observer:
    """One stage's read side. Clients are injected; `of` builds them."""

    def __init__(self, settings: Settings, dynamodb: Any, sfn: Any, logs: Any = None) -> None:
        self.settings = settings
        self.dynamodb = dynamodb
        self.sfn = sfn
        self.logs_client = logs
        self.store = ArtifactStore(settings, None, dynamodb)
        self.registry = Registry(settings, dynamodb)
        self.lineage_store = self.store.lineage

    @classmethod
    def of(cls, settings: Settings, endpoint_url: str | None = None) -> Observer:
        """The read side of a stage, with its own clients (`endpoint_url`: a local cloud server)."""
        return cls(settings, aws.client("dynamodb", settings.region, endpoint_url),
                   aws.client("stepfunctions", settings.region, endpoint_url),
                   aws.client("logs", settings.region, endpoint_url))

    # -- artifacts --------------------------------------------------------------------------------
    def artifacts(self) -> list[ArtifactSummary]:
        """Every artifact with its version count and newest version (a Scan of the artifact table: for
        people looking, never on a hot path)."""
        seen: dict[str, ArtifactSummary] = {}
        for item in self.store.scan_versions(["name", "version", "created_at"]):
            cur = seen.get(item["name"])
            if cur is None:
                seen[item["name"]] = ArtifactSummary(name=item["name"], versions=1, latest=item["version"],
                                                     latest_created_at=item["created_at"])
                continue
            cur.versions += 1
            if item["version"] > cur.latest:
                cur.latest, cur.latest_created_at = item["version"], item["created_at"]
        return sorted(seen.values(), key=lambda a: a.latest, reverse=True)

    def versions(self, name: str, partitions: dict[str, str] | None = None, limit: int | None = None) -> list[ArtifactVersion]:
        """Versions of one artifact, newest first, keeping those whose partitions include `partitions`."""
        if not self.store.versions(name, limit=1):
            known = ", ".join(a.name for a in self.artifacts()) or "none yet"
            raise UnknownArtifactError(f"no artifact named {name!r} in stage {self.settings.stage!r}; artifacts: {known}")
        return self.store.versions(name, partitions or None, limit=limit)

    def version(self, name: str, version: str | None = None) -> ArtifactVersion:
        if version:
            return self.store.get(name, version)
        newest = self.versions(name, limit=1)
        return newest[0]

    def version_detail(self, name: str, version: str | None = None) -> VersionDetail:
        v = self.version(name, version)
        report = {**v.report(), "card": v.card}
        producer = None
        if v.execution:
            try:
                producer = self.execution(v.execution)
            except UnknownExecutionError:
                producer = None
        return VersionDetail(version=report, produced_by=producer,
                             edges=[e.to_dict() for e in self.lineage_store.for_version(v.name, v.version)])

    # -- executions -------------------------------------------------------------------------------
    def _state_machines(self, workflow: str | None = None) -> list[dict[str, Any]]:
        prefix = self.settings.prefix
        machines = []
        for page in self.sfn.get_paginator("list_state_machines").paginate():
            for sm in page["stateMachines"]:
                if not sm["name"].startswith(prefix):
                    continue
                if workflow is not None and not names_workflow(sm["name"][len(prefix):], workflow):
                    continue
                machines.append(sm)
        return machines

    def executions(self, workflow: str | None = None, status: str | None = None, limit: int = 50) -> list[ExecutionRow]:
        """Executions of this stage, newest first, each with its trigger and duration."""
        if status is not None and status.upper() not in STATUSES:
            raise CascadeError(f"unknown execution status {status!r}; use one of {', '.join(STATUSES)}")
        listed: list[dict[str, Any]] = []
        for sm in self._state_machines(workflow):
            kwargs: dict[str, Any] = {"stateMachineArn": sm["stateMachineArn"]}
            if status:
                kwargs["statusFilter"] = status.upper()
            for page in self.sfn.get_paginator("list_executions").paginate(**kwargs):
                listed.extend(page["executions"])
                if len(listed) >= limit * 4:  # newest come first per machine; enough to choose from
                    break
        listed.sort(key=lambda e: (e["startDate"], e["executionArn"]), reverse=True)
        chosen = [e["executionArn"] for e in listed[:limit]]
        with ThreadPoolExecutor(max_workers=8) as pool:  # one DescribeExecution each, for input and meta
            return list(pool.map(self.describe, chosen))

    def report(self) -> dict[str, Any]:
        """Everything that happened in the stage, oldest first: each execution with what its tasks printed and
        its outputs, and every artifact version (what `run --json` prints)."""
        arns = [ex["executionArn"] for sm in self._state_machines()
                for page in self.sfn.get_paginator("list_executions").paginate(stateMachineArn=sm["stateMachineArn"])
                for ex in page["executions"]]
        with ThreadPoolExecutor(max_workers=8) as pool:
            rows = list(pool.map(lambda arn: self.describe(arn, full=True), arns))
        rows.sort(key=lambda r: (r.started_at or "", r.id))
        return {"executions": [r.model_dump() for r in rows],
                "artifacts": [v.report() for v in self.store.all_versions()]}

    def execution(self, ref: str) -> ExecutionRow:
        """An execution by ARN or by name (looked up in this stage's state machines)."""
        return self.describe(self.resolve_execution(ref))

    def resolve_execution(self, ref: str) -> str:
        if ref.startswith("arn:"):
            return ref
        for sm in self._state_machines():
            arn = sm["stateMachineArn"].replace(":stateMachine:", ":execution:", 1) + f":{ref}"
            try:
                self.sfn.describe_execution(executionArn=arn)
            except Exception as exc:
                if error_code(exc) in ("ExecutionDoesNotExist", "InvalidArn", "StateMachineDoesNotExist"):
                    continue
                raise
            return arn
        raise UnknownExecutionError(
            f"no execution named {ref!r} in stage {self.settings.stage!r}; list them with `executions`"
        )

    def describe(self, arn: str, full: bool = False) -> ExecutionRow:
        try:
            d = self.sfn.describe_execution(executionArn=arn)
        except Exception as exc:
            if error_code(exc) in ("ExecutionDoesNotExist", "InvalidArn", "StateMachineDoesNotExist"):
                raise UnknownExecutionError(f"no execution {arn!r}; list them with `executions`") from exc
            raise
        try:
            doc = json.loads(d.get("input") or "{}")
        except ValueError:
            doc = {}
        meta = doc.get("meta") or {}
        started, stopped = d.get("startDate"), d.get("stopDate")
        row = ExecutionRow(
            id=arn, name=d["name"], workflow=meta.get("workflow"), launch_plan=meta.get("launch_plan"),
            status=d["status"], triggered_by=meta.get("triggered_by"), inputs=doc.get("inputs") or {},
            scheduled_at=meta.get("scheduled_at"), started_at=_iso(started), stopped_at=_iso(stopped),
            duration_s=round((stopped - started).total_seconds(), 3) if started and stopped else None,
        )
        if d["status"] == "FAILED":
            row.error, row.cause = d.get("error"), task_cause(d.get("cause"))
        if d["status"] == "RUNNING":  # paused at a gate until `python -m chalicelib signal`
            from chalicelib.store.gates import GateStore

            row.waiting_on = GateStore(self.settings, self.registry.dynamodb).waiting(arn)
        if stopped and row.launch_plan:  # an ended launch plan run: the notifications it sent
            from chalicelib.store.notifications import NotificationLog

            row.notified = [f"{n.recipient} ({n.status})" for n in NotificationLog(self.registry.table,
                                                                                    self.registry.dynamodb).sent(arn)]
        if full:
            row.logs = self.registry.logs(arn)
            row.cached = CacheStore(self.settings.registry_table, self.registry.dynamodb).hits(arn)
            if d.get("output"):
                try:
                    row.outputs = (json.loads(d["output"]) or {}).get("outputs", {})
                except (ValueError, AttributeError):
                    row.outputs = None
        return row

    # -- logs -------------------------------------------------------------------------------------
    def logs(self, ref: str, cloudwatch: bool = False) -> list[str]:
        """What the execution's tasks printed. By default from the registry, where the task runner stores
        each task's stdout per execution (locally and deployed). With `cloudwatch`, from the task-runner
        function's log group, for the execution's time window: there, lines of executions that ran at the
        same time are interleaved, since a task's stdout does not name its execution."""
        arn = self.resolve_execution(ref)
        if not cloudwatch:
            self.describe(arn)  # an unknown execution is an error, not an empty log
            return self.registry.logs(arn)
        row = self.describe(arn)
        return self.cloudwatch_lines(row)

    def cloudwatch_lines(self, row: ExecutionRow) -> list[str]:
        if self.logs_client is None:
            raise CascadeError("no CloudWatch Logs client configured")
        group = f"/aws/lambda/{self.settings.prefix}task_runner"
        start = _epoch_ms(row.started_at)
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start}
        if row.stopped_at:
            kwargs["endTime"] = _epoch_ms(row.stopped_at) + 1000
        lines: list[str] = []
        try:
            for page in self.logs_client.get_paginator("filter_log_events").paginate(**kwargs):
                for ev in page.get("events", []):
                    message = ev["message"].rstrip("\n")
                    if not message.startswith(("START RequestId:", "END RequestId:", "REPORT RequestId:")):
                        lines.append(message)
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise CascadeError(f"log group {group!r} does not exist; is stage {self.settings.stage!r} deployed?") from exc
            raise
        return lines

    # -- lineage ----------------------------------------------------------------------------------
    def lineage(self, name: str, version: str | None = None, depth: int = 6, max_nodes: int = 200) -> LineageGraph:
        """The graph around one version: upstream (its producing execution, that execution's trigger and
        inputs, their producers, ...) and downstream (executions it triggered or that read it, the versions
        those produced, ...), up to `depth` hops each way. One Query per node visited."""
        root = self.version(name, version)
        return LineageWalker(self, max_nodes).walk(root, depth)


class LineageWalker:
    def __init__(self, observer: Observer, max_nodes: int) -> None:
        self.obs = observer
        self.max_nodes = max_nodes
        self.nodes: dict[str, GraphNode] = {}
        self.edges: dict[tuple[str, str, str], GraphEdge] = {}
        self.producers: dict[str, str | None] = {}  # version node id → produced_by from its item
        self.truncated = False

    def _add_version(self, artifact: str, version: str, depth: int) -> str | None:
        nid = version_id(artifact, version)
        if nid not in self.nodes:
            if len(self.nodes) >= self.max_nodes:
                self.truncated = True
                return None
            self.nodes[nid] = GraphNode(id=nid, kind="version", depth=depth, label=f"{artifact}:{version}",
                                        artifact=artifact, version=version)
        return nid

    def _add_execution(self, arn: str, depth: int, edge: Edge | None = None) -> str | None:
        nid = execution_id(arn)
        if nid not in self.nodes:
            if len(self.nodes) >= self.max_nodes:
                self.truncated = True
                return None
            self.nodes[nid] = GraphNode(
                id=nid, kind="execution", depth=depth, label=arn.rsplit(":", 1)[-1], execution=arn,
                workflow=edge.workflow if edge else None, launch_plan=edge.launch_plan if edge else None,
            )
        return nid

    def _link(self, edge: Edge) -> None:
        v, e = version_id(edge.artifact, edge.version), execution_id(edge.execution)
        source, target = (e, v) if edge.kind == "output" else (v, e)
        key = (source, target, edge.kind)
        if key not in self.edges:
            self.edges[key] = GraphEdge(source=source, target=target, kind=edge.kind, input=edge.input)

    def walk(self, root: ArtifactVersion, depth: int) -> LineageGraph:
        rid = version_id(root.name, root.version)
        self.nodes[rid] = GraphNode(id=rid, kind="version", depth=0, label=f"{root.name}:{root.version}",
                                    artifact=root.name, version=root.version)
        self.producers[rid] = root.execution
        self._walk_up(rid, depth)
        self._walk_down(rid, depth)
        self._details()
        # Keep every edge seen whose both ends made it into the graph (a DAG: e.g. a run that read a
        # version both through its trigger chain and through a query).
        edges = [e for e in self.edges.values() if e.source in self.nodes and e.target in self.nodes]
        nodes = list(self.nodes.values())
        columns = layers(nodes, edges)
        for node in nodes:
            node.layer = columns[node.id]
        return LineageGraph(root=rid, nodes=nodes, edges=edges, truncated=self.truncated)

    def _walk_up(self, rid: str, depth: int) -> None:
        frontier = [rid]
        for hop in range(1, depth + 1):
            nxt: list[str] = []
            for nid in frontier:
                node = self.nodes[nid]
                if node.kind == "version":
                    edges = self.obs.lineage_store.for_version(node.artifact or "", node.version or "")
                    for edge in edges:
                        self._link(edge)
                    producers: dict[str, Edge] = {e.execution: e for e in edges if e.kind == "output"}
                    fallback = self.producers.get(nid)
                    if fallback and fallback not in producers:  # the version item names its producer too
                        producers[fallback] = Edge(kind="output", execution=fallback, artifact=node.artifact or "",
                                                   version=node.version or "")
                        self._link(producers[fallback])
                    for arn, edge in producers.items():
                        xid = self._add_execution(arn, -hop, edge)
                        if xid and self.nodes[xid].depth == -hop:
                            nxt.append(xid)
                else:
                    for edge in self.obs.lineage_store.for_execution(node.execution or ""):
                        self._link(edge)
                        if edge.kind in ("trigger", "input"):
                            vid = self._add_version(edge.artifact, edge.version, -hop)
                            if vid and self.nodes[vid].depth == -hop:
                                nxt.append(vid)
            frontier = list(dict.fromkeys(nxt))
            if not frontier:
                return

    def _walk_down(self, rid: str, depth: int) -> None:
        frontier = [rid]
        for hop in range(1, depth + 1):
            nxt: list[str] = []
            for nid in frontier:
                node = self.nodes[nid]
                if node.kind == "version":
                    for edge in self.obs.lineage_store.for_version(node.artifact or "", node.version or ""):
                        self._link(edge)
                        if edge.kind in ("trigger", "input"):
                            xid = self._add_execution(edge.execution, hop, edge)
                            if xid and self.nodes[xid].depth == hop:
                                nxt.append(xid)
                else:
                    for edge in self.obs.lineage_store.for_execution(node.execution or ""):
                        self._link(edge)
                        if edge.kind == "output":
                            vid = self._add_version(edge.artifact, edge.version, hop)
                            if vid and self.nodes[vid].depth == hop:
                                nxt.append(vid)
            frontier = list(dict.fromkeys(nxt))
            if not frontier:
                return

    def _details(self) -> None:
        """Partitions of every version (BatchGetItem, 100 keys a call) and status of every execution."""
        versions = [n for n in self.nodes.values() if n.kind == "version"]
        found = self.obs.store.get_many([(n.artifact or "", n.version or "") for n in versions])
        for v in found.values():
            node = self.nodes[version_id(v.name, v.version)]
            report = v.report()
            node.partitions, node.time_partition = v.partitions, report["time_partition"]
            node.created_at = report["created_at"]
            node.produced_by = report["produced_by"]
        executions = [n for n in self.nodes.values() if n.kind == "execution"]
        with ThreadPoolExecutor(max_workers=8) as pool:
            rows = list(pool.map(self._status, executions))
        for node, row in zip(executions, rows):
            if row is None:
                continue
            node.status, node.duration_s, node.label = row.status, row.duration_s, row.name
            node.workflow = row.workflow or node.workflow
            node.launch_plan = row.launch_plan or node.launch_plan

    def _status(self, node: GraphNode) -> ExecutionRow | None:
        try:
            return self.obs.describe(node.execution or "")
        except UnknownExecutionError:
            return None  # Step Functions forgets executions after 90 days; the edges remain


def layers(nodes: list[GraphNode], edges: list[GraphEdge]) -> dict[str, int]:
    """Longest-path layering: a node's layer is one more than its highest predecessor's, so every edge
    points right. (Hop distance does not: a version two hops up can feed a run one hop up.) The graph is
    acyclic, since a version exists before anything reads it; should it not be, nodes left on a cycle
    keep their hop distance."""
    preds: dict[str, list[str]] = {n.id: [] for n in nodes}
    succs: dict[str, list[str]] = {n.id: [] for n in nodes}
    for e in edges:
        preds[e.target].append(e.source)
        succs[e.source].append(e.target)
    waiting = {nid: len(p) for nid, p in preds.items()}
    order = [nid for nid, count in waiting.items() if count == 0]
    layer = {nid: 0 for nid in order}
    for nid in order:  # Kahn's algorithm; `order` grows while it is walked
        for nxt in succs[nid]:
            layer[nxt] = max(layer.get(nxt, 0), layer[nid] + 1)
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                order.append(nxt)
    low = min((n.depth for n in nodes), default=0)
    return {n.id: layer.get(n.id, n.depth - low) for n in nodes}


def _iso(value: datetime | None) -> str | None:
    return iso_ms(value) if value else None


def _epoch_ms(text: str | None) -> int:
    if not text:
        return 0
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)



# -- search (the page's search box) -----------------------------------------------------------------
class SearchResults(BaseModel):
    query: str
    artifacts: list[ArtifactSummary]
    versions: list[dict[str, Any]]  # ArtifactVersion.report() of each match, newest first
    executions: list[ExecutionRow]


def search(obs: Observer, text: str, limit: int = 20) -> SearchResults:
    """Artifacts, versions and executions whose name, id, partition values, workflow or launch plan contain
    `text` (case-insensitive). Scans: for people looking, never on an event path."""
    needle = text.strip().lower()
    if not needle:
        return SearchResults(query=text, artifacts=[], versions=[], executions=[])
    artifacts = [a for a in obs.artifacts() if needle in a.name.lower()]
    versions: list[ArtifactVersion] = []
    for item in obs.store.scan_versions():
        words = [item.get("name", ""), item.get("version", ""), item.get("time_partition") or "",
                 *(f"{k}={v}" for k, v in (item.get("partitions") or {}).items())]
        if any(needle in str(w).lower() for w in words):
            versions.append(ArtifactVersion.from_item(item))
    versions.sort(key=lambda v: v.version, reverse=True)
    matched: list[tuple[datetime, str]] = []
    for sm in obs._state_machines():
        machine = sm["name"][len(obs.settings.prefix):].lower()
        for page in obs.sfn.get_paginator("list_executions").paginate(stateMachineArn=sm["stateMachineArn"]):
            for ex in page["executions"]:
                if needle in machine or needle in ex["name"].lower() or needle in ex["executionArn"].lower():
                    matched.append((ex["startDate"], ex["executionArn"]))
    matched.sort(reverse=True)
    with ThreadPoolExecutor(max_workers=8) as pool:
        rows = list(pool.map(obs.describe, [arn for _, arn in matched[:limit]]))
    return SearchResults(query=text, artifacts=artifacts[:limit], versions=[v.report() for v in versions[:limit]],
                         executions=rows)
