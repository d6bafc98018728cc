"""Registered launch plans: versions, activation, and the trigger subscriptions that follow them.

Registry table items:

    pk = "LPS"           sk = "LP#<name>"       the current version of each launch plan (one Query lists all)
    pk = "LP#<name>"     sk = "V#<version>"     every version ever registered, with its definition
    pk = "SUB#<artifact>" sk = "LP#<name>"      one subscription per artifact the current version listens to

A launch plan's version is the hash of its definition, so re-registering a changed trigger makes a new
version; subscriptions are keyed by name, so at most one version per name can fire.

Activation: a launch plan starts as declared (`LaunchPlan(..., active=True)` is the default). Once an
operator runs `launchplan activate|deactivate`, that choice is kept across re-registrations, new versions
included, until the operator changes it again. The trigger reads subscriptions with a consistent read on
every event, so a change applies from the next event on.

Removal (reconciliation): each launch plan records the module and file it was registered from. A
registration reconciles what it covers (`Scope`): the modules of the files it loads, and, for each folder it
loads, every module previously registered from a file directly in that folder (so a deleted file is
covered too). A launch plan registered from a covered module that the registration no longer defines is
removed: its subscriptions are deleted (it fires on no later event), its state says `removed`, and its
versions stay. Launch plans from modules the registration does not cover are untouched; registering the
launch plan again makes it current again, activated as declared.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field

from chalicelib.aws import error_code
from chalicelib.compile.cycles import PlanNode, check_no_cycle
from chalicelib.errors import CascadeError, UnknownLaunchPlanError
from chalicelib.sdk.aligned import OnArtifacts
from chalicelib.sdk.launch_plan import LaunchPlan
from chalicelib.store.dynamo import from_dynamo, to_dynamo
from chalicelib.store.models import Subscription, iso_ms, subscription_key
from chalicelib.store.registry import Registry

DIRECTORY = "LPS"


class RemovedLaunchPlanError(CascadeError):
    """The launch plan was removed from the file it was registered from."""


class Produced(BaseModel):
    """An artifact a workflow's tasks produce, with the partition values fixed by their annotations."""

    artifact: str
    partitions: dict[str, str] = Field(default_factory=dict)


class LaunchPlanState(BaseModel):
    name: str
    version: str
    workflow: str
    state_machine_arn: str
    active: bool
    active_source: Literal["declared", "operator"] = "declared"
    triggers: dict[str, dict[str, str]] = Field(default_factory=dict)  # artifact → partition filter
    align_on: str | None = None
    produces: list[Produced] = Field(default_factory=list)
    registered_at: str = ""
    changed_at: str = ""
    module: str | None = None  # the module (file) it was registered from; None: before sources were recorded
    source: str | None = None  # that file, relative to the project root when inside it, else absolute
    removed: bool = False  # no longer defined where it was registered from: no subscription, never fires
    removed_at: str = ""

    @property
    def artifacts(self) -> list[str]:
        return sorted(self.triggers)

    @property
    def status(self) -> str:
        return "removed" if self.removed else ("active" if self.active else "inactive")


class Scope(BaseModel):
    """What one registration reconciles: the modules of the files it loads, and the folders it loads
    (recorded source paths of their files, as `chalicelib.runtime.loader.source_path` spells them)."""

    modules: set[str] = Field(default_factory=set)
    folders: set[str] = Field(default_factory=set)

    def covers(self, state: LaunchPlanState) -> bool:
        if state.module is not None and state.module in self.modules:
            return True
        if state.source is None:
            return False
        folder = state.source.rpartition("/")[0]
        return folder in self.folders


def stale(registered: list[LaunchPlanState], scope: Scope, defined: set[str]) -> list[LaunchPlanState]:
    """The launch plans a registration of `scope` defining `defined` removes (pure): current ones from a
    covered module that it no longer defines."""
    return sorted((s for s in registered if not s.removed and s.name not in defined and scope.covers(s)),
                  key=lambda s: s.name)


