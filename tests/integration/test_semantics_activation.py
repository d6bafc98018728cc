"""Launch plan activation around events, versions on re-registration, through the CLI and its functions."""

from __future__ import annotations

import json

from click.testing import CliRunner

from chalicelib.cli import main
from chalicelib.cli.launchplan import list_plans, set_active
from tests.integration.conftest import load, register, run, runs_of, stage_of, without_launch_plans


def _cli(*args: str) -> dict:
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _consumed(rep, lp):
    return sorted(r["outputs"]["o0"] for r in runs_of(rep, lp))


def test_activation_on_and_off_around_events(cloud):
    defs = load("sem_activation")
    rep = run(cloud, defs, "emit", source="a", n=1)
    assert _consumed(rep, "act_on_event") == [1], "a triggered launch plan is active by default"
    assert _consumed(rep, "act_dormant") == [], "declared active=False"

    state = _cli("launchplan", "deactivate", "act_on_event")
    assert state["active"] is False and state["active_source"] == "operator"
    rep = run(cloud, defs, "emit", source="a", n=2)
    assert _consumed(rep, "act_on_event") == [1], "deactivation applies from the next event"

    _cli("launchplan", "activate", "act_on_event")
    set_active(stage_of(cloud), "act_dormant", True)
    rep = run(cloud, defs, "emit", source="a", n=3)
    assert _consumed(rep, "act_on_event") == [1, 3] and _consumed(rep, "act_dormant") == [3]

    register(cloud, defs)  # a redeploy keeps the operator's choice over the declared active=False
    rows = {p["name"]: p for p in _cli("launchplan", "list")["launch_plans"]}
    assert rows["act_dormant"]["active"] is True and rows["act_on_event"]["active"] is True


def test_changed_trigger_is_a_new_version_and_only_it_fires(cloud):
    defs = load("sem_activation")
    run(cloud, defs, "emit", source="a", n=1)
    first = list_plans(stage_of(cloud), "act_on_event")["launch_plan"]["version"]

    register(cloud, load("sem_activation_v2"))  # same name, trigger now filtered to source=b
    data = list_plans(stage_of(cloud), "act_on_event")
    assert data["launch_plan"]["version"] != first
    assert [v["version"] for v in data["versions"]] == [first, data["launch_plan"]["version"]]

    producer = without_launch_plans(defs)
    rep = run(cloud, producer, "emit", source="a", n=2)
    assert _consumed(rep, "act_on_event") == [1], "the old version no longer fires"
    rep = run(cloud, producer, "emit", source="b", n=3)
    runs = runs_of(rep, "act_on_event")
    assert _consumed(rep, "act_on_event") == [1, 3]
    assert runs[-1]["workflow"] == "sem_activation_v2.on_event_b"


def test_unknown_launch_plan_names_the_registered_ones(cloud):
    register(cloud, load("sem_activation"))
    result = CliRunner().invoke(main, ["launchplan", "activate", "nope"])
    assert result.exit_code == 1
    assert "no launch plan named 'nope' is registered; registered: act_dormant, act_on_event" in result.output


def test_moving_a_trigger_to_another_artifact_drops_the_old_subscription(cloud):
    register(cloud, load("sem_activation"))
    stage = stage_of(cloud)
    assert {s.launch_plan for s in stage.registry.subscriptions_for("act_events")} == {"act_on_event", "act_dormant"}
    register(cloud, load("sem_activation_v3"))
    assert {s.launch_plan for s in stage.registry.subscriptions_for("act_events")} == {"act_dormant"}
    assert [s.launch_plan for s in stage.registry.subscriptions_for("act_other")] == ["act_on_event"]
    set_active(stage, "act_on_event", False)
    assert [s.active for s in stage.registry.subscriptions_for("act_other")] == [False]
