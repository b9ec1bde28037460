"""A stand-in for the webhook URL rule's resolver (domain.webhook_urls.resolve_host): names answer as scripted."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field

import pytest

from domain import webhook_urls


@dataclass
class FakeDns:
    """`answers[host]` is a list of addresses, or an OSError to raise; every lookup is kept in `lookups`."""

    answers: dict[str, list[str] | OSError] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)

    async def resolve(self, host: str, port: int) -> list[webhook_urls.IPAddress]:
        self.lookups.append(host)
        answer = self.answers.get(host, socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
        if isinstance(answer, OSError):
            raise answer
        return [ipaddress.ip_address(a) for a in answer]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    """Webhook hosts resolve only as the test says (nothing else of socket is touched)."""
    fake = FakeDns()
    monkeypatch.setattr(webhook_urls, "resolve_host", fake.resolve)
    return fake