def produced_by(lp: LaunchPlan) -> list[Produced]:
    """What the launch plan's workflow produces, read from its tasks' output annotations."""
    out: dict[str, Produced] = {}
    for node in lp.workflow.nodes:
        for output in node.task.outputs:
            spec = output.artifact
            if spec is None:
                continue
            consts = {k: v for k, v in spec.partitions.items() if isinstance(v, str)}
            prev = out.get(spec.artifact.name)
            if prev is not None:  # produced twice: only keys fixed to the same value in both stay fixed
                consts = {k: v for k, v in consts.items() if prev.partitions.get(k) == v}
            out[spec.artifact.name] = Produced(artifact=spec.artifact.name, partitions=consts)
    return sorted(out.values(), key=lambda p: p.artifact)


def triggers_of(lp: LaunchPlan) -> dict[str, dict[str, str]]:
    if lp.trigger is None:
        return {}
    if isinstance(lp.trigger, OnArtifacts):
        return lp.trigger.filters()
    return {lp.trigger.artifact.name: lp.trigger.partition_filter()}


def subscriptions_of(lp: LaunchPlan, state_machine_arn: str, active: bool) -> list[Subscription]:
    triggers = triggers_of(lp)
    align = None
    if isinstance(lp.trigger, OnArtifacts):
        align = {"on": lp.trigger.align_on,
                 "members": [{"artifact": name, "filter": flt} for name, flt in triggers.items()]}
    return [
        Subscription(
            artifact=artifact, launch_plan=lp.name, lp_version=lp.version, workflow=lp.workflow.name,
            state_machine_arn=state_machine_arn, active=active, filter=flt, bindings=lp.bindings,
            fixed_inputs=lp.fixed_inputs, default_inputs=lp.default_inputs, align=align,
        )
        for artifact, flt in triggers.items()
    ]


def _now() -> str:
    return iso_ms(datetime.now(timezone.utc))


