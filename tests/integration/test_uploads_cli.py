"""`python -m chalicelib local` as a separate process, used by other processes: our `upload` and `uploads`
commands, and the `aws` CLI when it is installed. Ctrl-C stops it cleanly."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalProcess:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
        for name in [k for k in env if k.startswith("CASCADE_") or k == "AWS_ENDPOINT_URL"]:
            env.pop(name)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chalicelib", "local", "--port", str(port), "--web-port", str(free_port()),
             str(EXAMPLES / "uploads.py")],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if text in self.lines.get(timeout=0.2):
                    return
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
        raise AssertionError(f"no {text!r} from the local cloud; it printed:\n{''.join(self.output)}")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CASCADE_")}
        return subprocess.run([sys.executable, "-m", "chalicelib", *args, "--endpoint-url", self.url], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def local() -> Iterator[LocalProcess]:
    process = LocalProcess(free_port())
    try:
        process.wait_for("local cloud ready at")
        yield process
    finally:
        if process.proc.poll() is None:
            process.proc.send_signal(signal.SIGINT)
            try:
                process.proc.wait(30)
            except subprocess.TimeoutExpired:
                process.proc.kill()


def test_upload_command_reports_the_version_and_the_execution_that_followed(local, tmp_path):
    data = tmp_path / "sales day 1.csv"
    data.write_text("sku,units\na,1\nb,2\n")
    args = ["upload", str(data), "--artifact", "raw_sales", "--partition", "region=emea",
            "--time-partition", "2026-11-25T13:00:00Z", "--json"]
    first = local.cli(*args)
    assert first.returncode == 0, first.stderr
    rep = json.loads(first.stdout)
    assert rep["upload"]["state"] == "registered" and rep["repeated"] is False
    assert rep["uri"].endswith("/uploads/raw_sales/region=emea/time_partition=2026-11-25T00:00:00Z/sales day 1.csv")
    [version] = rep["artifacts"]
    assert version["version"] == rep["upload"]["version"] and version["partitions"] == {"region": "emea"}
    [run] = rep["executions"]
    assert run["status"] == "SUCCEEDED" and run["triggered_by"]["version"] == version["version"]
    assert run["logs"] == ["emea: 2 rows, 3 units"]

    again = local.cli(*args)  # the same file at the same key is the same object: nothing new
    assert again.returncode == 0, again.stderr
    rep2 = json.loads(again.stdout)
    assert rep2["repeated"] is True and rep2["upload"]["version"] == version["version"]
    assert rep2["executions"] == []

    human = local.cli("upload", str(data), "--artifact", "raw_sales", "--partition", "region=apac",
                      "--time-partition", "2026-11-25")
    assert human.returncode == 0, human.stderr
    assert "raw_sales version" in human.stdout and "SUCCEEDED" in human.stdout and "apac: 2 rows" in human.stdout


def test_upload_command_refuses_before_uploading_and_reports_quarantine(local, tmp_path):
    data = tmp_path / "x.csv"
    data.write_text("sku,units\na,1\n")
    refused = local.cli("upload", str(data), "--artifact", "sales_report", "--partition", "region=emea")
    assert refused.returncode == 1
    assert "artifact 'sales_report' does not accept uploads" in refused.stderr

    empty = tmp_path / "empty.csv"
    empty.write_text("sku,units\n")
    quarantined = local.cli("upload", str(empty), "--artifact", "raw_sales", "--partition", "region=emea",
                            "--time-partition", "2026-11-25", "--json")
    assert quarantined.returncode == 1
    rep = json.loads(quarantined.stdout)
    assert rep["upload"]["state"] == "quarantined" and rep["quarantine"]["reason"] == "empty"
    assert rep["artifacts"] == [] and rep["executions"] == []

    failed = local.cli("uploads", "--failed", "--json")
    assert failed.returncode == 0, failed.stderr
    assert [(r["reason"], Path(r["key"]).name) for r in json.loads(failed.stdout)] == [("empty", "empty.csv")]


@pytest.mark.skipif(shutil.which("aws") is None, reason="the aws CLI is not installed")
def test_the_aws_cli_uploads_to_the_local_cloud(local, tmp_path):
    data = tmp_path / "prices.json"
    data.write_text(json.dumps({"items": [1, 2, 3]}))
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}
    listing = subprocess.run(["aws", "--endpoint-url", local.url, "s3", "ls"], env=env, capture_output=True,
                             text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    [name] = [line.split()[-1] for line in listing.stdout.splitlines() if line.strip()]
    cp = subprocess.run(["aws", "--endpoint-url", local.url, "s3", "cp", str(data),
                         f"s3://{name}/uploads/price_list/prix été.json"], env=env, capture_output=True, text=True,
                        timeout=60)
    assert cp.returncode == 0, cp.stderr
    states = json.loads(local.cli("uploads", "--json").stdout)
    [state] = [s for s in states if s["key"] == "uploads/price_list/prix été.json"]
    assert state["state"] == "registered" and state["artifact"] == "price_list"


def test_views_and_the_lineage_page_read_the_running_local_cloud(local, tmp_path):
    csv = tmp_path / "sales.csv"
    csv.write_text("sku,units\na,3\n")
    assert local.cli("upload", str(csv), "--artifact", "raw_sales", "--partition", "region=nordics",
                     "--time-partition", "2026-11-20", "--json").returncode == 0
    # no --stage and no CASCADE_* names: the views find the local stage through its stack, at AWS_ENDPOINT_URL
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASCADE_", "AWS_"))}
    env["AWS_ENDPOINT_URL"] = local.url
    proc = subprocess.run([sys.executable, "-m", "chalicelib", "artifacts", "raw_sales", "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert any(v["partitions"] == {"region": "nordics"} for v in json.loads(proc.stdout))
    page = next(line for line in local.output if line.startswith("lineage page: ")).split(": ", 1)[1].strip()
    with urllib.request.urlopen(page, timeout=30) as resp:
        assert resp.status == 200 and b"<title>cascade lineage</title>" in resp.read()
    api = page.rsplit("/lineage", 1)[0] + "/api/versions?artifact=raw_sales"
    with urllib.request.urlopen(api, timeout=30) as resp:
        assert {"region": "nordics"} in [v["partitions"] for v in json.loads(resp.read())]


def test_ctrl_c_stops_the_local_cloud_cleanly(local):
    local.proc.send_signal(signal.SIGINT)
    assert local.proc.wait(60) == 0
    time.sleep(0.2)  # let the reader thread drain the pipe
    text = "".join(local.output)
    assert "local cloud stopped" in text
    assert "Traceback" not in text
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(local.url.rsplit(":", 1)[1])), timeout=1).close()

