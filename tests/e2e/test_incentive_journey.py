"""A location rebate on the real stack, through the API: application to final tranche, audited by webhook.

The permit is a five-day shoot at a private studio starting today (expedited by an officer: no agency
to ask), so photography begins at once. Its end, the day after the last shoot day, is told to the
incentive by signal as the permit workflow does at that moment: the one step that would otherwise take days.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pypdf

from domain.jakarta import jakarta_date
from schemas.contracts import SIGNAL_PERMIT_EVENT
from schemas.incentive_contracts import PermitEvent, PermitEventKind
from store.accounts import create_account
from tests.e2e.conftest import Stack


def studio_shoot(first: dt.date) -> dict:
    days = [{"date": (first + dt.timedelta(days=i)).isoformat(), "start": "07:00", "end": "19:00"} for i in range(5)]
    return {
        "applicant": {"company": "PT Contoh Film", "country": "ID", "contact_name": "Sari", "email": "sari@contoh.id",
                      "phone": "+62 812 0000 0000"},
        "production": {"title": "Anak Kota", "kind": "feature_film", "synopsis": "A first feature."},
        "locations": [{"name": "Studio Persari", "kind": "private_property", "address": "Jl. Raya Pasar Minggu",
                       "city": "Jakarta Selatan", "lat": -6.2842, "lon": 106.8446, "days": days, "crew_size": 30,
                       "vehicles": 2, "road_use": "none", "drone": False, "pyrotechnics": False,
                       "prop_weapons": False}],
        "insurance": {"insurer": "PT Asuransi", "policy_number": "P-9", "coverage_idr": 5_000_000_000,
                      "valid_until": (first + dt.timedelta(days=60)).isoformat()},
        "expedite": {"requested": True, "reason": "the studio fell free this week"},
    }


async def post(stack: Stack, path: str, body: dict, headers: dict | None = None):
    return await stack.http.post(f"{stack.api}{path}", json=body,
                                 headers={**(headers or {}), "Idempotency-Key": str(uuid.uuid4())})


async def issued_studio_permit(stack: Stack, first: dt.date) -> str:
    """A five-day studio shoot from `first`, issued at once (no agency to ask; from today on an officer's expedite)."""
    submitted = await stack.submit(studio_shoot(first), key=str(uuid.uuid4()))
    assert submitted.status_code == 202, submitted.text
    permit_id = submitted.json()["id"]
    if (await stack.wait_for(permit_id, lambda v: v["awaiting_expedite"] or v["status"] == "issued"))["status"] \
            == "issued":
        return permit_id
    granted = await post(stack, f"/v1/officer/permits/{permit_id}/decisions",
                         {"kind": "expedite", "outcome": "approved", "reason": "studio shoot, no public space"},
                         stack.officer)
    assert granted.status_code == 200, granted.text
    await stack.wait_for(permit_id, lambda v: v["status"] == "issued")
    return permit_id


async def apply_for_rebate(stack: Stack, permit_id: str, fiscal_year: int) -> str:
    """The late rate (fewer than 30 days before the first shoot day) of 15% on Rp 8,000,000,000."""
    applied = await post(stack, "/v1/incentives", {
        "programme": "location_rebate", "permit_id": permit_id, "fiscal_year": fiscal_year,
        "planned_jakarta_spend_idr": 8_000_000_000, "planned_post_production_idr": 1_000_000_000,
        "crew_total": 30, "crew_indonesian": 27})
    assert applied.status_code == 202, applied.text
    incentive_id = applied.json()["id"]
    assert applied.json() == {"id": incentive_id, "status": "submitted",
                              "status_url": f"{stack.settings.public_base_url}/v1/incentives/{incentive_id}"}
    return incentive_id


async def until(what: str, probe: Callable[[], Awaitable[Any]], done: Callable[[Any], bool],
                timeout: float = 60.0) -> Any:
    """Probe every 0.2 s until `done`; fails naming `what` and the last thing seen."""
    give_up = asyncio.get_running_loop().time() + timeout
    while True:
        seen = await probe()
        if done(seen):
            return seen
        assert asyncio.get_running_loop().time() < give_up, f"{what}: {seen}"
        await asyncio.sleep(0.2)


async def test_a_rebate_travels_from_application_to_its_final_tranche(stack: Stack) -> None:
    await stack.behave("audit", decision="approve", decision_delay_ms=200)
    today = jakarta_date(dt.datetime.now(dt.UTC))
    permit_id = await issued_studio_permit(stack, today)
    incentive_id = await apply_for_rebate(stack, permit_id, today.year)

    async def incentive(done, timeout: float = 60.0) -> dict:
        async def view() -> dict:
            return (await stack.http.get(f"{stack.api}/v1/incentives/{incentive_id}")).json()
        return await until(incentive_id, view, done, timeout)

    # reserved, interim certificate, and the first tranche once photography began (it has: today)
    view = await incentive(lambda v: v["paid_idr"] > 0)
    assert all(check["ok"] for check in view["eligibility"])
    assert (view["rate"], view["reserved_idr"] + view["paid_idr"]) == (0.15, 1_200_000_000)
    assert view["tranches"][0]["amount_idr"] == 360_000_000 and view["tranches"][0]["reference"]
    assert [c["kind"] for c in view["certificates"]] == ["interim"]
    pdf = await stack.http.get(f"{stack.api}/v1/incentives/{incentive_id}/certificates/interim")
    assert pdf.status_code == 200
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert view["certificates"][0]["number"] in text

    # the day after the last shoot day, as the permit tells it
    await stack.temporal.get_workflow_handle(incentive_id).signal(SIGNAL_PERMIT_EVENT, PermitEvent(
        permit_id=permit_id, kind=PermitEventKind.photography_ended, at=dt.datetime.now(dt.UTC), status="completed",
        shoot_dates=[today + dt.timedelta(days=i) for i in range(5)]))
    await incentive(lambda v: v["status"] == "claim_due")
    lines = [{"category": "crew", "supplier": "Kru Jakarta", "amount_idr": 5_000_000_000, "date": today.isoformat(),
              "in_jakarta": True},
             {"category": "location", "supplier": "Studio Persari", "amount_idr": 2_000_000_000,
              "date": today.isoformat(), "in_jakarta": True},
             {"category": "catering", "supplier": "Bandung Catering", "amount_idr": 500_000_000,
              "date": today.isoformat(), "in_jakarta": False}]
    bad = await post(stack, f"/v1/incentives/{incentive_id}/claim", {"lines": lines, "total_idr": 7_500_000_000})
    assert bad.status_code == 422 and [p["path"] for p in bad.json()["problems"]] == ["lines[2].in_jakarta"]
    claimed = await post(stack, f"/v1/incentives/{incentive_id}/claim", {"lines": lines[:2], "total_idr": 7_000_000_000})
    assert claimed.status_code == 200, claimed.text

    # the audit firm audits and answers by signed webhook; the claim goes before the committee
    view = await incentive(lambda v: v["status"] == "committee")
    assert view["audit"]["qualifying_idr"] == 7_000_000_000 and view["audit"]["rebate_idr"] == 1_050_000_000
    async def in_read_model(path: str, headers: dict | None = None, items: str | None = None) -> None:
        give_up = asyncio.get_running_loop().time() + 20
        while True:  # the read model follows the workflow a moment later
            found = (await stack.http.get(f"{stack.api}{path}", headers=headers)).json()
            if incentive_id in [item["id"] for item in (found[items] if items else found)]:
                return
            assert asyncio.get_running_loop().time() < give_up, found
            await asyncio.sleep(0.2)

    await in_read_model("/v1/officer/committee", stack.officer)
    _, second_officer = await create_account(stack.pool, name="Officer Budi", role="officer")
    for headers in (stack.officer, {"Authorization": f"Bearer {second_officer}"}):
        voted = await post(stack, f"/v1/officer/incentives/{incentive_id}/decisions",
                           {"outcome": "approve", "reason": "receipts in order"}, headers)
        assert voted.status_code == 200, voted.text

    # the final tranche: the audited rebate (15% of 7,000,000,000) less the first tranche
    view = await incentive(lambda v: v["status"] == "clawback_window")
    assert [(t["amount_idr"], t["status"]) for t in view["tranches"]] == [(360_000_000, "paid"), (690_000_000, "paid")]
    assert view["paid_idr"] == 1_050_000_000 and view["reserved_idr"] == 0
    payments = (await stack.http.get(f"{stack.sim}/admin/agencies/treasury/requests")).json()
    ours = [p for p in payments if p["idempotency_key"].startswith(incentive_id)]
    assert sorted(p["idempotency_key"] for p in ours) == [f"{incentive_id}:tranche:1", f"{incentive_id}:tranche:2"]
    final = next(c for c in view["certificates"] if c["kind"] == "final")
    verified = (await stack.http.get(f"{stack.api}/v1/verify/{final['number']}",
                                     headers={"Accept": "application/json"})).json()
    assert verified["valid"] and verified["state"] == "valid"

    fund = (await stack.http.get(f"{stack.api}/v1/funds/{today.year}", headers=stack.officer)).json()
    rebate = next(p for p in fund["programmes"] if p["programme"] == "location_rebate")
    assert rebate["paid_idr"] >= 1_050_000_000
    assert rebate["available_idr"] + rebate["reserved_idr"] + rebate["paid_idr"] == \
        rebate["capacity_idr"] + rebate["clawed_back_idr"]
    await in_read_model("/v1/incentives", items="items")


async def test_a_treasury_outage_and_a_lost_answer_pay_the_first_tranche_exactly_once(stack: Stack) -> None:
    await stack.behave("treasury", lost_response_rate=1.0)  # it pays, but its answer never comes back
    today = jakarta_date(dt.datetime.now(dt.UTC))
    incentive_id = await apply_for_rebate(stack, await issued_studio_permit(stack, today), today.year)
    key = f"{incentive_id}:tranche:1"

    async def our_calls() -> list[dict]:
        calls = (await stack.http.get(f"{stack.sim}/admin/agencies/treasury/calls")).json()
        return [(c["status"], c["fault"]) for c in reversed(calls) if c["idempotency_key"] == key]

    await until("an answer lost", our_calls, lambda calls: (503, "lost_response") in calls)
    down = await stack.http.post(f"{stack.sim}/admin/agencies/treasury/outage", json={"seconds": 3})
    assert down.status_code == 200, down.text
    await stack.behave("treasury", lost_response_rate=0)
    await until("the outage seen", our_calls, lambda calls: (503, "outage") in calls, timeout=10)

    async def view() -> dict:
        return (await stack.http.get(f"{stack.api}/v1/incentives/{incentive_id}")).json()

    paid = await until("the first tranche paid", view, lambda v: v["paid_idr"] > 0)
    assert paid["paid_idr"] == 360_000_000 and [e["event"] for e in paid["timeline"]].count("tranche_paid") == 1
    held = [p for p in (await stack.http.get(f"{stack.sim}/admin/agencies/treasury/requests")).json()
            if p["idempotency_key"] == key]
    assert len(held) == 1 and held[0]["times_seen"] >= 2  # one payment, however often it was asked for
    assert paid["tranches"][0]["reference"] == held[0]["reference"]
    assert (await our_calls())[-1][0] in (200, 201)
    fund = (await stack.http.get(f"{stack.api}/v1/funds/{today.year}", headers=stack.officer)).json()
    rebate = next(p for p in fund["programmes"] if p["programme"] == "location_rebate")
    assert rebate["available_idr"] + rebate["reserved_idr"] + rebate["paid_idr"] == \
        rebate["capacity_idr"] + rebate["clawed_back_idr"]
