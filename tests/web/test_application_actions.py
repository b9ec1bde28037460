"""An application's page in process: the officer's remaining actions (ask the applicant, confirm a rejection,
override with a reason) through the JSON route's decision, and the applicant's amend and pay."""

from __future__ import annotations

import datetime as dt
import uuid

from temporalio.client import Client

from schemas.status import ApplicationStatus, ClearanceStatus, ClearanceView, PermitStatusView
from tests.api.conftest import eventually, sample_body
from tests.web.conftest import Pages, csrf_of

NOW = dt.datetime(2026, 5, 4, 3, 0, tzinfo=dt.UTC)


async def submitted(pages: Pages, client: Client, **view: object) -> str:
    """An application of the applicant's, its stand-in workflow showing `view`'s fields."""
    response = await pages.app_http.post("/v1/permits", json=sample_body(), headers={
        **pages.users.headers("applicant"), "Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 202, response.text
    application_id = response.json()["id"]
    if view:
        handle = client.get_workflow_handle(application_id)
        current = await handle.query("status", result_type=PermitStatusView)
        await handle.signal("test_set_view", current.model_copy(update=view))
        await eventually(lambda: handle.query("status", result_type=PermitStatusView),
                         lambda v: all(getattr(v, k) == value for k, value in view.items()))
    return application_id


def clearance(agency: str, status: ClearanceStatus, **fields: object) -> ClearanceView:
    return ClearanceView(agency=agency, status=status, requested_at=NOW, accepted_at=NOW,
                         due_at=NOW + dt.timedelta(days=7), **fields)


async def decisions(client: Client, application_id: str) -> list[str]:
    view = await client.get_workflow_handle(application_id).query("status", result_type=PermitStatusView)
    return [e.detail for e in view.timeline if e.event == "officer_decision"]


async def test_an_officer_asks_the_applicant_confirms_a_rejection_and_overrides_with_a_reason(
    pages: Pages, dev_client: Client
) -> None:
    application_id = await submitted(pages, dev_client, status=ApplicationStatus.in_review, clearances=[
        clearance("parks", ClearanceStatus.submitted),
        clearance("police", ClearanceStatus.rejected, rejection_to_confirm=True, needs_officer=True,
                  reason="no escort available"),
        clearance("transport", ClearanceStatus.approved)])
    await pages.sign_in("officer")
    page = await pages.http.get(f"/web/applications/{application_id}")
    assert page.status_code == 200
    for form in ('id="ask-form"', 'class="confirm-form" data-agency="police"', 'id="override-form"'):
        assert form in page.text, form
    ask = page.text.split('id="ask-form"', 1)[1].split("</form>", 1)[0]
    assert 'value="parks"' in ask and 'value="police"' not in ask
    override = page.text.split('id="override-form"', 1)[1].split("</form>", 1)[0]
    assert 'value="transport"' in override and 'value="police"' not in override

    url = f"/web/applications/{application_id}/decide"
    token = csrf_of(page.text)
    refused = await pages.http.post(url, data={"kind": "clearance", "agency": "parks",
                                               "outcome": "information_required", "reason": "which gate?"})
    assert refused.status_code == 403 and await decisions(dev_client, application_id) == []
    for data in ({"kind": "clearance", "agency": "parks", "outcome": "information_required",
                  "reason": "Which gate will the trucks use?"},
                 {"kind": "clearance", "agency": "police", "outcome": "rejected", "reason": "escort unavailable"},
                 {"kind": "override", "agency": "transport", "outcome": "rejected", "reason": "road works that week"}):
        done = await pages.http.post(url, data={**data, "csrf_token": token, "form_key": str(uuid.uuid4())})
        assert done.status_code == 303, (data, done.text)
    assert await decisions(dev_client, application_id) == [
        "parks: information_required", "police: rejected", "transport: rejected"]

    no_reason = await pages.http.post(url, data={"csrf_token": token, "kind": "override", "agency": "transport",
                                                 "outcome": "approved", "reason": ""})
    assert no_reason.status_code == 422 and "reason" in no_reason.text


async def test_the_applicant_sees_none_of_the_officers_actions(pages: Pages, dev_client: Client) -> None:
    application_id = await submitted(pages, dev_client, status=ApplicationStatus.in_review, clearances=[
        clearance("parks", ClearanceStatus.submitted),
        clearance("police", ClearanceStatus.rejected, rejection_to_confirm=True, needs_officer=True)])
    await pages.sign_in("applicant")
    page = await pages.http.get(f"/web/applications/{application_id}")
    assert page.status_code == 200
    for form in ("ask-form", "confirm-form", "override-form", "decide-form"):
        assert form not in page.text, form
    refused = await pages.http.post(f"/web/applications/{application_id}/decide", data={
        "csrf_token": csrf_of(page.text), "kind": "override", "agency": "police", "outcome": "approved",
        "reason": "please"})
    assert refused.status_code == 403 and await decisions(dev_client, application_id) == []
