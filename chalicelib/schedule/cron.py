"""Schedule expressions: flytekit's cron (5 fields, or an alias) turned into EventBridge Scheduler's `cron(...)`
(6 fields) and `rate(...)`, and the next fire time of either. Pure: no I/O, no clock.

EventBridge Scheduler's cron has six fields, `minutes hours day-of-month month day-of-week year`, numbers its
days of the week 1-7 from Sunday (standard cron: 0-7, Sunday being 0 and 7), accepts no `/` in day-of-week, and
requires `?` in day-of-month or day-of-week. Standard cron with both day fields restricted fires when *either*
matches, which AWS cannot express: such an expression is refused, as is every one AWS would reject.
Times are UTC (the schedule's time zone is left at AWS's default, UTC).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from msgspec import Struct

from chalicelib.errors import DefinitionError

# flytekit's CronSchedule._VALID_CRON_ALIASES, each with the standard cron expression it means
ALIASES = {
    **dict.fromkeys(("hourly", "hours", "@hourly"), "0 * * * *"),
    **dict.fromkeys(("daily", "days", "@daily"), "0 0 * * *"),
    **dict.fromkeys(("weekly", "weeks", "@weekly"), "0 0 * * 0"),
    **dict.fromkeys(("monthly", "months", "@monthly"), "0 0 1 * *"),
    **dict.fromkeys(("annually", "@annually", "yearly", "years", "@yearly"), "0 0 1 1 *"),
}
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
MIN_RATE = timedelta(minutes=1)
_ATOM = re.compile(r"^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(\d+))?$")
# AWS's own bounds, per field: (first, last)
_AWS_BOUNDS = {"minutes": (0, 59), "hours": (0, 23), "day-of-month": (1, 31), "month": (1, 12),
               "day-of-week": (1, 7), "year": (1970, 2199)}


# L, W and # (last, weekday, nth) of AWS's and some crons' syntax; not in a name such as JUL or WED
_SPECIAL = re.compile(r"#|(?<![A-Za-z])[LW](?![A-Za-z])|\d[LW]")


class CronError(DefinitionError):
    """A cron expression that EventBridge Scheduler would not accept."""


def _number(text: str, field: str, lo: int, hi: int, names: list[str] | None, base: int) -> int:
    if names and text.upper() in names:
        return names.index(text.upper()) + base
    if not text.isdigit():
        raise CronError(f"{field} field: {text!r} is not a number{' or a name (' + names[0] + '...)' if names else ''}")
    value = int(text)
    if not lo <= value <= hi:
        raise CronError(f"{field} field: {value} is outside {lo}-{hi}")
    return value


def _expand(text: str, field: str, lo: int, hi: int, names: list[str] | None = None, base: int = 0,
            allow_step: bool = True) -> set[int]:
    """The values one cron field selects: `*`, `n`, `a-b`, `*/s`, `a/s`, `a-b/s`, and lists of them."""
    out: set[int] = set()
    for part in text.split(","):
        m = _ATOM.match(part)
        if not m:
            raise CronError(f"{field} field: {part!r} is not cron syntax (use n, a-b, */s, a-b/s or a list)")
        head, step = m.group(1), m.group(2)
        if step is not None and not allow_step:
            raise CronError(f"{field} field: {part!r}: EventBridge Scheduler takes no step (/) in this field; "
                            f"list the values instead")
        if head == "*":
            first, last = lo, hi
        elif "-" in head:
            a, b = head.split("-")
            first, last = _number(a, field, lo, hi, names, base), _number(b, field, lo, hi, names, base)
            if first > last:
                raise CronError(f"{field} field: range {part!r} runs backwards")
        else:
            first = _number(head, field, lo, hi, names, base)
            last = hi if step is not None else first
        stride = int(step) if step is not None else 1
        if stride < 1:
            raise CronError(f"{field} field: step {part!r} must be at least 1")
        out.update(range(first, last + 1, stride))
    return out


class AwsCron(Struct, frozen=True):
    """A validated EventBridge Scheduler cron expression (the text inside `cron(...)`)."""

    fields: tuple[str, str, str, str, str, str]

    @property
    def text(self) -> str:
        return " ".join(self.fields)

    @property
    def expression(self) -> str:
        return f"cron({self.text})"

    def _sets(self) -> tuple[set[int], set[int], set[int] | None, set[int], set[int] | None, set[int]]:
        minute, hour, dom, month, dow, year = self.fields
        b = _AWS_BOUNDS
        return (_expand(minute, "minutes", *b["minutes"]), _expand(hour, "hours", *b["hours"]),
                None if dom == "?" else _expand(dom, "day-of-month", *b["day-of-month"]),
                _expand(month, "month", *b["month"], names=MONTHS, base=1),
                None if dow == "?" else _expand(dow, "day-of-week", *b["day-of-week"], names=DAYS, base=1,
                                                 allow_step=False),
                _expand(year, "year", *b["year"]))

    def next_after(self, after: datetime) -> datetime | None:
        """The first fire time strictly after `after` (UTC), or None if there is none before 2200."""
        minutes, hours, doms, months, dows, years = self._sets()
        start = (after.astimezone(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=1))
        day = start.replace(hour=0, minute=0)
        while True:
            if day.year not in years:  # jump to January 1st of the next selected year
                nxt = min((y for y in years if y > day.year), default=None)
                if nxt is None:
                    return None
                day = day.replace(year=nxt, month=1, day=1)
            if day.month in months and (doms is None or day.day in doms) and \
                    (dows is None or (day.isoweekday() % 7) + 1 in dows):
                for h in sorted(hours):
                    for m in sorted(minutes):
                        at = day.replace(hour=h, minute=m)
                        if at >= start:
                            return at
            day += timedelta(days=1)


def parse_aws(text: str, where: str) -> AwsCron:
    """Validate an EventBridge-style 6-field cron (flytekit's older `cron_expression=`), with or without
    `cron(...)` around it."""
    inner = text.strip()
    if inner.startswith("cron(") and inner.endswith(")"):
        inner = inner[5:-1]
    tokens = inner.split()
    if len(tokens) != 6:
        raise CronError(
            f"{where}: cron_expression={text!r} has {len(tokens)} fields; AWS's form has 6: minutes hours "
            f"day-of-month month day-of-week year (e.g. '0 * * * ? *'); or give schedule='0 * * * *' (5 fields)"
        )
    if (tokens[2] == "?") == (tokens[4] == "?"):
        raise CronError(
            f"{where}: cron_expression={text!r}: exactly one of day-of-month and day-of-week must be '?' "
            f"(e.g. '0 12 * * ? *' or '0 12 ? * MON-FRI *')"
        )
    if _SPECIAL.search(inner):
        raise CronError(f"{where}: cron_expression={text!r}: L, W and # are not supported here; list the days")
    cron = AwsCron(tuple(tokens))  # type: ignore[arg-type]
    try:
        cron._sets()
    except CronError as exc:
        raise CronError(f"{where}: cron_expression={text!r}: {exc}") from None
    return cron


def _dow_to_aws(text: str) -> str:
    """Standard day-of-week (0-7, names, steps) → AWS's explicit list (1-7 from Sunday)."""
    days = _expand(text, "day-of-week", 0, 7, names=DAYS, base=0)
    aws_days = sorted({(d % 7) + 1 for d in days})
    return "*" if len(aws_days) == 7 else ",".join(str(d) for d in aws_days)


def from_standard(schedule: str, where: str) -> AwsCron:
    """flytekit's `schedule=` (an alias, or a 5-field standard cron) as an EventBridge Scheduler cron."""
    text = ALIASES.get(schedule.strip().lower(), schedule)
    tokens = text.split()
    if len(tokens) != 5:
        raise CronError(
            f"{where}: schedule={schedule!r} has {len(tokens)} fields; give 5 (minute hour day-of-month month "
            f"day-of-week, e.g. '0 * * * *') or an alias ({', '.join(sorted(a for a in ALIASES if a[0] == '@'))})"
        )
    minute, hour, dom, month, dow = tokens
    try:
        if "?" in text or _SPECIAL.search(text):
            raise CronError("?, L, W and # are not standard cron; use numbers, ranges, steps and lists")
        _expand(minute, "minute", 0, 59)
        _expand(hour, "hour", 0, 23)
        _expand(dom, "day-of-month", 1, 31)
        _expand(month, "month", 1, 12, names=MONTHS, base=1)
        dom_any, dow_any = dom == "*", dow in ("*", "*/1")
        if not dom_any and not dow_any:
            raise CronError(
                f"both day-of-month ({dom}) and day-of-week ({dow}) are restricted: standard cron fires when "
                f"either matches, which EventBridge Scheduler cannot express; keep one of them '*' (or use two "
                f"launch plans)"
            )
        aws_dow = "?" if dow_any else _dow_to_aws(dow)
        if aws_dow == "*":  # every day of the week: day-of-month carries the restriction, if any
            aws_dow = "?"
        aws_dom = "?" if aws_dow != "?" else dom
        # AWS's documented step form starts from a value (0/15), not from `*`
        fields = [re.sub(r"(^|,)\*/", rf"\g<1>{lo}/", f) for f, lo in ((minute, 0), (hour, 0), (aws_dom, 1), (month, 1))]
        cron = AwsCron((fields[0], fields[1], fields[2], fields[3], aws_dow, "*"))
        cron._sets()
        if cron.next_after(datetime(2000, 1, 1, tzinfo=timezone.utc)) is None:
            raise CronError("it never fires")
    except CronError as exc:
        raise CronError(f"{where}: schedule={schedule!r}: {exc}") from None
    return cron


def rate_expression(seconds: int) -> str:
    """`rate(n unit)` for a whole number of minutes, in the largest unit that divides it."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"rate({n} {unit}{'s' if n != 1 else ''})"
    raise ValueError(seconds)


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")


def parse_expression(expression: str) -> AwsCron | int:
    """An EventBridge Scheduler expression as stored: an AwsCron, or a rate's period in seconds."""
    m = _RATE.match(expression)
    if m:
        return int(m.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[m.group(2).rstrip("s")]
    return parse_aws(expression, "schedule expression")


def next_fire(expression: str, after: datetime, anchor: datetime) -> datetime | None:
    """The first time strictly after `after` that `expression` fires; a rate counts its periods from `anchor`."""
    parsed = parse_expression(expression)
    if isinstance(parsed, AwsCron):
        return parsed.next_after(after)
    if after < anchor:
        return anchor + timedelta(seconds=parsed)
    periods = int((after - anchor).total_seconds() // parsed) + 1
    return anchor + timedelta(seconds=parsed * periods)


def fires_between(expression: str, after: datetime, until: datetime, anchor: datetime,
                  limit: int = 1000) -> list[datetime]:
    """Every fire time in (after, until], oldest first, at most `limit` of them."""
    out: list[datetime] = []
    at = next_fire(expression, after, anchor)
    while at is not None and at <= until and len(out) < limit:
        out.append(at)
        at = next_fire(expression, at, anchor)
    return out
