"""The webhook URL rule: https to public addresses only; loopback (and http to it) only when allowed."""

from __future__ import annotations

import ipaddress

import pytest

from domain.webhook_urls import (
    WebhookHostUnresolved,
    WebhookUrlRefused,
    address_refusal,
    check_webhook_url,
    parse_webhook_url,
)
from tests.fake_dns import FakeDns

REFUSED_AS_WRITTEN = {
    "ftp://hooks.example/jfc": "must be an https URL",
    "http://hooks.example/jfc": "must be an https URL",
    "https:///jfc": "has no host",
    "https://sari:secret@hooks.example/jfc": "must not carry a user name or password",
    "https://hooks.example:22/jfc": "port 22 is not allowed",
    "https://hooks.example:99999/jfc": "is not a valid URL",
    "https://hooks example/jfc": "contains spaces",
    "https://hooks.contoh.id/\x00": "control characters",
    "https://bücher.example/jfc": "xn--",
    "https://10.0.0.1/": "host 10.0.0.1 is a private address",
    "https://169.254.169.254/latest/meta-data": "is a link-local address",
    "https://[::ffff:10.0.0.1]/": "is a private address (10.0.0.1)",
    "https://[fd00::1]/": "is a private address",
    "https://0.0.0.0/": "is an unspecified address",
    "https://224.0.0.1/": "is a multicast address",
    "https://[64:ff9b::a00:1]/": "is a reserved address",
    "https://" + "a" * 2050 + ".example/": "longer than 2048",
}


@pytest.mark.parametrize("url", list(REFUSED_AS_WRITTEN))
def test_urls_refused_as_written_say_why(url: str):
    with pytest.raises(WebhookUrlRefused, match=REFUSED_AS_WRITTEN[url].replace("(", r"\(").replace(")", r"\)")):
        parse_webhook_url(url)


@pytest.mark.parametrize(
    "url",
    ["https://hooks.contoh.id/jfc", "https://hooks.example:8443/a?b=c", "https://93.184.215.14/jfc",
     "https://xn--bcher-kva.example/", "http://127.0.0.1:8090/hooks", "http://localhost:9000/", "https://[::1]:9000/"],
)  # fmt: skip
def test_https_names_and_loopback_pass_the_syntactic_rule(url: str):
    assert parse_webhook_url(url).url == url  # loopback is judged with the setting, when the host is checked


@pytest.mark.parametrize(
    ("address", "loopback_allowed"),
    [("127.0.0.1", True), ("::1", True), ("::ffff:127.0.0.1", True), ("10.1.2.3", False), ("172.16.0.1", False),
     ("192.168.1.1", False), ("100.64.0.1", False), ("169.254.169.254", False), ("fe80::1", False),
     ("fd12::1", False), ("2002:a00:1::", False), ("::", False), ("240.0.0.1", False), ("ff02::1", False)],
)  # fmt: skip
def test_only_public_addresses_pass_and_loopback_only_when_allowed(address: str, loopback_allowed: bool):
    ip = ipaddress.ip_address(address)
    assert address_refusal(ip) is not None
    assert (address_refusal(ip, allow_loopback=True) is None) is loopback_allowed


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str):
    assert address_refusal(ipaddress.ip_address(address)) is None


async def test_a_host_is_refused_when_any_of_its_addresses_is_not_public(dns: FakeDns):
    dns.answers["hooks.example"] = ["93.184.215.14", "10.0.0.7"]
    with pytest.raises(WebhookUrlRefused, match="hooks.example resolves to 10.0.0.7, which is a private address"):
        await check_webhook_url("https://hooks.example/jfc")
    dns.answers["hooks.example"] = ["93.184.215.14", "2606:4700::1111"]
    resolved = await check_webhook_url("https://hooks.example/jfc")
    assert [str(a) for a in resolved.addresses] == ["93.184.215.14", "2606:4700::1111"]


async def test_loopback_and_http_to_it_pass_only_with_the_setting(dns: FakeDns):
    dns.answers["localhost"] = ["127.0.0.1", "::1"]
    for url in ("http://127.0.0.1:8090/admin/agencies/parks", "http://localhost:9000/hooks", "https://[::1]:9000/"):
        with pytest.raises(WebhookUrlRefused, match="loopback"):
            await check_webhook_url(url)
        assert (await check_webhook_url(url, allow_loopback=True)).addresses
    dns.answers["sneaky.example"] = ["127.0.0.1"]
    with pytest.raises(WebhookUrlRefused, match="sneaky.example resolves to 127.0.0.1, which is a loopback address"):
        await check_webhook_url("https://sneaky.example/jfc")
    with pytest.raises(WebhookUrlRefused, match="https"):  # http only ever to a loopback name
        await check_webhook_url("http://sneaky.example/jfc", allow_loopback=True)


async def test_a_host_that_does_not_resolve_is_not_a_refusal_but_may_resolve_later(dns: FakeDns):
    with pytest.raises(WebhookHostUnresolved, match="host nowhere.example does not resolve"):
        await check_webhook_url("https://nowhere.example/jfc")
