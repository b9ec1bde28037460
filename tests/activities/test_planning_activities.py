"""The planning activity plans with the rule set the worker loaded."""

from __future__ import annotations

import datetime as dt

from activity_samples import RULES
from temporalio.testing import ActivityEnvironment

from activities.planning import PlanningActivities
from domain.calendar import JAKARTA
from domain.planning import CALENDAR_DAYS_AFTER_LAST_SHOOT, plan_application
from schemas.application import PermitApplication
from schemas.contracts import PlanInput


async def test_plan_matches_the_domain_and_records_the_rule_set(application: PermitApplication):
    submitted = dt.datetime(2026, 11, 2, 10, tzinfo=JAKARTA)
    plan = await ActivityEnvironment().run(
        PlanningActivities(RULES).plan_application, PlanInput(application=application, submitted_at=submitted)
    )
    assert plan.model_copy(update={"calendar": None}) == plan_application(application, RULES, submitted)
    assert plan.rule_set == RULES.version
    assert {"parks", "heritage", "aviation", "culture_ministry", "police"} <= {r.agency.code for r in plan.agencies}


async def test_plan_records_the_calendar_from_submission_to_well_past_the_last_shoot(application: PermitApplication):
    submitted = dt.datetime(2026, 11, 2, 10, tzinfo=JAKARTA)
    plan = await ActivityEnvironment().run(
        PlanningActivities(RULES).plan_application, PlanInput(application=application, submitted_at=submitted)
    )
    assert plan.calendar is not None
    assert plan.calendar.first == dt.date(2026, 11, 2)
    assert plan.calendar.last == application.last_shoot_date + dt.timedelta(days=CALENDAR_DAYS_AFTER_LAST_SHOOT)
    assert dt.date(2026, 12, 25) in plan.calendar.non_working  # Christmas
    assert all(d.weekday() < 5 and plan.calendar.first <= d <= plan.calendar.last for d in plan.calendar.non_working)
