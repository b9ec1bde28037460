"""POST /v1/permits, GET /v1/permits/{id} and the permit document."""

from __future__ import annotations

import datetime as dt
import uuid

from domain.ids import application_id_for_key, permit_number
from schemas.status import ApplicationStatus, PermitInfo, PermitStatusView
from tests.api.conftest import NOW, Api, eventually, sample_body


def new_key() -> str:
    return str(uuid.uuid4())


async def test_valid_submission_is_accepted_and_starts_the_workflow(api: Api) -> None:
    key = new_key()
    response = await api.submit(sample_body(), key)

    assert response.status_code == 202, response.text
    body = response.json()
    expected_id = api.application_id(key)
    assert expected_id != application_id_for_key(key)  # the key is scoped by the organisation
    assert body == {"id": expected_id, "status": "submitted",
                    "status_url": f"https://jfc.test/v1/permits/{expected_id}"}
    assert response.headers["Location"] == body["status_url"]
    description = await api.temporal.get_workflow_handle(expected_id).describe()
    assert description.workflow_type == "PermitApplicationWorkflow"
    assert description.task_queue == api.settings.task_queue
    assert description.typed_search_attributes is not None
    # Started with its status search attribute (the workflow keeps it current from then on).
    assert "ApplicationStatus" in [pair.key.name for pair in description.typed_search_attributes]


async def test_the_same_key_returns_the_same_application_and_one_workflow(api: Api) -> None:
    key = new_key()
    first = await api.submit(sample_body(), key)
    run_id = (await api.temporal.get_workflow_handle(first.json()["id"]).describe()).run_id
    # Even much later (the dates would no longer pass intake), the key answers the same application.
    api.clock.now = NOW + dt.timedelta(days=300)
    second = await api.submit(sample_body(), key)

    assert first.status_code == second.status_code == 202
    assert second.json() == first.json()
    assert (await api.temporal.get_workflow_handle(first.json()["id"]).describe()).run_id == run_id
    async def runs() -> list:  # every run of that workflow id, closed ones included (visibility lags a little)
        return [wf async for wf in api.temporal.list_workflows(f"WorkflowId = '{first.json()['id']}'")]

    assert [wf.run_id for wf in await eventually(runs, bool)] == [run_id]


async def test_the_same_key_with_another_body_is_a_conflict(api: Api) -> None:
    key = new_key()
    assert (await api.submit(sample_body(), key)).status_code == 202
    other = sample_body(production={"title": "Another film", "kind": "series"})

    response = await api.submit(other, key)

    assert response.status_code == 409
    assert response.json()["title"] == "Idempotency-Key already used for another request"


async def test_a_missing_idempotency_key_is_a_bad_request(api: Api) -> None:
    response = await api.submit(sample_body(), None)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Idempotency-Key" in response.json()["title"]


async def test_every_invalid_field_is_listed_with_its_path(api: Api) -> None:
    body = sample_body()
    body["locations"][0]["days"][0]["end"] = "25:00"
    body["applicant"]["email"] = "not an email"
    body["production"]["kind"] = "blockbuster"

    response = await api.submit(body, new_key())

    assert response.status_code == 422
    problem = response.json()
    assert problem["status"] == 422
    paths = [p["path"] for p in problem["problems"]]
    assert sorted(paths) == sorted(["locations[0].days[0].end", "applicant.email", "production.kind"])
    assert all(p["message"] for p in problem["problems"])


async def test_model_level_and_nested_problems_keep_their_paths(api: Api) -> None:
    body = sample_body()
    second = dict(body["locations"][0], name="Taman Menteng")
    second["days"] = [{"date": "2026-05-13", "start": "10:00", "end": "09:00"}, {"date": "2026-05-14", "start": "x"}]
    body["locations"].append(second)
    body["surprise"] = 1

    problems = (await api.submit(body, new_key())).json()["problems"]

    paths = {p["path"] for p in problems}
    assert "locations[1].days[0].end" in paths  # end before start is a problem of the end time
    assert "locations[1].days[1].start" in paths
    assert "locations[1].days[1].end" in paths
    assert "surprise" in paths


