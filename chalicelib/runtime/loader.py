"""Import workflow files and find what they define. Importing a file runs only its definitions.

Two ways in:

* `load_paths` / `load_file` (registration, `run`, `local PATH`): import files given by path, each as a
  top-level module named after the file, or, for a file inside a package (folders with `__init__.py`), as
  that package's module (`pkg.workflows`, with the folder above the outermost package on sys.path), so its
  relative imports (`from .tasks import t`, `from . import tasks`) work as under `python -m`. A file whose
  content changed since it was imported is imported again (a long-running process sees the edit).
* `import_module` (the task runner): import a module *by name*, only if it is allowed, from its file. In a
  deployed Lambda the allowed modules are the packaged files of chalicelib/workflows/ (the only ones
  `register` accepts for a deployed stage); in the local cloud, the modules registration recorded in the
  stage's registry (`chalicelib.store.declarations.ModuleSources`) with the file each came from, so a
  long-running local server imports a file registered later by another process from where it lies. A name
  outside the allowed set is refused before anything is imported (`UnregisteredModuleError`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from chalicelib.errors import CascadeError, DefinitionError, UnknownWorkflowError, WorkflowLoadError
from chalicelib.sdk.artifact import Artifact
from chalicelib.sdk.aligned import OnArtifacts
from chalicelib.sdk.launch_plan import LaunchPlan
from chalicelib.sdk.task import TaskDef
from chalicelib.sdk.workflow import WorkflowDef

if TYPE_CHECKING:
    from chalicelib.store.declarations import ModuleSource, ModuleSources

# Deployed functions import user workflows from here (they are packaged inside chalicelib/).
PACKAGED_WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
# The project root (in Lambda, the function's code directory): module sources inside it are recorded
# relative to it, so that what a laptop registers names the same file in the deployed code.
PROJECT_ROOT = PACKAGED_WORKFLOWS.parent.parent
SHA_ATTRIBUTE = "__cascade_sha256__"
_IMPORT_LOCK = threading.RLock()


class UnregisteredModuleError(WorkflowLoadError):
    """An event names a module that no registration recorded as a workflow module of the stage."""


def source_path(file: str | Path) -> str:
    """How a module's file is recorded: relative to the project root when inside it, else absolute (posix)."""
    resolved = Path(file).resolve()
    try:
        return resolved.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return resolved.as_posix()


def recorded_file(path: str) -> Path:
    """The file a recorded source path names in this code (relative paths: under the project root)."""
    p = Path(path)
    return p if p.is_absolute() else PROJECT_ROOT / p


