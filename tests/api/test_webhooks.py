"""Signed webhooks: agency decisions and payments."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.client import WorkflowHandle

from domain.ids import application_id_for_key
from schemas.decisions import AgencyDecision, Payment
from tests.api.conftest import NOW, Api, eventually, sample_body


def decision(request_key: str, decision_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    return {
        "decision_id": decision_id or f"dec-{uuid.uuid4()}",
        "reference": "PARKS-0001",
        "request_key": request_key,
        "status": "approved_with_conditions",
        "conditions": ["No filming near the fountain after 17:00"],
        "reason": None,
        "decided_at": NOW.isoformat(),
        **overrides,
    }


@pytest.fixture
async def clearance(api: Api) -> AsyncIterator[WorkflowHandle]:
    """A running stand-in clearance workflow for parks, revision 1, of a fresh application id."""
    request_key = f"{application_id_for_key(str(uuid.uuid4()))}:parks:r1"
    handle = await api.temporal.start_workflow("AgencyClearanceWorkflow", id=request_key,
                                               task_queue=api.settings.task_queue)
    yield handle
    await handle.signal("test_finish")


async def decisions_of(handle: WorkflowHandle) -> list[AgencyDecision]:
    return await handle.query("decisions", result_type=list[AgencyDecision])


async def test_a_signed_decision_reaches_the_clearance_workflow(api: Api, clearance: WorkflowHandle) -> None:
    body = decision(clearance.id)

    response = await api.post_signed("/v1/agencies/parks/decisions", body, "parks")

    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": True}
    seen = await eventually(lambda: decisions_of(clearance), bool)
    assert [d.decision_id for d in seen] == [body["decision_id"]]
    assert seen[0].conditions == body["conditions"]


async def test_a_replayed_decision_is_accepted_twice_and_applied_once(api: Api, clearance: WorkflowHandle) -> None:
    body = decision(clearance.id)

    first = await api.post_signed("/v1/agencies/parks/decisions", body, "parks")
    second = await api.post_signed("/v1/agencies/parks/decisions", body, "parks",
                                   at=NOW + dt.timedelta(seconds=30))
    other = decision(clearance.id, status="approved", conditions=[])
    third = await api.post_signed("/v1/agencies/parks/decisions", other, "parks")

    assert first.status_code == second.status_code == third.status_code == 202
    seen = await eventually(lambda: decisions_of(clearance), lambda ds: len(ds) >= 2)
    assert [d.decision_id for d in seen] == [body["decision_id"], other["decision_id"]]


async def test_a_forged_signature_is_refused_and_nothing_is_signalled(api: Api, clearance: WorkflowHandle) -> None:
    response = await api.post_signed("/v1/agencies/parks/decisions", decision(clearance.id), "parks",
                                     secret=b"not-the-secret")

    assert response.status_code == 401
    assert response.json()["title"] == "signature refused"
    assert "does not match" in response.json()["detail"]
    assert await decisions_of(clearance) == []


async def test_a_missing_signature_is_refused(api: Api, clearance: WorkflowHandle) -> None:
    response = await api.http.post("/v1/agencies/parks/decisions", json=decision(clearance.id))

    assert response.status_code == 401
    assert "missing" in response.json()["detail"]


async def test_a_signature_six_minutes_old_is_refused(api: Api, clearance: WorkflowHandle) -> None:
    response = await api.post_signed("/v1/agencies/parks/decisions", decision(clearance.id), "parks",
                                     at=NOW - dt.timedelta(minutes=6))

    assert response.status_code == 401
    assert "limit 300 s" in response.json()["detail"]
    assert await decisions_of(clearance) == []


async def test_a_body_changed_after_signing_is_refused(api: Api, clearance: WorkflowHandle) -> None:
    from domain.signatures import SIGNATURE_HEADER, sign

    signed = b'{"a": 1}'
    header = sign(api.secrets["parks"], signed, int(NOW.timestamp()))
    response = await api.http.post("/v1/agencies/parks/decisions", content=b'{"a": 2}',
                                   headers={SIGNATURE_HEADER: header})

    assert response.status_code == 401


async def test_a_request_key_of_another_agency_is_refused(api: Api, clearance: WorkflowHandle) -> None:
    # Signed correctly by the police, but about a parks request.
    response = await api.post_signed("/v1/agencies/police/decisions", decision(clearance.id), "police")

    assert response.status_code == 422
    assert [p["path"] for p in response.json()["problems"]] == ["request_key"]
    assert await decisions_of(clearance) == []


async def test_a_malformed_request_key_is_refused(api: Api) -> None:
    response = await api.post_signed("/v1/agencies/parks/decisions", decision("whatever:parks:r1"), "parks")

    assert response.status_code == 422


async def test_an_invalid_decision_lists_its_problems(api: Api, clearance: WorkflowHandle) -> None:
    body = decision(clearance.id, status="maybe")
    del body["decided_at"]

    response = await api.post_signed("/v1/agencies/parks/decisions", body, "parks")

    assert response.status_code == 422
    assert sorted(p["path"] for p in response.json()["problems"]) == ["decided_at", "status"]


async def test_an_unknown_agency_is_not_found(api: Api) -> None:
    response = await api.post_signed("/v1/agencies/bakery/decisions", {}, "parks")

    assert response.status_code == 404
    assert response.json()["title"] == "unknown agency"


async def test_a_decision_for_no_such_request_is_not_found(api: Api) -> None:
    request_key = f"{application_id_for_key(str(uuid.uuid4()))}:parks:r1"

    response = await api.post_signed("/v1/agencies/parks/decisions", decision(request_key), "parks")

    assert response.status_code == 404


async def test_a_decision_for_a_closed_clearance_is_a_conflict(api: Api) -> None:
    request_key = f"{application_id_for_key(str(uuid.uuid4()))}:parks:r1"
    handle = await api.temporal.start_workflow("AgencyClearanceWorkflow", id=request_key,
                                               task_queue=api.settings.task_queue)
    await handle.signal("test_finish")
    await handle.result()

    response = await api.post_signed("/v1/agencies/parks/decisions", decision(request_key), "parks")

    assert response.status_code == 409
    assert response.json()["title"] == "clearance already final"


async def test_a_signed_payment_reaches_the_application(api: Api) -> None:
    application_id = (await api.submit(sample_body(), str(uuid.uuid4()))).json()["id"]
    body = {"payment_id": "pay-1", "permit_id": application_id, "amount_idr": 1_500_000,
            "paid_at": NOW.isoformat()}

    response = await api.post_signed("/v1/payments/webhook", body, "payments")

    assert response.status_code == 202, response.text
    handle = api.temporal.get_workflow_handle(application_id)
    payments = await eventually(lambda: handle.query("payments", result_type=list[Payment]), bool)
    assert [(p.payment_id, p.amount_idr) for p in payments] == [("pay-1", 1_500_000)]


async def test_a_payment_signed_with_an_agency_secret_is_refused(api: Api) -> None:
    application_id = (await api.submit(sample_body(), str(uuid.uuid4()))).json()["id"]
    body = {"payment_id": "pay-1", "permit_id": application_id, "amount_idr": 1, "paid_at": NOW.isoformat()}

    response = await api.post_signed("/v1/payments/webhook", body, "parks")

    assert response.status_code == 401
    handle = api.temporal.get_workflow_handle(application_id)
    assert await handle.query("payments", result_type=list[Payment]) == []


async def test_a_payment_for_an_unknown_application_is_not_found(api: Api) -> None:
    body = {"payment_id": "pay-1", "permit_id": application_id_for_key(str(uuid.uuid4())), "amount_idr": 1,
            "paid_at": NOW.isoformat()}

    response = await api.post_signed("/v1/payments/webhook", body, "payments")

    assert response.status_code == 404


@pytest.mark.parametrize("header", ["t=1772416800,v1=é".encode(), "t=١٧٧٢٤١٦٨٠٠,v1=ab".encode(),
                                    b"t=" + b"9" * 5000 + b",v1=ab"])
@pytest.mark.parametrize("url", ["/v1/agencies/parks/decisions", "/v1/payments/webhook"])
async def test_a_non_ascii_or_absurd_signature_header_is_refused_not_a_server_error(
    api: Api, url: str, header: bytes
) -> None:
    from domain.signatures import SIGNATURE_HEADER

    response = await api.http.post(url, content=b"{}", headers={SIGNATURE_HEADER: header,
                                                                 "Content-Type": "application/json"})

    assert response.status_code == 401, response.text
    assert response.json()["title"] == "signature refused"
    assert response.headers["WWW-Authenticate"] == "JFC-Signature"


# ---- payments: recorded before the application hears of them, refunds for closed applications ----------


def payment(permit_id: str, amount: int = 1_500_000, payment_id: str | None = None) -> dict[str, Any]:
    return {"payment_id": payment_id or f"pay-{uuid.uuid4()}", "permit_id": permit_id, "amount_idr": amount,
            "paid_at": NOW.isoformat()}


async def closed_application(api: Api) -> str:
    """An application the read model knows whose workflow has ended."""
    from domain.calendar import business_days_between
    from schemas.status import ApplicationStatus, PermitStatusView
    from store.projections import project_application

    application_id = (await api.submit(sample_body(), str(uuid.uuid4()))).json()["id"]
    handle = api.temporal.get_workflow_handle(application_id)
    view = await handle.query("status", result_type=PermitStatusView)
    view = view.model_copy(update={"status": ApplicationStatus.withdrawn})
    assert await project_application(api.pool, application_id, 1, view, business_days_between)
    await handle.signal("test_finish")
    await handle.result()
    return application_id


async def test_a_payment_is_recorded_once_however_often_it_is_reported(api: Api) -> None:
    application_id = (await api.submit(sample_body(), str(uuid.uuid4()))).json()["id"]
    body = payment(application_id)

    first = await api.post_signed("/v1/payments/webhook", body, "payments")
    again = await api.post_signed("/v1/payments/webhook", body, "payments")

    assert first.status_code == again.status_code == 202
    rows = await api.pool.fetch("SELECT application_id, permit_id, amount_idr, outcome FROM payments "
                                "WHERE payment_id = $1", body["payment_id"])
    assert [tuple(r) for r in rows] == [(application_id, application_id, 1_500_000, "received")]


async def test_a_payment_naming_the_permit_number_reaches_its_application(api: Api) -> None:
    from domain.ids import permit_number

    application_id = (await api.submit(sample_body(), str(uuid.uuid4()))).json()["id"]
    number = permit_number(application_id, 2026)
    body = payment(number.lower())  # however the bank wrote it

    response = await api.post_signed("/v1/payments/webhook", body, "payments")

    assert response.status_code == 202, response.text
    handle = api.temporal.get_workflow_handle(application_id)
    seen = await eventually(lambda: handle.query("payments", result_type=list[Payment]), bool)
    assert [p.payment_id for p in seen] == [body["payment_id"]]
    assert await api.pool.fetchval("SELECT application_id FROM payments WHERE payment_id = $1",
                                   body["payment_id"]) == application_id


async def test_a_payment_for_a_closed_application_is_a_conflict_recorded_as_a_refund_for_the_officer(api: Api) -> None:
    from store.queue import officer_queue

    application_id = await closed_application(api)
    body = payment(application_id, amount=2_000_000)

    response = await api.post_signed("/v1/payments/webhook", body, "payments")
    replay = await api.post_signed("/v1/payments/webhook", body, "payments")

    assert response.status_code == replay.status_code == 409, response.text
    assert response.json()["title"] == "application already closed"
    assert "recorded and will be refunded" in response.json()["detail"]
    outcome = await api.pool.fetchrow("SELECT outcome, detail FROM payments WHERE payment_id = $1", body["payment_id"])
    assert outcome["outcome"] == "refund"
    refunds = await api.pool.fetch("SELECT application_id, amount_idr, reason, refunded_at FROM refunds "
                                   "WHERE payment_id = $1", body["payment_id"])
    assert [tuple(r) for r in refunds] == [(application_id, 2_000_000, "application_closed", None)]
    (item,) = [i for i in await officer_queue(api.pool, NOW + dt.timedelta(hours=1)) if i.payment_id == body["payment_id"]]
    assert (item.kind.value, item.application_id, item.amount_idr, item.application_status.value) == (
        "refund", application_id, 2_000_000, "withdrawn")
    assert "refund 2000000 IDR" in item.reason and "closed" in item.reason
    audited = await api.pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'payment_refund_due' "
                                      "AND detail ->> 'payment_id' = $1", body["payment_id"])
    assert audited == 1

    # an officer pays it back: it leaves the queue, once, audited with the bank's reference
    url = f"/v1/officer/refunds/{body['payment_id']}"
    for attempt in range(2):
        made = await api.http.post(url, json={"reference": "BCA-TRF-991"},
                                   headers={**api.as_("officer"), "Idempotency-Key": f"refund-{attempt}"})
        assert made.status_code == 200, made.text
        assert made.json()["application_id"] == application_id
    assert await api.pool.fetchval("SELECT refunded_by FROM refunds WHERE payment_id = $1", body["payment_id"]) \
        == f"officer:{api.users.accounts['officer'].id}"
    assert body["payment_id"] not in {i.payment_id for i in await officer_queue(api.pool, NOW + dt.timedelta(hours=1))}
    assert await api.pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'refund_made' "
                                   "AND detail ->> 'reference' = 'BCA-TRF-991'") == 1
    assert (await api.http.post("/v1/officer/refunds/nope", json={"reference": "x"}, headers={
        **api.as_("officer"), "Idempotency-Key": "refund-nope"})).status_code == 404
    assert (await api.http.post(url, json={"reference": "x"}, headers={
        **api.as_("applicant"), "Idempotency-Key": "refund-applicant"})).status_code == 403


async def test_a_payment_the_application_took_before_it_closed_is_accepted_again(api: Api) -> None:
    application_id = (await api.submit(sample_body(), str(uuid.uuid4()))).json()["id"]
    body = payment(application_id)
    assert (await api.post_signed("/v1/payments/webhook", body, "payments")).status_code == 202
    await api.pool.execute("UPDATE payments SET outcome = 'matched' WHERE payment_id = $1", body["payment_id"])
    handle = api.temporal.get_workflow_handle(application_id)
    await handle.signal("test_finish")
    await handle.result()

    replay = await api.post_signed("/v1/payments/webhook", body, "payments")

    assert replay.status_code == 202, replay.text
    assert await api.pool.fetchval("SELECT count(*) FROM refunds WHERE payment_id = $1", body["payment_id"]) == 0


async def test_a_payment_for_no_application_is_not_found_and_not_kept(api: Api) -> None:
    body = payment(application_id_for_key(str(uuid.uuid4())))

    response = await api.post_signed("/v1/payments/webhook", body, "payments")

    assert response.status_code == 404
    assert await api.pool.fetchval("SELECT count(*) FROM payments WHERE payment_id = $1", body["payment_id"]) == 0
