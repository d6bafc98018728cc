"""Run the chalice CLI (deploy, delete, package) in the project, echoing its output, and fail loudly.

chalice prints "Could not install dependencies" and exits 0 when a requirement has no wheel for the Lambda
runtime, leaving that package out of the zip; here that is a build failure.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable

from chalicelib.deploy.errors import DeployError, PackagingError

CHALICE = [sys.executable, "-c", "import sys\nfrom chalice.cli import main\nsys.exit(main())"]
MISSING_DEPENDENCIES = "Could not install dependencies"


def run_chalice(args: list[str], project: Path, echo: Callable[[str], None] | None = print,
                env: dict[str, str] | None = None, script: str | None = None) -> str:
    """Run `chalice ARGS...` in `project`; return its output. Raises on failure or missing dependencies.
    `script` replaces the program that starts chalice's CLI (to adjust chalice before it runs)."""
    command = [sys.executable, "-c", script] if script else CHALICE
    proc = subprocess.Popen([*command, *args], cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if echo:
            echo(line.rstrip("\n"))
    code = proc.wait()
    output = "".join(lines)
    if MISSING_DEPENDENCIES in output:
        start = output.index(MISSING_DEPENDENCIES)
        detail = output[start:].splitlines()[:3]
        raise PackagingError(f"`chalice {' '.join(args)}` left packages out: {' '.join(detail)}. Pin versions "
                             f"with manylinux wheels for the Lambda runtime in requirements.txt.")
    if code != 0:
        tail = "\n".join(output.strip().splitlines()[-10:])
        raise DeployError(f"`chalice {' '.join(args)}` failed (exit {code}):\n{tail}")
    return output
