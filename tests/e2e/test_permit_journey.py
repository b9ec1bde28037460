"""Submit → exactly the routed agencies → webhook and poll decisions → payment → issued → PDF → verify."""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid

import pypdf

from cli.demo import demo_applications
from config.secrets import webhook_secret
from domain.signatures import SIGNATURE_HEADER, sign
from schemas.contracts import PLAN_APPLICATION, PermitWorkflowInput
from workers.logic_flags import SINGLE_BATCH
from tests.e2e.conftest import Stack, first_feasible_day

ALL_AGENCIES = {"parks", "heritage", "district", "transport", "police", "fire", "aviation", "transit", "culture_ministry"}
# demo_applications: a park shoot; a full road closure with pyrotechnics; a foreign crew with a drone in Kota Tua.
EXPECTED_ROUTES = [
    {"parks"},
    {"district", "transport", "police", "fire"},
    {"heritage", "aviation", "police", "culture_ministry"},
]
FINAL = {"approved", "approved_with_conditions", "deemed_approved"}


async def test_applications_travel_from_submission_to_a_verified_permit(stack: Stack) -> None:
    for agency in ALL_AGENCIES:
        await stack.behave(agency, decision="approve", decision_delay_ms=100)
    await stack.behave("police", decision="conditions", decision_delay_ms=100)

    ids = []
    for body in demo_applications(first_feasible_day()):
        response = await stack.submit(body, key=str(uuid.uuid4()))
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])

    views = [await stack.wait_for(i, lambda v: v["status"] == "awaiting_payment") for i in ids]

    # Exactly the routed agencies hold a request, one per application; the others hold none.
    held: dict[str, list[str]] = {}
    for agency in ALL_AGENCIES:
        held[agency] = sorted(r["idempotency_key"].split(":")[0] for r in await stack.requests_at(agency))
    for application_id, expected in zip(ids, EXPECTED_ROUTES):
        assert {a for a, apps in held.items() if application_id in apps} == expected
    for apps in held.values():
        assert len(apps) == len(set(apps)), "an agency holds two requests for one application"

    # Each workflow started from the plan the API checked the application against: it planned nothing itself.
    for application_id in ids:
        history = await stack.temporal.get_workflow_handle(application_id).fetch_history()
        start = history.events[0].workflow_execution_started_event_attributes
        [started_with] = await stack.temporal.data_converter.decode(start.input.payloads, [PermitWorkflowInput])
        assert started_with.plan is not None and started_with.plan.calendar is not None
        assert [a.agency.code.value for a in started_with.plan.agencies] == [
            c["agency"] for c in views[ids.index(application_id)]["clearances"]]
        assert PLAN_APPLICATION not in {e.activity_task_scheduled_event_attributes.activity_type.name
                                        for e in history.events if e.HasField("activity_task_scheduled_event_attributes")}
        # the worker applies each activation's jobs at once (workers/logic_flags.py), and the history says so
        assert SINGLE_BATCH in {flag for e in history.events if e.HasField("workflow_task_completed_event_attributes")
                                for flag in e.workflow_task_completed_event_attributes.sdk_metadata.lang_used_flags}

    for view, expected in zip(views, EXPECTED_ROUTES):
        clearances = {c["agency"]: c for c in view["clearances"]}
        assert set(clearances) == expected
        assert all(c["status"] in FINAL and c["sla"] == "met" for c in clearances.values())
        assert all(c["accepted_at"] and c["due_at"] and c["decided_at"] for c in clearances.values())
    closure = {c["agency"]: c for c in views[1]["clearances"]}
    assert closure["police"]["requested_at"] >= closure["transport"]["decided_at"], "police waits for transport"
    assert closure["police"]["status"] == "approved_with_conditions" and closure["police"]["conditions"]
    assert {c["agency"]: c["status"] for c in views[1]["clearances"]}["district"] == "approved"  # a poll agency

    # Pay the road closure as a bank would; the permit is issued.
    closure_id = ids[1]
    paid = await stack.http.post(
        f"{stack.sim}/admin/payments", json={"permit_id": closure_id, "amount_idr": views[1]["fees"]["total_idr"]}
    )
    assert paid.status_code == 200 and paid.json()["delivered"], paid.text
    issued = await stack.wait_for(closure_id, lambda v: v["status"] == "issued")
    number = issued["permit"]["number"]
    assert issued["fees"]["paid_at"]

    document = await stack.http.get(f"{stack.api}/v1/permits/{closure_id}/document")
    assert document.status_code == 200
    assert document.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(document.content)).pages)
    assert number in text and "Kejar Malam" in text
    for condition in closure["police"]["conditions"]:
        assert condition[:20] in text.replace("\n", " ")

    verify = await stack.http.get(f"{stack.api}/v1/verify/{number}", headers={"Accept": "application/json"})
    assert verify.status_code == 200
    assert verify.json()["state"] == "valid"

    # The read model catches up: a search by permit number finds it issued; the SLA report counts it.
    async def listed_as_issued() -> bool:
        page = (await stack.http.get(f"{stack.api}/v1/permits", params={"q": number})).json()
        return [(i["id"], i["status"]) for i in page["items"]] == [(closure_id, "issued")]

    async def report() -> dict:
        return {row["agency"]: row for row in (await stack.http.get(f"{stack.api}/v1/sla/agencies", headers=stack.officer)).json()}

    for _ in range(100):
        if await listed_as_issued() and (await report())["police"]["met"] == 2:
            break
        await asyncio.sleep(0.1)
    assert await listed_as_issued()
    figures = await report()
    assert figures["police"]["requests"] == 2 and figures["police"]["met"] == 2  # the closure and the foreign crew
    assert figures["fire"]["requests"] == 1 and figures["transit"]["requests"] == 0


