"""The edge (api.edge): bodies capped before they are read or authenticated; no control character gets in."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.api.conftest import Api, sample_body


def nul_in(body: dict, *path: str | int, text: str = "A\u0000B") -> dict:
    target = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = text
    return body


@pytest.mark.parametrize(("path", "where"), [
    (("production", "title"), "production.title"),
    (("applicant", "contact_name"), "applicant.contact_name"),
    (("locations", 0, "address"), "locations[0].address"),
])
async def test_a_nul_in_any_text_field_is_a_422_naming_the_field_and_nothing_is_started(
        api: Api, path: tuple, where: str) -> None:
    key = str(uuid.uuid4())
    refused = await api.submit(nul_in(sample_body(), *path), key)

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [p["path"] for p in refused.json()["problems"]] == [where]
    assert "NUL" in refused.json()["problems"][0]["message"]
    # nothing was accepted: the same key with a clean body is a first submission
    accepted = await api.submit(sample_body(), key)
    assert accepted.status_code == 202, accepted.text


async def test_other_control_characters_and_lone_surrogates_are_refused_but_line_breaks_are_text(api: Api) -> None:
    bell = await api.submit(nul_in(sample_body(), "production", "synopsis", text="ring \u0007 ring"),
                            str(uuid.uuid4()))
    assert bell.status_code == 422 and "U+0007" in bell.text
    surrogate = json.dumps(sample_body()).replace("Senja di Kota", "Senja \\ud800").encode()
    lone = await api.submit(surrogate, str(uuid.uuid4()))
    assert lone.status_code == 422 and lone.json()["problems"][0]["path"] == "production.title"
    lines = await api.submit(nul_in(sample_body(), "production", "synopsis", text="Act one.\n\tAct two.\r\n"),
                             str(uuid.uuid4()))
    assert lines.status_code == 202, lines.text


async def test_updates_and_webhooks_are_checked_too(api: Api) -> None:
    amendment = await api.http.post("/v1/permits/PRM-AAAAAAAAAAAA/amendments", json={"reason": "x\u0000"},
                                    headers={"Idempotency-Key": str(uuid.uuid4())})
    assert amendment.status_code == 422 and amendment.json()["problems"][0]["path"] == "reason"
    decision = await api.post_signed("/v1/agencies/parks/decisions", {"reference": "PRK-1", "status": "approved",
                                                                      "notes": "ok\u0000"}, "parks")
    assert decision.status_code == 422 and decision.json()["problems"][0]["path"] == "notes"
    key_with_nul = await api.http.post("/v1/incentives", json={"programme\u0000": "x"},
                                       headers={"Idempotency-Key": str(uuid.uuid4())})
    assert key_with_nul.status_code == 422 and key_with_nul.json()["problems"][0]["path"] == "(key)"


async def test_a_nul_in_the_query_is_a_422_naming_the_parameter(api: Api) -> None:
    listed = await api.http.get("/v1/permits", params={"cursor": "abc\u0000def"}, headers=api.as_("officer"))
    assert listed.status_code == 422, listed.text
    assert [p["path"] for p in listed.json()["problems"]] == ["query.cursor"]


async def test_a_declared_body_over_the_limit_is_413_before_authentication(api: Api) -> None:
    big = b'{"x": "' + b"a" * 1_100_000 + b'"}'
    unauthenticated = await api.http.post("/v1/permits", content=big, headers={
        "Authorization": "", "Idempotency-Key": "k", "Content-Type": "application/json"})
    assert unauthenticated.status_code == 413, unauthenticated.text  # not 401: the size is checked first
    webhook = await api.http.post("/v1/agencies/parks/decisions", content=b"{" + b" " * 70_000 + b"}",
                                  headers={"Content-Type": "application/json"})
    assert webhook.status_code == 413 and "65536" in webhook.json()["detail"]  # small for webhooks, before the signature


async def test_a_streamed_body_is_cut_off_at_the_limit_without_being_read_whole(api: Api) -> None:
    sent = 0

    async def endless():
        nonlocal sent
        for _ in range(1000):  # 64 MB if it were all read
            sent += 1
            yield b" " * 65_536

    response = await api.http.post("/v1/agencies/parks/decisions", content=endless(),
                                   headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert sent <= 3, f"{sent} chunks were read"
