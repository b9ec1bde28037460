"""The audit firm and the treasury the simulator plays: idempotent requests, audits, payments made once, faults."""

from __future__ import annotations

import asyncio

import pytest

from schemas.incentive_api import AuditDecision, TreasuryReceipt
from simulator.app import create_app
from tests.simulator.conftest import secret_for

AUDITS = "/agencies/audit/v1/audit-requests"
PAYMENTS = "/agencies/treasury/v1/payments"

LINES = [
    {"category": "crew", "supplier": "PT Kru Jakarta", "amount_idr": 10_000_000, "date": "2027-01-12", "in_jakarta": True},
    {"category": "post_production", "supplier": "Studio Kemang", "amount_idr": 4_000_005, "date": "2027-02-01",
     "in_jakarta": True},
    {"category": "catering", "supplier": "Bandung", "amount_idr": 2_000_000, "date": "2027-01-13", "in_jakarta": False},
    {"category": "post_production", "supplier": "Bali Sound", "amount_idr": 1_500_000, "date": "2027-02-03",
     "in_jakarta": False},
]
OUTSIDE_JAKARTA = [
    "line 3 (Bandung catering, 2,000,000 IDR): outside Jakarta",
    "line 4 (Bali Sound post production, 1,500,000 IDR): outside Jakarta",
]


def audit_request(sim, key: str, lines: list[dict] = LINES) -> dict:
    return {
        "request_key": key,
        "incentive_id": key.split(":")[0],
        "programme": "location_rebate",
        "applicant_company": "PT Contoh Film",
        "production_title": "Senja di Kota",
        "lines": lines,
        "total_idr": sum(line["amount_idr"] for line in lines),
        "callback_url": f"{sim.receiver.url}/hooks/audit",
    }


async def request_audit(sim, key: str, **overrides) -> dict:
    response = await sim.http.post(AUDITS, json={**audit_request(sim, key), **overrides}, headers={"Idempotency-Key": key})
    assert response.status_code in (200, 201), response.text
    return response.json()


def audit_decisions(receiver) -> list[AuditDecision]:
    return [AuditDecision.model_validate_json(h.body) for h in receiver.accepted("hooks/audit")]


async def audit_status(sim, reference: str) -> dict:
    response = await sim.http.get(f"{AUDITS}/{reference}")
    assert response.status_code == 200, response.text
    return response.json()


def payment(key: str, amount_idr: int = 750_000_000, **overrides) -> dict:
    body = {"payment_key": key, "incentive_id": key.split(":")[0], "tranche": 1, "amount_idr": amount_idr,
            "beneficiary": "PT Contoh Film"}
    return {**body, **overrides}


async def pay(sim, key: str, **overrides):
    return await sim.http.post(PAYMENTS, json=payment(key, **overrides), headers={"Idempotency-Key": key})


# ---- the audit firm ------------------------------------------------------------------


async def test_audit_request_same_key_same_reference(sim):
    await sim.behave("audit", decision="silent")
    key = "INC-1:audit:1"
    first = await sim.http.post(AUDITS, json=audit_request(sim, key), headers={"Idempotency-Key": key})
    again = await sim.http.post(AUDITS, json=audit_request(sim, key), headers={"Idempotency-Key": key})

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == {"reference": first.json()["reference"], "status": "received"}
    assert again.json()["reference"] == first.json()["reference"]
    [held] = await sim.held("audit")
    assert (held["idempotency_key"], held["reference"], held["times_seen"], held["status"]) == (
        key, first.json()["reference"], 2, "received"
    )
    assert held["received_at"]
    status = await audit_status(sim, first.json()["reference"])
    assert (status["status"], status["decision_id"], status["qualifying_idr"]) == ("received", None, None)

    no_key = await sim.http.post(AUDITS, json=audit_request(sim, "k"))
    assert no_key.status_code == 400
    bad = await sim.http.post(AUDITS, json=audit_request(sim, "k", lines=[{**LINES[0], "amount_idr": 0}]),
                              headers={"Idempotency-Key": "k"})
    assert bad.status_code == 422
    assert [p["path"] for p in bad.json()["problems"]] == ["lines[0].amount_idr"]
    assert (await sim.http.get(f"{AUDITS}/NOPE")).status_code == 404


async def test_approve_delivers_a_signed_audit_leaving_out_lines_outside_jakarta(sim, wait):
    await sim.behave("audit", decision="approve", decision_delay_ms=50)
    reference = (await request_audit(sim, "INC-2:audit:1"))["reference"]

    [decision] = await wait(lambda: audit_decisions(sim.receiver))

    [hook] = sim.receiver.hooks
    assert hook.path == "hooks/audit" and hook.error is None and hook.signed_at  # signed with the secret of `audit`
    assert (decision.reference, decision.request_key) == (reference, "INC-2:audit:1")
    assert decision.qualifying_idr == 14_000_005
    assert decision.post_production_idr == 4_000_005
    assert decision.notes == OUTSIDE_JAKARTA
    status = await audit_status(sim, reference)
    assert status["status"] == "audited"
    assert status["decision_id"] == decision.decision_id
    assert (status["qualifying_idr"], status["post_production_idr"], status["notes"]) == (
        14_000_005, 4_000_005, OUTSIDE_JAKARTA
    )
    [held] = await sim.held("audit")
    assert held["status"] == "audited"


