"""Delivery of the notification outbox to applicants' webhooks, signed, with retries.

Rows are claimed in one short statement that leases them (store.outbox), sent with no transaction
open, and each outcome is recorded on its own as soon as it is known: a slow or endless receiver holds
up only its own row, and that for at most DELIVERY_DEADLINE. The lease keeps two relays from sending
one row at once; a relay that dies mid-send leaves its lease to run out and the row is sent again with
the same `Idempotency-Key` header (the outbox key), by which the receiver drops the duplicate.

Before every send the URL is checked again (domain.webhook_urls: https, every address of the host
public; loopback too only with JFC_ALLOW_LOOPBACK_WEBHOOKS) and the request goes to an address just
checked, so a DNS change cannot steer it elsewhere. Redirects are never followed, and at most
MAX_RESPONSE_BYTES of an answer are read.

Outcomes: 2xx → delivered; 408, 429, 5xx, timeouts, refused connections, a host that does not resolve
→ retried with backoff (5 s doubling to 1 h, Retry-After honoured) and dead after 3 days; any other
4xx, a redirect, or a URL the rule refuses → dead at once, with the reason kept in `last_error`.

The worker process runs it beside the worker with `OutboxRelay.run(stop)` (it polls every second).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
import httpx
import structlog

from domain.signatures import SIGNATURE_HEADER, sign
from domain.webhook_urls import ResolvedWebhook, WebhookHostUnresolved, WebhookUrlRefused, check_webhook_url
from store import outbox
from store.outbox import LeaseLost, OutboxRow

DELIVERY_TIMEOUT = httpx.Timeout(10.0, connect=5.0)  # each phase of a request
DELIVERY_DEADLINE = 15.0  # seconds one delivery may take in all: lookup, connect, send, answer, body
MAX_RESPONSE_BYTES = 64 * 1024  # of a receiver's answer read at most; only its status counts
RETRYABLE_4XX = frozenset({408, 429})
ERROR_PAUSE = 5.0  # seconds the run loop waits after a database error
_DATABASE_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)

Result = Literal["delivered", "retried", "dead", "lost"]


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
        allow_loopback: bool = False,
        timeout: httpx.Timeout = DELIVERY_TIMEOUT,
        deadline: float = DELIVERY_DEADLINE,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        lease: dt.timedelta = outbox.CLAIM_LEASE,
        concurrency: int = 10,
        logger: Any = None,
    ) -> None:
        if lease.total_seconds() < 2 * deadline:
            raise ValueError(f"the claim lease ({lease}) must be at least twice the delivery deadline ({deadline} s)")
        self._pool = pool
        self._http = http
        self._secret_for = secret_for
        self._allow_loopback = allow_loopback
        self._timeout = timeout
        self._deadline = deadline
        self._max_response_bytes = max_response_bytes
        self._lease = lease
        self._concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._log = logger or structlog.get_logger("jfc.outbox")

    async def deliver_due(self, limit: int = 50, now: dt.datetime | None = None) -> int:
        """Deliver what is due at `now` (default: the current time), up to `limit` rows; returns how many were delivered."""
        return (await self.deliver_batch(limit, now)).delivered

    async def deliver_batch(self, limit: int = 50, now: dt.datetime | None = None) -> BatchResult:
        """Claim up to `limit` due rows, send them all at once, record each outcome as it comes; then count."""
        rows = await outbox.claim_due(self._pool, limit, now or _utcnow(), lease=self._lease)
        if not rows:
            return BatchResult()
        results = await asyncio.gather(*(self._deliver(row, now) for row in rows), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result  # a database error while recording: that row's lease runs out and it is sent again
        result = BatchResult(len(rows), results.count("delivered"), results.count("retried"), results.count("dead"))
        self._log.info(
            "outbox_batch", claimed=result.claimed, delivered=result.delivered, retried=result.retried, dead=result.dead
        )
        return result

    async def run(self, stop: asyncio.Event, interval: float = 1.0, limit: int = 50) -> None:
        """Deliver until `stop` is set, up to `concurrency` rows in flight; claims more as soon as a slot is free."""
        self._log.info("outbox_relay_started")
        sending: set[asyncio.Task[None]] = set()
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                pause = interval
                room = min(limit, self._concurrency - len(sending))
                if room > 0:
                    try:
                        rows = await outbox.claim_due(self._pool, room, _utcnow(), lease=self._lease)
                    except _DATABASE_ERRORS as err:
                        self._log.warning("outbox_unavailable", error=type(err).__name__)
                        pause = max(interval, ERROR_PAUSE)
                    except Exception as err:  # noqa: BLE001 — the loop must outlive one bad claim
                        self._log.error("outbox_claim_failed", error=f"{type(err).__name__}: {err}")
                        pause = max(interval, ERROR_PAUSE)
                    else:
                        for row in rows:
                            task = asyncio.create_task(self._deliver_logged(row))
                            sending.add(task)
                            task.add_done_callback(sending.discard)
                        if len(rows) == room:
                            pause = 0  # more may be due
                full = len(sending) >= self._concurrency
                if pause == 0 and not full:
                    await asyncio.sleep(0)
                    continue
                # wake on stop; when every slot is taken, also on the first delivery that ends
                waiters: set[asyncio.Future[Any]] = {stopping, *sending} if full else {stopping}
                await asyncio.wait(waiters, timeout=pause or interval, return_when=asyncio.FIRST_COMPLETED)
            if sending:  # each is bounded by the delivery deadline
                await asyncio.gather(*sending, return_exceptions=True)
        finally:
            stopping.cancel()
        self._log.info("outbox_relay_stopped")

    async def _deliver_logged(self, row: OutboxRow) -> None:
        try:
            result = await self._deliver(row, None)
        except _DATABASE_ERRORS as err:
            self._log.warning("outbox_record_failed", outbox_id=row.id, error=type(err).__name__)
        except Exception as err:  # noqa: BLE001 — one row must not end the loop; its lease runs out, it is sent again
            self._log.error("outbox_delivery_failed", outbox_id=row.id, error=f"{type(err).__name__}: {err}")
        else:
            self._log.info("outbox_delivery", outbox_id=row.id, result=result)

    async def _deliver(self, row: OutboxRow, now: dt.datetime | None) -> Result:
        """Send `row` and record its outcome in a statement of its own (no transaction spans the send)."""
        outcome = await self._send(row)
        at = now or _utcnow()  # outcomes, and backoffs, count from after the send
        try:
            if outcome.delivered:
                await outbox.mark_delivered(self._pool, row, at)
                return "delivered"
            if outcome.dead:
                await outbox.mark_dead(self._pool, row, outcome.error or "refused", at=at)
                return "dead"
            error = outcome.error or "failed"
            retry_at = await outbox.mark_failed(self._pool, row, error, now=at, not_before=outcome.not_before)
            return "retried" if retry_at else "dead"
        except LeaseLost as err:
            self._log.warning("outbox_lease_lost", outbox_id=row.id, error=str(err))
            return "lost"

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
            deadline = asyncio.get_running_loop().time() + self._deadline
            try:
                async with asyncio.timeout_at(deadline):
                    target = await check_webhook_url(row.webhook_url, allow_loopback=self._allow_loopback)
                    response = await self._post(target, body, headers)
            except WebhookUrlRefused as err:
                return _Outcome(dead=True, error=f"webhook URL refused, nothing sent: {err}")
            except WebhookHostUnresolved as err:
                return _Outcome(error=f"webhook host not resolved: {err}")
            except TimeoutError:
                return _Outcome(error=f"no answer within {self._deadline:g} s")
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as err:
                return _Outcome(dead=True, error=f"webhook URL is not usable: {err}")
            except httpx.TimeoutException:
                return _Outcome(error="timed out")
            except httpx.HTTPError as err:  # refused, reset, protocol errors: the receiver's outage
                return _Outcome(error=_describe(err))
            except Exception as err:  # noqa: BLE001 — one odd row must not stop the others; it backs off, then dies
                return _Outcome(error=_describe(err))
            try:
                outcome = _judge(response)
                await self._read_some(response, deadline)
                return outcome
            finally:
                await response.aclose()

    async def _post(self, target: ResolvedWebhook, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """POST to an address just checked (the first that accepts a connection), naming the host as given."""
        url = httpx.URL(target.webhook.url)
        headers = {**headers, "Host": url.netloc.decode("ascii")}
        extensions = {"sni_hostname": target.webhook.host} if url.scheme == "https" else {}
        refused: httpx.ConnectError | None = None
        for address in target.addresses:
            pinned = url.copy_with(host=str(getattr(address, "ipv4_mapped", None) or address))
            request = self._http.build_request(
                "POST", pinned, content=body, headers=headers, timeout=self._timeout, extensions=extensions
            )
            try:
                return await self._http.send(request, stream=True, follow_redirects=False)
            except httpx.ConnectError as err:
                refused = err
        assert refused is not None  # a ResolvedWebhook has at least one address
        raise refused

    async def _read_some(self, response: httpx.Response, deadline: float) -> None:
        """Read at most `max_response_bytes` of the answer before the deadline, then stop: the status is the answer."""
        read = 0
        try:
            async with asyncio.timeout_at(deadline):
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if read >= self._max_response_bytes:
                        break
        except (TimeoutError, httpx.HTTPError):
            pass


def _judge(response: httpx.Response) -> _Outcome:
    status = response.status_code
    if 200 <= status < 300:
        return _Outcome(delivered=True)
    error = f"HTTP {status} {response.reason_phrase}".strip()
    if 300 <= status < 400:
        return _Outcome(dead=True, error=f"{error}: redirects are not followed; answer 2xx at the webhook URL itself")
    if 400 <= status < 500 and status not in RETRYABLE_4XX:
        return _Outcome(dead=True, error=error)
    return _Outcome(error=error, not_before=_retry_after(response))


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


def _retry_after(response: httpx.Response) -> dt.timedelta | None:
    value = response.headers.get("Retry-After", "")
    return dt.timedelta(seconds=int(value)) if value.isdigit() else None


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
