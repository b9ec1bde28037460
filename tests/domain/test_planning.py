"""Planning an application and the intake problems reported with their field paths."""

from __future__ import annotations

from datetime import date, datetime

from domain_samples import RULES, application, location

from domain.calendar import JAKARTA
from domain.planning import intake_problems, plan_application

SUBMITTED = datetime(2026, 11, 2, 10, tzinfo=JAKARTA)  # Monday


def days(*dates: str) -> list[dict]:
    return [{"date": d, "start": "06:00", "end": "18:00"} for d in dates]


def test_plan_combines_routing_lead_time_fees_and_timeouts():
    # parks only: 5 business days from Mon 2 Nov → Mon 9 Nov; earliest feasible Tue 10 Nov
    app = application(location(name="Taman Suropati", kind="park", days=days("2026-11-10", "2026-11-11")))
    plan = plan_application(app, RULES, SUBMITTED)
    assert plan.rule_set == "2026.1"
    assert [r.agency.code.value for r in plan.agencies] == ["parks"]
    assert plan.lead_time_business_days == 5
    assert plan.earliest_feasible_start == date(2026, 11, 10)
    assert plan.lead_time_ok is True
    assert plan.fees.total_idr == 3_000_000
    assert plan.information_reply_business_days == 10
    assert plan.payment_business_days == 5


def test_plan_lead_time_too_short():
    app = application(location(kind="park", days=days("2026-11-09")))
    plan = plan_application(app, RULES, SUBMITTED)
    assert plan.lead_time_ok is False
    assert plan.earliest_feasible_start == date(2026, 11, 10)


def test_plan_foreign_chain():
    # culture_ministry 7 + police 14 = 21 business days from Mon 2 Nov 2026 (no holidays until Dec 24):
    # 21 business days = 4 weeks + 1 day → Tue 1 Dec; earliest feasible Wed 2 Dec
    plan = plan_application(application(location(days=days("2026-12-02")), foreign=1), RULES, SUBMITTED)
    assert plan.lead_time_business_days == 21
    assert plan.earliest_feasible_start == date(2026, 12, 2)
    assert plan.lead_time_ok is True


def test_no_problems_for_a_good_application_even_with_too_short_lead_time():
    app = application(location(name="Sama", kind="park"), location(name="Sama"))  # duplicate names are fine
    plan = plan_application(app, RULES, datetime(2027, 1, 11, 10, tzinfo=JAKARTA))
    assert plan.lead_time_ok is False
    assert intake_problems(app, plan, date(2027, 1, 11)) == []


def test_past_shoot_day_paths():
    app = application(
        location(days=days("2026-11-05")),
        location(days=days("2026-11-01", "2026-11-02", "2026-11-20")),
    )
    plan = plan_application(app, RULES, SUBMITTED)
    problems = intake_problems(app, plan, date(2026, 11, 2))
    # today (2 Nov) is not in the past; 1 Nov is
    assert [p.path for p in problems] == ["locations[1].days[0].date"]
    assert "2026-11-01 is in the past" in problems[0].message


def test_insurance_must_cover_the_last_shoot_day():
    app = application(location(days=days("2026-11-20")), location(days=days("2026-12-01")), valid_until="2026-11-30")
    problems = intake_problems(app, plan_application(app, RULES, SUBMITTED), date(2026, 11, 2))
    assert [p.path for p in problems] == ["insurance.valid_until"]
    assert "2026-12-01" in problems[0].message


def test_insurance_until_the_last_shoot_day_is_enough():
    app = application(location(days=days("2026-12-01")), valid_until="2026-12-01")
    assert intake_problems(app, plan_application(app, RULES, SUBMITTED), date(2026, 11, 2)) == []


def test_every_problem_is_listed():
    app = application(location(days=days("2026-10-30", "2026-11-20")), valid_until="2026-11-01", foreign=2)
    app.foreign_crew[1].passport_number = app.foreign_crew[0].passport_number
    problems = intake_problems(app, plan_application(app, RULES, SUBMITTED), date(2026, 11, 2))
    assert [p.path for p in problems] == [
        "locations[0].days[0].date",
        "insurance.valid_until",
        "foreign_crew[1].passport_number",
    ]


def test_shoot_days_more_than_two_years_ahead_are_refused_but_the_horizon_itself_is_not():
    from datetime import timedelta

    from domain.planning import BOOKING_HORIZON_DAYS

    today = date(2027, 1, 4)
    at_horizon = today + timedelta(days=BOOKING_HORIZON_DAYS)
    beyond = at_horizon + timedelta(days=1)
    app = application(location(days=days(at_horizon.isoformat(), beyond.isoformat())), valid_until="2030-12-31")
    problems = intake_problems(app, plan_application(app, RULES, SUBMITTED), today)
    assert [p.path for p in problems] == ["locations[0].days[1].date"]
    assert str(at_horizon) in problems[0].message
