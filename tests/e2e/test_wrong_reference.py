"""An agency decision naming a reference that is not the clearance's, on the real stack: refused, nothing changes,
and the agency's right decision afterwards still applies."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid

from cli.demo import demo_applications
from config.secrets import webhook_secret
from domain.signatures import SIGNATURE_HEADER, sign
from schemas.contracts import QUERY_VIEW, SIGNAL_AGENCY_DECISION, clearance_workflow_id
from schemas.decisions import AgencyDecision
from schemas.status import ClearanceView
from tests.e2e.conftest import Stack, first_feasible_day


def clearance(view: dict, agency: str) -> dict:
    return next((c for c in view["clearances"] if c["agency"] == agency), {"status": None})


async def post_decision(stack: Stack, decision: dict):
    body = json.dumps(decision).encode()
    signature = sign(webhook_secret("parks", stack.settings.state_dir), body, int(time.time()))
    return await stack.http.post(f"{stack.api}/v1/agencies/parks/decisions", content=body,
                                 headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"})


async def test_a_decision_for_another_reference_is_refused_and_the_right_one_applies(stack: Stack) -> None:
    await stack.behave("parks", decision="silent")  # parks decides only when told to below
    application_id = (await stack.submit(demo_applications(first_feasible_day())[0], key=str(uuid.uuid4()))).json()["id"]
    await stack.wait_for(application_id, lambda v: clearance(v, "parks")["status"] == "submitted")
    (held,) = await stack.requests_at("parks")
    request_key = clearance_workflow_id(application_id, "parks", 1)
    wrong = {"decision_id": f"dec-{uuid.uuid4()}", "reference": held["reference"] + "-OTHER",
             "request_key": request_key, "status": "rejected", "conditions": [], "reason": "not yours",
             "decided_at": dt.datetime.now(dt.UTC).isoformat()}

    refused = await post_decision(stack, wrong)

    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["title"] == "reference does not match the clearance"
    assert [p["path"] for p in problem["problems"]] == ["reference"]
    assert held["reference"] not in refused.text.replace(wrong["reference"], "")  # ours is not given away
    # Signalled past the API, the clearance workflow ignores it as well.
    handle = stack.temporal.get_workflow_handle(request_key)
    await handle.signal(SIGNAL_AGENCY_DECISION, AgencyDecision.model_validate(wrong))
    await asyncio.sleep(1.0)
    view = await handle.query(QUERY_VIEW, result_type=ClearanceView)
    assert view.status.value == "submitted" and view.decided_at is None and not view.rejection_to_confirm
    status = await stack.status(application_id)
    assert clearance(status, "parks")["status"] == "submitted"
    assert not any(e["event"] == "clearance_rejected" for e in status["timeline"])
    audited = await stack.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE application_id = $1 AND action = 'agency_decision'", application_id)
    assert audited == 0

    # The agency's own decision, by webhook with the right reference, still applies.
    decided = await stack.http.post(f"{stack.sim}/admin/agencies/parks/requests/{held['reference']}/decision",
                                    json={"status": "approved", "conditions": [], "reason": None})
    assert decided.status_code == 200, decided.text
    status = await stack.wait_for(application_id, lambda v: v["status"] == "awaiting_payment")
    assert clearance(status, "parks")["status"] == "approved"
    assert clearance(status, "parks")["reference"] == held["reference"]