class LaunchPlanStore:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.dynamodb = registry.dynamodb
        self.table = registry.table

    # -- reading ----------------------------------------------------------------------------------
    def get(self, name: str) -> LaunchPlanState | None:
        resp = self.dynamodb.get_item(TableName=self.table, Key=to_dynamo({"pk": DIRECTORY, "sk": f"LP#{name}"}),
                                      ConsistentRead=True)
        return LaunchPlanState.model_validate_json(from_dynamo(resp["Item"])["doc"]) if "Item" in resp else None

    def require(self, name: str) -> LaunchPlanState:
        state = self.get(name)
        if state is None:
            known = [p.name for p in self.all()]
            raise UnknownLaunchPlanError(
                f"no launch plan named {name!r} is registered; registered: {', '.join(known) or '(none)'}"
            )
        return state

    def all(self) -> list[LaunchPlanState]:
        items = self.registry._query_all(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": DIRECTORY}}, ConsistentRead=True,
        )
        return [LaunchPlanState.model_validate_json(i["doc"]) for i in items]

    def versions(self, name: str) -> list[dict[str, Any]]:
        """Every registered version of a launch plan, oldest first."""
        items = self.registry._query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :v)",
            ExpressionAttributeValues={":pk": {"S": f"LP#{name}"}, ":v": {"S": "V#"}},
        )
        rows = [{"version": i["version"], "registered_at": i["registered_at"], "definition": json.loads(i["doc"])}
                for i in items]
        return sorted(rows, key=lambda r: r["registered_at"])

    # -- writing ----------------------------------------------------------------------------------
    def _put_state(self, state: LaunchPlanState) -> None:
        self.dynamodb.put_item(TableName=self.table, Item=to_dynamo({
            "pk": DIRECTORY, "sk": f"LP#{state.name}", "name": state.name, "version": state.version,
            "active": state.active, "doc": state.model_dump_json(),
        }))

    def record(self, lp: LaunchPlan, state_machine_arn: str, module: str | None = None,
               source: str | None = None) -> LaunchPlanState:
        """Register `lp` (idempotent): its version, its subscriptions, and no subscription of an older version.
        `module` and `source` say where it was defined (what reconciliation compares)."""
        current = self.get(lp.name)
        if current is not None and current.removed:  # added back: registered again as declared
            current = current.model_copy(update={"active_source": "declared", "triggers": {}})
        operator = current is not None and current.active_source == "operator"
        active = current.active if operator and current is not None else lp.active
        now = _now()
        state = LaunchPlanState(
            name=lp.name, version=lp.version, workflow=lp.workflow.name, state_machine_arn=state_machine_arn,
            active=active, active_source="operator" if operator else "declared", triggers=triggers_of(lp),
            align_on=lp.trigger.align_on if isinstance(lp.trigger, OnArtifacts) else None,
            produces=produced_by(lp),
            registered_at=current.registered_at if current and current.version == lp.version else now,
            changed_at=current.changed_at if current and not current.removed else now,
            module=module if module is not None else (current.module if current else None),
            source=source if module is not None else (current.source if current else None),
        )
        try:  # the version's history item, written once
            self.dynamodb.put_item(
                TableName=self.table, ConditionExpression="attribute_not_exists(pk)",
                Item=to_dynamo({"pk": f"LP#{lp.name}", "sk": f"V#{lp.version}", "version": lp.version,
                                "registered_at": now, "doc": json.dumps(lp.definition(), sort_keys=True)}),
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
        for sub in subscriptions_of(lp, state_machine_arn, active):
            self.registry.put_subscription(sub)
        for artifact in sorted(set(current.triggers if current else {}) - set(state.triggers)):
            self.dynamodb.delete_item(TableName=self.table, Key=to_dynamo(subscription_key(artifact, lp.name)))
        self._put_state(state)
        return state

    def remove(self, state: LaunchPlanState) -> LaunchPlanState:
        """Stop a launch plan that is no longer defined: delete its subscriptions, keep its state as removed."""
        for artifact in state.artifacts:
            self.dynamodb.delete_item(TableName=self.table, Key=to_dynamo(subscription_key(artifact, state.name)))
        now = _now()
        removed = state.model_copy(update={"removed": True, "removed_at": now, "active": False, "changed_at": now})
        self._put_state(removed)
        return removed

    def set_active(self, name: str, active: bool) -> LaunchPlanState:
        """Activate or deactivate the current version of `name`; applies from the next event on."""
        state = self.require(name)
        if state.removed:
            raise RemovedLaunchPlanError(
                f"launch plan {name!r} was removed at {state.removed_at}: it is no longer defined in "
                f"{state.source or state.module or 'the file it was registered from'}. Define it there again and "
                f"register that file to bring it back"
            )
        for artifact in state.artifacts:
            try:
                self.dynamodb.update_item(
                    TableName=self.table, Key=to_dynamo(subscription_key(artifact, name)),
                    UpdateExpression="SET active = :a", ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={":a": {"BOOL": active}},
                )
            except Exception as exc:  # no subscription item: nothing listens, nothing to switch
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
        state = state.model_copy(update={"active": active, "active_source": "operator", "changed_at": _now()})
        self._put_state(state)
        return state


def plan_node(state: LaunchPlanState | LaunchPlan) -> PlanNode:
    if isinstance(state, LaunchPlan):
        return PlanNode(state.name, state.workflow.name, triggers_of(state),
                        {p.artifact: p.partitions for p in produced_by(state)})
    return PlanNode(state.name, state.workflow, state.triggers, {p.artifact: p.partitions for p in state.produces})


def check_trigger_cycles(new: list[LaunchPlan], registered: list[LaunchPlanState]) -> None:
    """Refuse launch plans that would close a trigger cycle, with plans already registered or among themselves."""
    names = {lp.name for lp in new}
    nodes = [plan_node(lp) for lp in new] + [plan_node(s) for s in registered if s.name not in names and not s.removed]
    check_no_cycle(nodes, sorted(names))
