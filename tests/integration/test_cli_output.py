"""Output that survives copy-paste, and failures shown once: `local` banner, `run` piped, `logs` of a failure."""

from __future__ import annotations

import os
import re
import queue
import threading
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
FLOWS = Path(__file__).parent / "flows"
MOTO_DUMP = ("FailureEventException", "StateTaskLambda", "Exception=", "error_log_parts")


def piped_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("COLUMNS", None)  # conftest sets 200; a pipe must not wrap at any width
    env.pop("AWS_ENDPOINT_URL", None)
    return env


def test_local_banner_on_examples_whole_lines() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "chalicelib", "local", "--port", "0", "--web-port", "0",
                             str(ROOT / "examples")], cwd=ROOT, env=piped_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    try:
        got: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [got.put(x) for x in proc.stdout], daemon=True).start()
        deadline = time.monotonic() + 180  # a guard against a hang, not a speed check: a loaded machine is slow
        while time.monotonic() < deadline:
            try:
                line = got.get(timeout=1)
            except queue.Empty:
                continue
            lines.append(line.rstrip("\n"))
            if line.startswith("lineage page: "):
                break
        assert any(line.startswith("lineage page: http://127.0.0.1:") for line in lines), (lines, proc.poll())
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=40)
    assert "Traceback" not in stderr, stderr
    text = "\n".join(lines)
    url = re.search(r"local cloud ready at (http://127\.0\.0\.1:\d+)$", lines[0]).group(1)
    for name in ("bucket", "artifacts table", "registry table", "index table"):
        assert any(line.strip().startswith(name) and line.split()[-1].startswith("cascade-local") for line in lines)
    assert sum(bool(re.search(r"dead-letter queue +https://\S+$", line)) for line in lines) == 2
    assert any(line.startswith(f"  export AWS_ENDPOINT_URL={url} ") and line.endswith("AWS_DEFAULT_REGION=us-east-1")
               for line in lines)
    assert "forecast_when_aligned (on all of aligned_sales, aligned_weather" in text
    for line in lines:  # every URI on its line is whole: s3:// keys end in a file pattern, not mid-word
        if "s3://" in line:
            assert line.rstrip().endswith((".csv", "}")), line


@pytest.fixture(scope="module")
def failed_run() -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "chalicelib", "run", str(FLOWS / "out_fail.py"), "fail_wf"],
                          cwd=ROOT, env=piped_env(), capture_output=True, text=True, timeout=60)
    return {"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}


def test_failing_run_shows_the_error_once_and_no_moto_dump(failed_run: dict[str, Any]) -> None:
    assert failed_run["rc"] == 1
    both = failed_run["stdout"] + failed_run["stderr"]
    for marker in MOTO_DUMP:
        assert marker not in both, both[:3000]
    assert both.count("boom") == 1, both
    assert "about to fail with 2" in failed_run["stdout"]


def test_run_piped_keeps_uris_and_versions_whole() -> None:
    proc = subprocess.run([sys.executable, "-m", "chalicelib", "run", "chalicelib/workflows/trigger_on_artifact.py",
                           "upstream_wf"], cwd=ROOT, env=piped_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(len(line) > 80 for line in lines) or not any("s3://" in line for line in lines)
    for line in lines:
        for uri in re.findall(r"s3://\S+", line):
            assert re.search(r"\.(parquet|csv|json|pkl|txt)\b|/$", uri) or "/" in uri.split("//", 1)[1], line
    # a table row is one line: every row of the tables has its closing border
    for line in lines:
        if line.startswith("│"):
            assert line.rstrip().endswith("│"), line


@pytest.fixture(scope="module")
def failed_cloud() -> Iterator[Any]:
    from chalicelib.cli.run import run_in_cloud
    from chalicelib.local.cloud import LocalCloud
    from chalicelib.runtime import loader

    with LocalCloud() as cloud:
        defs = loader.load_paths([FLOWS / "out_fail.py"])
        report = run_in_cloud(cloud, defs, "fail_wf", {})
        yield report


def test_logs_of_a_failed_execution_show_the_error_and_exit_nonzero(failed_cloud: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.cli import main

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    runner = CliRunner()
    listed = runner.invoke(main, ["executions"])
    assert listed.exit_code == 0, listed.output
    assert "ValueError: boom" in listed.output
    [row] = [line for line in listed.output.splitlines() if "FAILED" in line]
    name = re.search(r"(run-[0-9a-f]+|[0-9a-f-]{20,})", row)
    assert name, row
    result = runner.invoke(main, ["logs", name.group(1)])
    assert result.exit_code == 1, (result.output, result.exception)
    assert "about to fail with 2" in result.output
    assert "ValueError" in result.output and "boom" in result.output
    assert "explode" in result.output  # the failing node