async def test_conditions_is_an_adjusted_audit_disallowing_ten_percent_rounded_down(sim, wait):
    await sim.behave("audit", decision="conditions", decision_delay_ms=0)
    await request_audit(sim, "INC-3:audit:1")

    [decision] = await wait(lambda: audit_decisions(sim.receiver))

    assert decision.qualifying_idr == 14_000_005 - 1_400_000  # 10% of 14,000,005 is 1,400,000.5, rounded down
    assert decision.post_production_idr == 4_000_005
    assert decision.notes[:2] == OUTSIDE_JAKARTA
    assert "adjusted audit" in decision.notes[2] and "1,400,000 IDR" in decision.notes[2]


async def test_poll_mode_sends_nothing_but_get_shows_the_decision(sim, wait):
    await sim.behave("audit", mode="poll", decision_delay_ms=50)
    reference = (await request_audit(sim, "INC-4:audit:1"))["reference"]

    async def audited() -> dict | None:
        status = await audit_status(sim, reference)
        return status if status["status"] == "audited" else None

    status = await wait(audited)

    assert (status["qualifying_idr"], status["notes"]) == (14_000_005, OUTSIDE_JAKARTA)
    assert status["decision_id"] and status["decided_at"]
    await asyncio.sleep(0.1)
    assert sim.receiver.hooks == []
    assert (await audit_status(sim, reference))["decision_id"] == status["decision_id"]  # one decision, one id


async def test_manual_audit_of_a_silent_firm(sim, wait):
    await sim.behave("audit", decision="silent", decision_delay_ms=0)
    reference = (await request_audit(sim, "INC-5:audit:1"))["reference"]
    await asyncio.sleep(0.1)
    assert (await audit_status(sim, reference))["status"] == "received"
    decision_url = f"/admin/agencies/audit/requests/{reference}/decision"

    too_much = await sim.http.post(decision_url, json={"qualifying_idr": 1, "post_production_idr": 2})
    assert too_much.status_code == 422
    figures = {"qualifying_idr": 9_000_000, "post_production_idr": 3_000_000, "notes": ["line 2: receipt missing"]}
    manual = await sim.http.post(decision_url, json=figures)

    assert manual.status_code == 200, manual.text
    [decision] = await wait(lambda: audit_decisions(sim.receiver))
    assert (decision.qualifying_idr, decision.post_production_idr, decision.notes) == (
        9_000_000, 3_000_000, ["line 2: receipt missing"]
    )
    assert manual.json()["decision_id"] == decision.decision_id
    assert manual.json()["status"] == "audited"
    unknown = await sim.http.post("/admin/agencies/audit/requests/NOPE/decision", json=figures)
    assert unknown.status_code == 404


async def test_lost_audit_response_is_one_request_and_one_decision(sim, wait):
    await sim.behave("audit", lost_response_rate=1.0, decision_delay_ms=100)
    key = "INC-6:audit:1"
    lost = await sim.http.post(AUDITS, json=audit_request(sim, key), headers={"Idempotency-Key": key})
    assert lost.status_code == 503
    await sim.behave("audit", lost_response_rate=0)

    retry = await sim.http.post(AUDITS, json=audit_request(sim, key), headers={"Idempotency-Key": key})

    assert retry.status_code == 200
    [held] = await sim.held("audit")
    assert (held["reference"], held["times_seen"]) == (retry.json()["reference"], 2)
    await wait(lambda: audit_decisions(sim.receiver))
    await asyncio.sleep(0.2)
    assert len(audit_decisions(sim.receiver)) == 1
    calls = (await sim.http.get("/admin/agencies/audit/calls")).json()
    assert [(c["status"], c["fault"]) for c in calls] == [(200, None), (503, "lost_response")]


async def test_audit_decision_survives_a_restart_with_its_id(tmp_path, receiver, start_simulator, wait):
    receiver.status = 503
    async with start_simulator(tmp_path) as first:
        await first.behave("audit", decision_delay_ms=0)
        reference = (await request_audit(first, "INC-7:audit:1"))["reference"]
        await wait(lambda: any(h.path == "hooks/audit" for h in receiver.hooks))
        decided = await audit_status(first, reference)
    assert decided["status"] == "audited" and not receiver.accepted()
    receiver.status = 200

    async with start_simulator(tmp_path) as second:
        [decision] = await wait(lambda: audit_decisions(receiver))
        assert (await audit_status(second, reference))["decision_id"] == decided["decision_id"]

    assert decision.decision_id == decided["decision_id"]
    assert len({h.body for h in receiver.hooks}) == 1  # every attempt, before and after the restart, is one decision


# ---- the treasury --------------------------------------------------------------------


