"""The applicant's incentive pages in process: apply with field errors next to the fields, follow one, and who
may reach them."""

from __future__ import annotations

import uuid

from temporalio.client import Client

from schemas.incentives import IncentiveStatusView, RuleCheck
from tests.api.conftest import eventually, sample_body
from tests.web.conftest import Pages, csrf_of


async def test_the_applicant_applies_on_its_permit_sees_field_errors_then_follows_the_incentive(
    pages: Pages, dev_client: Client
) -> None:
    submitted = await pages.app_http.post("/v1/permits", json=sample_body(), headers={
        **pages.users.headers("applicant"), "Idempotency-Key": str(uuid.uuid4())})
    permit_id = submitted.json()["id"]
    await pages.sign_in("applicant")
    form = await pages.http.get(f"/web/incentives/new?permit={permit_id}")
    assert form.status_code == 200 and f'<option value="{permit_id}" selected>' in form.text
    fields = {"programme": "location_rebate", "permit_id": permit_id, "fiscal_year": "2027",
              "planned_jakarta_spend_idr": "8000000000", "planned_post_production_idr": "0", "crew_total": "40",
              "crew_indonesian": "30"}
    assert (await pages.http.post("/web/incentives", data=fields)).status_code == 403

    token = csrf_of(form.text)
    invalid = await pages.http.post("/web/incentives", data={**fields, "crew_total": "0", "csrf_token": token})
    assert invalid.status_code == 422 and 'data-path="crew_total"' in invalid.text
    assert 'value="8000000000"' in invalid.text  # the other fields kept

    done = await pages.http.post("/web/incentives", data={**fields, "csrf_token": token, "form_key": str(uuid.uuid4())})
    assert done.status_code == 303 and done.headers["location"].startswith("/web/incentives/INC-")
    incentive_id = done.headers["location"].rsplit("/", 1)[1]
    handle = dev_client.get_workflow_handle(incentive_id)
    view = await eventually(lambda: handle.query("status", result_type=IncentiveStatusView),
                            lambda v: v.id == incentive_id)
    await handle.signal("test_set_view", view.model_copy(update={"eligibility": [
        RuleCheck(rule="min_shoot_days", ok=True, detail="3 shoot days in Jakarta"),
        RuleCheck(rule="min_indonesian_crew_share", ok=False, detail="75% Indonesian crew")]}))
    await eventually(lambda: handle.query("status", result_type=IncentiveStatusView), lambda v: bool(v.eligibility))
    page = await pages.http.get(f"/web/incentives/{incentive_id}")
    assert page.status_code == 200 and 'id="incentive-status"' in page.text
    assert 'class="pass" data-rule="min_shoot_days"' in page.text
    assert 'class="fail" data-rule="min_indonesian_crew_share"' in page.text
    assert (await pages.http.get(f"/web/incentives/{incentive_id}/certificates/final")).status_code == 404

    pages.http.cookies.clear()
    await pages.sign_in("applicant_b")
    assert (await pages.http.get(f"/web/incentives/{incentive_id}")).status_code == 404
    assert incentive_id not in (await pages.http.get("/web/incentives")).text
    pages.http.cookies.clear()
    await pages.sign_in("agency:parks")
    for path in ("/web/incentives", f"/web/incentives/{incentive_id}", "/web/incentives/new"):
        assert (await pages.http.get(path)).status_code == 403, path
    pages.http.cookies.clear()
    await pages.sign_in("officer")
    assert (await pages.http.get(f"/web/incentives/{incentive_id}")).status_code == 200
    assert (await pages.http.get("/web/incentives/new")).status_code == 403
