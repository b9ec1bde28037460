"""POST /v1/permits refuses a webhook_url that is not https to a public host, checked through the real API."""

from __future__ import annotations

import uuid

import pytest

from tests.api.conftest import Api, sample_body
from tests.fake_dns import FakeDns

PATH = "applicant.webhook_url"


def with_webhook(url: str) -> dict:
    body = sample_body()
    body["applicant"]["webhook_url"] = url
    return body


async def problems_of(api: Api, url: str) -> tuple[int, dict[str, str]]:
    response = await api.submit(with_webhook(url), str(uuid.uuid4()))
    body = response.json()
    return response.status_code, {p["path"]: p["message"] for p in body.get("problems", [])}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8090/admin/agencies/parks", "loopback"),  # the simulator's admin API
        ("https://10.0.0.1/", "private"),
        ("https://[::ffff:127.0.0.1]:8090/admin", "loopback"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://hooks.example/jfc", "https"),
        ("https://sari:secret@hooks.example/jfc", "user name or password"),
        ("https://hooks.example:25/jfc", "port 25 is not allowed"),
    ],
)
async def test_a_webhook_url_to_a_private_or_loopback_address_or_not_https_is_a_422_naming_it(
    api: Api, dns: FakeDns, url: str, reason: str
):
    dns.answers["hooks.example"] = ["93.184.215.14"]
    status, problems = await problems_of(api, url)
    assert status == 422 and list(problems) == [PATH], problems
    assert reason in problems[PATH]


async def test_a_host_that_resolves_to_loopback_or_a_private_address_is_a_422_naming_it(api: Api, dns: FakeDns):
    dns.answers["hooks.contoh.id"] = ["127.0.0.1"]
    dns.answers["mixed.contoh.id"] = ["93.184.215.14", "192.168.1.20"]
    for host, address in [("hooks.contoh.id", "127.0.0.1"), ("mixed.contoh.id", "192.168.1.20")]:
        status, problems = await problems_of(api, f"https://{host}/jfc")
        assert status == 422 and list(problems) == [PATH], problems
        assert f"{host} resolves to {address}" in problems[PATH]
    assert dns.lookups == ["hooks.contoh.id", "mixed.contoh.id"]


async def test_a_host_that_does_not_resolve_is_a_422_naming_it(api: Api, dns: FakeDns):
    status, problems = await problems_of(api, "https://nowhere.contoh.id/jfc")
    assert status == 422 and "does not resolve" in problems[PATH]


async def test_https_to_a_public_host_is_accepted(api: Api, dns: FakeDns):
    dns.answers["hooks.contoh.id"] = ["93.184.215.14", "2606:4700::1111"]
    response = await api.submit(with_webhook("https://hooks.contoh.id/jfc"), str(uuid.uuid4()))
    assert response.status_code == 202, response.text


async def test_loopback_webhooks_are_accepted_only_with_the_local_setting(api: Api, dns: FakeDns):
    api.settings.allow_loopback_webhooks = True  # JFC_ALLOW_LOOPBACK_WEBHOOKS, as `jfc up` sets it
    response = await api.submit(with_webhook("http://127.0.0.1:9000/hooks/jfc"), str(uuid.uuid4()))
    assert response.status_code == 202, response.text
    status, problems = await problems_of(api, "https://10.0.0.1/")  # private is never allowed
    assert status == 422 and list(problems) == [PATH]


async def test_an_amendment_is_held_to_the_same_rule(api: Api, dns: FakeDns):
    dns.answers["hooks.example"] = ["93.184.215.14"]
    dns.answers["hooks.contoh.id"] = ["10.1.2.3"]
    submitted = await api.submit(with_webhook("https://hooks.example/jfc"), str(uuid.uuid4()))
    assert submitted.status_code == 202, submitted.text
    amended = await api.http.post(f"/v1/permits/{submitted.json()['id']}/amendments",
                                  json=with_webhook("https://hooks.contoh.id/jfc"),
                                  headers={"Idempotency-Key": str(uuid.uuid4())})
    assert amended.status_code == 422, amended.text
    assert [p["path"] for p in amended.json()["problems"]] == [PATH]
