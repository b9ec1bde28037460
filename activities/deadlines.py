"""Deadline activities: thin wrappers over domain.calendar, so workflow replays never depend on calendar data."""

from __future__ import annotations

import datetime as dt

from temporalio import activity

from activities.errors import invalid_input
from domain import calendar
from schemas.contracts import (
    BUSINESS_DAYS_BETWEEN,
    COMPUTE_BUSINESS_DEADLINE,
    COMPUTE_SLA_DEADLINES,
    BusinessDaysBetweenInput,
    BusinessDeadlineInput,
    SlaDeadlines,
    SlaDeadlinesInput,
)


class DeadlineActivities:
    """Jakarta business-day arithmetic (holidays, cuti bersama, 16:00 deadlines) for workflows."""

    @activity.defn(name=COMPUTE_SLA_DEADLINES)
    async def compute_sla_deadlines(self, input: SlaDeadlinesInput) -> SlaDeadlines:
        """Reminder, due and final deadlines of one clearance."""
        try:
            return calendar.sla_deadlines(input.accepted_at, input.sla_days, input.grace_days, input.paused_business_days)
        except ValueError as exc:
            raise invalid_input(exc) from exc

    @activity.defn(name=COMPUTE_BUSINESS_DEADLINE)
    async def compute_business_deadline(self, input: BusinessDeadlineInput) -> dt.datetime:
        """16:00 Asia/Jakarta on the Nth business day after `start` (information and payment deadlines)."""
        try:
            return calendar.business_deadline(input.start, input.business_days)
        except ValueError as exc:
            raise invalid_input(exc) from exc

    @activity.defn(name=BUSINESS_DAYS_BETWEEN)
    async def business_days_between(self, input: BusinessDaysBetweenInput) -> int:
        """Business days from `start` to `end` (how long an SLA was paused)."""
        try:
            return calendar.business_days_between(input.start, input.end)
        except ValueError as exc:
            raise invalid_input(exc) from exc
