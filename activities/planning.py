"""The intake activity: routes, lead time, fees, timeouts and the calendar of an application under the worker's
rule set."""

from __future__ import annotations

from temporalio import activity

from activities.errors import invalid_input
from domain import planning
from schemas.catalog import RuleSet
from schemas.contracts import PLAN_APPLICATION, ApplicationPlan, PlanInput


class PlanningActivities:
    """Plans applications with the rule set the worker loaded; the plan records its version."""

    def __init__(self, rules: RuleSet) -> None:
        self._rules = rules

    @activity.defn(name=PLAN_APPLICATION)
    async def plan_application(self, input: PlanInput) -> ApplicationPlan:
        """The plan for `input.application` submitted at `input.submitted_at`, with the calendar it counts with."""
        try:
            plan = planning.plan_application(input.application, self._rules, input.submitted_at)
            return planning.with_calendar(plan, input.application, input.submitted_at)
        except ValueError as exc:
            raise invalid_input(exc) from exc
