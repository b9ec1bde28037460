"""The incentive API's answers to bad input on the real stack: malformed, ineligible, reused keys, wrong moments."""

from __future__ import annotations

import datetime as dt
import uuid

from domain.jakarta import jakarta_date
from tests.e2e.conftest import Stack
from tests.e2e.test_incentive_journey import issued_studio_permit, until


def rebate(permit_id: str, fiscal_year: int, **changes) -> dict:
    return {"programme": "location_rebate", "permit_id": permit_id, "fiscal_year": fiscal_year,
            "planned_jakarta_spend_idr": 8_000_000_000, "planned_post_production_idr": 1_000_000_000,
            "crew_total": 30, "crew_indonesian": 27, **changes}


async def apply(stack: Stack, body: dict, key: str | None = None):
    return await stack.http.post(f"{stack.api}/v1/incentives", json=body,
                                 headers={"Idempotency-Key": key or str(uuid.uuid4())})


async def test_bad_applications_are_named_field_by_field_or_rule_by_rule(stack: Stack) -> None:
    today = jakarta_date(dt.datetime.now(dt.UTC))
    permit_id = await issued_studio_permit(stack, today)

    malformed = await apply(stack, rebate(permit_id, today.year, planned_jakarta_spend_idr=-5, crew_total="many",
                                          programme="lottery"))
    assert malformed.status_code == 422, malformed.text
    paths = {p["path"] for p in malformed.json()["problems"]}
    assert {"programme", "planned_jakarta_spend_idr", "crew_total"} <= paths

    # well formed but ineligible: too little planned spend, too few Indonesian crew, and a 5-day shoot for the grant
    key = str(uuid.uuid4())
    thin = rebate(permit_id, today.year, planned_jakarta_spend_idr=1_000_000_000, planned_post_production_idr=0,
                  crew_indonesian=3)
    accepted = await apply(stack, thin, key)
    assert accepted.status_code == 202, accepted.text
    incentive_id = accepted.json()["id"]

    async def view(iid: str = incentive_id) -> dict:
        return (await stack.http.get(f"{stack.api}/v1/incentives/{iid}")).json()

    rejected = await until("ineligible", view, lambda v: v["status"] == "ineligible")
    failed = {check["rule"]: check["detail"] for check in rejected["eligibility"] if not check["ok"]}
    assert set(failed) == {"planned_spend", "indonesian_crew"}, rejected["eligibility"]
    assert all(failed.values())  # each failed rule says what it found
    assert rejected["reserved_idr"] == 0

    again = await apply(stack, thin, key)
    assert (again.status_code, again.json()["id"]) == (202, incentive_id)  # the same key answers the same incentive
    reused = await apply(stack, rebate(permit_id, today.year), key)
    assert reused.status_code == 409 and "idempotency-key-reused" in reused.json()["type"]

    grant = await apply(stack, rebate(permit_id, today.year, programme="shooting_days_grant"))
    assert grant.status_code == 202, grant.text
    short = await until("grant refused", lambda: view(grant.json()["id"]), lambda v: v["status"] == "ineligible")
    assert [c["rule"] for c in short["eligibility"] if not c["ok"]] == ["shoot_days"]

    # a claim or a withdrawal on a closed incentive is a conflict, not a silent success
    late = await stack.http.post(f"{stack.api}/v1/incentives/{incentive_id}/withdraw", json={"reason": "changed mind"},
                                 headers={"Idempotency-Key": str(uuid.uuid4())})
    assert late.status_code == 409, late.text
    nobody = await stack.http.get(f"{stack.api}/v1/incentives/INC-NOSUCHTHING1")
    assert nobody.status_code == 404


async def test_a_claim_before_photography_is_refused_and_the_incentive_can_still_be_withdrawn(stack: Stack) -> None:
    today = jakarta_date(dt.datetime.now(dt.UTC))
    future = today + dt.timedelta(days=60)  # photography has not begun: the rebate waits with its reservation
    permit_id = await issued_studio_permit(stack, future)
    applied = await apply(stack, rebate(permit_id, future.year))
    assert applied.status_code == 202, applied.text
    incentive_id = applied.json()["id"]

    async def view() -> dict:
        return (await stack.http.get(f"{stack.api}/v1/incentives/{incentive_id}")).json()

    waiting = await until("reserved", view, lambda v: v["status"] == "awaiting_photography")
    assert waiting["reserved_idr"] == 2_000_000_000 and waiting["rate"] == 0.25  # early and above the small budget
    claim = {"lines": [{"category": "crew", "supplier": "Kru Jakarta", "amount_idr": 5_000_000_000,
                        "date": today.isoformat(), "in_jakarta": True}], "total_idr": 5_000_000_000}
    early = await stack.http.post(f"{stack.api}/v1/incentives/{incentive_id}/claim", json=claim,
                                  headers={"Idempotency-Key": str(uuid.uuid4())})
    assert early.status_code == 409, early.text
    withdrawn = await stack.http.post(f"{stack.api}/v1/incentives/{incentive_id}/withdraw",
                                      json={"reason": "the shoot moved to Bali"},
                                      headers={"Idempotency-Key": str(uuid.uuid4())})
    assert withdrawn.status_code == 200, withdrawn.text
    final = await until("withdrawn", view, lambda v: v["status"] == "withdrawn")
    assert final["reserved_idr"] == 0 and "the shoot moved to Bali" in final["timeline"][-1]["detail"]

    unknown_call = await stack.http.get(f"{stack.api}/v1/officer/calls/FFF-1999-9", headers=stack.officer)
    assert unknown_call.status_code == 404
    bad_score = await stack.http.post(f"{stack.api}/v1/officer/calls/FFF-2027-1/scores", headers={
        **stack.officer, "Idempotency-Key": str(uuid.uuid4())}, json={"incentive_id": incentive_id, "score": 140,
                                                                       "reason": "x"})
    assert bad_score.status_code == 422 and "score" in {p["path"] for p in bad_score.json()["problems"]}
