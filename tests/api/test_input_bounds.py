"""Inputs that used to pass and crash or hang later are refused at once, naming the field."""

from __future__ import annotations

import uuid

import pytest

from tests.api.conftest import Api, sample_body


def shooting_on(date: str) -> dict:
    body = sample_body()
    body["locations"][0]["days"][0]["date"] = date
    body["insurance"]["valid_until"] = date
    return body


async def test_a_shoot_day_years_ahead_is_a_422_naming_the_day(api: Api) -> None:
    refused = await api.submit(shooting_on("9999-12-31"), str(uuid.uuid4()))

    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["problems"]
    assert problem["path"] == "locations[0].days[0].date" and "two years ahead" in problem["message"]


@pytest.mark.parametrize("window", [{"to": "9999-12-31"}, {"from": "0001-01-01"},
                                    {"from": "9999-12-31", "to": "9999-12-31"}])
async def test_a_report_window_beyond_the_calendar_is_a_422_not_a_500(api: Api, window: dict) -> None:
    answer = await api.http.get("/v1/sla/agencies", params=window, headers=api.as_("officer"))

    assert answer.status_code == 422, answer.text
    assert {p["path"] for p in answer.json()["problems"]} == {f"query.{name}" for name in window}
