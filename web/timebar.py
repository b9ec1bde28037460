"""A clearance's times as marks on a small bar: requested, accepted, reminded, due, breached, decided."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from schemas.status import ClearanceView

WIDTH = 320
MARGIN = 8
MARKS = ("requested_at", "accepted_at", "reminded_at", "due_at", "breached_at", "decided_at")


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
    width: int = WIDTH


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
        late=due is not None and end > due,
    )
