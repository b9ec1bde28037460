"""Decisions: timed and manual, by signed webhook or by polling; answers, withdrawals and restarts."""

from __future__ import annotations

import asyncio
import datetime as dt

from schemas.decisions import AgencyDecision


def decisions(receiver, agency: str) -> list[AgencyDecision]:
    return [AgencyDecision.model_validate_json(h.body) for h in receiver.accepted(f"hooks/{agency}")]


async def test_webhook_decision_arrives_signed_with_realistic_conditions(sim, wait):
    await sim.behave("police", decision="conditions", decision_delay_ms=50)
    reference = (await sim.submit("police", "PRM-1:police:r1")).json()["reference"]

    [decision] = await wait(lambda: decisions(sim.receiver, "police"))

    assert all(h.error is None and h.signed_at for h in sim.receiver.hooks)
    assert decision.reference == reference
    assert decision.request_key == "PRM-1:police:r1"
    assert decision.status == "approved_with_conditions"
    assert 1 <= len(decision.conditions) <= 3
    assert decision.decided_at.utcoffset() == dt.timedelta(0)
    status = await sim.status("police", reference)
    assert status["status"] == "approved_with_conditions"
    assert status["decision_id"] == decision.decision_id
    assert status["conditions"] == decision.conditions


async def test_reject_gives_a_reason_and_decision_ids_are_unique(sim, wait):
    await sim.behave("fire", decision="reject", decision_delay_ms=50)
    for i in range(2):
        await sim.submit("fire", f"PRM-2:fire:r{i}")

    found = await wait(lambda: len(decisions(sim.receiver, "fire")) == 2 and decisions(sim.receiver, "fire"))

    assert {d.status for d in found} == {"rejected"}
    assert all(d.reason for d in found)
    assert len({d.decision_id for d in found}) == 2


async def test_poll_mode_records_the_decision_for_get(sim, wait):
    assert (await sim.http.get("/admin/agencies/district")).json()["mode"] == "poll"  # from the catalog
    await sim.behave("district", decision_delay_ms=50)
    reference = (await sim.submit("district", "PRM-3:district:r1")).json()["reference"]

    status = await wait(lambda: _decided(sim, "district", reference))

    assert status["status"] == "approved"
    assert status["decided_at"] and status["decision_id"]
    await asyncio.sleep(0.1)
    assert sim.receiver.hooks == []


async def test_manual_decision_on_a_silent_agency(sim, wait):
    await sim.behave("aviation", decision="silent", decision_delay_ms=0, mode="webhook")
    reference = (await sim.submit("aviation", "PRM-4:aviation:r1")).json()["reference"]
    await asyncio.sleep(0.1)
    assert (await sim.status("aviation", reference))["status"] == "received"

    manual = await sim.http.post(
        f"/admin/agencies/aviation/requests/{reference}/decision",
        json={"status": "rejected", "reason": "Inside the Halim no-fly zone"},
    )

    assert manual.status_code == 200, manual.text
    [decision] = await wait(lambda: decisions(sim.receiver, "aviation"))
    assert decision.status == "rejected"
    assert decision.reason == "Inside the Halim no-fly zone"
    assert manual.json()["decision_id"] == decision.decision_id
    unknown = await sim.http.post("/admin/agencies/aviation/requests/NOPE/decision", json={"status": "approved"})
    assert unknown.status_code == 404


async def test_information_then_answer_then_decided_again(sim, wait):
    await sim.behave("heritage", decision="information", decision_delay_ms=50)
    key = "PRM-5:heritage:r1"
    reference = (await sim.submit("heritage", key)).json()["reference"]
    [question] = await wait(lambda: decisions(sim.receiver, "heritage"))
    assert question.status == "information_required"
    assert question.reason

    answer = await sim.http.post(
        f"/agencies/heritage/v1/clearance-requests/{reference}/answers",
        json={"request_id": question.decision_id, "answer": "Lighting plan attached: LED panels only"},
        headers={"Idempotency-Key": f"{key}:answer:1"},
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "received"
    found = await wait(lambda: len(decisions(sim.receiver, "heritage")) == 2 and decisions(sim.receiver, "heritage"))
    assert found[1].status == "approved"
    assert found[1].decision_id != question.decision_id
    assert (await sim.status("heritage", reference))["status"] == "approved"


async def test_withdraw_cancels_the_pending_decision(sim, wait):
    await sim.behave("transit", decision_delay_ms=150)
    reference = (await sim.submit("transit", "PRM-6:transit:r1")).json()["reference"]

    first = await sim.http.delete(f"/agencies/transit/v1/clearance-requests/{reference}")
    again = await sim.http.delete(f"/agencies/transit/v1/clearance-requests/{reference}")

    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == again.json()["status"] == "withdrawn"
    await asyncio.sleep(0.3)
    assert (await sim.status("transit", reference))["status"] == "withdrawn"
    assert sim.receiver.hooks == []
    [held] = await sim.held("transit")
    assert held["status"] == "withdrawn"
    late = await sim.http.post(f"/admin/agencies/transit/requests/{reference}/decision", json={"status": "approved"})
    assert late.status_code == 409


async def test_webhook_retried_until_accepted(sim, wait):
    sim.receiver.status = 500
    await sim.behave("parks", decision_delay_ms=0)
    await sim.submit("parks", "PRM-7:parks:r1")
    await wait(lambda: len(sim.receiver.hooks) >= 1)
    sim.receiver.status = 200

    [decision] = await wait(lambda: decisions(sim.receiver, "parks"))

    assert decision.status == "approved"
    assert [h.answered for h in sim.receiver.hooks] == [500, 200]
    assert len({h.body for h in sim.receiver.hooks}) == 1  # every attempt sends the same decision


async def test_restart_keeps_requests_and_delivers_pending_work(tmp_path, receiver, start_simulator, wait):
    receiver.status = 503
    async with start_simulator(tmp_path) as first:
        await first.behave("parks", decision_delay_ms=0)
        await first.behave("police", decision_delay_ms=400)
        decided = (await first.submit("parks", "PRM-8:parks:r1")).json()["reference"]
        timed = (await first.submit("police", "PRM-8:police:r1")).json()["reference"]
        await wait(lambda: any(h.path.endswith("hooks/parks") for h in receiver.hooks))
    assert not receiver.accepted()
    receiver.status = 200

    async with start_simulator(tmp_path) as second:
        [held] = await second.held("parks")
        assert (held["reference"], held["status"]) == (decided, "approved")
        again = await second.submit("parks", "PRM-8:parks:r1")
        assert (again.status_code, again.json()["reference"]) == (200, decided)
        assert (await second.http.get("/admin/agencies/police")).json()["decision_delay_ms"] == 400

        [parks] = await wait(lambda: decisions(receiver, "parks"))
        [police] = await wait(lambda: decisions(receiver, "police"))

    assert parks.reference == decided
    assert [h.answered for h in receiver.hooks if h.path.endswith("hooks/parks")][-1] == 200
    assert (police.reference, police.status) == (timed, "approved")


async def _decided(sim, agency: str, reference: str) -> dict | None:
    status = await sim.status(agency, reference)
    return status if status["status"] != "received" else None
