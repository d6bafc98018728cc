"""Replay: re-fire triggers of existing versions through the trigger's own path; idempotent unless forced."""

from __future__ import annotations

import json

from click.testing import CliRunner

from chalicelib.cli import main
from chalicelib.ops.replay import replay
from tests.integration.conftest import load, register, report, run, runs_of, stage_of


def _replay(cloud, *args: str) -> dict:
    result = CliRunner().invoke(main, ["replay", *args, "--json"])
    assert result.exit_code == 0, result.output + result.stderr
    cloud.wait_quiet(60)
    return json.loads(result.stdout)  # --json: the report alone on stdout; log lines go to stderr


def test_replay_is_idempotent_and_force_starts_new_runs(cloud):
    defs = load("sem_replay")
    for i in range(3):
        run(cloud, defs, "record", sensor=f"s{i}", value=i)
    assert len(runs_of(report(cloud), "rp_check")) == 3

    again = _replay(cloud, "rp_readings")
    assert again["versions"] == 3 and again["counts"] == {"rp_check": {"already_started": 3}}

    register(cloud, load("sem_replay_late"))  # a launch plan added after the versions existed
    dry = _replay(cloud, "rp_readings", "--dry-run")
    assert dry["counts"] == {"rp_check": {"already_started": 3}, "rp_late": {"would_start": 3}}
    assert runs_of(report(cloud), "rp_late") == [], "a dry run starts nothing"

    backfill = _replay(cloud, "rp_readings", "--launch-plan", "rp_late")
    assert backfill["counts"] == {"rp_late": {"started": 3}}
    assert _replay(cloud, "rp_readings", "--launch-plan", "rp_late")["counts"] == {"rp_late": {"already_started": 3}}

    forced = _replay(cloud, "rp_readings", "--force")
    assert forced["salt"] and forced["counts"] == {"rp_check": {"started": 3}, "rp_late": {"started": 3}}
    resumed = _replay(cloud, "rp_readings", "--force", "--salt", forced["salt"])
    assert resumed["counts"] == {"rp_check": {"already_started": 3}, "rp_late": {"already_started": 3}}

    final = report(cloud)
    assert len(runs_of(final, "rp_check")) == 6 and len(runs_of(final, "rp_late")) == 6
    assert all(e["status"] == "SUCCEEDED" for e in final["executions"])


def test_replay_window_and_errors(cloud):
    defs = load("sem_replay")
    for i in range(3):
        run(cloud, defs, "record", sensor="s", value=i)
    versions = sorted(a["version"] for a in report(cloud)["artifacts"])
    stamp = versions[1].split("-")[0]  # 20261125T101112345Z: the second version's creation time
    since = f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}.{stamp[15:18]}Z"
    window = _replay(cloud, "rp_readings", "--since", since)
    assert [r["version"] for r in window["rows"]] == versions[1:]
    before = _replay(cloud, "rp_readings", "--until", since)
    assert [r["version"] for r in before["rows"]] == versions[:1]

    result = CliRunner().invoke(main, ["replay", "rp_readings", "--launch-plan", "nope"])
    assert result.exit_code == 1 and "launch plan 'nope' does not listen to artifact 'rp_readings'; launch plans that do: rp_check" in result.output
    result = CliRunner().invoke(main, ["replay", "rp_readings", "--since", "yesterday"])
    assert result.exit_code == 1 and "--since 'yesterday' is not ISO 8601" in result.output

    stage = stage_of(cloud)
    stage.plans.set_active("rp_check", False)
    quiet = replay(stage.trigger(), stage.store, "rp_readings", salt="x")
    assert quiet.launch_plans == [] and quiet.rows == [], "an inactive launch plan is not replayed"
    result = CliRunner().invoke(main, ["replay", "rp_readings", "--launch-plan", "rp_check"])
    assert result.exit_code == 1 and "launch plan 'rp_check' is inactive" in result.output


def test_replay_prints_a_summary_for_humans(cloud):
    defs = load("sem_replay")
    run(cloud, defs, "record", sensor="s", value=1)
    result = CliRunner().invoke(main, ["replay", "rp_readings"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "replayed 1 version(s) of rp_readings" in text and "rp_check │ 0 │ 1 │ 0" in text
