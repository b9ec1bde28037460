"""Applicant and officer actions: workflow updates keyed by Idempotency-Key, refusals as problems, every action audited."""

from __future__ import annotations

import uuid

from tests.api.conftest import Api, sample_body


def key() -> str:
    return str(uuid.uuid4())


async def submitted(api: Api) -> str:
    response = await api.submit(sample_body(), key())
    assert response.status_code == 202, response.text
    return response.json()["id"]


async def audit_rows(api: Api, application_id: str) -> list[dict]:
    rows = await api.pool.fetch(
        "SELECT actor, action, detail, source_key FROM audit_log WHERE application_id = $1 ORDER BY seq",
        application_id)
    return [dict(row) for row in rows]


async def test_an_amendment_runs_the_update_once_per_key_and_is_audited(api: Api) -> None:
    application_id = await submitted(api)
    same = key()
    first = await api.http.post(f"/v1/permits/{application_id}/amendments", json=sample_body(),
                                headers={"Idempotency-Key": same})
    again = await api.http.post(f"/v1/permits/{application_id}/amendments", json=sample_body(),
                                headers={"Idempotency-Key": same})

    assert first.status_code == again.status_code == 200, first.text
    assert first.json() == again.json() and first.json()["revision"] == 2
    applied = await api.temporal.get_workflow_handle(application_id).query("updates", result_type=list[str])
    applicant = api.users.accounts["applicant"].id
    assert applied == [f"amend:applicant:{applicant}"]
    rows = await audit_rows(api, application_id)
    assert [(r["actor"], r["action"]) for r in rows] == [
        (f"applicant:{applicant}", "application_submitted"), (f"applicant:{applicant}", "application_amended")]
    assert "sari@contoh.id" not in str(rows) and "Sari" not in str(rows)


async def test_an_invalid_amendment_lists_field_paths_and_a_refused_one_carries_the_workflows_words(api: Api) -> None:
    application_id = await submitted(api)
    body = sample_body()
    body["locations"][0]["days"][0]["end"] = "25:00"
    invalid = await api.http.post(f"/v1/permits/{application_id}/amendments", json=body,
                                  headers={"Idempotency-Key": key()})
    refused = await api.http.post(f"/v1/permits/{application_id}/amendments",
                                  json=sample_body(production={"title": "REFUSE", "kind": "series"}),
                                  headers={"Idempotency-Key": key()})

    assert invalid.status_code == 422
    assert [p["path"] for p in invalid.json()["problems"]] == ["locations[0].days[0].end"]
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "may not change" in refused.json()["detail"]
    assert refused.json()["problems"] == [{"path": "production.title", "message": "may not change"}]


async def test_every_post_needs_an_idempotency_key(api: Api) -> None:
    application_id = await submitted(api)
    for path, body in ((f"/v1/permits/{application_id}/amendments", sample_body()),
                       (f"/v1/permits/{application_id}/cancel", {"reason": "x"}),
                       (f"/v1/permits/{application_id}/information", {"request_id": "r", "answer": "a"})):
        response = await api.http.post(path, json=body)
        assert response.status_code == 400, path
        assert "Idempotency-Key" in response.json()["title"]
    decision = await api.http.post(f"/v1/officer/permits/{application_id}/decisions",
                                   json={"kind": "expedite", "outcome": "approved", "reason": "ok"},
                                   headers=api.as_("officer"))
    assert decision.status_code == 400


async def test_cancel_then_cancel_again_is_a_conflict_and_a_retry_is_not(api: Api) -> None:
    application_id = await submitted(api)
    first_key = key()
    first = await api.http.post(f"/v1/permits/{application_id}/cancel", json={"reason": "moved to Bandung"},
                                headers={"Idempotency-Key": first_key})
    retried = await api.http.post(f"/v1/permits/{application_id}/cancel", json={"reason": "moved to Bandung"},
                                  headers={"Idempotency-Key": first_key})
    second = await api.http.post(f"/v1/permits/{application_id}/cancel", json={"reason": "again"},
                                 headers={"Idempotency-Key": key()})

    assert first.status_code == retried.status_code == 200
    assert first.json()["status"] == "withdrawn"
    assert second.status_code == 409
    assert "already withdrawn" in second.json()["detail"]
    rows = await audit_rows(api, application_id)
    assert [r["action"] for r in rows].count("application_cancelled") == 1
    assert "Bandung" not in str(rows)  # the applicant's free text stays out of the audit log


async def test_an_unknown_information_request_is_refused(api: Api) -> None:
    application_id = await submitted(api)
    response = await api.http.post(f"/v1/permits/{application_id}/information",
                                   json={"request_id": "nope", "answer": "06:00"}, headers={"Idempotency-Key": key()})

    assert response.status_code == 422
    assert "no open information request" in response.json()["detail"]


async def test_an_officer_decision_needs_a_reason_and_records_the_officer(api: Api) -> None:
    application_id = await submitted(api)
    headers = {**api.as_("officer"), "Idempotency-Key": key()}
    missing = await api.http.post(f"/v1/officer/permits/{application_id}/decisions",
                                  json={"kind": "expedite", "outcome": "approved", "reason": "  "}, headers=headers)
    decided = await api.http.post(f"/v1/officer/permits/{application_id}/decisions",
                                  json={"kind": "expedite", "outcome": "approved", "reason": "Festival week"},
                                  headers=headers)

    assert missing.status_code == 422
    assert [p["path"] for p in missing.json()["problems"]] == ["reason"]
    assert decided.status_code == 200, decided.text
    officer = f"officer:{api.users.accounts['officer'].id}"
    applied = await api.temporal.get_workflow_handle(application_id).query("updates", result_type=list[str])
    assert applied == [f"decide:{officer}"]
    [row] = [r for r in await audit_rows(api, application_id) if r["action"] == "officer_decision"]
    assert row["actor"] == officer and row["detail"]["reason"] == "Festival week"


async def test_protected_routes_declare_bearer_security_and_their_errors(api: Api) -> None:
    spec = (await api.http.get("/openapi.json")).json()
    public = {("/v1/verify/{permit_number}", "get"), ("/healthz", "get"), ("/v1/agencies/{code}/decisions", "post"),
              ("/v1/payments/webhook", "post"), ("/v1/auditors/decisions", "post")}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "500" in responses, (path, method)
            if (path, method) in public:
                assert "security" not in operation, (path, method)
                continue
            assert operation.get("security") == [{"bearer": []}], (path, method)
            assert "401" in responses, (path, method)
            if method == "post":
                [header] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
                assert header["required"] is True and "400" in responses, (path, method)