async def test_treasury_pays_once_across_a_lost_response_and_a_retry(sim):
    key = "INC-8:tranche:1"
    await sim.behave("treasury", lost_response_rate=1.0)
    lost = await pay(sim, key)
    assert lost.status_code == 503
    await sim.behave("treasury", lost_response_rate=0)

    retry = await pay(sim, key)

    assert retry.status_code == 200, retry.text
    receipt = TreasuryReceipt.model_validate(retry.json())
    assert (receipt.payment_key, receipt.amount_idr) == (key, 750_000_000)
    assert receipt.reference and receipt.paid_at.tzinfo is not None
    [paid] = await sim.held("treasury")
    assert paid == {
        "idempotency_key": key,
        "reference": receipt.reference,
        "received_at": paid["received_at"],
        "times_seen": 2,
        "status": "paid",
        "amount_idr": 750_000_000,
        "incentive_id": "INC-8",
        "tranche": 1,
    }
    got = await sim.http.get(f"{PAYMENTS}/{key}")
    assert got.status_code == 200
    assert TreasuryReceipt.model_validate(got.json()) == receipt
    calls = (await sim.http.get("/admin/agencies/treasury/calls")).json()
    assert [(c["method"], c["status"], c["fault"]) for c in calls] == [
        ("GET", 200, None), ("POST", 200, None), ("POST", 503, "lost_response")
    ]


async def test_treasury_outage_answers_503_with_retry_after(sim):
    assert (await sim.http.post("/admin/agencies/treasury/outage", json={"seconds": 30})).status_code == 200

    down = await pay(sim, "INC-9:tranche:1")
    assert down.status_code == 503
    assert 1 <= int(down.headers["Retry-After"]) <= 30
    assert (await sim.http.get(f"{PAYMENTS}/INC-9:tranche:1")).status_code == 503
    assert await sim.held("treasury") == []
    assert (await request_audit(sim, "INC-9:audit:1"))["status"] == "received"  # the audit firm is up

    assert (await sim.http.delete("/admin/agencies/treasury/outage")).status_code == 200
    up = await pay(sim, "INC-9:tranche:1")
    assert up.status_code == 201
    [paid] = await sim.held("treasury")
    assert paid["times_seen"] == 1


async def test_treasury_refuses_a_changed_body_a_mismatched_key_and_knows_no_unknown_key(sim):
    key = "INC-10:tranche:1"
    first = await pay(sim, key)
    assert first.status_code == 201

    changed = await pay(sim, key, amount_idr=800_000_000)
    assert changed.status_code == 409
    assert key in changed.json()["detail"]
    mismatch = await sim.http.post(PAYMENTS, json=payment("INC-10:tranche:2"), headers={"Idempotency-Key": key})
    assert mismatch.status_code == 422
    assert "payment_key" in mismatch.json()["detail"]
    unknown = await sim.http.get(f"{PAYMENTS}/INC-10:tranche:9")
    assert unknown.status_code == 404
    assert unknown.json()["title"] == "Unknown payment"
    [paid] = await sim.held("treasury")
    assert (paid["amount_idr"], paid["times_seen"]) == (750_000_000, 1)
    assert (await sim.http.get(f"{PAYMENTS}/{key}")).json() == first.json()


# ---- both, beside the agencies -------------------------------------------------------


async def test_both_parties_have_admin_controls_docs_and_health(sim):
    behaviours = (await sim.http.get("/admin/agencies")).json()
    assert {"audit", "treasury"} <= set(behaviours)
    assert behaviours["audit"]["mode"] == "webhook"
    assert (await sim.behave("audit", latency_ms=5, mode="poll"))["mode"] == "poll"

    health = (await sim.http.get("/healthz")).json()
    assert health["parties"] == ["audit", "treasury"]
    assert "audit" not in health["agencies"] and "parks" in health["agencies"]
    paths = (await sim.http.get("/openapi.json")).json()["paths"]
    assert {AUDITS, f"{AUDITS}/{{reference}}", PAYMENTS, f"{PAYMENTS}/{{payment_key}}",
            "/admin/agencies/audit/requests", "/admin/agencies/audit/requests/{reference}/decision",
            "/admin/agencies/treasury/requests"} <= set(paths)

    clearance = await sim.submit("audit", "PRM-1:audit:r1")
    assert clearance.status_code == 404
    assert "takes no clearance requests" in clearance.json()["detail"]


async def test_reset_forgets_audits_and_payments(sim):
    await sim.behave("audit", decision="silent")
    await request_audit(sim, "INC-11:audit:1")
    await pay(sim, "INC-11:tranche:1")

    assert (await sim.http.post("/admin/reset")).status_code == 200

    assert await sim.held("audit") == []
    assert await sim.held("treasury") == []
    assert (await sim.http.get("/admin/agencies/audit")).json()["decision"] == "approve"
    assert (await pay(sim, "INC-11:tranche:1")).status_code == 201


def test_a_catalog_agency_cannot_take_a_party_code(tmp_path):
    with pytest.raises(ValueError, match="audit"):
        create_app(tmp_path, ["parks", "audit"], secret_for, "http://127.0.0.1:9")
