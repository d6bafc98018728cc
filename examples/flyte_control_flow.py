"""Flyte control flow, as a published flytekit file writes it (only the imports changed):
several outputs, a subworkflow, conditional(), map_task (with functools.partial), a launch plan called in a
workflow, and gate nodes.

    python -m chalicelib run examples/flyte_control_flow.py report --json
    python -m chalicelib run examples/flyte_control_flow.py grade --score 91 --json
    python -m chalicelib run examples/flyte_control_flow.py batch --json
    python -m chalicelib run examples/flyte_control_flow.py reviewed --students 12 --stage local

`reviewed` stops at two gates; answer them from another shell (the local cloud server, or a deployed stage):

    python -m chalicelib signal EXECUTION bonus 5 --stage local
    python -m chalicelib signal EXECUTION publish --approve --stage local
"""

import functools
import typing
from datetime import timedelta
from typing import List, Optional, Tuple

from chalicelib import Artifact, LaunchPlan, approve, conditional, map_task, task, wait_for_input, workflow

Scores = Artifact(name="class_scores")


class Summary(typing.NamedTuple):
    mean: float
    best: int


@task
def load_scores(students: int) -> List[int]:
    return [(37 * i + 11) % 101 for i in range(students)]


@task
def summarize(scores: List[int]) -> Summary:
    return Summary(round(sum(scores) / max(len(scores), 1), 2), max(scores, default=0))


@task
def letter(score: int) -> str:
    return "A" if score >= 90 else "B" if score >= 75 else "C"


@task
def curve(score: int, bonus: int) -> int:
    return min(score + bonus, 100)


@task
def describe(mean: float, best: int, grades: List[str]) -> typing.Annotated[dict, Scores]:
    return {"mean": mean, "best": best, "grades": {g: grades.count(g) for g in sorted(set(grades))}}


@workflow
def stats(students: int = 12) -> Tuple[float, int]:
    """A subworkflow with two outputs."""
    s = summarize(scores=load_scores(students=students))
    return s.mean, s.best


@workflow
def grade(score: int = 80) -> str:
    """A conditional on a workflow input; the failing case fails the run with its message."""
    return (
        conditional("band")
        .if_(score >= 90).then(letter(score=score))
        .elif_((score >= 50) & (score < 90)).then(letter(score=curve(score=score, bonus=5)))
        .else_().fail("scores below 50 are reviewed by hand")
    )


@workflow
def batch(students: int = 12, bonus: int = 4) -> Tuple[List[int], List[Optional[str]]]:
    """map_task over a task's list output: a constant input, a partial, a tolerated failure ratio."""
    scores = load_scores(students=students)
    curved = map_task(curve, concurrency=4)(score=scores, bonus=bonus)
    letters = map_task(functools.partial(letter), min_success_ratio=0.9)(score=curved)
    return curved, letters


stats_lp = LaunchPlan.get_or_create(stats, name="class_stats", default_inputs={"students": 20})


@workflow
def report(students: int = 12) -> dict:
    """A subworkflow's outputs feed a conditional; a launch plan runs as a child execution."""
    mean, best = stats(students=students)
    lp_mean, _ = stats_lp()
    grades = map_task(letter)(score=load_scores(students=students))
    top = conditional("top").if_(best > lp_mean).then(describe(mean=mean, best=best, grades=grades)) \
        .else_().then(describe(mean=lp_mean, best=best, grades=grades))
    return top


@workflow
def reviewed(students: int) -> dict:
    """Gate nodes: wait for a bonus to curve by, then for an approval, before publishing."""
    scores = load_scores(students=students)
    bonus = wait_for_input("bonus", timeout=timedelta(hours=1), expected_type=int)
    curved = map_task(curve)(score=scores, bonus=bonus)
    s = summarize(scores=curved)
    summary = describe(mean=s.mean, best=s.best, grades=map_task(letter)(score=curved))
    return approve(summary, "publish", timeout=timedelta(hours=24))
