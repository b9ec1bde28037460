"""The clearance time bar shades the days the SLA clock does not count."""

from __future__ import annotations

import datetime as dt

from domain.jakarta import JAKARTA
from schemas.status import ClearanceStatus, ClearanceView
from web.timebar import time_bar


def at(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, tzinfo=JAKARTA)


def test_weekends_and_holidays_between_request_and_decision_are_shaded_and_business_days_are_not() -> None:
    # Wed 23 Dec 2026 to Tue 29 Dec: Christmas (Fri 25), the weekend and any cuti bersama stop the clock
    clearance = ClearanceView(agency="parks", status=ClearanceStatus.approved, requested_at=at(23),
                              due_at=at(29, 16), decided_at=at(29, 10))
    bar = time_bar(clearance, now=at(30))
    from domain.calendar import is_business_day

    expected = [d for d in (dt.date(2026, 12, n) for n in range(23, 30)) if not is_business_day(d)]
    assert [d.date for d in bar.closed_days] == expected
    assert {dt.date(2026, 12, 25), dt.date(2026, 12, 26), dt.date(2026, 12, 27)} <= set(expected)
    assert all(bar.start_x <= d.x and d.x + d.width <= bar.end_x + 0.1 for d in bar.closed_days)
    assert all(d.width > 0 for d in bar.closed_days)


def test_a_bar_within_business_days_shades_nothing() -> None:
    clearance = ClearanceView(agency="parks", status=ClearanceStatus.submitted, requested_at=at(1), due_at=at(3, 16))
    assert time_bar(clearance, now=at(2)).closed_days == []  # Tue 1 to Wed 2 December
