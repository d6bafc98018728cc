"""Registration-time checks of what a ported flytekit file asks for and what the deployment provides.

Errors (registration stops): a task or workflow input or output type the engine cannot carry.
Warnings (registration goes on; each names the task and what to do):
  * an ImageSpec package missing from the deployment's requirements.txt, or pinned to another version;
  * ImageSpec keywords that only mean something for a container image (apt_packages, registry, ...);
  * a Python version other than the task runner's;
  * @task and LaunchPlan keywords that have no effect here (cache=, requests=, labels=, ...).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from msgspec import Struct

from chalicelib.sdk import carry
from chalicelib.sdk import compat, options
from chalicelib.sdk.image import ImageSpec

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# What the task runner has: every function's requirements plus the tasks layer (chalicelib/deploy/layer.py).
DEPLOYMENT_REQUIREMENTS = (PROJECT_ROOT / "requirements.txt", PROJECT_ROOT / "requirements-tasks.txt")
CHALICE_CONFIG = PROJECT_ROOT / ".chalice" / "config.json"
CHALICE_DEFAULT_MEMORY_MB = 128
# Importing these is what the changed imports replace: `from chalicelib import ...` provides them.
PROVIDED_BY_US = {"flytekit", "union", "unionai", "chalicelib"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class Pin(Struct, frozen=True):
    name: str
    text: str  # the requirement as written, e.g. "pandas==2.2.3"
    version: str | None  # the exact version when pinned with ==


def read_requirements(path: Path, seen: set[Path] | None = None) -> dict[str, Pin]:
    """Requirement lines of a requirements file (following `-r other.txt`), by canonical package name."""
    from packaging.requirements import InvalidRequirement, Requirement

    seen = seen or set()
    path = path.resolve()
    if path in seen or not path.is_file():
        return {}
    seen.add(path)
    pins: dict[str, Pin] = {}
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            pins.update(read_requirements(path.parent / line.split(None, 1)[1], seen))
            continue
        if line.startswith("-"):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        exact = [s.version for s in req.specifier if s.operator in ("==", "===")]
        pins[canonical(req.name)] = Pin(req.name, line, exact[0] if exact else None)
    return pins


def _asked(image: ImageSpec, base: Path) -> tuple[list[str], list[str]]:
    """(requirement strings the image asks for, notes about files that could not be read)."""
    asked = list(image.packages)
    notes = []
    if image.requirements:
        req_path = Path(image.requirements)
        if not req_path.is_absolute():
            req_path = (base / req_path) if (base / req_path).is_file() else Path.cwd() / req_path
        if req_path.is_file():
            asked += [p.text for p in read_requirements(req_path).values()]
        else:
            notes.append(f"its requirements file {image.requirements!r} was not found, so it was not checked")
    return asked, notes


def package_warnings(task: str, image: ImageSpec, deployment: dict[str, Pin], base: Path,
                     requirements_name: str = "requirements.txt") -> list[str]:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import InvalidVersion, Version

    out = []
    asked, notes = _asked(image, base)
    out += [f"task {task!r}: ImageSpec {image.name!r}: {n}" for n in notes]
    for text in asked:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            out.append(f"task {task!r}: ImageSpec package {text!r} is not a valid requirement; it was not checked")
            continue
        name = canonical(req.name)
        if name in PROVIDED_BY_US:
            continue
        pin = deployment.get(name)
        if pin is None:
            out.append(
                f"task {task!r}: ImageSpec package {text!r} is not in the deployment's {requirements_name}, so the "
                f"task runner does not have {req.name}; add a pinned line for it (e.g. {req.name}==<version>)"
            )
            continue
        if not str(req.specifier) or pin.version is None:
            continue
        try:
            ok = req.specifier.contains(Version(pin.version), prereleases=True)
        except InvalidVersion:
            continue
        if not ok:
            out.append(
                f"task {task!r}: ImageSpec package {text!r} is not satisfied: the deployment's {requirements_name} "
                f"pins {pin.text}, and the task will run with {req.name} {pin.version}"
            )
    return out


def runner_python() -> str:
    """chalice packages for the Python that runs it: the task runner's version."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def image_warnings(image: ImageSpec, tasks: list[str]) -> list[str]:
    out = []
    ignored = image.container_only()
    names = ", ".join(repr(t) for t in tasks)
    if ignored:
        keys = ", ".join(f"{k}={v!r}" for k, v in ignored.items())
        out.append(
            f"ImageSpec {image.name!r} (tasks {names}): {keys} cannot apply: tasks run in the task-runner Lambda's "
            f"zip package, not in a container image. Python packages come from requirements-tasks.txt; system libraries "
            f"and binaries must be shipped as a Lambda layer or vendored"
        )
    if image.python_version and not runner_python().startswith(str(image.python_version)):
        out.append(f"ImageSpec {image.name!r} (tasks {names}) asks for Python {image.python_version}; the task "
                   f"runner runs Python {runner_python()}")
    return out


def runner_memory_mb(config: Path = CHALICE_CONFIG, stage: str | None = None) -> int:
    """The task runner's memory from .chalice/config.json (chalice's default when not set)."""
    try:
        doc = json.loads(config.read_text())
    except (OSError, ValueError):
        return CHALICE_DEFAULT_MEMORY_MB
    memory = doc.get("lambda_memory_size", CHALICE_DEFAULT_MEMORY_MB)
    stages = doc.get("stages", {})
    for name, st in stages.items():
        if stage in (None, name):
            memory = st.get("lambda_memory_size", memory)
            memory = st.get("lambda_functions", {}).get("task_runner", {}).get("lambda_memory_size", memory)
            break
    return int(memory)


def check(defs: Any, requirements: Path | tuple[Path, ...] = DEPLOYMENT_REQUIREMENTS) -> list[str]:
    """Raise for what cannot run; return warnings for what runs differently. Pure apart from reading files."""
    carry.check_definitions(defs)
    warnings: list[str] = []
    files = (requirements,) if isinstance(requirements, Path) else requirements
    deployment: dict[str, Pin] = {}
    for file in files:
        deployment.update(read_requirements(file))
    memory = runner_memory_mb()
    images: dict[ImageSpec, list[str]] = {}
    for task in sorted(defs.tasks.values(), key=lambda t: t.name):
        image = task.container_image
        if isinstance(image, ImageSpec):
            images.setdefault(image, []).append(task.short_name)
            base = Path(sys.modules[task.module].__file__ or ".").parent if task.module in sys.modules else Path.cwd()
            warnings += package_warnings(task.short_name, image, deployment, base, files[-1].name)
        elif isinstance(image, str):
            warnings.append(f"task {task.short_name!r}: container_image={image!r} cannot apply: tasks run in the "
                            f"task-runner Lambda's zip package and tasks layer; list Python packages in requirements-tasks.txt")
        warnings += options.task_warnings(task.short_name, task.options, memory)
    for image, tasks in images.items():
        warnings += image_warnings(image, tasks)
    for lp in sorted(defs.launch_plans.values(), key=lambda lp: lp.name):
        warnings += compat.launch_plan_warnings(lp.name, getattr(lp, "options", {}))
    return warnings
