"""Every type the engine carries, passed from one task to the next and checked on arrival.

    python -m chalicelib run examples/flyte_types.py types_wf --when 2026-11-24T06:00:00Z --label demo
"""

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Dict, List, Optional

import pandas as pd

from chalicelib import task, workflow


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclass
class Window:
    start: date
    days: int
    tags: List[str]


@task
def times(when: datetime) -> datetime:
    return when + timedelta(hours=1)


@task
def day_of(when: datetime) -> date:
    return when.date()


@task
def span(hours: float) -> timedelta:
    return timedelta(hours=hours)


@task
def numbers(n: int) -> Dict[str, float]:
    return {"half": n / 2, "third": round(n / 3, 3)}


@task
def many(n: int) -> List[str]:
    # about 60 KB of JSON: more than fits inline in a state, so it crosses by S3 reference
    return [f"item-{i:05d}-" + "x" * 40 for i in range(n)]


@task
def maybe(label: str) -> Optional[str]:
    return None if label == "none" else label.upper()


@task
def frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"i": range(n), "sq": [i * i for i in range(n)]})


@task
def window(start: date) -> Window:
    return Window(start=start, days=7, tags=["weekly"])


@task
def check(at: datetime, day: date, gap: timedelta, ratios: Dict[str, float], items: List[str], upper: Optional[str],
          missing: Optional[int], df: pd.DataFrame, win: Window, color: Color, flag: bool, count: int) -> str:
    seen = {
        "at": (type(at).__name__, at.isoformat()),
        "day": (type(day).__name__, day.isoformat()),
        "gap": (type(gap).__name__, gap.total_seconds()),
        "ratios": (type(ratios).__name__, ratios),
        "items": (type(items).__name__, len(items)),
        "upper": (type(upper).__name__, upper),
        "missing": (type(missing).__name__, missing),
        "df": (type(df).__name__, int(df["sq"].sum())),
        "win": (type(win).__name__, type(win.start).__name__, win.days),
        "color": (type(color).__name__, color.value),
        "flag": (type(flag).__name__, flag),
        "count": (type(count).__name__, count),
    }
    for key, value in seen.items():
        print(f"{key}: {value}")
    return "ok"


@workflow
def types_wf(when: datetime, label: str = "demo", n: int = 1200) -> str:
    at = times(when=when)
    day = day_of(when=when)
    return check(at=at, day=day, gap=span(hours=1.5), ratios=numbers(n=n), items=many(n=n), upper=maybe(label=label),
                 missing=None, df=frame(n=5), win=window(start=day), color=Color.BLUE, flag=True, count=n)