async def test_a_body_that_is_not_json_is_a_problem_of_the_body(api: Api) -> None:
    response = await api.submit(b'{"applicant": ', new_key())

    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem["path"] == "(body)"
    assert "JSON" in problem["message"]


async def test_intake_problems_are_listed(api: Api) -> None:
    body = sample_body(insurance={"insurer": "PT Asuransi", "policy_number": "P-1", "coverage_idr": 1,
                                  "valid_until": "2026-05-01"})

    response = await api.submit(body, new_key())

    assert response.status_code == 422
    assert [p["path"] for p in response.json()["problems"]] == ["insurance.valid_until"]


async def test_too_short_a_lead_time_names_the_earliest_feasible_start(api: Api) -> None:
    body = sample_body()
    body["locations"][0]["days"][0]["date"] = "2026-03-04"
    key = new_key()

    response = await api.submit(body, key)

    assert response.status_code == 422
    problem = response.json()
    assert problem["title"] == "lead time too short"
    earliest = dt.date.fromisoformat(problem["earliest_feasible_start"])
    assert earliest > dt.date(2026, 3, 4)
    assert "5 business days" in problem["detail"] and earliest.isoformat() in problem["detail"]
    assert problem["problems"][0]["path"] == "locations[0].days[0].date"
    assert await _workflow_count(api, api.application_id(key)) == 0


async def test_an_expedite_request_goes_through_despite_the_lead_time(api: Api) -> None:
    body = sample_body(expedite={"requested": True, "reason": "The park is only free that week"})
    body["locations"][0]["days"][0]["date"] = "2026-03-04"

    response = await api.submit(body, new_key())

    assert response.status_code == 202, response.text


async def test_status_is_the_workflows_status_view(api: Api) -> None:
    application_id = (await api.submit(sample_body(), new_key())).json()["id"]

    response = await api.http.get(f"/v1/permits/{application_id}")

    assert response.status_code == 200
    view = response.json()
    assert view["id"] == application_id
    assert view["status"] == "submitted"
    assert view["production_title"] == "Senja di Kota"
    assert dt.datetime.fromisoformat(view["submitted_at"]) == NOW
    assert view["submitted_at"].endswith(("Z", "+00:00"))
    assert {"clearances", "fees", "permit", "timeline"} <= set(view)


async def test_status_of_an_unknown_or_malformed_id_is_not_found(api: Api) -> None:
    unknown = application_id_for_key(new_key())
    for application_id in (unknown, "not-an-id", "PRM-short"):
        response = await api.http.get(f"/v1/permits/{application_id}")
        assert response.status_code == 404
        assert response.json()["status"] == 404


async def test_the_document_exists_only_once_the_permit_is_issued(api: Api) -> None:
    application_id = (await api.submit(sample_body(), new_key())).json()["id"]
    before = await api.http.get(f"/v1/permits/{application_id}/document")
    assert before.status_code == 404
    assert before.json()["title"] == "no permit issued yet"

    number = permit_number(application_id, 2026)
    handle = api.temporal.get_workflow_handle(application_id)
    view = await handle.query("status", result_type=PermitStatusView)
    issued = view.model_copy(update={
        "status": ApplicationStatus.issued,
        "permit": PermitInfo(number=number, issued_at=NOW, document_url="x", verify_url="y"),
    })
    await handle.signal("test_set_view", issued)
    await eventually(lambda: handle.query("status", result_type=PermitStatusView), lambda v: v.permit is not None)
    (api.settings.documents_dir / f"{application_id}.pdf").write_bytes(b"%PDF-1.4 stand-in")

    after = await api.http.get(f"/v1/permits/{application_id}/document")

    assert after.status_code == 200
    assert after.headers["content-type"] == "application/pdf"
    assert f'filename="{number}.pdf"' in after.headers["content-disposition"]
    assert after.content == b"%PDF-1.4 stand-in"


async def _workflow_count(api: Api, workflow_id: str) -> int:
    from temporalio.service import RPCError

    try:
        await api.temporal.get_workflow_handle(workflow_id).describe()
    except RPCError:
        return 0
    return 1
