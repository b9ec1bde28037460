"""Messages that change an application: agency and officer decisions, payments, answers."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from schemas.application import PermitApplication


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
    clearance = "clearance"  # decide an open clearance (silent, unreachable or refused agency; a rejection to confirm)
    expedite = "expedite"  # accept or refuse an expedite request before routing
    override = "override"  # replace an agency's final outcome, with a reason (audited)


class OfficerDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: OfficerDecisionKind
    agency: str | None = None
    outcome: Outcome
    reason: str = Field(min_length=1, max_length=2000)
    officer: str = Field(default="officer", description="Who decides, as the audit log names them (`officer:<account>`)")
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
    actor: str = "applicant"


class CancelRequest(BaseModel):
    """The applicant cancels: every open request is withdrawn at its agency."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)
    actor: str = "applicant"


class AmendmentResult(BaseModel):
    """What an amendment changed: which agencies are asked again, which keep their decisions."""

    revision: int
    requested_again: list[str] = Field(default_factory=list)
    added: list[str] = Field(default_factory=list)
    kept: list[str] = Field(default_factory=list)
    withdrawn: list[str] = Field(default_factory=list)


class Amendment(BaseModel):
    """The applicant's changed application (dates, locations, crew or equipment)."""

    model_config = ConfigDict(extra="forbid")

    application: PermitApplication
    actor: str = "applicant"
