"""The agency API (design §6): what we send to an agency and what it answers."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.application import ForeignCrewMember, Location, Production


class ClearanceRequest(BaseModel):
    """Body of `POST {base}/v1/clearance-requests`; the Idempotency-Key header is `request_key`."""

    request_key: str = Field(description="'{application_id}:{agency}:r{revision}', also the Idempotency-Key")
    application_id: str
    agency: str
    revision: int
    applicant_company: str
    applicant_contact: str
    production: Production
    locations: list[Location] = Field(description="Only the locations this agency must clear")
    foreign_crew: list[ForeignCrewMember] = Field(default_factory=list)
    callback_url: str = Field(description="Where a webhook-mode agency posts its decision")


class AgencyRequestState(StrEnum):
    received = "received"
    approved = "approved"
    approved_with_conditions = "approved_with_conditions"
    rejected = "rejected"
    information_required = "information_required"
    withdrawn = "withdrawn"


class AgencyReceipt(BaseModel):
    """The agency's 2xx answer to a submission."""

    reference: str
    status: AgencyRequestState = AgencyRequestState.received


class AgencyRequestStatus(BaseModel):
    """`GET {base}/v1/clearance-requests/{reference}`."""

    reference: str
    status: AgencyRequestState
    conditions: list[str] = Field(default_factory=list)
    reason: str | None = None
    decided_at: dt.datetime | None = None
    decision_id: str | None = None


class InformationReply(BaseModel):
    """Body of `POST {base}/v1/clearance-requests/{reference}/answers` (our extension of the agency API)."""

    request_id: str
    answer: str
