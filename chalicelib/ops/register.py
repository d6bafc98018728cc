"""Registration: compiled workflows become state machines; launch plans and their triggers are stored.

Idempotent: a state machine is created when missing and updated only when its definition or role changed.
On a deployed stage the stack holds the state machines, schedules and notifications (`StackOwned`): registration
then leaves them alone and stores launch plans, subscriptions and schedule specs only.

Decide, then act. Everything that can refuse (types, trigger cycles, artifact declarations that conflict
with the stage's) is checked before anything changes. Then, in order: the modules of the registered tasks
and workflows are recorded (the task runner imports only those), state machines are created or updated,
launch plans and their subscriptions are stored, with each one's schedule (chalicelib/ops/schedule.py) and
notifications (chalicelib/ops/notify.py), launch plans no longer defined where they were registered from are
removed with their schedules and notifications (see chalicelib/store/plans.py, "Removal"), and artifact
declarations are stored. On a deployed stage, the DataFrame artifacts' Glue tables and Athena views follow
(chalicelib/ops/catalog.py).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from pydantic import BaseModel

from chalicelib.compile import compile_workflow, portability
from chalicelib.config import Settings
from chalicelib.errors import DefinitionError
from chalicelib import aws
from chalicelib.naming import state_machine_name
from chalicelib.ops.catalog import Catalog
from chalicelib.ops.notify import Notifications, plan_of
from chalicelib.ops.schedule import Schedules, ScheduleTarget, spec_of
from chalicelib.runtime import loader
from chalicelib.runtime.loader import Definitions
from chalicelib.store.declarations import ArtifactDeclaration, Declarations, ModuleSource, ModuleSources
from chalicelib.store.plans import LaunchPlanState, LaunchPlanStore, Scope, check_trigger_cycles, stale
from chalicelib.store.registry import Registry
from chalicelib.store.schedules import ScheduleStore


class Registered(BaseModel):
    state_machines: dict[str, str]  # workflow name → state machine ARN
    changed: list[str]  # what was created, updated or removed
    launch_plans: list[str]
    artifacts: list[str] = []
    warnings: list[str] = []  # what runs differently from flytekit (see chalicelib.compile.portability)
    removed: list[str] = []  # launch plans no longer defined in the files (folders) registered: they stop firing
    modules: list[str] = []  # the workflow modules the task runner may import
    owner: str | None = None  # the stack that owns the state machines, schedules and notifications, if any


def scope_of(defs: Definitions) -> Scope:
    """What registering `defs` reconciles: its files' modules, and the folders it loaded."""
    folders = {loader.source_path(f) for f in defs.folders}
    return Scope(modules=set(defs.files), folders={"" if f == "." else f for f in folders})


def module_sources(defs: Definitions) -> list[ModuleSource]:
    return [ModuleSource(module=name, path=loader.source_path(file), sha256=loader.file_sha256(file))
            for name, file in sorted(defs.modules().items())]


def declaration_conflicts(defs: Definitions, stored: dict[str, ArtifactDeclaration | None]) -> list[str]:
    out = []
    for name, artifact in sorted(defs.artifacts.items()):
        reason = Declarations.conflict(stored.get(name), ArtifactDeclaration.of(artifact, defs.artifact_modules.get(name)))
        if reason:
            out.append(reason)
    return out


def clients_like(sfn: Any) -> Callable[[str], Any]:
    """Clients of other services at the Step Functions client's region and endpoint (a local cloud's, or AWS)."""
    endpoint = sfn.meta.endpoint_url
    custom = endpoint if "amazonaws.com" not in endpoint else None
    return lambda service: aws.client(service, sfn.meta.region_name, custom)


class StackOwned(BaseModel):
    """A deployed stage whose stack holds the state machines, schedules and notifications of its workflows:
    registration changes none of them (chalicelib/deploy/registration.py checked they match the files)."""

    stack: str
    state_machines: dict[str, str]  # workflow name → the stack's state machine ARN


