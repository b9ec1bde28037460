"""Lead time: how many business days the agencies need before the first shoot day (design §3, intake)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.calendar import add_business_days
from domain.jakarta import jakarta_date
from schemas.contracts import RoutedAgency


def lead_time_business_days(routed: list[RoutedAgency]) -> int:
    """Business days of the critical path: the largest sum of sla_days along a dependency chain; 0 without agencies."""
    by_code = {r.agency.code.value: r for r in routed}
    finish: dict[str, int] = {}

    def done_after(code: str, chain: tuple[str, ...]) -> int:
        if code in chain:
            raise ValueError(f"dependency cycle: {' -> '.join((*chain, code))}")
        if code not in finish:
            r = by_code[code]
            waits = [done_after(dep, (*chain, code)) for dep in r.depends_on if dep in by_code]
            finish[code] = r.agency.sla_days + max(waits, default=0)
        return finish[code]

    return max((done_after(code, ()) for code in by_code), default=0)


def earliest_feasible_start(submitted_at: datetime, lead_days: int) -> date:
    """The earliest first shoot date that leaves the agencies their lead time.

    Counting as for SLAs, the Jakarta date of submission is day 0 and the last agency is due
    on business day `lead_days` (16:00); shooting can start the calendar day after that.
    A first shoot date on or after the returned date is feasible.
    """
    return add_business_days(jakarta_date(submitted_at), lead_days) + timedelta(days=1)
