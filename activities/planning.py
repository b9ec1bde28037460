"""The intake activity: routes, lead time, fees, timeouts and the calendar of an application under the worker's
rule set."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity

from activities.errors import invalid_input
from domain import calendar, planning
from domain.jakarta import jakarta_date
from schemas.catalog import RuleSet
from schemas.contracts import PLAN_APPLICATION, ApplicationPlan, PlanInput, WorkingCalendar

# The plan's calendar runs from the submission date to this long after the last shoot day: every deadline of the
# application (clearances, information requests, payment) falls inside it; one outside asks the activity.
CALENDAR_DAYS_AFTER_LAST_SHOOT = 400


def plan_calendar(input: PlanInput) -> WorkingCalendar:
    """The non-working dates an application can count with: from its submission date to well past its last shoot."""
    first = jakarta_date(input.submitted_at)
    last = max(first, input.application.last_shoot_date) + timedelta(days=CALENDAR_DAYS_AFTER_LAST_SHOOT)
    return calendar.working_calendar(first, last)


class PlanningActivities:
    """Plans applications with the rule set the worker loaded; the plan records its version."""

    def __init__(self, rules: RuleSet) -> None:
        self._rules = rules

    @activity.defn(name=PLAN_APPLICATION)
    async def plan_application(self, input: PlanInput) -> ApplicationPlan:
        """The plan for `input.application` submitted at `input.submitted_at`, with the calendar it counts with."""
        try:
            plan = planning.plan_application(input.application, self._rules, input.submitted_at)
            return plan.model_copy(update={"calendar": plan_calendar(input)})
        except ValueError as exc:
            raise invalid_input(exc) from exc
