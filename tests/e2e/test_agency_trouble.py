"""Agencies misbehaving on the real stack: a lost webhook, an outage, and refusals that must reach the caller whole."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid

from cli.demo import demo_applications
from config.secrets import webhook_secret
from domain import calendar
from domain.signatures import SIGNATURE_HEADER, sign
from schemas.contracts import SIGNAL_CLEARANCE_CHANGED, clearance_workflow_id
from temporalio.api.enums.v1 import EventType
from tests.e2e.conftest import Stack, first_feasible_day


def park_shoot() -> dict:
    return demo_applications(first_feasible_day())[0]  # a park shoot: parks only


def clearance(view: dict, agency: str) -> dict:
    """The agency's clearance in a status view (empty before the application is planned)."""
    return next((c for c in view["clearances"] if c["agency"] == agency), {"status": None})


async def clearance_views_told(stack: Stack, application_id: str, agency: str) -> list[dict]:
    """The views the agency's clearance signalled to its permit workflow, in order."""
    handle = stack.temporal.get_workflow_handle(application_id)
    told = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            attrs = event.workflow_execution_signaled_event_attributes
            if attrs.signal_name == SIGNAL_CLEARANCE_CHANGED:
                [payload] = await stack.temporal.data_converter.payload_codec.decode(attrs.input.payloads[:1])
                view = json.loads(payload.data)  # histories hold ciphertext: decoded with the stack's codec
                if view["agency"] == agency:
                    told.append(view)
    return told


async def test_a_lost_webhook_is_reconciled_by_polling_and_counts_once(stack: Stack) -> None:
    # Parks decides at once but sends no webhook (as if it got lost); the catalog says parks sends webhooks.
    await stack.behave("parks", mode="poll", decision="conditions", decision_delay_ms=100)
    application_id = (await stack.submit(park_shoot(), key=str(uuid.uuid4()))).json()["id"]

    view = await stack.wait_for(application_id, lambda v: v["status"] == "awaiting_payment", timeout=60)
    parks = clearance(view, "parks")
    (held,) = await stack.requests_at("parks")
    at_agency = (await stack.http.get(f"{stack.sim}/agencies/parks/v1/clearance-requests/{held['reference']}")).json()
    assert parks["status"] == "approved_with_conditions" == at_agency["status"]
    assert parks["conditions"] == at_agency["conditions"] and parks["conditions"]
    # found by a status poll after the reconcile delay, the decision keeps the agency's time
    assert dt.datetime.fromisoformat(parks["decided_at"]) == dt.datetime.fromisoformat(at_agency["decided_at"])
    assert parks["sla"] == "met"
    calls = (await stack.http.get(f"{stack.sim}/admin/agencies/parks/calls")).json()
    assert any(c["method"] == "GET" and c["path"].endswith(held["reference"]) for c in calls)
    webhooks = await stack.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE application_id = $1 AND action = 'agency_decision'", application_id)
    assert webhooks == 0  # nothing came by webhook

    # The lost webhook turns up after all: accepted (202), and applied once.
    decision = {"decision_id": at_agency["decision_id"], "reference": held["reference"],
                "request_key": clearance_workflow_id(application_id, "parks", 1), "status": at_agency["status"],
                "conditions": at_agency["conditions"], "reason": at_agency["reason"],
                "decided_at": at_agency["decided_at"]}
    body = json.dumps(decision).encode()
    late = await stack.http.post(
        f"{stack.api}/v1/agencies/parks/decisions", content=body,
        headers={SIGNATURE_HEADER: sign(webhook_secret("parks", stack.settings.state_dir), body, int(time.time())),
                 "Content-Type": "application/json"},
    )
    assert late.status_code == 202, late.text
    view = await stack.status(application_id)
    decided = [e for e in view["timeline"] if e["event"] == "clearance_approved_with_conditions"]
    assert len(decided) == 1 and view["status"] == "awaiting_payment"


