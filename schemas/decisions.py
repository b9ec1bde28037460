"""Messages that change an application: agency and officer decisions, payments, answers."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Outcome(StrEnum):
    """What an agency (or an officer on its behalf) decides about one clearance."""

    approved = "approved"
    approved_with_conditions = "approved_with_conditions"
    rejected = "rejected"
    information_required = "information_required"


class AgencyDecision(BaseModel):
    """A decision delivered by an agency webhook (or read by polling)."""

    model_config = ConfigDict(extra="forbid")

    decision_id: str = Field(min_length=1, max_length=200)
    reference: str = Field(min_length=1, max_length=200)
    request_key: str = Field(min_length=1, max_length=300, description="The Idempotency-Key of our request")
    status: Outcome
    conditions: list[str] = Field(default_factory=list)
    reason: str | None = None
    decided_at: dt.datetime


class OfficerDecisionKind(StrEnum):
    clearance = "clearance"  # decide a clearance in place of a silent or unreachable agency
    expedite = "expedite"  # accept or refuse an expedite request before routing


class OfficerDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: OfficerDecisionKind
    agency: str | None = None
    outcome: Outcome
    reason: str = Field(min_length=1, max_length=2000)
    officer: str = "officer"
    conditions: list[str] = Field(default_factory=list)


class Payment(BaseModel):
    """The payment provider's webhook body."""

    model_config = ConfigDict(extra="forbid")

    payment_id: str = Field(min_length=1, max_length=200)
    permit_id: str = Field(min_length=1, max_length=200)
    amount_idr: int = Field(gt=0)
    paid_at: dt.datetime


class InformationAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(min_length=1)
    answer: str = Field(min_length=1, max_length=10000)
