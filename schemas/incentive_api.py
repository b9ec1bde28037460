"""The audit firm's and the treasury's APIs (design §6; the simulator plays both, an adapter maps real ones).

Audit firm, reached like an agency:
- `POST {audit}/v1/audit-requests`, header `Idempotency-Key` (= `request_key`), body `AuditRequest`
  → `AuditReceipt`; the same key returns the same reference.
- `GET {audit}/v1/audit-requests/{reference}` → `AuditStatus`.
- its decision comes as a signed webhook into our API: `POST /v1/auditors/decisions`, body
  `AuditDecision`, header `X-JFC-Signature` with the audit firm's secret (ref `audit`).
Treasury:
- `POST {treasury}/v1/payments`, header `Idempotency-Key` (= `payment_key`), body `TreasuryPayment`
  → `TreasuryReceipt`; the same key always answers the first payment: a payment is never made twice.
- `GET {treasury}/v1/payments/{payment_key}` → `TreasuryReceipt` (404 when never made).
5xx, timeouts and refused connections are outages (retried); 4xx are the request's fault.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from schemas.incentives import ClaimLine


class AuditRequest(BaseModel):
    """What the audit firm is asked to audit: one claim of one incentive."""

    request_key: str = Field(description="'{incentive_id}:audit:{round}', also the Idempotency-Key")
    incentive_id: str
    programme: str
    applicant_company: str
    production_title: str
    lines: list[ClaimLine]
    total_idr: int
    callback_url: str = Field(description="Where the audit firm posts its decision")


class AuditReceipt(BaseModel):
    reference: str
    status: str = "received"


class AuditState(StrEnum):
    received = "received"
    audited = "audited"


class AuditStatus(BaseModel):
    reference: str
    status: AuditState
    decision_id: str | None = None
    qualifying_idr: int | None = None
    post_production_idr: int | None = None
    notes: list[str] = Field(default_factory=list)
    decided_at: dt.datetime | None = None


class AuditDecision(BaseModel):
    """The audit firm's webhook: the audited figures of one claim."""

    model_config = ConfigDict(extra="forbid")

    decision_id: str = Field(min_length=1, max_length=200)
    reference: str = Field(min_length=1, max_length=200)
    request_key: str = Field(min_length=1, max_length=300, description="The Idempotency-Key of our request")
    qualifying_idr: int = Field(ge=0, description="Audited qualifying Jakarta spend, post-production included")
    post_production_idr: int = Field(ge=0, description="Of which post-production")
    notes: list[str] = Field(default_factory=list, max_length=200, description="Lines disallowed, and why")
    decided_at: dt.datetime


class TreasuryPayment(BaseModel):
    """One tranche paid to the production."""

    payment_key: str = Field(description="'{incentive_id}:tranche:{n}', also the Idempotency-Key")
    incentive_id: str
    tranche: int = Field(ge=1)
    amount_idr: int = Field(gt=0)
    beneficiary: str = Field(description="The production company")


class TreasuryReceipt(BaseModel):
    payment_key: str
    reference: str
    amount_idr: int
    paid_at: dt.datetime
