"""`python -m benchmarks` ends with one screen: every goal with its figure and met/MISSED, what was skipped."""

from __future__ import annotations

from benchmarks.__main__ import ALL, EXTRA, summary


def test_every_goal_and_skipped_part_is_one_line_each() -> None:
    goals = [{"benchmark": "load", "goal": "no version lost", "met": True, "value": "lost 0"},
             {"benchmark": "load", "goal": "within budget", "met": False, "value": "520 s"},
             {"benchmark": "peer_dagster", "skipped": "skipped the peer: pip could not install dagster"}]
    text = summary(goals, [], 500.0, {"load": 480.0, "peer_dagster": 20.0})
    lines = text.splitlines()
    assert any(line.split()[:2] == ["met", "load"] and line.endswith("lost 0") for line in lines)
    assert any(line.split()[:2] == ["MISSED", "load"] and line.endswith("520 s") for line in lines)
    assert any(line.split()[:2] == ["skip", "peer_dagster"] and "pip could not install" in line for line in lines)
    assert "1 of 2 goals met; 500 s" in text  # a skipped part is not counted as a goal
    assert "load 480, peer_dagster 20" in text


def test_the_default_run_includes_the_cold_start_ratio_and_the_peer() -> None:
    assert {"package_cold_start", "peer_dagster", "load", "query_latest", "calls"} <= set(ALL)
    assert not set(ALL) & set(EXTRA)
