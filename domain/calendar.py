"""Jakarta business days and SLA deadlines (design §3).

Every function counts against a set of non-working dates (holidays and cuti bersama; weekends are always off).
By default that is the `holidays` package's data, which a release can change: workflows never use the default,
only a `WorkingCalendar` an activity recorded in their history (the plan's), via `in_calendar`, which
raises `OutsideCalendar` when a count would leave the recorded range (the workflow then asks the activity).
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from domain.jakarta import JAKARTA, jakarta_date
from schemas.contracts import SlaDeadlines, WorkingCalendar

DEADLINE_TIME = time(16, 0)
HOLIDAY_CATEGORIES = ("public", "government")  # "government" holds the cuti bersama (joint leave days)


@lru_cache(maxsize=None)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("ID", categories=HOLIDAY_CATEGORIES, years=year))


class OutsideCalendar(LookupError):
    """A count needed a date outside the recorded calendar's range."""


class _Indonesia(Container[date]):
    """Every Indonesian public holiday and cuti bersama the `holidays` package knows (activities only)."""

    def __contains__(self, d: object) -> bool:
        return isinstance(d, date) and d in _holidays(d.year)


INDONESIA: Container[date] = _Indonesia()


class _Recorded(Container[date]):
    """A recorded calendar's non-working dates; asking about a date outside its range raises OutsideCalendar."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.first, self.last = calendar.first, calendar.last
        self._dates = frozenset(calendar.non_working)

    def __contains__(self, d: object) -> bool:
        assert isinstance(d, date)
        if not self.first <= d <= self.last:
            raise OutsideCalendar(f"{d} is outside the recorded calendar {self.first}..{self.last}")
        return d in self._dates


def in_calendar(calendar: WorkingCalendar) -> Container[date]:
    """The non-working dates of a recorded calendar, for the functions below (pure: safe in workflow code)."""
    return _Recorded(calendar)


def working_calendar(first: date, last: date) -> WorkingCalendar:
    """The non-working weekdays from `first` to `last` (inclusive), to record once and count with later."""
    if last < first:
        raise ValueError(f"a calendar ends on or after its first day, got {first}..{last}")
    days = (first + timedelta(days=i) for i in range((last - first).days + 1))
    return WorkingCalendar(first=first, last=last, non_working=[d for d in days if d.weekday() < 5 and d in INDONESIA])


def is_business_day(d: date, non_working: Container[date] = INDONESIA) -> bool:
    """Monday to Friday and not a non-working date (by default: an Indonesian public holiday or cuti bersama)."""
    return d.weekday() < 5 and d not in non_working


def add_business_days(d: date, n: int, non_working: Container[date] = INDONESIA) -> date:
    """The Nth business day after `d` (`d` is day 0 whatever it is; n = 0 returns `d`)."""
    if n < 0:
        raise ValueError(f"business days must not be negative, got {n}")
    while n:
        d += timedelta(days=1)
        if is_business_day(d, non_working):
            n -= 1
    return d


def business_deadline(start: datetime, business_days: int, non_working: Container[date] = INDONESIA) -> datetime:
    """16:00 Asia/Jakarta on the Nth business day after the Jakarta date of `start`."""
    day = add_business_days(jakarta_date(start), business_days, non_working)
    return datetime.combine(day, DEADLINE_TIME, tzinfo=JAKARTA)


def sla_deadlines(
    accepted_at: datetime, sla_days: int, grace_days: int, paused_business_days: int = 0,
    non_working: Container[date] = INDONESIA,
) -> SlaDeadlines:
    """Reminder (day N-1, none for a one-day SLA), due (day N) and final (day N + grace) deadlines, N = SLA + pauses."""
    if sla_days < 1 or grace_days < 0 or paused_business_days < 0:
        raise ValueError(
            f"need sla_days >= 1, grace_days >= 0, paused_business_days >= 0; "
            f"got {sla_days}, {grace_days}, {paused_business_days}"
        )
    n = sla_days + paused_business_days
    return SlaDeadlines(
        reminder_at=None if sla_days == 1 else business_deadline(accepted_at, n - 1, non_working),
        due_at=business_deadline(accepted_at, n, non_working),
        final_at=business_deadline(accepted_at, n + grace_days, non_working),
    )


def business_days_between(start: datetime, end: datetime, non_working: Container[date] = INDONESIA) -> int:
    """How many business days d have jakarta_date(start) < d <= jakarta_date(end); 0 when end <= start."""
    first, last = jakarta_date(start), jakarta_date(end)
    if end <= start:
        return 0
    count, d = 0, first
    while d < last:
        d += timedelta(days=1)
        count += is_business_day(d, non_working)
    return count
