"""`run`'s own options and workflow inputs of the same names: run's go before FILE; after WORKFLOW a name is
the workflow's input when it has one, else run's option."""

from __future__ import annotations

import json

from click.testing import CliRunner

from chalicelib.cli import main
from chalicelib.cli.run import split_run_options
from tests.integration.conftest import FLOWS

FLOW = str(FLOWS / "run_option_names.py")


def test_split_keeps_inputs_of_the_same_name() -> None:
    inputs = {"stage", "timeout", "wait"}
    assert split_run_options(["--stage", "emea", "--json", "--timeout=3", "--wait", "true"], inputs) == \
        (["--json"], ["--stage", "emea", "--timeout=3", "--wait", "true"])
    assert split_run_options(["--stage", "local", "--endpoint-url=http://x", "--region", "emea", "--timeout", "9"],
                             {"region"}) == (["--stage", "local", "--endpoint-url=http://x", "--timeout", "9"],
                                             ["--region", "emea"])
    assert split_run_options(["--endpoint_url", "u"], {"endpoint_url"}) == ([], ["--endpoint_url", "u"])


def test_inputs_named_like_run_options_reach_the_workflow() -> None:
    result = CliRunner().invoke(main, ["run", "--timeout", "120", FLOW, "named_like_options", "--stage", "emea",
                                       "--timeout", "7", "--wait", "true", "--json"])
    assert result.exit_code == 0, result.output
    rep = json.loads(result.stdout)  # --json after WORKFLOW is run's: the workflow has no input `json`
    [ex] = rep["executions"]
    assert ex["status"] == "SUCCEEDED" and ex["inputs"] == {"stage": "emea", "timeout": 7, "wait": True}
    assert ex["logs"] == ["stage=emea timeout=7 wait=True"]


def test_help_names_the_rule() -> None:
    text = CliRunner().invoke(main, ["run", "--help"]).stdout
    assert "run's options go before FILE" in " ".join(text.split())


def test_an_unknown_option_before_file_is_one_line() -> None:
    result = CliRunner().invoke(main, ["run", "--stgae", "local", FLOW, "named_like_options"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: run has no option '--stgae'; its options are --stage, --endpoint-url, --wait, --json, --timeout "
        "(before FILE), workflow inputs follow WORKFLOW"]
