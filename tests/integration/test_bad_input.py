"""Bad input: a clear error naming the value and the fix, and a non-zero exit."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.conftest import SEED
from tests.integration.test_seed_e2e import cli


@pytest.mark.parametrize(
    "args, message",
    [
        ((str(SEED), "no_such_wf"), "no workflow named 'no_such_wf'; this file defines: downstream_wf, upstream_wf"),
        ((str(SEED), "upstream_wf", "--key9", "x"), "workflow 'upstream_wf' has no input 'key9'"),
        (("does/not/exist.py", "wf"), "does not exist"),
    ],
)
def test_cli_rejects_bad_invocations(args, message):
    proc = cli("run", *args)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def _write(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def test_missing_input_is_named(tmp_path):
    path = _write(tmp_path, "needs_input.py", """
        from chalicelib import task, workflow

        @task
        def t(n: int) -> int:
            return n

        @workflow
        def wf(n: int) -> int:
            return t(n=n)
    """)
    proc = cli("run", str(path), "wf")
    assert proc.returncode == 1 and "workflow 'wf' needs input 'n'; pass --n VALUE" in proc.stderr
    proc = cli("run", str(path), "wf", "--n", "three")
    assert proc.returncode == 1 and "input 'n' expects int; got 'three'" in proc.stderr


def test_file_that_does_not_import(tmp_path):
    path = _write(tmp_path, "broken_wf.py", "import no_such_module_here\n")
    proc = cli("run", str(path), "wf")
    assert proc.returncode == 1
    assert "cannot import workflow file" in proc.stderr and "no_such_module_here" in proc.stderr


def test_definition_errors_surface_at_load(tmp_path):
    path = _write(tmp_path, "bad_annotation.py", """
        from typing import Annotated
        from chalicelib import Artifact, Inputs, task, workflow

        A = Artifact(name="a", partition_keys=["region"])

        @task
        def t(region: str) -> Annotated[int, A(regoin=Inputs.region)]:
            return 1
    """)
    proc = cli("run", str(path), "wf")
    assert proc.returncode == 1
    assert "artifact 'a' has partition keys ['region']; got ['regoin']" in proc.stderr


@pytest.mark.parametrize(
    "body, message",
    [
        ('A.create_from(1, regoin="x")', "artifact 'a' has partition keys ['region']; got ['regoin']"),
        ('A.create_from(1, region="x")', "artifact 'a' is time partitioned; pass time_partition="),
        ('B.create_from(1, time_partition=datetime.now())', "artifact 'b' is not time partitioned"),
    ],
)
def test_create_from_mistakes_fail_the_execution_with_the_message(tmp_path, body, message):
    path = _write(tmp_path, "bad_create.py", f"""
        from datetime import datetime
        from chalicelib import Artifact, task, workflow

        A = Artifact(name="a", partition_keys=["region"], time_partitioned=True)
        B = Artifact(name="b")

        @task
        def t() -> int:
            return {body}

        @workflow
        def wf() -> int:
            return t()
    """)
    proc = cli("run", str(path), "wf", "--json")
    assert proc.returncode == 1
    [ex] = json.loads(proc.stdout)["executions"]
    assert ex["status"] == "FAILED"
    assert message in ex["cause"]
