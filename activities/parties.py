"""Calling an external party (an agency, the audit firm, the treasury) over HTTP, every failure sorted.

5xx, 408, 429, timeouts and refused connections are outages (retryable, Retry-After honoured up to ten
minutes); other
4xx are the request's fault (not retried); a 2xx we cannot read is a protocol error (not retried).
Calls to one party are paced to its `calls_per_second` within the worker process. Logs carry the
application (or incentive) id and the party, never a request's personal data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import time
from collections.abc import Iterable
from typing import NamedTuple, TypeVar

import httpx
import structlog
from pydantic import BaseModel, ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import AGENCY_PROTOCOL_ERROR, AGENCY_REFUSED, AGENCY_UNAVAILABLE
from domain.privacy import redact
from schemas.contracts import RETRY_AFTER_ASKED

_log = structlog.get_logger(__name__)
EXCERPT_CHARS = 300
RETRYABLE_4XX = frozenset({408, 429})  # timeouts and throttling are outages, not the request's fault
# The longest wait a party's Retry-After gets: the clearance's longest outage backoff (workflows.policies
# OUTAGE_MAX_BACKOFF). An agency answering `Retry-After: 31536000` is asked again in ten minutes, not in a year.
MAX_RETRY_AFTER = dt.timedelta(minutes=10)
M = TypeVar("M", bound=BaseModel)


class Party(NamedTuple):
    """Who is called: its name in logs and errors, its base URL, how many calls a second it takes."""

    name: str
    base_url: str
    calls_per_second: float


class _Pacer:
    """Spaces calls to one party at least 1 / calls_per_second apart, within this worker process."""

    def __init__(self, calls_per_second: float) -> None:
        self.interval = 1.0 / calls_per_second
        self._next = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        start = max(now, self._next)
        self._next = start + self.interval  # claimed before awaiting, so concurrent callers queue up
        if start > now:
            await asyncio.sleep(start - now)


class PartyClient:
    """Makes the calls, paced per party, and turns every failure into a retry decision."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http
        self._pacers: dict[tuple[str, float], _Pacer] = {}

    async def call(
        self,
        party: Party,
        method: str,
        path: str,
        subject_id: str,
        *,
        idempotency_key: str | None = None,
        body: dict | None = None,
        sensitive: Iterable[str] = (),
        also_ok: frozenset[int] | set[int] = frozenset(),
    ) -> httpx.Response:
        """`method` `path` at `party`; `subject_id` (an application or incentive id) is bound in the logs."""
        url = party.base_url.rstrip("/") + path
        log = _log.bind(application_id=subject_id, agency=party.name, attempt=_attempt(), method=method, url=url)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        await self._pacer(party).wait()
        started = time.monotonic()
        try:
            response = await self._http.request(method, url, headers=headers, json=body)
        except httpx.TransportError as exc:
            problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            log.warning("agency_unreachable", error=problem)
            raise ApplicationError(
                f"{party.name} is unavailable: {method} {url} failed with {problem}; will retry",
                type=AGENCY_UNAVAILABLE,
                non_retryable=False,
            ) from exc
        status = response.status_code
        log = log.bind(status=status, elapsed_ms=round((time.monotonic() - started) * 1000))
        if 200 <= status < 300 or status in also_ok:
            log.info("agency_call")
            return response
        if status >= 500 or status in RETRYABLE_4XX:
            asked = retry_after(response.headers.get("Retry-After"))
            log.warning("agency_unavailable", retry_after_s=asked.total_seconds() if asked else None)
            raise outage(
                f"{party.name} is unavailable: {method} {url} answered {status} {response.reason_phrase}; will retry",
                asked,
            )
        if 400 <= status < 500:
            log.warning("agency_refused")
            raise ApplicationError(
                f"{party.name} refused the request: {status} {_excerpt(response, sensitive)} ({method} {url}); "
                "the request must change or an officer decide",
                type=AGENCY_REFUSED,
                non_retryable=True,
            )
        log.warning("agency_protocol_error")
        raise protocol_error(party, response, f"status {status}, expected 2xx")

    def _pacer(self, party: Party) -> _Pacer:
        key = (party.name, party.calls_per_second)
        if key not in self._pacers:
            self._pacers[key] = _Pacer(party.calls_per_second)
        return self._pacers[key]


def outage(message: str, asked: dt.timedelta | None) -> ApplicationError:
    """A retryable outage; the party's Retry-After is honoured up to MAX_RETRY_AFTER, and what it asked travels in
    the details (`{RETRY_AFTER_ASKED: seconds}`) so the caller can tell someone when it asked for longer."""
    delay = min(asked, MAX_RETRY_AFTER) if asked else None
    if asked and asked > MAX_RETRY_AFTER:
        message += (f" after {delay.total_seconds():.0f} s (it asked {asked.total_seconds():.0f} s in Retry-After, "
                    f"more than the {MAX_RETRY_AFTER.total_seconds():.0f} s we wait at most)")
    elif delay:
        message += f" after {delay.total_seconds():.0f} s (Retry-After)"
    details = [{RETRY_AFTER_ASKED: asked.total_seconds()}] if asked else []
    return ApplicationError(message, *details, type=AGENCY_UNAVAILABLE, non_retryable=False, next_retry_delay=delay)


def parse(model: type[M], response: httpx.Response, party: Party) -> M:
    """The body as `model`, or a protocol error naming the party."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise protocol_error(party, response, f"a body that is not a {model.__name__} ({exc.error_count()} errors)")


def protocol_error(party: Party, response: httpx.Response, what: str) -> ApplicationError:
    request = response.request
    return ApplicationError(
        f"{party.name} answered {request.method} {request.url} with {what}; its adapter needs fixing",
        type=AGENCY_PROTOCOL_ERROR,
        non_retryable=True,
    )


def retry_after(value: str | None) -> dt.timedelta | None:
    """The delay a Retry-After header asks for (delta-seconds or an HTTP-date); None when absent, past or unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - dt.datetime.now(dt.UTC)).total_seconds()
    return dt.timedelta(seconds=seconds) if seconds > 0 else None


def _excerpt(response: httpx.Response, sensitive: Iterable[str]) -> str:
    text = " ".join(response.text.split())
    text = redact(text, sensitive)
    return text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "") if text else "(empty body)"


def _attempt() -> int | None:
    return activity.info().attempt if activity.in_activity() else None
