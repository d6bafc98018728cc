"""Registration: compiled workflows become state machines; launch plans and their triggers are stored.

Idempotent: a state machine is created when missing and updated only when its definition or role changed.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from chalicelib.compile import compile_workflow
from chalicelib.naming import state_machine_name
from chalicelib.config import Settings
from chalicelib.compile import portability
from chalicelib.runtime.loader import Definitions
from chalicelib.store.declarations import ArtifactDeclaration, Declarations
from chalicelib.store.plans import LaunchPlanStore, check_trigger_cycles
from chalicelib.store.registry import Registry


class Registered(BaseModel):
    state_machines: dict[str, str]  # workflow name → state machine ARN
    changed: list[str]  # what was created or updated
    launch_plans: list[str]
    artifacts: list[str] = []
    warnings: list[str] = []  # what runs differently from flytekit (see chalicelib.compile.portability)


class Registrar:
    def __init__(self, settings: Settings, sfn: Any, registry: Registry, states_role_arn: str) -> None:
        self.settings = settings
        self.sfn = sfn
        self.registry = registry
        self.role = states_role_arn

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
        warnings = portability.check(defs)  # raises for types the engine cannot carry, before any change
        plans = LaunchPlanStore(self.registry)
        check_trigger_cycles(list(defs.launch_plans.values()), plans.all())  # before changing anything
        existing = self._existing()
        changed: list[str] = []
        arns = {}
        for wf in defs.workflows.values():
            definition = compile_workflow(wf, self.settings.task_runner_arn)
            arns[wf.name] = self._ensure(state_machine_name(wf.name, self.settings.prefix), definition, existing, changed)
        for lp in defs.launch_plans.values():
            plans.record(lp, arns[lp.workflow.name])
        declarations = Declarations(self.registry.table, self.registry.dynamodb)
        for artifact in defs.artifacts.values():  # read by code that must not import workflow files
            if declarations.put(ArtifactDeclaration.of(artifact)):
                changed.append(f"declared artifact {artifact.name}")
        return Registered(state_machines=arns, changed=changed, launch_plans=sorted(defs.launch_plans),
                          artifacts=sorted(defs.artifacts), warnings=warnings)
