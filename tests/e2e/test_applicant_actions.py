"""An applicant's actions on the real stack: cancellation through an agency outage, notifications to its webhook."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from fastapi import FastAPI, Request, Response

from cli.demo import demo_applications
from domain.signatures import SIGNATURE_HEADER, verify
from tests.e2e.conftest import Stack, first_feasible_day
from tests.servers import serve
from workers.worker import applicant_secret


async def eventually(check, timeout: float = 60.0, interval: float = 0.2) -> Any:
    """Poll `check` (async) until it returns something truthy; fails with what it last returned."""
    give_up = asyncio.get_running_loop().time() + timeout
    while not (result := await check()):
        assert asyncio.get_running_loop().time() < give_up, f"not reached in {timeout} s: {result!r}"
        await asyncio.sleep(interval)
    return result


async def test_a_cancellation_during_an_outage_reaches_the_agency_once_it_recovers(stack: Stack) -> None:
    await stack.behave("parks", decision="silent")
    body = demo_applications(first_feasible_day())[0]
    application_id = (await stack.submit(body, key=str(uuid.uuid4()))).json()["id"]

    async def accepted() -> bool:
        view = await stack.status(application_id)
        return any(c["agency"] == "parks" and c["status"] == "submitted" for c in view["clearances"])

    await eventually(accepted)
    # An outage of a few seconds: the agency's Retry-After tells our retries when to come back.
    (await stack.http.post(f"{stack.sim}/admin/agencies/parks/outage", json={"seconds": 4})).raise_for_status()

    cancelled = await stack.http.post(
        f"{stack.api}/v1/permits/{application_id}/cancel",
        json={"reason": "the shoot moved to Bandung"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "withdrawn"

    async def delete_refused() -> bool:
        calls = (await stack.http.get(f"{stack.sim}/admin/agencies/parks/calls")).json()
        return any(c["method"] == "DELETE" and c["status"] == 503 for c in calls)

    await eventually(delete_refused)  # the withdrawal is being retried while the agency is down

    async def withdrawn_at_agency() -> bool:
        return (await stack.requests_at("parks"))[0]["status"] == "withdrawn"

    await eventually(withdrawn_at_agency, timeout=90)
    view = await eventually(lambda: _ended(stack, application_id))
    assert {c["agency"]: c["status"] for c in view["clearances"]} == {"parks": "withdrawn"}
    assert view["clearances"][0]["decided_at"] is None  # withdrawn, never decided
    calls = (await stack.http.get(f"{stack.sim}/admin/agencies/parks/calls")).json()
    accepted_deletes = [c for c in calls if c["method"] == "DELETE" and c["status"] == 200]
    assert len(accepted_deletes) == 1, calls
    assert len(await stack.requests_at("parks")) == 1


async def _ended(stack: Stack, application_id: str) -> dict | None:
    view = await stack.status(application_id)
    return view if view["status"] == "withdrawn" and view["clearances"][0]["status"] == "withdrawn" else None


async def test_the_applicant_webhook_gets_signed_notifications_once_each(stack: Stack) -> None:
    received: list[tuple[str, dict]] = []
    secret = applicant_secret(stack.settings)(stack.organisation_id)
    receiver = FastAPI()

    @receiver.post("/hooks/jfc")
    async def hook(request: Request) -> Response:
        raw = await request.body()
        verify(secret, request.headers.get(SIGNATURE_HEADER), raw, time.time())
        received.append((request.headers["Idempotency-Key"], json.loads(raw)))
        return Response(status_code=204)

    await stack.behave("parks", decision="approve", decision_delay_ms=100)
    async with serve(receiver) as url:
        body = demo_applications(first_feasible_day())[0]
        body["applicant"]["webhook_url"] = f"{url}/hooks/jfc"
        application_id = (await stack.submit(body, key=str(uuid.uuid4()))).json()["id"]
        view = await stack.wait_for(application_id, lambda v: v["status"] == "awaiting_payment")
        paid = await stack.http.post(
            f"{stack.sim}/admin/payments", json={"permit_id": application_id, "amount_idr": view["fees"]["total_idr"]}
        )
        assert paid.json()["delivered"]

        async def both_kinds() -> set[str]:
            kinds = {n["kind"] for _, n in received if n["application_id"] == application_id}
            return kinds if {"payment_due", "permit_issued"} <= kinds else set()

        await eventually(both_kinds)
    keys = [key for key, _ in received]
    assert len(keys) == len(set(keys)), "a notification arrived twice"
    assert all(n["application_id"] == application_id for _, n in received)


async def test_an_amendment_asks_again_only_the_agencies_whose_inputs_changed(stack: Stack) -> None:
    for agency in ("parks", "heritage", "aviation"):
        await stack.behave(agency, decision="approve", decision_delay_ms=100)
    park, heritage = demo_applications(first_feasible_day())[0], demo_applications(first_feasible_day())[2]
    body = {**park, "locations": [park["locations"][0], {**heritage["locations"][0], "drone": False}]}
    application_id = (await stack.submit(body, key=str(uuid.uuid4()))).json()["id"]
    await stack.wait_for(application_id, lambda v: v["status"] == "awaiting_payment")

    async def amend(changed: dict) -> dict:
        response = await stack.http.post(
            f"{stack.api}/v1/permits/{application_id}/amendments",
            json=changed, headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 200, response.text
        return response.json()

    # Move the park day: only parks is asked again.
    moved = json.loads(json.dumps(body))
    moved["locations"][0]["days"][0]["date"] = (first_feasible_day(weeks=9)).isoformat()
    result = await amend(moved)
    assert (result["revision"], result["requested_again"], result["added"]) == (2, ["parks"], [])
    assert "heritage" in result["kept"]
    await stack.wait_for(application_id, lambda v: v["status"] == "awaiting_payment" and v["revision"] == 2)
    assert sorted(r["idempotency_key"].rsplit(":", 1)[1] for r in await stack.requests_at("parks")) == ["r1", "r2"]
    assert [r["idempotency_key"].rsplit(":", 1)[1] for r in await stack.requests_at("heritage")] == ["r1"]

    # Add a drone at the heritage site: aviation joins; parks keeps its decision.
    with_drone = json.loads(json.dumps(moved))
    with_drone["locations"][1]["drone"] = True
    result = await amend(with_drone)
    assert "aviation" in result["added"] and "parks" in result["kept"]
    view = await stack.wait_for(application_id, lambda v: v["status"] == "awaiting_payment" and v["revision"] == 3)
    assert {c["agency"] for c in view["clearances"]} == {"parks", "heritage", "aviation"}
    assert len(await stack.requests_at("aviation")) == 1

    # An invalid amendment is refused with the path of what is wrong; nothing changes.
    bad = json.loads(json.dumps(with_drone))
    bad["locations"][0]["days"][0]["end"] = "05:00"
    refused = await stack.http.post(
        f"{stack.api}/v1/permits/{application_id}/amendments", json=bad, headers={"Idempotency-Key": "bad-1"}
    )
    assert refused.status_code == 422
    assert "locations[0].days[0].end" in [p["path"] for p in refused.json()["problems"]]
    assert (await stack.status(application_id))["revision"] == 3
