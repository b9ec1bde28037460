"""An application's page in process: the officer's remaining actions (ask the applicant, confirm a rejection,
override with a reason) through the JSON route's decision, and the applicant's amend and pay."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
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


def flat(data: object, prefix: str = "") -> dict[str, str]:
    """A JSON body as the form's field names (`locations[0].days[0].date`)."""
    if isinstance(data, dict):
        return {k: v for key, value in data.items() for k, v in flat(value, f"{prefix}.{key}" if prefix else key).items()}
    if isinstance(data, list):
        return {k: v for i, value in enumerate(data) for k, v in flat(value, f"{prefix}[{i}]").items()}
    return {prefix: "true" if data is True else "" if data in (None, False) else str(data)}


async def updates(client: Client, application_id: str) -> list[str]:
    return await client.get_workflow_handle(application_id).query("updates", result_type=list[str])


async def test_the_applicant_amends_from_a_form_prefilled_from_its_application(pages: Pages, dev_client: Client) -> None:
    application_id = await submitted(pages, dev_client)
    await pages.sign_in("applicant")
    page = await pages.http.get(f"/web/applications/{application_id}")
    assert f'href="/web/applications/{application_id}/amend"' in page.text
    form = await pages.http.get(f"/web/applications/{application_id}/amend")
    assert form.status_code == 200 and 'value="Senja di Kota"' in form.text
    assert f'action="/web/applications/{application_id}/amend"' in form.text

    body = sample_body()
    body["locations"][0]["crew_size"] = 60
    url = f"/web/applications/{application_id}/amend"
    refused = await pages.http.post(url, data=flat(body))
    assert refused.status_code == 403 and not any(u.startswith("amend") for u in await updates(dev_client, application_id))
    bad = {**flat(body), "applicant.email": "not-an-address", "csrf_token": csrf_of(form.text)}
    invalid = await pages.http.post(url, data=bad)
    assert invalid.status_code == 422 and 'data-path="applicant.email"' in invalid.text
    done = await pages.http.post(url, data={**flat(body), "csrf_token": csrf_of(form.text), "form_key": str(uuid.uuid4())})
    assert done.status_code == 303, done.text
    assert len([u for u in await updates(dev_client, application_id) if u.startswith("amend")]) == 1

    pages.http.cookies.clear()
    await pages.sign_in("applicant_b")
    assert (await pages.http.get(url)).status_code == 404


async def test_paying_locally_goes_to_the_simulator_and_shows_the_amount_and_reference(
    pages: Pages, dev_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from schemas.status import Fees
    from web import routes

    paid: list[tuple[str, str, int]] = []

    async def simulator(url: str, permit_id: str, amount_idr: int) -> None:
        paid.append((url, permit_id, amount_idr))

    monkeypatch.setattr(routes, "pay_at_simulator", simulator)
    fees = Fees(schedule_version="2026.1", total_idr=1_500_000, lines=[])
    application_id = await submitted(pages, dev_client, status=ApplicationStatus.awaiting_payment, fees=fees)
    await pages.sign_in("applicant")
    page = await pages.http.get(f"/web/applications/{application_id}")
    assert 'id="pay-form"' in page.text and "Rp 1.500.000" in page.text
    assert f'<code id="payment-reference">{application_id}</code>' in page.text

    url = f"/web/applications/{application_id}/pay"
    assert (await pages.http.post(url, data={})).status_code == 403 and paid == []
    done = await pages.http.post(url, data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 303 and [p[1:] for p in paid] == [(application_id, 1_500_000)]
    assert paid[0][0].endswith("/admin/payments")

    pages.http.cookies.clear()
    await pages.sign_in("officer")
    officer_page = await pages.http.get(f"/web/applications/{application_id}")
    assert 'id="pay-form"' not in officer_page.text
