"""A clearance's times as marks on a small bar: requested, accepted, reminded, due, breached, decided.

The days the SLA clock does not count (weekends, Indonesian holidays and cuti bersama, Jakarta time) are
shaded on the bar, so a person sees why a due time lies where it does."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.calendar import is_business_day
from domain.jakarta import JAKARTA
from schemas.status import ClearanceView

WIDTH = 320
MARGIN = 8
MARKS = ("requested_at", "accepted_at", "reminded_at", "due_at", "breached_at", "decided_at")
MAX_SHADED_DAYS = 120  # a longer bar shades nothing: the days would be thinner than a pixel


@dataclass(frozen=True)
class Mark:
    name: str  # the field, without `_at`
    at: dt.datetime
    x: float


@dataclass(frozen=True)
class TimeBar:
    marks: list[Mark]
    start_x: float  # the bar runs from the request to the decision, or to now while open
    end_x: float
    now_x: float | None
    late: bool  # the decision (or now) is past the due time
    closed_days: list[ClosedDay]
    width: int = WIDTH


@dataclass(frozen=True)
class ClosedDay:
    """A Jakarta date the SLA clock does not count, as the stretch of the bar it covers."""

    date: dt.date
    x: float
    width: float


def time_bar(clearance: ClearanceView, now: dt.datetime) -> TimeBar | None:
    """The bar for `clearance`, None when it has no time yet (waiting on another agency)."""
    times = {name.removesuffix("_at"): getattr(clearance, name) for name in MARKS if getattr(clearance, name)}
    if not times:
        return None
    first = min(times.values())
    end = clearance.decided_at or now
    last = max([*times.values(), end])
    span = max((last - first).total_seconds(), 1.0)

    def x(moment: dt.datetime) -> float:
        return round(MARGIN + (moment - first).total_seconds() / span * (WIDTH - 2 * MARGIN), 1)

    marks = [Mark(name, at, x(at)) for name, at in sorted(times.items(), key=lambda item: item[1])]
    due = clearance.due_at
    return TimeBar(
        marks=marks, start_x=x(first), end_x=x(end), now_x=None if clearance.decided_at else x(now),
        late=due is not None and end > due, closed_days=_closed_days(first, last, x),
    )


def _closed_days(first: dt.datetime, last: dt.datetime, x) -> list[ClosedDay]:
    """The non-business Jakarta dates between `first` and `last`, clipped to the bar."""
    day, end = first.astimezone(JAKARTA).date(), last.astimezone(JAKARTA).date()
    if (end - day).days > MAX_SHADED_DAYS:
        return []
    closed = []
    while day <= end:
        if not is_business_day(day):
            start = max(dt.datetime.combine(day, dt.time(), JAKARTA), first)
            stop = min(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), JAKARTA), last)
            if stop > start:
                closed.append(ClosedDay(day, x(start), round(x(stop) - x(start), 1)))
        day += dt.timedelta(days=1)
    return closed
