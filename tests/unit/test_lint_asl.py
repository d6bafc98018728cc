"""Every compiled state machine passes asl-validator (npm, installed from package-lock.json by `make test`).

moto executes the definitions in the local-cloud tests; the validator also checks what no run reaches."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib import task, workflow
from chalicelib.compile import compile_workflow
from chalicelib.runtime import loader

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"
RUNNER = "arn:aws:lambda:us-east-1:123456789012:function:cascade-dev-task_runner"


@task
def start(n: int) -> int:
    return n


@task
def left(a: int) -> int:
    return a + 1


@task
def right(a: int) -> int:
    return a * 2


@task
def join(b: int, c: int) -> int:
    return b + c


@workflow
def diamond(n: int = 1) -> int:
    a = start(n=n)
    return join(b=left(a=a), c=right(a=a))  # left and right run in a Parallel state


def _validator() -> Path:
    reason = None
    if shutil.which("node") is None:
        reason = "node is not installed, so asl-validator cannot run"
    elif not VALIDATOR.is_file():
        reason = "asl-validator is not installed: run `npm ci` (make test does)"
    if reason:
        print(f"skipped: {reason}")
        pytest.skip(reason)
    return VALIDATOR


def test_every_compiled_state_machine_is_valid_asl(tmp_path: Path):
    validator = _validator()
    defs = loader.load_paths([ROOT / "chalicelib" / "workflows", ROOT / "examples"])
    defs.merge(loader.definitions(sys.modules[__name__]))
    files = []
    for wf in defs.workflows.values():
        path = tmp_path / f"{wf.name}.asl.json"
        path.write_text(json.dumps(compile_workflow(wf, RUNNER)))
        files.append(path)
    assert any(f.name.endswith("diamond.asl.json") for f in files) and len(files) >= 4
    assert any(s["Type"] == "Parallel" for s in json.loads(next(f for f in files if "diamond" in f.name).read_text())["States"].values())
    args = [str(validator)] + [a for f in files for a in ("--json-path", str(f))]
    proc = subprocess.run(args, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("is valid") == len(files)
