"""Where an applicant's webhook may point: `https` to a host whose every address is public.

Two checks, one rule. `parse_webhook_url` is pure (the schema runs it on every application): https, a host,
no user or password, port 443 or 1024-65535, and no literal address that is not public. `check_webhook_url`
also resolves the host (the API at submission, the outbox relay before every send: DNS can change) and
refuses it when any address is not public. With `allow_loopback` (`JFC_ALLOW_LOOPBACK_WEBHOOKS`, for the
local stack and the tests only) loopback addresses pass too, and so does plain http to them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from schemas.problems import Problem

MAX_LENGTH = 2048
RESOLVE_TIMEOUT = 5.0  # seconds a lookup may take before the host counts as unresolvable
PATH = "applicant.webhook_url"  # where the URL sits in an application, for problems
LOOPBACK_NAMES = frozenset({"localhost"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}\.?$)({_LABEL}\.)*{_LABEL}\.?$")


class WebhookUrlRefused(ValueError):
    """The URL breaks the rule (scheme, host, port, a non-public address): it will never be sent to."""


class WebhookHostUnresolved(OSError):
    """The host has no address now (unknown name, DNS outage or timeout): it may resolve later."""


@dataclass(frozen=True)
class WebhookUrl:
    """A webhook URL that passed the syntactic rule; `host` is lower case ASCII, without IPv6 brackets."""

    url: str
    scheme: str
    host: str
    port: int
    literal: IPAddress | None  # the host, when it is an address rather than a name

    @property
    def names_loopback(self) -> bool:
        """`localhost` or a loopback address: the only hosts plain http may go to (with the setting)."""
        return self.host.rstrip(".") in LOOPBACK_NAMES or (self.literal is not None and self.literal.is_loopback)


@dataclass(frozen=True)
class ResolvedWebhook:
    """A webhook URL whose host resolved to `addresses`, every one allowed: connect to one of these."""

    webhook: WebhookUrl
    addresses: tuple[IPAddress, ...]


def parse_webhook_url(url: str) -> WebhookUrl:
    """`url` checked without any lookup; raises WebhookUrlRefused saying what is wrong."""
    if len(url) > MAX_LENGTH:
        raise WebhookUrlRefused(f"is longer than {MAX_LENGTH} characters")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise WebhookUrlRefused("contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise WebhookUrlRefused(f"is not a valid URL ({err})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise WebhookUrlRefused("must be an https URL (https://…)")
    if "@" in parts.netloc:
        raise WebhookUrlRefused("must not carry a user name or password")
    host = (parts.hostname or "").lower()
    if not host:
        raise WebhookUrlRefused("has no host")
    if not host.isascii():
        raise WebhookUrlRefused("host must be ASCII: write an internationalised name in its xn-- (punycode) form")
    literal = _literal(host)
    if literal is None and not _HOST_NAME.match(host):
        raise WebhookUrlRefused(f"host {host!r} is neither a host name nor an IP address")
    if port is not None and port != 443 and not 1024 <= port <= 65535:
        raise WebhookUrlRefused(f"port {port} is not allowed: use 443 or a port from 1024 to 65535")
    webhook = WebhookUrl(url, scheme, host, port or (443 if scheme == "https" else 80), literal)
    if scheme == "http" and not webhook.names_loopback:
        raise WebhookUrlRefused("must be an https URL (https://…)")
    if literal is not None and not literal.is_loopback and (reason := address_refusal(literal)):
        raise WebhookUrlRefused(f"host {host} {reason}")
    return webhook


def address_refusal(address: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why a webhook may not go to `address` (None when it may): only public addresses, loopback if allowed."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return address_refusal(embedded, allow_loopback=allow_loopback)
    if address.is_loopback:
        return None if allow_loopback else f"is a loopback address ({address}), not a public one"
    for flag, what in (
        ("is_link_local", "a link-local"),
        ("is_multicast", "a multicast"),
        ("is_unspecified", "an unspecified"),
        ("is_reserved", "a reserved"),
        ("is_private", "a private"),
    ):
        if getattr(address, flag):
            return f"is {what} address ({address}), not a public one"
    if not address.is_global:
        return f"is not a public address ({address})"
    return None


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to now (the system resolver); raises OSError when it resolves to none."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


async def check_webhook_url(
    url: str, *, allow_loopback: bool = False, timeout: float = RESOLVE_TIMEOUT
) -> ResolvedWebhook:
    """`url` checked and resolved now: raises WebhookUrlRefused (never send) or WebhookHostUnresolved (not now)."""
    webhook = parse_webhook_url(url)
    if webhook.literal is not None:
        addresses = [webhook.literal]
    else:
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve_host(webhook.host, webhook.port)
        except TimeoutError:
            raise WebhookHostUnresolved(f"host {webhook.host} did not resolve within {timeout:g} s") from None
        except OSError as err:
            raise WebhookHostUnresolved(f"host {webhook.host} does not resolve ({err})") from None
        if not addresses:
            raise WebhookHostUnresolved(f"host {webhook.host} resolves to no address")
    for address in addresses:
        if reason := address_refusal(address, allow_loopback=allow_loopback):
            which = "" if webhook.literal is not None else f" resolves to {address}, which"
            raise WebhookUrlRefused(f"host {webhook.host}{which} {reason}")
    if webhook.scheme == "http" and not all(_unwrapped(a).is_loopback for a in addresses):
        raise WebhookUrlRefused("must be an https URL (https://…)")
    return ResolvedWebhook(webhook, tuple(addresses))


async def webhook_url_problems(url: str | None, *, allow_loopback: bool, path: str = PATH) -> list[Problem]:
    """The problem with an application's webhook URL, resolved now (none without a URL), for a 422."""
    if not url:
        return []
    try:
        await check_webhook_url(url, allow_loopback=allow_loopback)
    except (WebhookUrlRefused, WebhookHostUnresolved) as err:
        return [Problem(path=path, message=f"the webhook URL {err}; give an https URL on a public host")]
    return []


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _unwrapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
