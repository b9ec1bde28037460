"""Bad input at scale: whatever JSON an applicant sends, the schemas answer with a `ValidationError` and nothing
else; and whatever validates, the pure rules (planning, routing, fees, lead time, the incentive rules) never crash.

Each property keeps `max_examples` modest so the suite stays fast; `database=None` keeps runs reproducible from
the seed alone.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from domain_samples import CONFIG, RULES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from domain import incentives
from domain.fees import compute_fees
from domain.incentive_rules import load_incentive_rules
from domain.leadtime import earliest_feasible_start, lead_time_business_days
from domain.planning import intake_problems, plan_application
from domain.routing import route
from schemas.application import LocationKind, PermitApplication, ProductionKind, RoadUse
from schemas.incentives import Claim, ClaimCategory, IncentiveApplication, PermitFacts, Programme

EXAMPLES = 60
FEW = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
WIB = dt.timezone(dt.timedelta(hours=7))
PROGRAMME_RULES = load_incentive_rules(CONFIG / "incentives.toml", "http://sim.test")
REBATE, GRANT, FUND = (PROGRAMME_RULES.get(p) for p in ("location_rebate", "shooting_days_grant", "first_feature_fund"))

# ---- arbitrary JSON-ish input ---------------------------------------------------------------------------

ODD_STRINGS = st.sampled_from([
    "", " ", "\x00", "\u202e", "\ud800", "null", "NaN", "1e309", "-1", "0x10", "2027-02-30", "24:00", "9999-12-31",
    "0001-01-01", "https://", "https://[::1", "https://xn--/", "https://a:99999/", "https://10.0.0.1/", "a" * 10_000,
    "😀" * 300, "ID", "PRM-" + "A" * 100, "2027-01-12T25:00", "true",
]) | st.text(max_size=40)
EXTREME_NUMBERS = st.sampled_from([
    0, -1, 1, 2**31, 2**63, -(2**63), 10**100, -(10**100), 1e308, -1e308, float("inf"), float("-inf"),
    float("nan"), 0.5, -0.0, 5e-324,
]) | st.integers() | st.floats()
SCALARS = st.none() | st.booleans() | EXTREME_NUMBERS | ODD_STRINGS
JSONISH = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(ODD_STRINGS, inner, max_size=4), max_leaves=20)


def only_validation_errors(model: type[BaseModel], data: Any) -> BaseModel | None:
    """`model` validated from `data` as the API would (a Python object, and as JSON text when it is JSON);
    a `ValidationError` is the only refusal allowed."""
    found = None
    try:
        found = model.model_validate(data)
    except ValidationError:
        pass
    try:
        text = json.dumps(data, allow_nan=False)
    except (ValueError, TypeError):  # NaN, infinity, lone surrogates: not JSON, no JSON body can carry them
        return found
    try:
        model.model_validate_json(text)
    except ValidationError:
        pass
    except UnicodeEncodeError:  # a lone surrogate is not UTF-8: it cannot arrive as JSON text either
        pass
    return found


# ---- valid samples and their mutations ------------------------------------------------------------------

VALID_PERMIT = {
    "applicant": {"company": "PT Contoh Film", "country": "ID", "contact_name": "Sari", "email": "sari@contoh.id",
                  "phone": "+62 812 0000 0000", "webhook_url": "https://hooks.contoh.id/jfc"},
    "production": {"title": "Senja di Kota", "kind": "feature_film", "synopsis": "Dua orang di Jakarta."},
    "locations": [{"name": "Taman Suropati", "kind": "park", "address": "Jl. Taman Suropati", "city": "Jakarta",
                   "lat": -6.2, "lon": 106.83, "days": [{"date": "2027-01-12", "start": "06:00", "end": "18:00"}],
                   "crew_size": 60, "vehicles": 8, "road_use": "lane_closure", "drone": True}],
    "foreign_crew": [{"name": "Kim", "nationality": "KR", "passport_number": "M1234567", "role": "camera"}],
    "insurance": {"insurer": "PT Asuransi", "policy_number": "P-1", "coverage_idr": 5_000_000_000,
                  "valid_until": "2027-12-31"},
    "expedite": {"requested": True, "reason": "festival deadline"},
}
VALID_INCENTIVE = {
    "programme": "first_feature_fund", "permit_id": "PRM-AAAAAAAAAAAA", "fiscal_year": 2027,
    "planned_jakarta_spend_idr": 10_000_000_000, "planned_post_production_idr": 3_000_000_000, "crew_total": 40,
    "crew_indonesian": 30, "director_first_feature": True,
    "project": {"director_name": "Sari", "director_nationality": "ID", "synopsis": "", "call_id": "FFF-2027-1",
                "requested_grant_idr": 1_000_000_000},
}
VALID_CLAIM = {
    "lines": [{"category": "location", "supplier": "PT Lokasi", "amount_idr": 100_000_000, "date": "2027-03-02",
               "in_jakarta": True},
              {"category": "post_production", "supplier": "PT Post", "amount_idr": 50_000_000, "date": "2027-04-01",
               "in_jakarta": False}],
    "total_idr": 150_000_000, "report": "shot in Kota Tua", "milestone": "rough_cut",
}


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into `value` (dict keys and list indexes), the empty path (the whole value) included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += paths(item, (*prefix, i))
    return found


def mutated(sample: dict[str, Any], draw: Any) -> Any:
    """`sample` with a few changes at random paths: a field dropped, a value replaced by something of another
    type, an extreme number, an odd string, an unknown field added or a list emptied or repeated."""
    data = copy.deepcopy(sample)
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths(data)))
        if not where:
            data = draw(st.sampled_from([data, [data], None, "", 0]))
            if not isinstance(data, dict):
                return data
            continue
        parent = data
        try:
            for part in where[:-1]:
                parent = parent[part]
            current = parent[where[-1]]
        except (KeyError, IndexError, TypeError):
            continue
        how = draw(st.sampled_from(["drop", "json", "number", "string", "extra", "list"]))
        if how == "drop":
            del parent[where[-1]]
        elif how == "json":
            parent[where[-1]] = draw(JSONISH)
        elif how == "number":
            parent[where[-1]] = draw(EXTREME_NUMBERS)
        elif how == "string":
            parent[where[-1]] = draw(ODD_STRINGS)
        elif how == "extra" and isinstance(current, dict):
            current[draw(ODD_STRINGS)] = draw(SCALARS)
        elif how == "list":
            parent[where[-1]] = draw(st.sampled_from([[], [current], [current, current], [current] * 60]))
    return data


@st.composite
def mutations(draw: Any, sample: dict[str, Any]) -> Any:
    return mutated(sample, draw)


@FEW
@given(JSONISH)
def test_any_json_is_refused_only_with_a_validation_error(data):
    for model in (PermitApplication, IncentiveApplication, Claim):
        only_validation_errors(model, data)


@FEW
@given(mutations(VALID_PERMIT))
def test_a_mutated_permit_application_is_refused_only_with_a_validation_error(data):
    app = only_validation_errors(PermitApplication, data)
    if app is not None:  # what still validates is planned without a crash
        plan = plan_application(app, RULES, dt.datetime(2026, 11, 2, 9, tzinfo=WIB))
        intake_problems(app, plan, dt.date(2026, 11, 2))


@FEW
@given(mutations(VALID_INCENTIVE))
def test_a_mutated_incentive_application_is_refused_only_with_a_validation_error(data):
    only_validation_errors(IncentiveApplication, data)


@FEW
@given(mutations(VALID_CLAIM))
def test_a_mutated_claim_is_refused_only_with_a_validation_error(data):
    only_validation_errors(Claim, data)


def test_the_valid_samples_are_valid():
    PermitApplication.model_validate(VALID_PERMIT)
    IncentiveApplication.model_validate(VALID_INCENTIVE)
    Claim.model_validate(VALID_CLAIM)


# ---- valid inputs, boundary values included ---------------------------------------------------------------

BOUNDARY_DATES = st.sampled_from([
    dt.date.min, dt.date(1, 12, 31), dt.date(1970, 1, 1), dt.date(2024, 2, 29), dt.date(2026, 12, 31),
    dt.date(2027, 1, 1), dt.date(2028, 2, 29), dt.date(2100, 12, 31), dt.date(9999, 12, 1), dt.date.max,
])
DATES = BOUNDARY_DATES | st.dates(dt.date(2020, 1, 1), dt.date(2100, 12, 31))
NEAR_DATES = st.dates(dt.date(2025, 1, 1), dt.date(2030, 12, 31)) | st.sampled_from(
    [dt.date(2026, 12, 31), dt.date(2027, 1, 1), dt.date(2028, 2, 29), dt.date(2027, 3, 31)])
MOMENTS = st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2100, 12, 30),
                       timezones=st.sampled_from([WIB, dt.timezone.utc, dt.timezone(dt.timedelta(hours=-12)),
                                                  dt.timezone(dt.timedelta(hours=14))]))
AMOUNTS = st.sampled_from([0, 1, 999, 10**12, 10**15, 2**63 - 1, 10**30]) | st.integers(0, 10**16)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30).filter(str.strip)


@st.composite
def shoot_days(draw: Any, dates: st.SearchStrategy = DATES) -> list[dict[str, Any]]:
    chosen = draw(st.lists(dates, min_size=1, max_size=6, unique=True))
    start = draw(st.times(dt.time(0, 0), dt.time(23, 58)))
    end = draw(st.times(dt.time((start.hour * 60 + start.minute + 1) // 60, (start.minute + 1) % 60)))
    return [{"date": d.isoformat(), "start": start.isoformat(), "end": end.isoformat()} for d in chosen]


@st.composite
def locations(draw: Any) -> dict[str, Any]:
    return {
        "name": draw(TEXT), "kind": draw(st.sampled_from(list(LocationKind))).value, "address": draw(TEXT),
        "city": draw(TEXT), "lat": draw(st.floats(-6.45, -5.9)), "lon": draw(st.floats(106.3, 107.1)),
        "days": draw(shoot_days()), "crew_size": draw(st.sampled_from([1, 50, 51, 5000]) | st.integers(1, 5000)),
        "vehicles": draw(st.sampled_from([0, 5, 6, 1000]) | st.integers(0, 1000)),
        "road_use": draw(st.sampled_from(list(RoadUse))).value, "drone": draw(st.booleans()),
        "pyrotechnics": draw(st.booleans()), "fire_effects": draw(st.booleans()), "prop_weapons": draw(st.booleans()),
    }


@st.composite
def permit_applications(draw: Any) -> PermitApplication:
    crew = draw(st.lists(st.tuples(st.sampled_from(["KR", "US", "JP", "AU"]), st.sampled_from(["M1234567", "X99999"])),
                         max_size=4))
    return PermitApplication.model_validate({
        "applicant": {"company": draw(TEXT), "country": "ID", "contact_name": draw(TEXT),
                      "email": "sari@contoh.id", "phone": "+62 812 0000 0000"},
        "production": {"title": draw(TEXT), "kind": draw(st.sampled_from(list(ProductionKind))).value},
        "locations": draw(st.lists(locations(), min_size=1, max_size=4)),
        "foreign_crew": [{"name": "Crew", "nationality": n, "passport_number": p, "role": "camera"} for n, p in crew],
        "insurance": {"insurer": "PT Asuransi", "policy_number": "P-1", "coverage_idr": draw(st.integers(1, 10**18)),
                      "valid_until": draw(DATES).isoformat()},
    })


@FEW
@given(permit_applications(), MOMENTS)
def test_planning_never_crashes_on_a_valid_application(app, submitted_at):
    routed = route(app, RULES)
    assert [r.agency.code for r in routed] == [a.code for a in RULES.catalog.agencies if a.code in
                                               {r.agency.code for r in routed}]
    fees = compute_fees(app, RULES.fees)
    assert fees.total_idr == sum(line.amount_idr for line in fees.lines) >= 0
    lead = lead_time_business_days(routed)
    assert lead >= 0 and earliest_feasible_start(submitted_at, lead) > submitted_at.astimezone(WIB).date()
    plan = plan_application(app, RULES, submitted_at)
    for problem in intake_problems(app, plan, submitted_at.astimezone(WIB).date()):  # today: the clock's date
        assert problem.path and problem.message


# ---- the incentive rules ---------------------------------------------------------------------------------


@st.composite
def incentive_applications(draw: Any, programme: Programme) -> IncentiveApplication:
    spend = draw(AMOUNTS)
    total = draw(st.sampled_from([1, 2, 100_000]) | st.integers(1, 100_000))
    project = draw(st.none() | st.fixed_dictionaries({
        "director_name": TEXT, "director_nationality": st.sampled_from(["ID", "KR"]),
        "requested_grant_idr": st.none() | st.sampled_from(FUND.first_feature.grants_idr) | st.integers(1, 10**13),
        "call_id": st.none() | st.sampled_from([c.id for c in FUND.first_feature.calls] + ["FFF-1999-9"]),
    }))
    return IncentiveApplication.model_validate({
        "programme": programme.value, "permit_id": "PRM-AAAAAAAAAAAA",
        "fiscal_year": draw(st.sampled_from([2020, 2026, 2027, 2028, 2100]) | st.integers(2020, 2100)),
        "planned_jakarta_spend_idr": spend, "planned_post_production_idr": draw(st.integers(0, spend)),
        "crew_total": total, "crew_indonesian": draw(st.integers(0, total)),
        "director_first_feature": draw(st.none() | st.booleans()), "project": project,
    })


PERMIT_FACTS = st.builds(
    PermitFacts, permit_id=st.just("PRM-AAAAAAAAAAAA"), organisation_id=st.sampled_from(["ORG-1", "ORG-2", None]),
    status=st.sampled_from(["issued", "in_review", "rejected", "withdrawn", "lapsed", "completed"]),
    production_title=TEXT, production_kind=st.just("feature_film"), applicant_company=TEXT,
    shoot_dates=st.lists(DATES, max_size=8, unique=True).map(sorted))
PROGRAMMES = st.sampled_from([REBATE, GRANT, FUND])


@FEW
@given(st.data(), PROGRAMMES, st.none() | PERMIT_FACTS, st.sampled_from(["ORG-1", None]), MOMENTS)
def test_eligibility_estimate_and_tranches_never_crash(data, programme, permit, org, applied_at):
    app = data.draw(incentive_applications(programme.code))
    checks = incentives.eligibility(programme, app, permit, org, applied_at)
    assert checks and all(c.detail for c in checks)
    if permit is None or permit.organisation_id != org or org is None:
        assert not all(c.ok for c in checks)
    guess = incentives.estimate(programme, app, permit, applied_at)
    assert guess.amount_idr >= 0 and guess.detail
    if programme.code == Programme.location_rebate:
        assert guess.amount_idr <= programme.rebate.cap_idr
    reserved = data.draw(st.sampled_from([0, 1, guess.amount_idr]) | AMOUNTS)
    tranches = incentives.tranche_plan(programme, reserved)
    assert all(t.amount_idr >= 0 for t in tranches)
    if programme.code != Programme.location_rebate:
        assert sum(t.amount_idr for t in tranches) == reserved


@FEW
@given(AMOUNTS, AMOUNTS, AMOUNTS, AMOUNTS, st.sampled_from(["rate", "small_budget_rate", "late_rate"]))
def test_settlement_never_crashes_and_adds_up(qualifying, post, reserved, paid, which):
    rules = REBATE.rebate
    s = incentives.settle_rebate(rules, getattr(rules, which), qualifying, post, reserved, paid)
    assert 0 <= s.rebate_idr <= min(rules.cap_idr, reserved)
    assert s.final_tranche_idr >= 0 and s.clawback_idr >= 0 and s.release_idr >= 0
    assert paid + s.final_tranche_idr - s.clawback_idr == s.rebate_idr
    assert s.release_idr <= reserved


CLAIM_LINES = st.lists(st.fixed_dictionaries({
    "category": st.sampled_from(list(ClaimCategory)).map(lambda c: c.value), "supplier": TEXT,
    "amount_idr": st.integers(1, 10**15) | st.sampled_from([1, 2**63, 10**30]),
    "date": DATES.map(dt.date.isoformat), "in_jakarta": st.booleans()}), max_size=6)


@FEW
@given(PROGRAMMES, CLAIM_LINES, st.none() | AMOUNTS, st.none() | st.text(max_size=20),
       st.none() | st.sampled_from(["photography_start", "rough_cut", "picture_lock", "nope"]), PERMIT_FACTS)
def test_claim_problems_never_crash(programme, lines, total, report, milestone, permit):
    if total is None and lines and programme.code == Programme.location_rebate and len(lines) % 2:
        total = sum(line["amount_idr"] for line in lines)  # now and then a claim that adds up
    claim = Claim.model_validate({"lines": lines, "total_idr": total, "report": report, "milestone": milestone})
    for problem in incentives.claim_problems(programme, claim, permit):
        assert problem.path and problem.message


# ---- what the properties found (kept as plain regression tests) -----------------------------------------


def test_a_shoot_day_with_one_offset_time_is_refused_not_a_500():
    day = {"date": "2027-01-12", "start": "06:00", "end": "18:00+07:00"}
    data = {**VALID_PERMIT, "locations": [{**VALID_PERMIT["locations"][0], "days": [day]}]}
    try:
        PermitApplication.model_validate(data)
    except ValidationError as exc:
        assert exc.errors()[0]["loc"] == ("locations", 0, "days", 0, "end")
    else:
        raise AssertionError("a naive start with an offset end validated")


def test_claims_on_a_permit_at_the_ends_of_the_calendar_are_checked():
    for dates, outside in (([dt.date.min], True), ([dt.date.max], True), ([dt.date(1, 2, 28), dt.date(9999, 12, 1)],
                                                                          False)):
        permit = PermitFacts(permit_id="PRM-AAAAAAAAAAAA", organisation_id="ORG-1", status="issued",
                             production_title="Senja", production_kind="feature_film", applicant_company="PT",
                             shoot_dates=dates)
        claim = Claim.model_validate(VALID_CLAIM)
        found = [p.path for p in incentives.claim_problems(REBATE, claim, permit)]
        assert ("lines[0].date" in found) is outside and "lines[1].in_jakarta" in found
