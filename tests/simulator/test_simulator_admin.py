"""Admin: behaviour defaults and validation, reset, and the payment provider's signed webhook."""

from __future__ import annotations

from schemas.decisions import Payment


async def test_defaults_come_from_the_catalog(sim):
    behaviours = (await sim.http.get("/admin/agencies")).json()

    assert behaviours["parks"] == {
        "latency_ms": 0,
        "error_rate": 0.0,
        "lost_response_rate": 0.0,
        "mode": "webhook",
        "decision": "approve",
        "decision_delay_ms": 1000,
    }
    assert behaviours["district"]["mode"] == behaviours["aviation"]["mode"] == "poll"


async def test_partial_update_and_invalid_values(sim):
    updated = await sim.behave("fire", decision="reject")
    assert (updated["decision"], updated["decision_delay_ms"]) == ("reject", 1000)
    updated = await sim.behave("fire", latency_ms=5)
    assert (updated["decision"], updated["latency_ms"]) == ("reject", 5)

    for body, field in [
        ({"error_rate": 1.5}, "error_rate"),
        ({"mode": "carrier_pigeon"}, "mode"),
        ({"decision": "maybe"}, "decision"),
        ({"decision_delay_ms": -1}, "decision_delay_ms"),
        ({"lost_response_rate": -0.1}, "lost_response_rate"),
        ({"colour": "red"}, "colour"),
    ]:
        response = await sim.http.put("/admin/agencies/fire", json=body)
        assert response.status_code == 422, body
        assert [p["path"] for p in response.json()["problems"]] == [field]
        assert field in response.json()["detail"]
    assert (await sim.http.get("/admin/agencies/fire")).json()["latency_ms"] == 5
    assert (await sim.http.post("/admin/agencies/fire/outage", json={"seconds": 0})).status_code == 422


async def test_reset_forgets_requests_behaviours_and_outages(sim):
    await sim.behave("parks", decision="silent")
    await sim.submit("parks", "PRM-1:parks:r1")
    await sim.http.post("/admin/agencies/parks/outage", json={"seconds": 60})

    assert (await sim.http.post("/admin/reset")).status_code == 200

    assert await sim.held("parks") == []
    assert (await sim.http.get("/admin/agencies/parks")).json()["decision"] == "approve"
    assert (await sim.submit("parks", "PRM-1:parks:r1")).status_code == 201


async def test_payment_webhook_is_signed_and_sent_to_the_api(sim, wait):
    response = await sim.http.post("/admin/payments", json={"permit_id": "PRM-AAAAAAAAAAAA", "amount_idr": 2_500_000})

    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["delivered"], result["api_status"]) == (True, 200)
    [hook] = sim.receiver.hooks
    assert hook.path == "v1/payments/webhook"
    assert hook.error is None and hook.signed_at
    payment = Payment.model_validate_json(hook.body)
    assert (payment.payment_id, payment.permit_id, payment.amount_idr) == (
        result["payment_id"],
        "PRM-AAAAAAAAAAAA",
        2_500_000,
    )
    assert payment.paid_at.tzinfo is not None


async def test_payment_to_a_callback_url_and_to_an_unreachable_api(sim):
    other = await sim.http.post(
        "/admin/payments",
        json={"permit_id": "PRM-B", "amount_idr": 1, "callback_url": f"{sim.receiver.url}/bank/payments/webhook"},
    )
    assert other.json()["delivered"] is True
    assert sim.receiver.hooks[-1].path == "bank/payments/webhook"

    sim.receiver.status = 400
    refused = await sim.http.post("/admin/payments", json={"permit_id": "PRM-C", "amount_idr": 1})
    assert (refused.json()["delivered"], refused.json()["api_status"]) == (False, 400)

    unreachable = await sim.http.post(
        "/admin/payments", json={"permit_id": "PRM-D", "amount_idr": 1, "callback_url": "http://127.0.0.1:9/nothing"}
    )
    assert (unreachable.json()["delivered"], unreachable.json()["api_status"]) == (False, 0)
    assert (await sim.http.post("/admin/payments", json={"permit_id": "PRM-E", "amount_idr": 0})).status_code == 422