def file_sha256(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


def artifact_settings(artifact: Artifact) -> dict[str, Any]:
    """What makes two declarations of one artifact name the same declaration."""
    return {"partition_keys": sorted(artifact.partition_keys), "time_partitioned": artifact.time_partitioned,
            "granularity": artifact.granularity.value if artifact.time_partitioned else None,
            "static_partitions": dict(sorted(artifact.static_partitions.items())),
            "accepts_uploads": artifact.accepts_uploads}


def settings_difference(a: dict[str, Any], b: dict[str, Any]) -> str:
    return "; ".join(f"{k} {a[k]!r} vs {b[k]!r}" for k in a if a[k] != b.get(k))


class Definitions(Struct):
    workflows: dict[str, WorkflowDef] = field(default_factory=dict)
    launch_plans: dict[str, LaunchPlan] = field(default_factory=dict)
    tasks: dict[str, TaskDef] = field(default_factory=dict)
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    # where each artifact was declared ("module.VARIABLE", or the task output / trigger that uses it)
    artifact_places: dict[str, str] = field(default_factory=dict)
    artifact_modules: dict[str, str] = field(default_factory=dict)  # the module of the first declaration
    # the registration's scope: the files loaded (module name → file) and the folders given
    files: dict[str, Path] = field(default_factory=dict)
    folders: list[Path] = field(default_factory=list)
    plan_modules: dict[str, str] = field(default_factory=dict)  # launch plan → the loaded module defining it

    def add_artifact(self, artifact: Artifact, place: str, module: str | None = None) -> None:
        """One declaration per name: the same settings twice is fine, different ones a DefinitionError."""
        known = self.artifacts.get(artifact.name)
        if known is None:
            self.artifacts[artifact.name] = artifact
            self.artifact_places[artifact.name] = place
            if module is not None:
                self.artifact_modules[artifact.name] = module
            return
        if known is artifact:
            return
        ours, theirs = artifact_settings(known), artifact_settings(artifact)
        if ours != theirs:
            raise DefinitionError(
                f"artifact {artifact.name!r} is declared twice with different settings: at "
                f"{self.artifact_places[artifact.name]} and at {place} ({settings_difference(ours, theirs)}). "
                f"Declare it once and import that declaration, or give one of them another name."
            )

    def merge(self, other: Definitions) -> None:
        for name, artifact in other.artifacts.items():
            self.add_artifact(artifact, other.artifact_places.get(name, "?"), other.artifact_modules.get(name))
        self.workflows.update(other.workflows)
        self.launch_plans.update(other.launch_plans)
        self.tasks.update(other.tasks)
        self.files.update(other.files)
        self.plan_modules.update(other.plan_modules)
        self.folders += [f for f in other.folders if f not in self.folders]

    def modules(self) -> dict[str, Path]:
        """Every module the registered tasks and workflows live in, with its file: what the task runner may
        import (`import_module`). Loaded files first; modules imported by them (shared tasks) too."""
        found = dict(self.files)
        names = {t.module for t in self.tasks.values()} | {w.module for w in self.workflows.values()}
        for name in sorted(names - set(found)):
            file = getattr(sys.modules.get(name), "__file__", None)
            if file:
                found[name] = Path(file).resolve()
        return found

    def workflow(self, name: str) -> WorkflowDef:
        """Find a workflow by its short or full name."""
        for wf in self.workflows.values():
            if name in (wf.short_name, wf.name):
                return wf
        known = sorted(wf.short_name for wf in self.workflows.values()) or ["(none)"]
        raise UnknownWorkflowError(f"no workflow named {name!r}; this file defines: {', '.join(known)}")


def _exec_file(name: str, file: Path, shown: str) -> ModuleType:
    """Execute `file` as module `name` (replacing an older import of it); the module carries its sha256."""
    sha = file_sha256(file)
    try:
        spec = importlib.util.spec_from_file_location(name, file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        setattr(module, SHA_ATTRIBUTE, sha)
        previous = sys.modules.get(name)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            if previous is not None:
                sys.modules[name] = previous
            else:
                sys.modules.pop(name, None)
            raise
    except CascadeError as exc:
        raise WorkflowLoadError(f"{shown}: {exc}") from exc
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        raise WorkflowLoadError(f"cannot import workflow file {shown!r}: {type(exc).__name__}: {exc}") from exc
    return module


def _current(name: str, file: Path) -> ModuleType | None:
    """The module already imported as `name` from `file`, unless the file changed since (then None)."""
    existing = sys.modules.get(name)
    loaded_from = getattr(existing, "__file__", None)
    if existing is None or not loaded_from or Path(loaded_from).resolve() != file:
        return None
    sha = getattr(existing, SHA_ATTRIBUTE, None)
    if sha is not None and sha != file_sha256(file):
        return None
    return existing


def module_name(file: Path) -> tuple[str, Path]:
    """(the module name a file imports as, the folder that must be on sys.path for it): `pkg.sub.mod` for a
    file in packages (each folder up to the outermost one has an `__init__.py`), else the file's stem."""
    parts, folder = [file.stem], file.parent
    while (folder / "__init__.py").is_file() and folder.name.isidentifier() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), folder


def _package_root(name: str, file: Path) -> Path:
    """The folder above the outermost package of module `name`, which lives in `file`."""
    return file.parents[name.count(".")]


def _exec_in_package(name: str, file: Path, shown: str) -> ModuleType:
    """Execute `file` as the package module `name`, its parent packages imported first (relative imports)."""
    try:
        importlib.import_module(name.rpartition(".")[0])
    except Exception as exc:
        raise WorkflowLoadError(
            f"cannot import workflow file {shown!r}: its package {name.rpartition('.')[0]!r} fails to import: "
            f"{type(exc).__name__}: {exc}") from exc
    return _exec_file(name, file, shown)


def load_file(path: str | Path) -> ModuleType:
    """Import a workflow file as a top-level module named after it, or as its package's module (the task
    runner imports it by the same name)."""
    file = Path(path).resolve()
    if not file.is_file() or file.suffix != ".py":
        raise WorkflowLoadError(f"workflow file {str(path)!r} does not exist or is not a .py file")
    name, root = module_name(file)
    folder = str(root)
    with _IMPORT_LOCK:
        if folder not in sys.path:
            sys.path.insert(0, folder)
        if "." in name:
            return _current(name, file) or _exec_in_package(name, file, str(path))
        return _current(name, file) or _exec_file(name, file, str(path))


class PackagedModules:
    """The allow-list of a deployed task runner: the modules packaged in chalicelib/workflows/ (the only files
    `register` accepts for a deployed stage). Nothing else can be imported there; no AWS call is needed."""

    def get(self, name: str) -> ModuleSource | None:
        from chalicelib.store.declarations import ModuleSource

        parts = name.split(".")
        if not all(p.isidentifier() for p in parts):
            return None
        file = PACKAGED_WORKFLOWS.joinpath(*parts[:-1], f"{parts[-1]}.py")
        if not file.is_file() or module_name(file) != (name, PACKAGED_WORKFLOWS):
            return None
        return ModuleSource(module=name, path=source_path(file), sha256="")

    def all(self) -> list[ModuleSource]:
        names = [module_name(f)[0] for f in sorted(PACKAGED_WORKFLOWS.rglob("*.py")) if f.name != "__init__.py"]
        return [s for name in names if (s := self.get(name)) is not None]


def default_sources() -> ModuleSources | PackagedModules:
    """Where the allowed modules come from, by where this code runs: in a Lambda runtime, its package; else
    (the local cloud, which runs every handler in this process) what was registered in the stage's registry."""
    from chalicelib import aws
    from chalicelib.capture import in_lambda
    from chalicelib.config import Settings
    from chalicelib.store.declarations import ModuleSources

    if in_lambda():
        return PackagedModules()
    settings = Settings.from_env()
    return ModuleSources(settings.registry_table, aws.client("dynamodb", settings.region))


def import_module(name: str, sources: ModuleSources | PackagedModules | None = None) -> ModuleType:
    """Import a workflow module by name, as the task runner does: only an allowed module (deployed: the
    packaged files of chalicelib/workflows/; local: whatever was registered, `default_sources`), from its
    recorded file. Checked before anything is imported."""
    sources = sources if sources is not None else default_sources()
    source = sources.get(name)
    if source is None:
        known = sorted(s.module for s in sources.all())
        raise UnregisteredModuleError(
            f"refusing to import module {name!r}: it is not a registered workflow module of this stage "
            f"(allowed: {', '.join(known) or '(none)'}). A deployed stage runs the files of chalicelib/workflows/: "
            f"add the file there, deploy and register it; on the local cloud, register the file "
            f"(`python -m chalicelib register --stage local FILE`). Or fix the event that names it."
        )
    file = recorded_file(source.path)
    with _IMPORT_LOCK:
        current = _current(name, file.resolve()) if file.exists() else None
        if current is not None:
            return current
        if not file.is_file():
            raise UnregisteredModuleError(
                f"module {name!r} was registered from {source.path}, which this code does not have; deploy "
                f"the code that contains it (workflow files live in chalicelib/workflows/), then register again"
            )
        if "." in name:  # a module of a package (shared tasks): import it the normal way, from its package
            root = str(_package_root(name, file.resolve()))
            if root not in sys.path:
                sys.path.append(root)  # after everything else (no shadowing)
            if name in sys.modules:  # imported before, from what the file held then
                return _exec_in_package(name, file.resolve(), source.path)
            module = importlib.import_module(name)
            if Path(getattr(module, "__file__", "") or "").resolve() != file.resolve():
                raise UnregisteredModuleError(
                    f"module {name!r} imports from {module.__file__}, but was registered from {source.path}")
            return module
        folder = str(file.resolve().parent)
        if folder not in sys.path:
            sys.path.append(folder)  # its own imports of sibling files, after everything else (no shadowing)
        return _exec_file(name, file.resolve(), source.path)


def definitions(module: ModuleType) -> Definitions:
    found = Definitions()
    for var, value in vars(module).items():
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
            found.add_artifact(value, f"{module.__name__}.{var}", module.__name__)
    # artifacts used but not bound to a module-level name: task outputs and triggers
    used = [(o.artifact.artifact, f"{t.name} output {o.name!r}")
            for t in found.tasks.values() for o in t.outputs if o.artifact is not None]
    for lp in found.launch_plans.values():
        if isinstance(lp.trigger, OnArtifacts):
            used += [(a, f"launch plan {lp.name!r} trigger") for a in lp.trigger.members().values()]
        elif lp.trigger is not None:
            used.append((lp.trigger.artifact, f"launch plan {lp.name!r} trigger"))
    for artifact, place in used:
        found.add_artifact(artifact, f"{module.__name__}: {place}", module.__name__)
    return found


def load_paths(paths: list[str | Path]) -> Definitions:
    """Load files, or every .py file in folders."""
    found = Definitions()
    for path in paths:
        p = Path(path)
        files = sorted(f for f in p.glob("*.py") if not f.name.startswith("_")) if p.is_dir() else [p]
        if p.is_dir():
            found.folders.append(p.resolve())
        for file in files:
            module = load_file(file)
            defined = definitions(module)
            defined.files[module.__name__] = Path(file).resolve()
            defined.plan_modules = {name: module.__name__ for name in defined.launch_plans}
            found.merge(defined)
    return found
