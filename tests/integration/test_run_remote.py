"""`run FILE WF --stage local`: registered on a running local server, started there, its cascade followed;
`run FILE` lists, `run FILE WF --help` shows inputs, bad inputs and missing stages fail in one line."""

from __future__ import annotations

import json
import socket

from click.testing import CliRunner

from chalicelib.cli import main
from tests.integration.conftest import FLOWS

FLOW = str(FLOWS / "remote_chain.py")


def test_run_on_the_local_server_follows_the_cascade():
    from chalicelib.local.server import LocalServer

    with LocalServer(port=0) as server:
        result = CliRunner().invoke(main, ["run", FLOW, "remote_start", "--stage", "local", "--endpoint-url",
                                           server.endpoint_url, "--wait", "--json", "--timeout", "60", "--n", "4"])
        assert result.exit_code == 0, result.output
        rep = json.loads(result.stdout)
        by_wf = {ex["workflow"].rsplit(".", 1)[-1]: ex for ex in rep["executions"]}
        assert set(by_wf) == {"remote_start", "remote_next"}, rep["executions"]
        assert all(ex["status"] == "SUCCEEDED" for ex in rep["executions"])
        assert by_wf["remote_next"]["launch_plan"] == "remote_next_lp"
        assert [a["name"] for a in rep["artifacts"]] == ["remote_counts"]
        assert rep["errors"] == [] and set(rep) >= {"executions", "artifacts", "errors", "warnings"}


def test_run_file_lists_and_help_shows_inputs():
    listed = CliRunner().invoke(main, ["run", FLOW])
    assert listed.exit_code == 0, listed.output
    assert "workflow remote_start" in listed.output and "launch plan remote_next_lp" in listed.output
    helped = CliRunner().invoke(main, ["run", FLOW, "remote_start", "--help"])
    assert helped.exit_code == 0, helped.output
    assert "--n int  [required]" in helped.output and "--label str  [optional, default: 'x']" in helped.output
    unknown = CliRunner().invoke(main, ["run", FLOW, "nope"])
    assert unknown.exit_code == 1 and "remote_start" in unknown.output


def test_a_wrong_typed_input_names_the_input():
    result = CliRunner().invoke(main, ["run", FLOW, "remote_start", "--n", "four"])
    assert result.exit_code == 1
    assert "'n'" in result.output and "four" in result.output and "int" in result.output


def test_no_stage_fails_in_one_line():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = CliRunner().invoke(main, ["run", FLOW, "remote_start", "--n", "1", "--stage", "local",
                                       "--endpoint-url", f"http://127.0.0.1:{port}"])
    assert result.exit_code == 1 and f"127.0.0.1:{port}" in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