async def test_an_outage_shows_at_once_and_the_sla_starts_at_acceptance(stack: Stack) -> None:
    await stack.behave("parks", decision="silent", error_rate=1.0)  # every call answered 503
    submitted = dt.datetime.now(dt.UTC)
    application_id = (await stack.submit(park_shoot(), key=str(uuid.uuid4()))).json()["id"]

    view = await stack.wait_for(application_id, lambda v: clearance(v, "parks")["status"] == "agency_unreachable",
                                timeout=4)
    parks = clearance(view, "parks")
    first_failure = dt.datetime.fromisoformat(parks["outages"][0]["started_at"])
    assert submitted <= first_failure < submitted + dt.timedelta(seconds=4)
    assert parks["accepted_at"] is None and parks["due_at"] is None and parks["sla"] is None

    async def refused_calls() -> int:
        calls = (await stack.http.get(f"{stack.sim}/admin/agencies/parks/calls")).json()
        return len([c for c in calls if c["method"] == "POST" and c["status"] == 503])

    deadline = asyncio.get_running_loop().time() + 20
    while await refused_calls() < 3:  # retried on the workflow's timers, one attempt at a time
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.2)
    await stack.behave("parks", error_rate=0.0)
    recovered = dt.datetime.now(dt.UTC)

    view = await stack.wait_for(application_id, lambda v: clearance(v, "parks")["status"] == "submitted", timeout=40)
    parks = clearance(view, "parks")
    accepted = dt.datetime.fromisoformat(parks["accepted_at"])
    assert accepted >= recovered  # the SLA clock starts when the agency accepts, not at the first attempt
    assert dt.datetime.fromisoformat(parks["due_at"]) == calendar.sla_deadlines(accepted, 5, 5).due_at
    (episode,) = parks["outages"]
    assert dt.datetime.fromisoformat(episode["recovered_at"]) == accepted
    assert episode["failed_attempts"] == parks["failed_attempts"] == await refused_calls() >= 3
    (held,) = await stack.requests_at("parks")
    assert held["times_seen"] == 1  # refused before processing during the outage, taken once after it
    # The parent heard of the outage when it began and at acceptance: never of each failed attempt.
    told = await clearance_views_told(stack, application_id, "parks")
    assert [v["status"] for v in told] == ["agency_unreachable", "submitted"]


async def test_refusals_by_the_workflow_reach_the_caller_as_problems_with_paths(stack: Stack) -> None:
    await stack.behave("parks", decision="silent")
    body = park_shoot()
    application_id = (await stack.submit(body, key=str(uuid.uuid4()))).json()["id"]
    await stack.wait_for(application_id, lambda v: clearance(v, "parks")["status"] == "submitted")

    moved = json.loads(json.dumps(body))
    moved["applicant"]["company"] = "PT Lain Film"
    refused = await stack.http.post(f"{stack.api}/v1/permits/{application_id}/amendments", json=moved,
                                    headers={"Idempotency-Key": str(uuid.uuid4())})
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [p["path"] for p in problem["problems"]] == ["applicant.company"]
    assert "another company" in problem["problems"][0]["message"]

    async def decide(**decision) -> dict:
        response = await stack.http.post(f"{stack.api}/v1/officer/permits/{application_id}/decisions",
                                         json={"reason": "checked", **decision}, headers={
                                             **stack.officer, "Idempotency-Key": str(uuid.uuid4())})
        assert response.status_code == 422, response.text
        return response.json()

    # an override of a clearance still open, and a decision for an agency the application never went to
    assert [p["path"] for p in (await decide(kind="override", agency="parks", outcome="rejected"))["problems"]] == [
        "kind"]
    wrong = await decide(kind="clearance", agency="fire", outcome="approved")
    assert [p["path"] for p in wrong["problems"]] == ["agency"] and "'fire'" in wrong["problems"][0]["message"]

    answer = await stack.http.post(f"{stack.api}/v1/permits/{application_id}/information",
                                   json={"request_id": "no-such-request", "answer": "x"},
                                   headers={"Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 422 and [p["path"] for p in answer.json()["problems"]] == ["request_id"]

    # nothing of that was applied; a refusal because of the state is a 409
    view = await stack.status(application_id)
    assert view["revision"] == 1 and clearance(view, "parks")["status"] == "submitted"
    for attempt in range(2):
        cancelled = await stack.http.post(f"{stack.api}/v1/permits/{application_id}/cancel",
                                          json={"reason": "moved"}, headers={"Idempotency-Key": f"c-{attempt}"})
        assert cancelled.status_code == (200 if attempt == 0 else 409), cancelled.text
