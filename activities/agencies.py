"""Activities that call agencies over the agency API (design §6) and turn every failure into a retry decision."""

from __future__ import annotations

import httpx
from temporalio import activity

from activities.errors import AGENCY_PROTOCOL_ERROR, AGENCY_REFUSED, AGENCY_UNAVAILABLE
from activities.parties import Party, PartyClient, parse, protocol_error, retry_after
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

__all__ = ["AGENCY_PROTOCOL_ERROR", "AGENCY_REFUSED", "AGENCY_UNAVAILABLE", "AgencyActivities", "retry_after"]


def party(agency: Agency) -> Party:
    return Party(str(agency.code), agency.base_url, agency.calls_per_second)


def _subject(request_key: str) -> str:
    return request_key.split(":", 1)[0]


class AgencyActivities:
    """Submit, poll, withdraw and answer clearance requests at the agencies of the catalog."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._client = PartyClient(http)

    @activity.defn(name=SUBMIT_CLEARANCE)
    async def submit_clearance_request(self, input: SubmitClearanceInput) -> SubmitClearanceResult:
        """Send the request; the same request_key always yields the same reference at the agency."""
        request, agency = input.request, party(input.agency)
        response = await self._client.call(
            agency, "POST", "/v1/clearance-requests", _subject(request.request_key),
            idempotency_key=request.request_key, body=request.model_dump(mode="json"), sensitive=_sensitive(request),
        )  # fmt: skip
        receipt = parse(AgencyReceipt, response, agency)
        if not receipt.reference.strip():
            raise protocol_error(agency, response, "an empty reference")
        return SubmitClearanceResult(reference=receipt.reference)

    @activity.defn(name=GET_CLEARANCE_STATUS)
    async def get_clearance_status(self, input: AgencyCallInput) -> AgencyStatusResult:
        """The agency's current view of one request (for poll-mode agencies and reconciliation)."""
        agency = party(input.agency)
        response = await self._client.call(
            agency, "GET", f"/v1/clearance-requests/{input.reference}", _subject(input.request_key))
        return AgencyStatusResult(status=parse(AgencyRequestStatus, response, agency))

    @activity.defn(name=WITHDRAW_CLEARANCE)
    async def withdraw_clearance_request(self, input: AgencyCallInput) -> None:
        """Withdraw a request (cancellation's compensation); a 409 means it is already final, which is fine."""
        await self._client.call(
            party(input.agency), "DELETE", f"/v1/clearance-requests/{input.reference}", _subject(input.request_key),
            idempotency_key=f"{input.request_key}:withdraw", also_ok={409},
        )  # fmt: skip

    @activity.defn(name=SEND_INFORMATION_ANSWER)
    async def send_information_answer(self, input: InformationAnswerInput) -> None:
        """Pass the applicant's answer to an information request on to the agency."""
        body = InformationReply(request_id=input.request_id, answer=input.answer).model_dump(mode="json")
        await self._client.call(
            party(input.agency), "POST", f"/v1/clearance-requests/{input.reference}/answers",
            _subject(input.request_key), idempotency_key=f"{input.request_key}:answer:{input.request_id}", body=body,
            sensitive=[input.answer],
        )  # fmt: skip


def _sensitive(request: ClearanceRequest) -> list[str]:
    """Values of a request that must not reach logs or error messages, even echoed back by an agency."""
    return [request.applicant_contact, *(m.passport_number for m in request.foreign_crew)]
