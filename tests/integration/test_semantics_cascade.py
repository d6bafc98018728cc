"""Cascades to any depth, and trigger cycles refused at registration with the cycle spelled out."""

from __future__ import annotations

import pytest

from chalicelib.errors import TriggerCycleError
from tests.integration.conftest import load, register, run, runs_of, stage_of


def test_three_level_cascade(cloud):
    rep = run(cloud, load("sem_cascade"), "start", n=1)
    assert [e["status"] for e in rep["executions"]] == ["SUCCEEDED"] * 4
    (b,), (c,), (d,) = runs_of(rep, "c_lp_b"), runs_of(rep, "c_lp_c"), runs_of(rep, "c_lp_d")
    assert b["outputs"]["o0"]["$artifact"]["name"] == "c_level2"
    assert d["outputs"]["o0"] == 20 and d["logs"] == ["level 3 delivered 20"]
    assert [d["triggered_by"]["artifact"], c["triggered_by"]["artifact"], b["triggered_by"]["artifact"]] == [
        "c_level3", "c_level2", "c_level1"]


def test_direct_cycle_is_refused(cloud):
    with pytest.raises(TriggerCycleError) as err:
        register(cloud, load("sem_cycle_direct"))
    assert "artifact 'cy_loop' → launch plan 'cy_loop_lp' (workflow sem_cycle_direct.loop_wf) → artifact 'cy_loop'" in str(err.value)
    assert stage_of(cloud).plans.all() == [], "nothing was registered"


def test_cycle_across_registrations_is_refused_and_spelled_out(cloud):
    register(cloud, load("sem_cycle_part1"))
    with pytest.raises(TriggerCycleError) as err:
        register(cloud, load("sem_cycle_part2"))
    assert str(err.value).startswith(
        "trigger cycle: artifact 'cy_y' → launch plan 'cy_y_to_x' (workflow sem_cycle_part2.wf_y_to_x) → "
        "artifact 'cy_x' → launch plan 'cy_x_to_y' (workflow sem_cycle_part1.wf_x_to_y) → artifact 'cy_y'. "
    )
    assert [p.name for p in stage_of(cloud).plans.all()] == ["cy_x_to_y"]


def test_filtered_self_trigger_is_not_a_cycle(cloud):
    rep = run(cloud, load("sem_cycle_filtered"), "ingest", value=-3)
    assert [(e["launch_plan"], e["status"]) for e in rep["executions"]] == [(None, "SUCCEEDED"), ("cy_clean", "SUCCEEDED")]
    assert sorted(a["partitions"]["stage"] for a in rep["artifacts"]) == ["clean", "raw"]
