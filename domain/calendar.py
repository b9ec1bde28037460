"""Jakarta business days and SLA deadlines (design §3); workflows call these only through activities."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from domain.jakarta import JAKARTA, jakarta_date
from schemas.contracts import SlaDeadlines

DEADLINE_TIME = time(16, 0)
HOLIDAY_CATEGORIES = ("public", "government")  # "government" holds the cuti bersama (joint leave days)


@lru_cache(maxsize=None)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("ID", categories=HOLIDAY_CATEGORIES, years=year))


def is_business_day(d: date) -> bool:
    """Monday to Friday and neither an Indonesian public holiday nor cuti bersama."""
    return d.weekday() < 5 and d not in _holidays(d.year)


def add_business_days(d: date, n: int) -> date:
    """The Nth business day after `d` (`d` is day 0 whatever it is; n = 0 returns `d`)."""
    if n < 0:
        raise ValueError(f"business days must not be negative, got {n}")
    while n:
        d += timedelta(days=1)
        if is_business_day(d):
            n -= 1
    return d


def business_deadline(start: datetime, business_days: int) -> datetime:
    """16:00 Asia/Jakarta on the Nth business day after the Jakarta date of `start`."""
    day = add_business_days(jakarta_date(start), business_days)
    return datetime.combine(day, DEADLINE_TIME, tzinfo=JAKARTA)


def sla_deadlines(
    accepted_at: datetime, sla_days: int, grace_days: int, paused_business_days: int = 0
) -> SlaDeadlines:
    """Reminder (day N-1, none for a one-day SLA), due (day N) and final (day N + grace) deadlines, N = SLA + pauses."""
    if sla_days < 1 or grace_days < 0 or paused_business_days < 0:
        raise ValueError(
            f"need sla_days >= 1, grace_days >= 0, paused_business_days >= 0; "
            f"got {sla_days}, {grace_days}, {paused_business_days}"
        )
    n = sla_days + paused_business_days
    return SlaDeadlines(
        reminder_at=None if sla_days == 1 else business_deadline(accepted_at, n - 1),
        due_at=business_deadline(accepted_at, n),
        final_at=business_deadline(accepted_at, n + grace_days),
    )


def business_days_between(start: datetime, end: datetime) -> int:
    """How many business days d have jakarta_date(start) < d <= jakarta_date(end); 0 when end <= start."""
    first, last = jakarta_date(start), jakarta_date(end)
    if end <= start:
        return 0
    count, d = 0, first
    while d < last:
        d += timedelta(days=1)
        count += is_business_day(d)
    return count
