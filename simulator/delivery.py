"""Signed webhooks (agency decisions, payments), retried with backoff until the receiver takes them.

A delivery is stored before its first attempt, so one still pending survives a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace

import httpx
import structlog

from domain.signatures import SIGNATURE_HEADER, sign
from simulator.store import Delivery, Store

log = structlog.get_logger(__name__)

RETRY_ON_4XX = frozenset({401, 408, 429})


def outcome(status: int) -> str:
    """`delivered` (2xx), `failed` (a 4xx the receiver will keep refusing), else `pending` (retry)."""
    if 200 <= status < 300:
        return "delivered"
    if 400 <= status < 500 and status not in RETRY_ON_4XX:
        return "failed"
    return "pending"


class Deliverer:
    """Posts stored deliveries and keeps retrying the pending ones in background tasks."""

    def __init__(
        self,
        store: Store,
        secrets: Callable[[str], bytes],
        client: httpx.AsyncClient,
        first_delay: float = 0.5,
        max_delay: float = 30.0,
    ) -> None:
        self._store = store
        self._secrets = secrets
        self._client = client
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._tasks: dict[int, asyncio.Task] = {}

    async def resume(self) -> None:
        """Schedule every pending delivery not yet scheduled (new ones, or those left by a previous run)."""
        for delivery in await self._store.pending_deliveries():
            self._spawn(delivery)

    async def send_now(self, kind: str, url: str, body: str, secret_ref: str) -> tuple[int, bool]:
        """Store, attempt once and keep retrying in the background if needed; returns (status, delivered)."""
        delivery_id = await self._store.add_delivery(kind, None, url, body, secret_ref)
        (delivery,) = await self._store.pending_deliveries(delivery_id)
        status, state, attempts, next_at = await self._attempt(delivery, 0)
        if state == "pending":
            self._spawn(replace(delivery, attempts=attempts, next_at=next_at))
        return status, state == "delivered"

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    def _spawn(self, delivery: Delivery) -> None:
        if delivery.id in self._tasks:
            return
        task = asyncio.create_task(self._run(delivery))
        self._tasks[delivery.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(delivery.id, None))

    async def _run(self, delivery: Delivery) -> None:
        attempts, next_at = delivery.attempts, delivery.next_at
        while True:
            await asyncio.sleep(max(0.0, next_at - time.time()))
            try:
                _, state, attempts, next_at = await self._attempt(delivery, attempts)
            except Exception:  # a broken secret or store must not kill the retry loop silently
                log.exception("webhook.error", kind=delivery.kind, delivery_id=delivery.id)
                attempts += 1
                next_at, state = time.time() + self._delay(attempts), "pending"
            if state != "pending":
                return

    def _delay(self, attempts: int) -> float:
        """Backoff after the n-th failed attempt: first_delay, doubling, capped at max_delay."""
        return min(self._max_delay, self._first_delay * 2 ** max(0, attempts - 1))

    async def _attempt(self, delivery: Delivery, attempts: int) -> tuple[int, str, int, float]:
        """POST the exact stored bytes, signed now; record and return (status, state, attempts, next_at)."""
        body = delivery.body.encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._secrets(delivery.secret_ref), body, int(time.time())),
        }
        error = None
        try:
            status = (await self._client.post(delivery.url, content=body, headers=headers)).status_code
        except httpx.HTTPError as exc:
            status, error = 0, type(exc).__name__
        state = outcome(status)
        attempts += 1
        next_at = time.time() + self._delay(attempts)
        await self._store.attempted(delivery.id, status, state, next_at)
        log.info(
            "webhook.attempt",
            kind=delivery.kind,
            delivery_id=delivery.id,
            status=status,
            state=state,
            attempt=attempts,
            error=error,
        )
        return status, state, attempts, next_at
