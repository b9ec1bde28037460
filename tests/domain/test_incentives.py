"""The incentive rules (design §4), on the packaged programmes, with every figure worked out by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError
from domain_samples import CONFIG

from domain import incentives
from domain.incentive_rules import load_incentive_rules
from schemas.incentives import Claim, ClaimLine, GrantTier, IncentiveApplication, PermitFacts

RULES = load_incentive_rules(CONFIG / "incentives.toml", "http://sim.test")
REBATE = RULES.get("location_rebate")
GRANT = RULES.get("shooting_days_grant")
FUND = RULES.get("first_feature_fund")
assert REBATE.rebate is not None and GRANT.shooting_days is not None

WIB = dt.timezone(dt.timedelta(hours=7))
ORG = "ORG-1"
FIRST_DAY = dt.date(2027, 3, 1)
APPLIED = dt.datetime(2027, 1, 10, 10, 0, tzinfo=WIB)  # 50 days before the first shoot day: not late


def permit(days: int = 6, *, status: str = "issued", organisation_id: str | None = ORG,
           first: dt.date = FIRST_DAY) -> PermitFacts:
    """A permit shooting `days` consecutive days from `first` (2027-03-01..03-06 by default)."""
    return PermitFacts(permit_id="PRM-AAAAAAAAAAAA", organisation_id=organisation_id, status=status,
                       production_title="Senja di Kota", production_kind="feature_film",
                       applicant_company="PT Contoh Film",
                       shoot_dates=[first + dt.timedelta(days=i) for i in range(days)])


def rebate_app(**changes: Any) -> IncentiveApplication:
    body = {"programme": "location_rebate", "permit_id": "PRM-AAAAAAAAAAAA", "fiscal_year": 2027,
            "planned_jakarta_spend_idr": 10_000_000_000, "planned_post_production_idr": 3_000_000_000,
            "crew_total": 40, "crew_indonesian": 30}
    return IncentiveApplication.model_validate({**body, **changes})


def grant_app(**changes: Any) -> IncentiveApplication:
    return rebate_app(programme="shooting_days_grant", **changes)


def fund_app(project: dict[str, Any] | None = None, **changes: Any) -> IncentiveApplication:
    body = {"director_name": "Sari Wulandari", "director_nationality": "ID", "call_id": "FFF-2027-1",
            "requested_grant_idr": 1_000_000_000, **(project or {})}
    return rebate_app(**{"programme": "first_feature_fund", "director_first_feature": True, "project": body,
                         **changes})


def checks(programme=REBATE, app=None, facts: PermitFacts | None = None, org: str | None = ORG,
           at: dt.datetime = APPLIED) -> dict[str, incentives.RuleCheck]:
    app = app or rebate_app()
    found = incentives.eligibility(programme, app, permit() if facts is None else facts, org, at)
    return {c.rule: c for c in found}


def failed(programme=REBATE, app=None, facts: PermitFacts | None = None, org: str | None = ORG,
           at: dt.datetime = APPLIED) -> list[str]:
    return [rule for rule, c in checks(programme, app, facts, org, at).items() if not c.ok]


def test_rupiah():
    assert incentives.rupiah(1_500_000_000) == "Rp 1,500,000,000"
    assert incentives.rupiah(0) == "Rp 0"


# ---- eligibility: location_rebate ----------------------------------------------------------------------


def test_rebate_lists_every_rule_and_passes():
    found = incentives.eligibility(REBATE, rebate_app(), permit(), ORG, APPLIED)
    assert [c.rule for c in found] == ["linked_permit", "shoot_days", "planned_spend", "indonesian_crew", "fiscal_year"]
    assert all(c.ok for c in found)
    by_rule = {c.rule: c.detail for c in found}
    assert by_rule["linked_permit"] == "PRM-AAAAAAAAAAAA (Senja di Kota) is your organisation's, issued"
    assert by_rule["shoot_days"] == "6 distinct shoot day(s) in Jakarta on PRM-AAAAAAAAAAAA; at least 5 needed"
    assert by_rule["indonesian_crew"] == "30 of 40 crew are Indonesian (75%); at least 50% needed"
    # 10,000,000,000 planned of which 3,000,000,000 post-production: 7,000,000,000 other spend lets post-production
    # count up to 7,000,000,000 (half of the whole), so all 10,000,000,000 qualify
    assert by_rule["planned_spend"].startswith("planned qualifying Jakarta spend Rp 10,000,000,000 (other spend "
                                               "Rp 7,000,000,000 + post-production Rp 3,000,000,000")
    assert by_rule["planned_spend"].endswith("at least Rp 1,500,000,000 needed")


def test_every_failed_rule_is_named():
    app = rebate_app(planned_jakarta_spend_idr=1_000_000_000, planned_post_production_idr=0, crew_indonesian=10,
                     fiscal_year=2030)
    assert failed(app=app, facts=permit(days=3, status="withdrawn")) == [
        "linked_permit", "shoot_days", "planned_spend", "indonesian_crew", "fiscal_year"]


@pytest.mark.parametrize("status", ["rejected", "withdrawn", "lapsed"])
def test_linked_permit_that_ended(status):
    check = checks(facts=permit(status=status))["linked_permit"]
    assert not check.ok
    assert check.detail.startswith(f"PRM-AAAAAAAAAAAA (Senja di Kota) is {status}; ")


@pytest.mark.parametrize("status", ["submitted", "in_review", "awaiting_payment", "issued", "amended", "completed"])
def test_linked_permit_in_progress_or_issued(status):
    assert checks(facts=permit(status=status))["linked_permit"].ok


def test_another_organisations_permit_reveals_nothing():
    missing = incentives.eligibility(REBATE, rebate_app(), None, ORG, APPLIED)
    foreign = incentives.eligibility(REBATE, rebate_app(), permit(organisation_id="ORG-2"), ORG, APPLIED)
    assert [c.model_dump() for c in foreign] == [c.model_dump() for c in missing]  # indistinguishable from none
    assert foreign[0].rule == "linked_permit" and not foreign[0].ok
    assert foreign[0].detail == ("PRM-AAAAAAAAAAAA is not a permit application of your organisation; link the JFC "
                                 "permit application (PRM-…) your organisation submitted for this production")
    assert foreign[1].detail == "no linked permit to count shoot days from; at least 5 needed"  # not its 6 days
    assert all("Senja" not in c.detail and "issued" not in c.detail for c in foreign)


def test_applicant_without_organisation_owns_no_permit():
    assert "linked_permit" in failed(facts=permit(organisation_id=None), org=None)


def test_shoot_days():
    assert failed(facts=permit(days=4)) == ["shoot_days"]
    assert checks(facts=permit(days=4))["shoot_days"].detail == (
        "4 distinct shoot day(s) in Jakarta on PRM-AAAAAAAAAAAA; at least 5 needed")
    assert failed(facts=permit(days=5)) == []


def test_shoot_days_count_distinct_dates():
    facts = permit(days=4)
    doubled = facts.model_copy(update={"shoot_dates": facts.shoot_dates + facts.shoot_dates[:2]})  # 6 entries, 4 dates
    assert failed(facts=doubled) == ["shoot_days"]


def test_planned_spend_threshold():
    assert failed(app=rebate_app(planned_jakarta_spend_idr=1_499_999_999, planned_post_production_idr=0)) == [
        "planned_spend"]
    assert failed(app=rebate_app(planned_jakarta_spend_idr=1_500_000_000, planned_post_production_idr=0)) == []


def test_planned_spend_counts_post_production_for_half_at_most():
    # 2,000,000,000 planned, 1,500,000,000 of it post-production: 500,000,000 other spend, so post-production
    # counts for 500,000,000 only: 1,000,000,000 qualifying, short of 1,500,000,000
    app = rebate_app(planned_jakarta_spend_idr=2_000_000_000, planned_post_production_idr=1_500_000_000)
    check = checks(app=app)["planned_spend"]
    assert not check.ok
    assert check.detail == ("planned qualifying Jakarta spend Rp 1,000,000,000 (other spend Rp 500,000,000 + "
                            "post-production Rp 500,000,000 of the Rp 1,500,000,000 planned: post-production counts "
                            "for at most 50% of qualifying spend); at least Rp 1,500,000,000 needed")


def test_post_production_above_the_whole_planned_spend_is_refused_at_its_field():
    with pytest.raises(ValidationError) as refused:
        rebate_app(planned_jakarta_spend_idr=2_000_000_000, planned_post_production_idr=3_000_000_000)
    assert [e["loc"] for e in refused.value.errors()] == [("planned_post_production_idr",)]


def test_indonesian_crew_share():
    check = checks(app=rebate_app(crew_total=40, crew_indonesian=19))["indonesian_crew"]
    assert not check.ok
    assert check.detail == "19 of 40 crew are Indonesian (47.5%); at least 50% needed"
    assert checks(app=rebate_app(crew_total=40, crew_indonesian=20))["indonesian_crew"].ok
    # 2 of 3 is 66.66…%: shown rounded down
    assert checks(app=rebate_app(crew_total=3, crew_indonesian=2))["indonesian_crew"].detail.startswith(
        "2 of 3 crew are Indonesian (66.6%)")


@pytest.mark.parametrize(("fiscal_year", "ok"), [(2026, False), (2027, True), (2028, True), (2029, False)])
def test_fiscal_year_is_the_current_or_the_next(fiscal_year, ok):
    check = checks(app=rebate_app(fiscal_year=fiscal_year))["fiscal_year"]
    assert check.ok is ok
    assert check.detail == (f"fiscal year {fiscal_year}: applications are taken for the current fiscal year (2027) "
                            "or the next (2028)")


def test_fiscal_year_is_counted_in_jakarta():
    new_year_in_jakarta = dt.datetime(2026, 12, 31, 18, 0, tzinfo=dt.UTC)  # 2027-01-01 01:00 WIB
    assert not checks(app=rebate_app(fiscal_year=2026), at=new_year_in_jakarta)["fiscal_year"].ok


# ---- eligibility: shooting_days_grant -------------------------------------------------------------------


def test_grant_needs_the_lowest_tier():
    assert [c.rule for c in incentives.eligibility(GRANT, grant_app(), permit(7), ORG, APPLIED)] == [
        "linked_permit", "shoot_days", "fiscal_year"]
    assert failed(GRANT, grant_app(), permit(7)) == []
    check = checks(GRANT, grant_app(), permit(6))["shoot_days"]
    assert not check.ok
    assert check.detail == ("6 distinct shoot day(s) in Jakarta on PRM-AAAAAAAAAAAA; at least 7 needed "
                            "(tier 7+ days, Rp 200,000,000)")


def test_grant_with_another_organisations_permit():
    assert failed(GRANT, grant_app(), permit(20, organisation_id="ORG-2")) == ["linked_permit", "shoot_days"]


# ---- eligibility: first_feature_fund ---------------------------------------------------------------------


def test_fund_lists_every_rule_and_passes():
    found = incentives.eligibility(FUND, fund_app(), permit(), ORG, APPLIED)
    assert [c.rule for c in found] == ["linked_permit", "project", "first_feature", "director_indonesian",
                                       "call_open", "fiscal_year", "grant_amount"]
    assert all(c.ok for c in found), [c for c in found if not c.ok]
    by_rule = {c.rule: c.detail for c in found}
    assert by_rule["call_open"] == "call FFF-2027-1 is open until 2027-03-31 23:59 WIB (UTC+7)"
    assert by_rule["grant_amount"] == "asked for Rp 1,000,000,000; the fund grants Rp 1,000,000,000 or Rp 2,000,000,000"


def test_fund_first_feature():
    assert failed(FUND, fund_app(director_first_feature=False)) == ["first_feature"]
    unstated = checks(FUND, fund_app(director_first_feature=None))["first_feature"]
    assert not unstated.ok
    assert "not stated" in unstated.detail


def test_fund_director_indonesian():
    check = checks(FUND, fund_app({"director_nationality": "MY"}))["director_indonesian"]
    assert not check.ok
    assert check.detail == "the director's nationality is MY; the fund is for Indonesian directors"


def test_fund_without_project():
    app = rebate_app(programme="first_feature_fund", director_first_feature=True)
    assert failed(FUND, app) == ["project", "director_indonesian", "call_open", "fiscal_year", "grant_amount"]


def test_fund_call_must_exist():
    check = checks(FUND, fund_app({"call_id": "FFF-2026-9"}))["call_open"]
    assert not check.ok
    assert check.detail == "there is no call FFF-2026-9; the fund's calls: FFF-2027-1"
    assert failed(FUND, fund_app({"call_id": "FFF-2026-9"})) == ["call_open", "fiscal_year"]
    assert failed(FUND, fund_app({"call_id": None})) == ["call_open", "fiscal_year"]


@pytest.mark.parametrize(("at", "ok"), [
    (dt.datetime(2026, 10, 31, 23, 59, 59, tzinfo=WIB), False),
    (dt.datetime(2026, 11, 1, 0, 0, tzinfo=WIB), True),  # opens_at
    (dt.datetime(2027, 3, 31, 23, 59, 59, tzinfo=WIB), True),  # the deadline itself
    (dt.datetime(2027, 3, 31, 17, 0, tzinfo=dt.UTC), False),  # 2027-04-01 00:00 WIB
])
def test_fund_call_open_at_the_time_applied(at, ok):
    assert checks(FUND, fund_app(), at=at)["call_open"].ok is ok


def test_fund_call_closed_is_explained():
    at = dt.datetime(2027, 4, 2, 9, 30, tzinfo=WIB)
    assert checks(FUND, fund_app(), at=at)["call_open"].detail == (
        "call FFF-2027-1 closed at 2027-03-31 23:59 WIB (UTC+7); applied at 2027-04-02 09:30 WIB (UTC+7)")


def test_fund_call_of_another_fiscal_year():
    check = checks(FUND, fund_app(fiscal_year=2028))["fiscal_year"]
    assert not check.ok
    assert check.detail == "call FFF-2027-1 funds fiscal year 2027; the application is for fiscal year 2028"


@pytest.mark.parametrize(("requested", "ok"), [(1_000_000_000, True), (2_000_000_000, True),
                                               (1_500_000_000, False), (None, False)])
def test_fund_grant_amount(requested, ok):
    assert checks(FUND, fund_app({"requested_grant_idr": requested}))["grant_amount"].ok is ok


# ---- the estimate ------------------------------------------------------------------------------------------


def estimate(app: IncentiveApplication, at: dt.datetime = APPLIED, facts: PermitFacts | None = None
             ) -> incentives.Estimate:
    return incentives.estimate(REBATE, app, facts or permit(), at)


def test_rebate_at_the_standard_rate():
    # 10,000,000,000 planned with 3,000,000,000 post-production: all 10,000,000,000 qualify;
    # 25% of it is 2,500,000,000, exactly the cap
    result = estimate(rebate_app())
    assert (result.rate, result.amount_idr) == (0.25, 2_500_000_000)
    assert result.detail == ("25% (the standard rate) × planned qualifying Jakarta spend Rp 10,000,000,000 (other "
                             "spend Rp 7,000,000,000 + post-production Rp 3,000,000,000, which counts for at most 50% "
                             "of qualifying spend) = Rp 2,500,000,000, rounded down to the rupiah")


def test_rebate_cap():
    # 12,000,000,000 × 25% = 3,000,000,000, capped at 2,500,000,000
    result = estimate(rebate_app(planned_jakarta_spend_idr=12_000_000_000, planned_post_production_idr=0))
    assert result.amount_idr == 2_500_000_000
    assert "= Rp 3,000,000,000, rounded down to the rupiah; capped at Rp 2,500,000,000 per production" in result.detail


def test_rebate_post_production_share():
    # 8,000,000,000 planned, 6,000,000,000 post-production: 2,000,000,000 other spend, post-production counts for
    # 2,000,000,000: 4,000,000,000 qualifying × 25% (8,000,000,000 planned is not a small budget) = 1,000,000,000
    result = estimate(rebate_app(planned_jakarta_spend_idr=8_000_000_000, planned_post_production_idr=6_000_000_000))
    assert (result.rate, result.amount_idr) == (0.25, 1_000_000_000)


def test_rebate_small_budget():
    # 4,000,000,000 planned (< 5,000,000,000), 1,000,000,000 post: all qualifies; 20% = 800,000,000
    result = estimate(rebate_app(planned_jakarta_spend_idr=4_000_000_000, planned_post_production_idr=1_000_000_000))
    assert (result.rate, result.amount_idr) == (0.20, 800_000_000)
    assert result.detail.startswith("20% (the small-budget rate: planned Jakarta spend Rp 4,000,000,000 is below "
                                    "Rp 5,000,000,000) × planned qualifying Jakarta spend Rp 4,000,000,000")
    # exactly 5,000,000,000 is not below it: 25% = 1,250,000,000
    assert estimate(rebate_app(planned_jakarta_spend_idr=5_000_000_000, planned_post_production_idr=0)
                    ).amount_idr == 1_250_000_000


def test_rebate_rounds_down():
    # 1,999,999,999 × 20% = 399,999,999.8 → 399,999,999
    assert estimate(rebate_app(planned_jakarta_spend_idr=1_999_999_999, planned_post_production_idr=0)
                    ).amount_idr == 399_999_999


@pytest.mark.parametrize(("applied_on", "rate", "amount"), [
    (dt.date(2027, 1, 30), 0.25, 2_500_000_000),  # 30 days before 2027-03-01: not fewer than 30
    (dt.date(2027, 1, 31), 0.15, 1_500_000_000),  # 29 days before: 15% × 10,000,000,000
    (dt.date(2027, 3, 1), 0.15, 1_500_000_000),  # on the first shoot day
])
def test_rebate_late_application(applied_on, rate, amount):
    result = estimate(rebate_app(), at=dt.datetime.combine(applied_on, dt.time(9), tzinfo=WIB))
    assert (result.rate, result.amount_idr) == (rate, amount)


def test_rebate_late_is_counted_in_jakarta():
    # 2027-01-30 17:30 UTC is 2027-01-31 00:30 in Jakarta: 29 days before the first shoot day
    result = estimate(rebate_app(), at=dt.datetime(2027, 1, 30, 17, 30, tzinfo=dt.UTC))
    assert result.rate == 0.15
    assert result.detail.startswith("15% (the late-application rate: applied 29 day(s) before the first shoot day, "
                                    "fewer than 30 days before it)")


def test_rebate_small_and_late_takes_the_lower():
    # 4,000,000,000 qualifying; min(20%, 15%) = 15%: 600,000,000
    result = estimate(rebate_app(planned_jakarta_spend_idr=4_000_000_000, planned_post_production_idr=1_000_000_000),
                      at=dt.datetime(2027, 2, 15, 9, tzinfo=WIB))
    assert (result.rate, result.amount_idr) == (0.15, 600_000_000)
    assert result.detail.startswith("15% (planned Jakarta spend Rp 4,000,000,000 is below Rp 5,000,000,000 (20%) and "
                                    "applied 14 day(s) before the first shoot day, fewer than 30 days before it "
                                    "(15%): the lower of the two applies)")


@pytest.mark.parametrize(("days", "amount"), [(6, 0), (7, 200_000_000), (14, 200_000_000), (15, 300_000_000),
                                              (19, 300_000_000), (20, 400_000_000), (45, 400_000_000)])
def test_grant_tiers(days, amount):
    result = incentives.estimate(GRANT, grant_app(), permit(days), APPLIED)
    assert (result.rate, result.amount_idr) == (None, amount)


def test_grant_detail():
    assert incentives.estimate(GRANT, grant_app(), permit(16), APPLIED).detail == (
        "16 distinct shoot day(s) in Jakarta: tier 15+ days, Rp 300,000,000")


def test_grant_for_days():
    assert GRANT.shooting_days is not None
    assert incentives.grant_for_days(GRANT.shooting_days, 6) is None
    assert incentives.grant_for_days(GRANT.shooting_days, 7) == GrantTier(min_days=7, amount_idr=200_000_000)
    assert incentives.grant_for_days(GRANT.shooting_days, 15) == GrantTier(min_days=15, amount_idr=300_000_000)
    assert incentives.grant_for_days(GRANT.shooting_days, 20) == GrantTier(min_days=20, amount_idr=400_000_000)


def test_fund_estimate_is_the_requested_grant():
    result = incentives.estimate(FUND, fund_app({"requested_grant_idr": 2_000_000_000}), permit(), APPLIED)
    assert (result.rate, result.amount_idr) == (None, 2_000_000_000)


# ---- tranche plans -----------------------------------------------------------------------------------------


def plan(programme, reserved: int) -> list[tuple[int, int, str | None]]:
    return [(t.n, t.amount_idr, t.milestone) for t in incentives.tranche_plan(programme, reserved)]


def test_rebate_tranches():
    # 30% of 2,500,000,000 = 750,000,000; the final tranche waits for the settlement
    assert plan(REBATE, 2_500_000_000) == [(1, 750_000_000, "photography_start"), (2, 0, "final")]
    # 30% of 1,000,000,001 = 300,000,000.3 → 300,000,000
    assert plan(REBATE, 1_000_000_001) == [(1, 300_000_000, "photography_start"), (2, 0, "final")]


def test_grant_tranche():
    assert plan(GRANT, 300_000_000) == [(1, 300_000_000, "report")]


def test_fund_tranches_add_up_exactly():
    assert plan(FUND, 2_000_000_000) == [(1, 800_000_000, "photography_start"), (2, 800_000_000, "rough_cut"),
                                         (3, 400_000_000, "delivery")]
    # 40% of 1,000,000,001 = 400,000,000.4 → 400,000,000 twice; the last takes 1,000,000,001 − 800,000,000
    assert plan(FUND, 1_000_000_001) == [(1, 400_000_000, "photography_start"), (2, 400_000_000, "rough_cut"),
                                         (3, 200_000_001, "delivery")]
    # 40% of 7 = 2.8 → 2 twice; the last 7 − 4 = 3
    assert [amount for _, amount, _ in plan(FUND, 7)] == [2, 2, 3]


# ---- the settlement ----------------------------------------------------------------------------------------


def settle(qualifying: int, post: int, reserved: int, paid: int, rate: float = 0.25) -> incentives.Settlement:
    assert REBATE.rebate is not None
    return incentives.settle_rebate(REBATE.rebate, rate, qualifying, post, reserved, paid)


def figures(s: incentives.Settlement) -> tuple[int, int, int, int]:
    return s.rebate_idr, s.final_tranche_idr, s.clawback_idr, s.release_idr


def test_settlement_pays_the_final_tranche():
    # 8,000,000,000 audited (2,000,000,000 post-production, within half) × 25% = 2,000,000,000, all reserved;
    # 600,000,000 paid (30%): final 1,400,000,000, nothing left to release
    result = settle(8_000_000_000, 2_000_000_000, reserved=2_000_000_000, paid=600_000_000)
    assert figures(result) == (2_000_000_000, 1_400_000_000, 0, 0)
    assert result.detail == (
        "25% × audited qualifying Jakarta spend Rp 8,000,000,000 (other spend Rp 6,000,000,000 + post-production "
        "Rp 2,000,000,000, which counts for at most 50% of qualifying spend) = Rp 2,000,000,000, rounded down to the "
        "rupiah; audited rebate Rp 2,000,000,000; already paid Rp 600,000,000; final tranche Rp 1,400,000,000; "
        "Rp 0 of the reservation goes back to the fund")


def test_settlement_releases_what_the_audit_did_not_confirm():
    # 6,000,000,000 × 25% = 1,500,000,000; paid 600,000,000: final 900,000,000; 2,000,000,000 − 1,500,000,000 back
    assert figures(settle(6_000_000_000, 0, reserved=2_000_000_000, paid=600_000_000)) == (
        1_500_000_000, 900_000_000, 0, 500_000_000)


def test_settlement_claws_back_an_overpaid_first_tranche():
    # 2,000,000,000 × 25% = 500,000,000 but 600,000,000 was paid: claw back 100,000,000, no final tranche;
    # the unpaid 2,000,000,000 − 600,000,000 = 1,400,000,000 goes back
    result = settle(2_000_000_000, 0, reserved=2_000_000_000, paid=600_000_000)
    assert figures(result) == (500_000_000, 0, 100_000_000, 1_400_000_000)
    assert "Rp 100,000,000 is clawed back and there is no final tranche" in result.detail


def test_settlement_limits_post_production():
    # 8,000,000,000 audited, 5,000,000,000 of it post-production: 3,000,000,000 other spend, post-production counts
    # for 3,000,000,000: 6,000,000,000 × 25% = 1,500,000,000; paid 750,000,000; 2,500,000,000 − 1,500,000,000 back
    result = settle(8_000_000_000, 5_000_000_000, reserved=2_500_000_000, paid=750_000_000)
    assert figures(result) == (1_500_000_000, 750_000_000, 0, 1_000_000_000)
    assert "post-production Rp 3,000,000,000 of the Rp 5,000,000,000 audited" in result.detail


def test_settlement_caps_at_the_programme_cap():
    # 12,000,000,000 × 25% = 3,000,000,000 → 2,500,000,000
    result = settle(12_000_000_000, 0, reserved=2_500_000_000, paid=750_000_000)
    assert figures(result) == (2_500_000_000, 1_750_000_000, 0, 0)
    assert "capped at Rp 2,500,000,000 per production" in result.detail
    assert "reserved:" not in result.detail


def test_settlement_never_pays_more_than_the_reservation():
    # 6,000,000,000 × 25% = 1,500,000,000, but only 1,000,000,000 was reserved; 300,000,000 paid
    result = settle(6_000_000_000, 0, reserved=1_000_000_000, paid=300_000_000)
    assert figures(result) == (1_000_000_000, 700_000_000, 0, 0)
    assert "limited to the Rp 1,000,000,000 reserved: the commission never pays more than it reserved" in result.detail


def test_settlement_rounds_down_at_the_late_rate():
    # 1,999,999,999 × 15% = 299,999,999.85 → 299,999,999; reserved 300,000,000, paid 90,000,000
    assert figures(settle(1_999_999_999, 0, reserved=300_000_000, paid=90_000_000, rate=0.15)) == (
        299_999_999, 209_999_999, 0, 1)


# ---- claims ------------------------------------------------------------------------------------------------


def line(amount: int, date: dt.date = dt.date(2027, 3, 2), category: str = "crew", in_jakarta: bool = True,
         supplier: str = "PT Kru") -> ClaimLine:
    return ClaimLine(category=category, supplier=supplier, amount_idr=amount, date=date, in_jakarta=in_jakarta)


def rebate_claim(*lines: ClaimLine, total: int | None = None) -> Claim:
    return Claim(lines=list(lines), total_idr=sum(x.amount_idr for x in lines) if total is None else total)


def paths(programme, claim: Claim, facts: PermitFacts | None = None) -> list[str]:
    return [p.path for p in incentives.claim_problems(programme, claim, facts or permit())]


def test_good_rebate_claim():
    # shoots 2027-03-01..03-06: spend counts from 2026-03-01 to 2027-05-05 (60 days after 03-06)
    claim = rebate_claim(line(3_000_000_000), line(2_000_000_000, dt.date(2027, 5, 5), "post_production"),
                         line(1_000_000_000, dt.date(2026, 3, 1), "location"))
    assert paths(REBATE, claim) == []


def test_rebate_claim_needs_lines_and_total():
    assert paths(REBATE, Claim()) == ["lines", "total_idr"]


def test_rebate_claim_line_outside_jakarta():
    claim = rebate_claim(line(1_000_000_000), line(50_000_000, in_jakarta=False, supplier="Hotel Bandung"))
    [problem] = incentives.claim_problems(REBATE, claim, permit())
    assert problem.path == "lines[1].in_jakarta"
    assert problem.message == ("Rp 50,000,000 to Hotel Bandung was not spent in Jakarta: only Jakarta spend "
                               "qualifies; remove the line")


def test_rebate_claim_total_must_be_the_sum():
    [problem] = incentives.claim_problems(REBATE, rebate_claim(line(1_000_000_000), line(5), total=1_000_000_000),
                                          permit())
    assert problem.path == "total_idr"
    assert problem.message == "the total Rp 1,000,000,000 is not the sum of the lines, Rp 1,000,000,005"


def test_rebate_claim_post_production_over_half():
    # 1,500,000,000 post-production of 2,500,000,000 in Jakarta (60%); beside 1,000,000,000 other spend at most
    # 1,000,000,000 of post-production can count
    claim = rebate_claim(line(1_000_000_000), line(1_500_000_000, category="post_production"))
    [problem] = incentives.claim_problems(REBATE, claim, permit())
    assert problem.path == "lines"
    assert problem.message == ("post-production lines add up to Rp 1,500,000,000 of the claim's Rp 2,500,000,000 in "
                               "Jakarta (60%); post-production counts for at most 50% of qualifying spend, so beside "
                               "Rp 1,000,000,000 of other spend at most Rp 1,000,000,000 of it can be claimed")
    # exactly half is fine
    assert paths(REBATE, rebate_claim(line(1_000_000_000), line(1_000_000_000, category="post_production"))) == []


def test_rebate_claim_post_production_share_of_the_jakarta_total_only():
    # post-production outside Jakarta is refused as such, not counted in the share
    claim = rebate_claim(line(1_000_000_000), line(1_000_000_000, category="post_production"),
                         line(5_000_000_000, category="post_production", in_jakarta=False))
    assert paths(REBATE, claim) == ["lines[2].in_jakarta"]


def test_rebate_claim_line_dates():
    claim = rebate_claim(line(1_000_000_000, dt.date(2026, 2, 28)), line(1_000_000_000),
                         line(1_000_000_000, dt.date(2027, 5, 6)))
    problems = incentives.claim_problems(REBATE, claim, permit())
    assert [p.path for p in problems] == ["lines[0].date", "lines[2].date"]
    assert problems[0].message == ("dated 2026-02-28: spend counts from 2026-03-01 (a year before the first shoot "
                                   "day) to 2027-05-05 (60 days after the last shoot day)")


def test_rebate_claim_a_year_before_29_february():
    facts = permit(first=dt.date(2028, 2, 29))
    assert paths(REBATE, rebate_claim(line(1_000_000_000, dt.date(2027, 2, 28))), facts) == []
    assert paths(REBATE, rebate_claim(line(1_000_000_000, dt.date(2027, 2, 27))), facts) == ["lines[0].date"]


@pytest.mark.parametrize("report", [None, "", "   "])
def test_grant_report_is_needed(report):
    assert paths(GRANT, Claim(report=report)) == ["report"]


def test_grant_report_without_lines():
    assert paths(GRANT, Claim(report="Eight days in Kota Tua and Menteng, 60 crew, 40 from Jakarta.")) == []


def test_fund_milestone_report():
    assert paths(FUND, Claim(milestone="rough_cut", report="Rough cut screened to the panel.")) == []
    assert paths(FUND, Claim(milestone="delivery", report="Delivered.")) == []
    assert paths(FUND, Claim(milestone="delivery")) == ["report"]
    assert paths(FUND, Claim(report="Started.")) == ["milestone"]
    [problem] = incentives.claim_problems(FUND, Claim(milestone="photography_start", report="Started."), permit())
    assert problem.path == "milestone"
    assert problem.message == "'photography_start' is not a milestone to report; report one of: rough_cut, delivery"
