"""Delivery of the notification outbox to applicants' webhooks, signed, with retries.

Each batch is one transaction: claim due rows (`FOR UPDATE SKIP LOCKED`, so two relays never
send the same row at once), POST each to its webhook, record each outcome, commit. A row is
marked delivered in the same transaction that claimed it, so once committed it is never sent
again. If the process dies between a receiver's 2xx and the commit, the row is sent again
later with the same `Idempotency-Key` header (the outbox key): the receiver drops the
duplicate by that key. Nothing is lost: a row leaves the queue only when delivered or dead.

Outcomes: 2xx → delivered; 408, 429, 5xx, timeouts, refused connections → retried with
backoff (5 s doubling to 1 h, Retry-After honoured) and dead after 3 days; any other 4xx, or
an unusable URL → dead at once, with the reason kept in `last_error` for officers.

The worker process runs it beside the worker with `OutboxRelay.run(stop)` (it polls every second).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import structlog

from domain.signatures import SIGNATURE_HEADER, sign
from store import outbox
from store.outbox import OutboxRow

DELIVERY_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
RETRYABLE_4XX = frozenset({408, 429})
ERROR_PAUSE = 5.0  # seconds the run loop waits after a database error


@dataclass(frozen=True)
class BatchResult:
    """What one batch did: rows claimed, delivered, scheduled for a retry, and given up on."""

    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0


@dataclass(frozen=True)
class _Outcome:
    delivered: bool = False
    dead: bool = False
    error: str | None = None
    not_before: dt.timedelta | None = None


def payload(row: OutboxRow) -> bytes:
    """The exact bytes POSTed (and signed): key, application, kind, detail and when it was written."""
    body = {
        "key": row.key,
        "application_id": row.application_id,
        "kind": row.kind,
        "detail": row.detail,
        "created_at": row.created_at.isoformat(),
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class OutboxRelay:
    """Sends due outbox rows to their webhooks, signed with the organisation's secret."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        http: httpx.AsyncClient,
        secret_for: Callable[[str | None], bytes],
        *,
        timeout: httpx.Timeout = DELIVERY_TIMEOUT,
        concurrency: int = 10,
        logger: Any = None,
    ) -> None:
        self._pool = pool
        self._http = http
        self._secret_for = secret_for
        self._timeout = timeout
        self._slots = asyncio.Semaphore(concurrency)
        self._log = logger or structlog.get_logger("jfc.outbox")

    async def deliver_due(self, limit: int = 50, now: dt.datetime | None = None) -> int:
        """Deliver what is due at `now` (default: the current time), up to `limit` rows; returns how many were delivered."""
        return (await self.deliver_batch(limit, now)).delivered

    async def deliver_batch(self, limit: int = 50, now: dt.datetime | None = None) -> BatchResult:
        """One batch in one transaction: claim, send, record every outcome, commit."""
        clock_given = now is not None
        now = now or dt.datetime.now(dt.UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await outbox.claim_due(conn, limit, now)
            if not rows:
                return BatchResult()
            outcomes = await asyncio.gather(*(self._send(row) for row in rows))
            if not clock_given:
                now = dt.datetime.now(dt.UTC)  # outcomes, and backoffs, count from after the sends
            delivered = retried = dead = 0
            for row, outcome in zip(rows, outcomes, strict=True):
                if outcome.delivered:
                    await outbox.mark_delivered(conn, row, now)
                    delivered += 1
                elif outcome.dead:
                    await outbox.mark_dead(conn, row, outcome.error or "refused", at=now)
                    dead += 1
                elif await outbox.mark_failed(
                    conn, row, outcome.error or "failed", now=now, not_before=outcome.not_before
                ):
                    retried += 1
                else:
                    dead += 1
        result = BatchResult(len(rows), delivered, retried, dead)
        self._log.info("outbox_batch", claimed=result.claimed, delivered=delivered, retried=retried, dead=dead)
        return result

    async def run(self, stop: asyncio.Event, interval: float = 1.0, limit: int = 50) -> None:
        """Deliver until `stop` is set: a full batch goes straight on to the next, otherwise wait `interval` seconds."""
        self._log.info("outbox_relay_started")
        while not stop.is_set():
            pause = interval
            try:
                result = await self.deliver_batch(limit)
                if result.claimed >= limit:
                    pause = 0
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as err:
                self._log.warning("outbox_unavailable", error=type(err).__name__)
                pause = max(interval, ERROR_PAUSE)
            except Exception as err:  # noqa: BLE001 — the loop must outlive one bad batch; it is rolled back and retried
                # type and message only: a traceback with locals could show notification bodies
                self._log.error("outbox_batch_failed", error=f"{type(err).__name__}: {err}")
                pause = max(interval, ERROR_PAUSE)
            if pause:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=pause)
                except TimeoutError:
                    pass
            else:
                await asyncio.sleep(0)
        self._log.info("outbox_relay_stopped")

    async def _send(self, row: OutboxRow) -> _Outcome:
        async with self._slots:
            try:
                secret = self._secret_for(row.organisation_id)
            except Exception as err:  # noqa: BLE001 — a missing secret is a set-up problem: retry once it is fixed
                return _Outcome(error=f"no signing secret for the organisation: {type(err).__name__}: {err}")
            body = payload(row)
            headers = {
                "Content-Type": "application/json",
                "Idempotency-Key": row.key,
                SIGNATURE_HEADER: sign(secret, body, int(time.time())),
            }
            try:
                response = await self._http.post(row.webhook_url, content=body, headers=headers, timeout=self._timeout)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as err:
                return _Outcome(dead=True, error=f"webhook URL is not usable: {err}")
            except httpx.TimeoutException:
                return _Outcome(error="timed out")
            except httpx.HTTPError as err:  # refused, reset, DNS, protocol errors: the receiver's outage
                return _Outcome(error=_describe(err))
            except Exception as err:  # noqa: BLE001 — one odd row must not roll back the batch; it backs off, then dies
                return _Outcome(error=_describe(err))
            status = response.status_code
            if 200 <= status < 300:
                return _Outcome(delivered=True)
            error = f"HTTP {status} {response.reason_phrase}".strip()
            if 400 <= status < 500 and status not in RETRYABLE_4XX:
                return _Outcome(dead=True, error=error)
            return _Outcome(error=error, not_before=_retry_after(response))


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


def _retry_after(response: httpx.Response) -> dt.timedelta | None:
    value = response.headers.get("Retry-After", "")
    return dt.timedelta(seconds=int(value)) if value.isdigit() else None
