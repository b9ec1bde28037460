"""The officer's committee, funds and SLA pages in process: who reaches them, the vote through the JSON API's update,
CSRF refusals, and the period form."""

from __future__ import annotations

import uuid

from temporalio.client import Client

from schemas.incentives import IncentiveStatus, IncentiveStatusView
from store.incentive_projections import project_incentive
from tests.api.conftest import eventually
from tests.web.conftest import Pages, csrf_of


async def committee_incentive(pages: Pages, client: Client) -> str:
    """An incentive of the applicant's, before the committee (in the stand-in workflow and the read model)."""
    body = {"programme": "location_rebate", "permit_id": "PRM-ABCDEFGHIJKL", "fiscal_year": 2027,
            "planned_jakarta_spend_idr": 8_000_000_000, "crew_total": 40, "crew_indonesian": 30}
    applied = await pages.app_http.post("/v1/incentives", json=body, headers={
        **pages.users.headers("applicant"), "Idempotency-Key": str(uuid.uuid4())})
    assert applied.status_code == 202, applied.text
    incentive_id = applied.json()["id"]
    handle = client.get_workflow_handle(incentive_id)
    view = await eventually(lambda: handle.query("status", result_type=IncentiveStatusView),
                            lambda v: v.id == incentive_id)
    view = view.model_copy(update={"status": IncentiveStatus.committee, "production_title": "Hujan di Kota Tua",
                                   "estimated_idr": 2_000_000_000, "reserved_idr": 2_000_000_000})
    await handle.signal("test_set_view", view)
    await eventually(lambda: handle.query("status", result_type=IncentiveStatusView),
                     lambda v: v.status == IncentiveStatus.committee)
    await project_incentive(pages.pool, incentive_id, 1, view)
    return incentive_id


async def test_officers_see_the_committee_and_vote_through_the_update_and_a_vote_needs_its_token(
    pages: Pages, dev_client: Client
) -> None:
    incentive_id = await committee_incentive(pages, dev_client)
    await pages.sign_in("officer")
    page = await pages.http.get("/web/officer/committee?year=2027")
    assert page.status_code == 200
    assert f'data-id="{incentive_id}"' in page.text and "Hujan di Kota Tua" in page.text
    assert 'data-programme="location_rebate"' in page.text and "<svg" in page.text  # the funds chart

    vote = f"/web/officer/incentives/{incentive_id}/vote"
    refused = await pages.http.post(vote, data={"outcome": "approve", "reason": "audit is clean"})
    assert refused.status_code == 403
    view = await dev_client.get_workflow_handle(incentive_id).query("status", result_type=IncentiveStatusView)
    assert not any(e.event.startswith("committee_") for e in view.timeline)

    done = await pages.http.post(vote, data={"csrf_token": csrf_of(page.text), "outcome": "approve",
                                             "reason": "audit is clean", "form_key": str(uuid.uuid4())})
    assert done.status_code == 303 and done.headers["location"] == "/web/officer/committee"
    view = await dev_client.get_workflow_handle(incentive_id).query("status", result_type=IncentiveStatusView)
    assert [e.event for e in view.timeline if e.event.startswith("committee_")] == ["committee_approve"]

    no_reason = await pages.http.post(vote, data={"csrf_token": csrf_of(page.text), "outcome": "approve",
                                                  "reason": " "})
    assert no_reason.status_code == 422 and "reason" in no_reason.text


async def test_the_committee_and_funds_are_for_staff_and_auditors_do_not_vote(pages: Pages, dev_client: Client) -> None:
    incentive_id = await committee_incentive(pages, dev_client)
    for key in ("agency:parks", "applicant"):
        pages.http.cookies.clear()
        await pages.sign_in(key)
        for path in ("/web/officer/committee", "/web/officer/sla"):
            response = await pages.http.get(path)
            assert response.status_code == 403, (key, path)
            assert incentive_id not in response.text and "Hujan di Kota Tua" not in response.text
        page = await pages.http.get("/web/applications")
        refused = await pages.http.post(f"/web/officer/incentives/{incentive_id}/vote", data={
            "csrf_token": csrf_of(page.text), "outcome": "approve", "reason": "me too"})
        assert refused.status_code == 403, key

    pages.http.cookies.clear()
    await pages.sign_in("auditor")
    page = await pages.http.get("/web/officer/committee")
    assert page.status_code == 200 and incentive_id in page.text and "vote-form" not in page.text
    refused = await pages.http.post(f"/web/officer/incentives/{incentive_id}/vote", data={
        "csrf_token": csrf_of(page.text), "outcome": "approve", "reason": "me too"})
    assert refused.status_code == 403


async def test_the_sla_page_takes_a_period_and_shows_each_agency_its_health_and_open_breaches(pages: Pages) -> None:
    from tests.reports.report_samples import add_application, add_outage, jkt

    await add_application(pages.pool, "PRM-HEALTH0001", submitted_at=jkt(2026, 2, 1, 9), agencies=("district",))
    await add_outage(pages.pool, "PRM-HEALTH0001", "district", 0, jkt(2026, 2, 2, 10), jkt(2026, 2, 2, 10, 30))
    await pages.sign_in("officer")
    page = await pages.http.get("/web/officer/sla?from=2026-01-01&to=2026-03-31")
    assert page.status_code == 200
    district = page.text.split('data-agency="district"')[-1].split("</g>")[0]  # its health row
    assert "30.0" in district and "1 gangguan" in district  # the pages speak Indonesian unless told otherwise
    assert 'value="2026-01-01"' in page.text and 'value="2026-03-31"' in page.text
    assert 'id="sla-chart"' in page.text and 'data-agency="parks"' in page.text and "min" in page.text
    assert 'id="health"' in page.text and ('id="breaches"' in page.text or 'id="no-breaches"' in page.text)

    backwards = await pages.http.get("/web/officer/sla?from=2026-03-31&to=2026-01-01")
    assert backwards.status_code == 422 and 'data-path="from"' in backwards.text
    nonsense = await pages.http.get("/web/officer/sla?from=yesterday")
    assert nonsense.status_code == 422 and 'data-path="from"' in nonsense.text

    pages.http.cookies.clear()
    await pages.sign_in("auditor")
    assert (await pages.http.get("/web/officer/sla")).status_code == 200
