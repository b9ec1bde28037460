"""Deadline activities: the same answers as domain.calendar, across Christmas, New Year and Isra' Mi'raj."""

from __future__ import annotations

import datetime as dt

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.deadlines import DeadlineActivities
from activities.errors import INVALID_INPUT
from domain import calendar
from domain.calendar import JAKARTA
from schemas.contracts import BusinessDaysBetweenInput, BusinessDeadlineInput, SlaDeadlinesInput

ACCEPTED = dt.datetime(2026, 12, 21, 16, 30, tzinfo=dt.UTC)  # Mon 21 Dec, 23:30 in Jakarta: day 0


def at_four(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 16, tzinfo=JAKARTA)


async def test_sla_deadlines_skip_weekends_and_holidays():
    # 24-25 Dec (cuti bersama, Christmas), 1 Jan and 5 Jan 2027 (Isra' Mi'raj) are not business days
    result = await ActivityEnvironment().run(
        DeadlineActivities().compute_sla_deadlines, SlaDeadlinesInput(accepted_at=ACCEPTED, sla_days=5, grace_days=5)
    )
    assert result == calendar.sla_deadlines(ACCEPTED, 5, 5)
    assert (result.reminder_at, result.due_at, result.final_at) == (
        at_four(2026, 12, 29), at_four(2026, 12, 30), at_four(2027, 1, 8),
    )  # fmt: skip


async def test_business_deadline_and_days_between():
    acts, env = DeadlineActivities(), ActivityEnvironment()
    deadline = await env.run(acts.compute_business_deadline, BusinessDeadlineInput(start=ACCEPTED, business_days=3))
    assert deadline == calendar.business_deadline(ACCEPTED, 3) == at_four(2026, 12, 28)
    between = BusinessDaysBetweenInput(start=ACCEPTED, end=dt.datetime(2026, 12, 29, 9, tzinfo=JAKARTA))
    assert await env.run(acts.business_days_between, between) == 4  # 22, 23, 28, 29 Dec


async def test_naive_datetimes_fail_without_retry():
    naive = SlaDeadlinesInput(accepted_at=dt.datetime(2026, 12, 21, 10), sla_days=5, grace_days=5)
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(DeadlineActivities().compute_sla_deadlines, naive)
    assert caught.value.type == INVALID_INPUT and caught.value.non_retryable
