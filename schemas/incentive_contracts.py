"""What the incentive workflows, their activities and the API exchange (their names: schemas.contracts)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.incentive_api import AuditRequest, TreasuryPayment
from schemas.incentives import (
    CertificateInfo,
    CertificateKind,
    Claim,
    ExternalParty,
    FeatureCall,
    IncentiveApplication,
    IncentiveStatusView,
    PermitFacts,
    ProgrammeRules,
    Tranche,
)

# ---- messages between workflows ------------------------------------------------------------------


class IncentiveLink(BaseModel):
    """An incentive tells its permit it exists: the permit tells it of photography and of its end."""

    incentive_id: str


class PermitEventKind(StrEnum):
    photography_started = "photography_started"  # the permit is issued and its first shoot day has come
    photography_ended = "photography_ended"  # the day after its last shoot day
    permit_closed = "permit_closed"  # rejected, withdrawn or lapsed


class PermitEvent(BaseModel):
    permit_id: str
    kind: PermitEventKind
    at: dt.datetime
    status: str
    shoot_dates: list[dt.date]


class FundPromotion(BaseModel):
    """A waiting incentive the fund now holds money for."""

    incentive_id: str
    reserved_idr: int


class CallEntry(BaseModel):
    incentive_id: str
    requested_grant_idr: int
    submitted_at: dt.datetime
    production_title: str


class CallResult(BaseModel):
    call_id: str
    awarded: bool
    reserved_idr: int = 0
    rank: int | None = None
    score: float | None = None
    reason: str


# ---- people's actions (updates) -----------------------------------------------------------------------


class Action(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClaimSubmission(Action):
    claim: Claim
    actor: str = "applicant"


class Withdrawal(Action):
    reason: str = Field(min_length=1, max_length=2000)
    actor: str = "applicant"


class CommitteeDecision(Action):
    outcome: Literal["approve", "reject"]
    reason: str = Field(min_length=1, max_length=2000)
    officer: str = "officer"


class ClawbackOrder(Action):
    amount_idr: int = Field(gt=0)
    reason: str = Field(min_length=1, max_length=2000)
    officer: str = "officer"


class PanelScore(Action):
    incentive_id: str
    score: float = Field(ge=0, le=100)
    reason: str = Field(min_length=1, max_length=2000)
    officer: str = "officer"


# ---- workflows ------------------------------------------------------------------------------------------


class IncentiveWorkflowInput(BaseModel):
    incentive_id: str
    application: IncentiveApplication
    programme: ProgrammeRules = Field(description="The programme's rules as of submission (its version is kept)")
    organisation_id: str | None
    submitted_at: dt.datetime
    permit: PermitFacts | None = Field(description="The linked permit as it stood at submission; None if unknown")
    callback_base_url: str = Field(description="Public base URL of the API, for the audit firm's webhook")
    public_base_url: str = Field(description="Base URL printed on certificates")
    webhook_url: str | None = Field(default=None, description="Where the applicant's notifications go")
    audit: ExternalParty
    treasury: ExternalParty


class CallWorkflowInput(BaseModel):
    call: FeatureCall
    programme: ProgrammeRules


class CallEntryView(BaseModel):
    incentive_id: str
    production_title: str
    requested_grant_idr: int
    submitted_at: dt.datetime
    scores: list[PanelScore] = Field(default_factory=list)
    mean_score: float | None = None
    rank: int | None = None
    result: CallResult | None = None


class CallView(BaseModel):
    call_id: str
    fiscal_year: int
    deadline: dt.datetime
    panel_size: int
    status: Literal["open", "scoring", "awarded"]
    entries: list[CallEntryView] = Field(default_factory=list)


# ---- activities -----------------------------------------------------------------------------------------


class FundReserveInput(BaseModel):
    fiscal_year: int
    programme: str
    incentive_id: str
    amount_idr: int
    key: str
    actor: str = "system"
    reason: str
    default_capacity_idr: int


class FundReserveResult(BaseModel):
    state: Literal["reserved", "waitlisted"]
    reserved_idr: int = 0
    position: int | None = None


class FundMoveInput(BaseModel):
    """A release, payment or clawback of one incentive's money; `amount_idr` None releases all that is reserved."""

    incentive_id: str
    amount_idr: int | None = None
    key: str
    actor: str = "system"
    reason: str


class FundMoveResult(BaseModel):
    amount_idr: int
    promotions: list[FundPromotion] = Field(default_factory=list)


class TreasuryPayInput(BaseModel):
    party: ExternalParty
    payment: TreasuryPayment


class AuditRequestInput(BaseModel):
    party: ExternalParty
    request: AuditRequest


class CertificateInput(BaseModel):
    incentive_id: str
    kind: CertificateKind
    programme: ProgrammeRules
    production_title: str
    applicant_company: str
    permit_id: str
    fiscal_year: int
    amount_idr: int = Field(description="Interim: what is reserved; final: what was paid")
    tranches: list[Tranche]
    issued_at: dt.datetime
    public_base_url: str


class CertificateResult(BaseModel):
    certificate: CertificateInfo
    sha256: str


class IncentiveProjectionInput(BaseModel):
    """One projection of an incentive into the read model, as of its event `seq` (idempotent, never backwards)."""

    workflow_id: str
    seq: int = Field(ge=1)
    view: IncentiveStatusView
