"""Fixtures for the outbox: a signature-checking webhook receiver and a relay (the pool is shared)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from outbox_samples import Receiver, local_relay

from activities.outbox_relay import OutboxRelay
from tests.servers import serve


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    fake = Receiver()
    async with serve(fake.app()) as url:
        fake.url = url
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def relay(pool: asyncpg.Pool, http: httpx.AsyncClient) -> OutboxRelay:
    return local_relay(pool, http, timeout=httpx.Timeout(5.0, connect=2.0))
