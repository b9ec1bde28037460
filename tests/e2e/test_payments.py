"""Payments on the real stack, paid as a bank would (the simulator's signed webhook): every one recorded, and each
that cannot be taken (a wrong amount, a second payment, one after the application closed) a refund the officer
queue lists with its reason."""

from __future__ import annotations

import asyncio
import uuid

from temporalio.client import WorkflowExecutionStatus

from cli.demo import demo_applications
from tests.e2e.conftest import Stack, first_feasible_day


async def pay(stack: Stack, permit_id: str, amount: int) -> dict:
    response = await stack.http.post(f"{stack.sim}/admin/payments", json={"permit_id": permit_id, "amount_idr": amount})
    assert response.status_code == 200, response.text
    return response.json()


async def refunds_queued(stack: Stack) -> dict[str, dict]:
    response = await stack.http.get(f"{stack.api}/v1/officer/queue", headers=stack.officer)
    assert response.status_code == 200, response.text
    return {item["payment_id"]: item for item in response.json() if item["kind"] == "refund"}


async def test_wrong_second_and_late_payments_become_refunds_in_the_officer_queue(stack: Stack) -> None:
    await stack.behave("parks", decision="approve", decision_delay_ms=100)
    application_id = (await stack.submit(demo_applications(first_feasible_day())[0], key=str(uuid.uuid4()))).json()["id"]
    view = await stack.wait_for(application_id, lambda v: v["status"] == "awaiting_payment")
    due = view["fees"]["total_idr"]

    short = await pay(stack, application_id, due - 1)
    assert short["api_status"] == 202
    view = await stack.wait_for(application_id, lambda v: any(p["outcome"] == "refund" for p in v["payments"]))
    assert view["status"] == "awaiting_payment"
    right = await pay(stack, application_id, due)
    view = await stack.wait_for(application_id, lambda v: v["status"] == "issued")
    number = view["permit"]["number"]
    again = await pay(stack, number, due)  # paid twice, the second time naming the permit number
    assert again["api_status"] == 202
    view = await stack.wait_for(application_id, lambda v: len(v["payments"]) == 3
                                and v["payments"][2]["outcome"] == "refund")
    assert [(p["payment_id"], p["outcome"], p["refund_reason"]) for p in view["payments"]] == [
        (short["payment_id"], "refund", "wrong_amount"), (right["payment_id"], "matched", None),
        (again["payment_id"], "refund", "already_paid")]
    assert view["fees"]["payment_id"] == right["payment_id"]

    cancelled = await stack.http.post(f"{stack.api}/v1/permits/{application_id}/cancel",
                                      json={"reason": "the shoot moved to Bandung"},
                                      headers={"Idempotency-Key": str(uuid.uuid4())})
    assert cancelled.status_code == 200, cancelled.text
    handle = stack.temporal.get_workflow_handle(application_id)
    for _ in range(200):
        if (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED:
            break
        await asyncio.sleep(0.1)
    late = await pay(stack, application_id, due)
    assert late["api_status"] == 409  # the application has closed: recorded, and refunded

    rows = await stack.pool.fetch("SELECT payment_id, outcome FROM payments WHERE application_id = $1",
                                  application_id)
    assert {r["payment_id"]: r["outcome"] for r in rows} == {
        short["payment_id"]: "refund", right["payment_id"]: "matched", again["payment_id"]: "refund",
        late["payment_id"]: "refund"}
    queued = await refunds_queued(stack)
    ours = {pid: item for pid, item in queued.items() if item["application_id"] == application_id}
    assert set(ours) == {short["payment_id"], again["payment_id"], late["payment_id"]}
    assert ours[short["payment_id"]]["amount_idr"] == due - 1 and "wrong_amount" in ours[short["payment_id"]]["reason"]
    assert "already_paid" in ours[again["payment_id"]]["reason"]
    assert "application_closed" in ours[late["payment_id"]]["reason"]
    assert all(item["application_status"] == "withdrawn" for item in ours.values())
