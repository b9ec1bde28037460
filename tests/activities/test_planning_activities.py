"""The planning activity plans with the rule set the worker loaded."""

from __future__ import annotations

import datetime as dt

from activity_samples import RULES
from temporalio.testing import ActivityEnvironment

from activities.planning import PlanningActivities
from domain.calendar import JAKARTA
from domain.planning import plan_application
from schemas.application import PermitApplication
from schemas.contracts import PlanInput


async def test_plan_matches_the_domain_and_records_the_rule_set(application: PermitApplication):
    submitted = dt.datetime(2026, 11, 2, 10, tzinfo=JAKARTA)
    plan = await ActivityEnvironment().run(
        PlanningActivities(RULES).plan_application, PlanInput(application=application, submitted_at=submitted)
    )
    assert plan == plan_application(application, RULES, submitted)
    assert plan.rule_set == RULES.version
    assert {"parks", "heritage", "aviation", "culture_ministry", "police"} <= {r.agency.code for r in plan.agencies}
