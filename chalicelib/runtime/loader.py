"""Import workflow files and find what they define. Importing a file runs only its definitions."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from chalicelib.errors import CascadeError, UnknownWorkflowError, WorkflowLoadError
from chalicelib.sdk.artifact import Artifact
from chalicelib.sdk.aligned import OnArtifacts
from chalicelib.sdk.launch_plan import LaunchPlan
from chalicelib.sdk.task import TaskDef
from chalicelib.sdk.workflow import WorkflowDef

# Deployed functions import user workflows from here (they are packaged inside chalicelib/).
PACKAGED_WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"


@dataclass
class Definitions:
    workflows: dict[str, WorkflowDef] = field(default_factory=dict)
    launch_plans: dict[str, LaunchPlan] = field(default_factory=dict)
    tasks: dict[str, TaskDef] = field(default_factory=dict)
    artifacts: dict[str, Artifact] = field(default_factory=dict)

    def merge(self, other: Definitions) -> None:
        self.workflows.update(other.workflows)
        self.launch_plans.update(other.launch_plans)
        self.tasks.update(other.tasks)
        self.artifacts.update(other.artifacts)

    def workflow(self, name: str) -> WorkflowDef:
        """Find a workflow by its short or full name."""
        for wf in self.workflows.values():
            if name in (wf.short_name, wf.name):
                return wf
        known = sorted(wf.short_name for wf in self.workflows.values()) or ["(none)"]
        raise UnknownWorkflowError(f"no workflow named {name!r}; this file defines: {', '.join(known)}")


def load_file(path: str | Path) -> ModuleType:
    """Import a workflow file as a top-level module named after it (the task runner imports it the same way)."""
    file = Path(path).resolve()
    if not file.is_file() or file.suffix != ".py":
        raise WorkflowLoadError(f"workflow file {str(path)!r} does not exist or is not a .py file")
    name = file.stem
    folder = str(file.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    existing = sys.modules.get(name)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() == file:
        return existing
    try:
        spec = importlib.util.spec_from_file_location(name, file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except CascadeError as exc:
        sys.modules.pop(name, None)
        raise WorkflowLoadError(f"{path}: {exc}") from exc
    except BaseException as exc:
        sys.modules.pop(name, None)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise WorkflowLoadError(f"cannot import workflow file {str(path)!r}: {type(exc).__name__}: {exc}") from exc
    return module


def import_module(name: str) -> ModuleType:
    """Import a workflow module by name, as the task runner does."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name or str(PACKAGED_WORKFLOWS) in sys.path:
            raise
        sys.path.append(str(PACKAGED_WORKFLOWS))
        return importlib.import_module(name)


def definitions(module: ModuleType) -> Definitions:
    found = Definitions()
    for value in vars(module).values():
        if isinstance(value, WorkflowDef):
            found.workflows[value.name] = value
            for node in value.nodes:
                found.tasks[node.task.name] = node.task
        elif isinstance(value, LaunchPlan):
            found.launch_plans[value.name] = value
            found.workflows.setdefault(value.workflow.name, value.workflow)
        elif isinstance(value, TaskDef):
            found.tasks[value.name] = value
        elif isinstance(value, Artifact):
            found.artifacts[value.name] = value
    # artifacts used but not bound to a module-level name: task outputs and triggers
    used = [o.artifact.artifact for t in found.tasks.values() for o in t.outputs if o.artifact is not None]
    for lp in found.launch_plans.values():
        if isinstance(lp.trigger, OnArtifacts):
            used += lp.trigger.members().values()
        elif lp.trigger is not None:
            used.append(lp.trigger.artifact)
    for artifact in used:
        found.artifacts.setdefault(artifact.name, artifact)
    return found


def load_paths(paths: list[str | Path]) -> Definitions:
    """Load files, or every .py file in folders."""
    found = Definitions()
    for path in paths:
        p = Path(path)
        files = sorted(f for f in p.glob("*.py") if not f.name.startswith("_")) if p.is_dir() else [p]
        for file in files:
            found.merge(definitions(load_file(file)))
    return found
