"""An Idempotency-Key answers one request: the same request again gets the first answer, another one a 409."""

from __future__ import annotations

import uuid

from tests.api.conftest import Api, sample_body


def key() -> str:
    return str(uuid.uuid4())


async def submitted(api: Api) -> str:
    response = await api.submit(sample_body(), key())
    assert response.status_code == 202, response.text
    return response.json()["id"]


async def test_an_amendment_key_sent_again_with_another_body_is_refused_and_changes_nothing(api: Api) -> None:
    application_id = await submitted(api)
    same = key()
    url = f"/v1/permits/{application_id}/amendments"
    first = await api.http.post(url, json=sample_body(), headers={"Idempotency-Key": same})
    assert first.status_code == 200, first.text
    # the same body with its fields in another order is the same request
    again = await api.http.post(url, json=dict(reversed(list(sample_body().items()))), headers={"Idempotency-Key": same})
    assert again.status_code == 200 and again.json() == first.json()

    other = await api.http.post(url, json=sample_body(production={"title": "Lain", "kind": "series"}),
                                headers={"Idempotency-Key": same})
    assert other.status_code == 409, other.text
    assert "idempotency-key-reused" in other.json()["type"] and "another body" in other.json()["detail"]
    status = (await api.http.get(f"/v1/permits/{application_id}")).json()
    assert status["revision"] == 2 and status["production_title"] == "Senja di Kota"


async def test_a_key_used_on_one_route_is_refused_on_another(api: Api) -> None:
    application_id = await submitted(api)
    used = key()
    amended = await api.http.post(f"/v1/permits/{application_id}/amendments", json=sample_body(),
                                  headers={"Idempotency-Key": used})
    assert amended.status_code == 200, amended.text
    cancel = await api.http.post(f"/v1/permits/{application_id}/cancel", json={"reason": "moved"},
                                 headers={"Idempotency-Key": used})
    assert cancel.status_code == 409 and "amendments" in cancel.json()["detail"]
    assert (await api.http.get(f"/v1/permits/{application_id}")).json()["status"] != "withdrawn"


async def test_a_refused_request_leaves_its_key_free_for_the_corrected_one(api: Api) -> None:
    application_id = await submitted(api)
    retry_key = key()
    body = sample_body()
    body["locations"][0]["days"][0]["end"] = "25:00"
    invalid = await api.http.post(f"/v1/permits/{application_id}/amendments", json=body,
                                  headers={"Idempotency-Key": retry_key})
    assert invalid.status_code == 422
    corrected = await api.http.post(f"/v1/permits/{application_id}/amendments", json=sample_body(),
                                    headers={"Idempotency-Key": retry_key})
    assert corrected.status_code == 200, corrected.text


async def test_keys_are_per_caller(api: Api) -> None:
    shared = key()
    ours = await api.submit(sample_body(), shared)
    theirs = await api.submit(sample_body(production={"title": "Lain", "kind": "series"}), shared, user="applicant_b")
    assert ours.status_code == theirs.status_code == 202 and ours.json()["id"] != theirs.json()["id"]