async def test_lost_responses_never_create_a_second_request(stack: Stack) -> None:
    """The agency processes each request but the answer is lost; retries reuse the key."""
    await stack.behave("parks", lost_response_rate=1.0, decision_delay_ms=100)
    body = demo_applications(first_feasible_day())[0]
    ids = []
    for _ in range(3):
        response = await stack.submit(body, key=str(uuid.uuid4()))
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])

    async def every_request_retried() -> bool:
        requests = await stack.requests_at("parks")
        return len(requests) == 3 and all(r["times_seen"] >= 2 for r in requests)

    for _ in range(100):
        if await every_request_retried():
            break
        await asyncio.sleep(0.2)
    assert await every_request_retried(), await stack.requests_at("parks")

    await stack.behave("parks", lost_response_rate=0.0)
    for application_id in ids:
        await stack.wait_for(application_id, lambda v: v["status"] == "awaiting_payment")
    requests = await stack.requests_at("parks")
    keys = [r["idempotency_key"] for r in requests]
    assert len(keys) == len(set(keys)) == 3
    assert {k.split(":")[0] for k in keys} == set(ids)


async def test_a_decision_resent_after_the_clearance_closed_is_accepted_once_and_changes_nothing(stack: Stack) -> None:
    await stack.behave("parks", decision="approve", decision_delay_ms=100)
    body = demo_applications(first_feasible_day())[0]
    application_id = (await stack.submit(body, key=str(uuid.uuid4()))).json()["id"]
    before = await stack.wait_for(application_id, lambda v: v["status"] == "awaiting_payment")
    [held] = await stack.requests_at("parks")
    agency_view = (
        await stack.http.get(f"{stack.sim}/agencies/parks/v1/clearance-requests/{held['reference']}")
    ).json()
    decision = {
        "decision_id": agency_view["decision_id"], "reference": held["reference"],
        "request_key": held["idempotency_key"], "status": agency_view["status"],
        "conditions": agency_view["conditions"], "reason": agency_view["reason"],
        "decided_at": agency_view["decided_at"],
    }

    async def deliver(payload: dict) -> int:
        raw = json.dumps(payload).encode()
        signature = sign(webhook_secret("parks", stack.settings.state_dir), raw, int(time.time()))
        response = await stack.http.post(
            f"{stack.api}/v1/agencies/parks/decisions", content=raw,
            headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"},
        )
        return response.status_code

    assert await deliver(decision) == 202  # the same decision again: accepted, as the first time
    different = {**decision, "decision_id": "late-change", "status": "rejected", "reason": "changed our mind"}
    assert await deliver(different) == 409  # a different decision cannot reopen a final clearance
    after = await stack.status(application_id)
    assert after["status"] == "awaiting_payment" and after["clearances"] == before["clearances"]
