"""Planning an application at intake: routing, lead time, fees and timeouts, and the problems to report."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain import calendar
from domain.fees import compute_fees
from domain.jakarta import jakarta_date
from domain.leadtime import earliest_feasible_start, lead_time_business_days
from domain.routing import route
from schemas.application import PermitApplication
from schemas.catalog import RuleSet
from schemas.contracts import ApplicationPlan, WorkingCalendar
from schemas.problems import Problem

BOOKING_HORIZON_DAYS = 730  # shoot days at most two years ahead: nothing later is planned, timed or issued
# The plan's calendar runs from the submission date to this long after the last shoot day: every deadline of the
# application (clearances, information requests, payment) falls inside it; one outside asks the activity.
CALENDAR_DAYS_AFTER_LAST_SHOOT = 400


def plan_application(app: PermitApplication, rules: RuleSet, submitted_at: datetime) -> ApplicationPlan:
    """Everything the rule set says about `app` submitted at `submitted_at`."""
    agencies = route(app, rules)
    lead = lead_time_business_days(agencies)
    earliest = earliest_feasible_start(submitted_at, lead)
    return ApplicationPlan(
        rule_set=rules.version,
        agencies=agencies,
        lead_time_business_days=lead,
        earliest_feasible_start=earliest,
        lead_time_ok=app.first_shoot_date >= earliest,
        fees=compute_fees(app, rules.fees),
        information_reply_business_days=rules.timeouts.information_reply_business_days,
        payment_business_days=rules.timeouts.payment_business_days,
    )


def plan_calendar(app: PermitApplication, submitted_at: datetime) -> WorkingCalendar:
    """The non-working dates an application can count with: from its submission date to well past its last shoot."""
    first = jakarta_date(submitted_at)
    last = max(first, app.last_shoot_date) + timedelta(days=CALENDAR_DAYS_AFTER_LAST_SHOOT)
    return calendar.working_calendar(first, last)


def with_calendar(plan: ApplicationPlan, app: PermitApplication, submitted_at: datetime) -> ApplicationPlan:
    """`plan` with the calendar its workflow counts business days with (for an application without intake problems:
    a shoot day past the booking horizon has no calendar)."""
    return plan.model_copy(update={"calendar": plan_calendar(app, submitted_at)})


def intake_problems(app: PermitApplication, plan: ApplicationPlan, today: date) -> list[Problem]:
    """Completeness problems, each with its field path; lead time is not one (see plan.lead_time_ok)."""
    problems = []
    horizon = today + timedelta(days=BOOKING_HORIZON_DAYS)
    for i, loc in enumerate(app.locations):
        for j, day in enumerate(loc.days):
            path = f"locations[{i}].days[{j}].date"
            if day.date < today:
                problems.append(Problem(path=path, message=f"{day.date} is in the past (today is {today})"))
            elif day.date > horizon:
                problems.append(Problem(path=path, message=f"{day.date} is more than two years ahead; permits are "
                                                           f"applied for up to {horizon}"))
    if app.insurance.valid_until < app.last_shoot_date:
        problems.append(
            Problem(
                path="insurance.valid_until",
                message=f"the insurance ends on {app.insurance.valid_until}, before the last shoot day "
                f"{app.last_shoot_date}; it must cover every shoot day",
            )
        )
    passports: dict[str, int] = {}
    for i, member in enumerate(app.foreign_crew):
        key = f"{member.nationality}:{member.passport_number}"
        if key in passports:
            problems.append(
                Problem(
                    path=f"foreign_crew[{i}].passport_number",
                    message=f"passport {member.passport_number} is already listed at foreign_crew[{passports[key]}]",
                )
            )
        passports.setdefault(key, i)
    return problems
