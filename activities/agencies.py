"""Activities that call agencies over the agency API (design §6) and turn every failure into a retry decision."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import time
from collections.abc import Iterable
from typing import TypeVar

import httpx
import structlog
from pydantic import BaseModel, ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import AGENCY_PROTOCOL_ERROR, AGENCY_REFUSED, AGENCY_UNAVAILABLE
from domain.privacy import redact
from schemas.agency_api import AgencyReceipt, AgencyRequestStatus, ClearanceRequest, InformationReply
from schemas.catalog import Agency
from schemas.contracts import (
    GET_CLEARANCE_STATUS,
    SEND_INFORMATION_ANSWER,
    SUBMIT_CLEARANCE,
    WITHDRAW_CLEARANCE,
    AgencyCallInput,
    AgencyStatusResult,
    InformationAnswerInput,
    SubmitClearanceInput,
    SubmitClearanceResult,
)

__all__ = ["AGENCY_PROTOCOL_ERROR", "AGENCY_REFUSED", "AGENCY_UNAVAILABLE", "AgencyActivities"]

_log = structlog.get_logger(__name__)
EXCERPT_CHARS = 300
RETRYABLE_4XX = frozenset({408, 429})  # timeouts and throttling are outages, not the request's fault
M = TypeVar("M", bound=BaseModel)


class _Pacer:
    """Spaces calls to one agency at least 1 / calls_per_second apart, within this worker process."""

    def __init__(self, calls_per_second: float) -> None:
        self.interval = 1.0 / calls_per_second
        self._next = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        start = max(now, self._next)
        self._next = start + self.interval  # claimed before awaiting, so concurrent callers queue up
        if start > now:
            await asyncio.sleep(start - now)


class AgencyActivities:
    """Submit, poll, withdraw and answer clearance requests at the agencies of the catalog."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http
        self._pacers: dict[tuple[str, float], _Pacer] = {}

    @activity.defn(name=SUBMIT_CLEARANCE)
    async def submit_clearance_request(self, input: SubmitClearanceInput) -> SubmitClearanceResult:
        """Send the request; the same request_key always yields the same reference at the agency."""
        request = input.request
        response = await self._call(
            input.agency, "POST", "/v1/clearance-requests", request.request_key,
            idempotency_key=request.request_key, body=request.model_dump(mode="json"), sensitive=_sensitive(request),
        )  # fmt: skip
        receipt = _parse(AgencyReceipt, response, input.agency)
        if not receipt.reference.strip():
            raise _protocol_error(input.agency, response, "an empty reference")
        return SubmitClearanceResult(reference=receipt.reference)

    @activity.defn(name=GET_CLEARANCE_STATUS)
    async def get_clearance_status(self, input: AgencyCallInput) -> AgencyStatusResult:
        """The agency's current view of one request (for poll-mode agencies and reconciliation)."""
        response = await self._call(input.agency, "GET", f"/v1/clearance-requests/{input.reference}", input.request_key)
        return AgencyStatusResult(status=_parse(AgencyRequestStatus, response, input.agency))

    @activity.defn(name=WITHDRAW_CLEARANCE)
    async def withdraw_clearance_request(self, input: AgencyCallInput) -> None:
        """Withdraw a request (cancellation's compensation); a 409 means it is already final, which is fine."""
        await self._call(
            input.agency, "DELETE", f"/v1/clearance-requests/{input.reference}", input.request_key,
            idempotency_key=f"{input.request_key}:withdraw", also_ok={409},
        )  # fmt: skip

    @activity.defn(name=SEND_INFORMATION_ANSWER)
    async def send_information_answer(self, input: InformationAnswerInput) -> None:
        """Pass the applicant's answer to an information request on to the agency."""
        body = InformationReply(request_id=input.request_id, answer=input.answer).model_dump(mode="json")
        await self._call(
            input.agency, "POST", f"/v1/clearance-requests/{input.reference}/answers", input.request_key,
            idempotency_key=f"{input.request_key}:answer:{input.request_id}", body=body, sensitive=[input.answer],
        )  # fmt: skip

    async def _call(
        self,
        agency: Agency,
        method: str,
        path: str,
        request_key: str,
        *,
        idempotency_key: str | None = None,
        body: dict | None = None,
        sensitive: Iterable[str] = (),
        also_ok: frozenset[int] | set[int] = frozenset(),
    ) -> httpx.Response:
        url = agency.base_url.rstrip("/") + path
        log = _log.bind(
            application_id=request_key.split(":", 1)[0], agency=str(agency.code), attempt=_attempt(), method=method, url=url
        )
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        await self._pacer(agency).wait()
        started = time.monotonic()
        try:
            response = await self._http.request(method, url, headers=headers, json=body)
        except httpx.TransportError as exc:
            problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            log.warning("agency_unreachable", error=problem)
            raise ApplicationError(
                f"{agency.code} is unavailable: {method} {url} failed with {problem}; will retry",
                type=AGENCY_UNAVAILABLE,
                non_retryable=False,
            ) from exc
        status = response.status_code
        log = log.bind(status=status, elapsed_ms=round((time.monotonic() - started) * 1000))
        if 200 <= status < 300 or status in also_ok:
            log.info("agency_call")
            return response
        if status >= 500 or status in RETRYABLE_4XX:
            delay = retry_after(response.headers.get("Retry-After"))
            log.warning("agency_unavailable", retry_after_s=delay.total_seconds() if delay else None)
            raise ApplicationError(
                f"{agency.code} is unavailable: {method} {url} answered {status} {response.reason_phrase}; will retry"
                + (f" after {delay.total_seconds():.0f} s (Retry-After)" if delay else ""),
                type=AGENCY_UNAVAILABLE,
                non_retryable=False,
                next_retry_delay=delay,
            )
        if 400 <= status < 500:
            log.warning("agency_refused")
            raise ApplicationError(
                f"{agency.code} refused the request: {status} {_excerpt(response, sensitive)} ({method} {url}); "
                "the request must change or an officer decide",
                type=AGENCY_REFUSED,
                non_retryable=True,
            )
        log.warning("agency_protocol_error")
        raise _protocol_error(agency, response, f"status {status}, expected 2xx")

    def _pacer(self, agency: Agency) -> _Pacer:
        key = (str(agency.code), agency.calls_per_second)
        if key not in self._pacers:
            self._pacers[key] = _Pacer(agency.calls_per_second)
        return self._pacers[key]


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


def _parse(model: type[M], response: httpx.Response, agency: Agency) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise _protocol_error(agency, response, f"a body that is not a {model.__name__} ({exc.error_count()} errors)")


def _protocol_error(agency: Agency, response: httpx.Response, what: str) -> ApplicationError:
    request = response.request
    return ApplicationError(
        f"{agency.code} answered {request.method} {request.url} with {what}; the agency adapter needs fixing",
        type=AGENCY_PROTOCOL_ERROR,
        non_retryable=True,
    )


def _excerpt(response: httpx.Response, sensitive: Iterable[str]) -> str:
    text = " ".join(response.text.split())
    text = redact(text, sensitive)
    return text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "") if text else "(empty body)"


def _sensitive(request: ClearanceRequest) -> list[str]:
    """Values of a request that must not reach logs or error messages, even echoed back by an agency."""
    return [request.applicant_contact, *(m.passport_number for m in request.foreign_crew)]


def _attempt() -> int | None:
    return activity.info().attempt if activity.in_activity() else None