class Registrar:
    def __init__(self, settings: Settings, sfn: Any, registry: Registry, states_role_arn: str,
                 clients: Callable[[str], Any] | None = None, catalog: Catalog | None = None,
                 owned: StackOwned | None = None) -> None:
        self.settings = settings
        self.catalog = catalog  # a deployed stage's Glue tables and Athena views; None elsewhere
        self.owned = owned
        self.sfn = sfn
        self.registry = registry
        self.role = states_role_arn
        self.clients = clients or clients_like(sfn)

    def schedules(self) -> Schedules:
        target = ScheduleTarget.of(self.settings.prefix, self.settings.task_runner_arn, self.role)
        return Schedules(self.clients("scheduler"), ScheduleStore(self.registry.table, self.registry.dynamodb), target,
                         stack_owned=self.owned is not None)

    def notifications(self) -> Notifications:
        return Notifications(self.clients("events"), self.clients("sns"), self.settings.prefix)

    def _existing(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for page in self.sfn.get_paginator("list_state_machines").paginate():
            for sm in page["stateMachines"]:
                found[sm["name"]] = sm["stateMachineArn"]
        return found

    def _ensure(self, name: str, definition: dict[str, Any], existing: dict[str, str], changed: list[str]) -> str:
        text = json.dumps(definition, sort_keys=True)
        if name not in existing:
            arn = self.sfn.create_state_machine(name=name, definition=text, roleArn=self.role)["stateMachineArn"]
            changed.append(f"created state machine {name}")
            return arn
        arn = existing[name]
        current = self.sfn.describe_state_machine(stateMachineArn=arn)
        if json.loads(current["definition"]) != definition or current["roleArn"] != self.role:
            self.sfn.update_state_machine(stateMachineArn=arn, definition=text, roleArn=self.role)
            changed.append(f"updated state machine {name}")
        return arn

    def register(self, defs: Definitions) -> Registered:
        # -- decide: everything that can refuse, before any change --------------------------------------
        warnings = portability.check(defs)  # raises for types the engine cannot carry
        plans = LaunchPlanStore(self.registry)
        registered = plans.all()
        removing = stale(registered, scope_of(defs), set(defs.launch_plans))
        gone = {s.name for s in removing}
        check_trigger_cycles(list(defs.launch_plans.values()), [s for s in registered if s.name not in gone])
        declarations = Declarations(self.registry.table, self.registry.dynamodb)
        stored = {name: declarations.get(name) for name in defs.artifacts}
        conflicts = declaration_conflicts(defs, stored)
        if conflicts:
            raise DefinitionError("; ".join(conflicts))
        sources = module_sources(defs)
        definitions = {wf.name: compile_workflow(wf, self.settings.task_runner_arn) for wf in defs.workflows.values()}
        if self.owned is not None:
            missing = sorted(set(definitions) - set(self.owned.state_machines))
            if missing:
                raise DefinitionError(f"workflows {missing} have no state machine in stack {self.owned.stack}; "
                                      f"deploy them (make deploy STAGE={self.settings.stage})")

        # -- act -----------------------------------------------------------------------------------------
        changed: list[str] = []
        modules = ModuleSources(self.registry.table, self.registry.dynamodb)
        for source in sources:  # first: a run started by what follows finds its modules
            if modules.put(source):
                changed.append(f"recorded module {source.module} from {source.path}")
        if self.owned is not None:  # the stack made them from the same files
            arns = {name: self.owned.state_machines[name] for name in definitions}
        else:
            existing = self._existing()
            arns = {name: self._ensure(state_machine_name(name, self.settings.prefix), definition, existing, changed)
                    for name, definition in definitions.items()}
        schedules = self.schedules()
        notifications = self.notifications() if self.owned is None else None
        for lp in defs.launch_plans.values():
            module = defs.plan_modules.get(lp.name)
            file = defs.files.get(module) if module else None
            arn = arns[lp.workflow.name]
            state = plans.record(lp, arn, module, loader.source_path(file) if file else None)
            changed += schedules.apply(lp.name, spec_of(lp, arn, state.active))
            if notifications is not None:
                changed += notifications.apply(lp.name, plan_of(lp, arn, self.settings.prefix))
        for state in removing:
            plans.remove(state)
            changed += schedules.apply(state.name, None)
            if notifications is not None:
                changed += notifications.apply(state.name, None)
            changed.append(f"removed launch plan {state.name} (no longer defined in {_where(state)})")
        for name, artifact in defs.artifacts.items():  # read by code that must not import workflow files
            new = declarations.keep_owner(stored[name], ArtifactDeclaration.of(artifact, defs.artifact_modules.get(name)))
            if declarations.put(new):
                changed.append(f"declared artifact {artifact.name}")
        if self.catalog is not None:
            tabled, notes = self.catalog.apply([ArtifactDeclaration.of(a) for a in defs.artifacts.values()])
            changed += tabled
            warnings = [*warnings, *notes]
        return Registered(state_machines=arns, changed=changed, launch_plans=sorted(defs.launch_plans),
                          artifacts=sorted(defs.artifacts), warnings=warnings, removed=sorted(gone),
                          modules=[s.module for s in sources], owner=self.owned.stack if self.owned else None)


def _where(state: LaunchPlanState) -> str:
    return state.source or state.module or "its file"
