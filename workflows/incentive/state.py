"""What the incentive workflow knows: one state model, and the phase of its lifecycle (design §4)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.incentive_api import AuditDecision
from schemas.incentive_contracts import (
    CallResult,
    ClaimSubmission,
    ClawbackOrder,
    FundPromotion,
    IncentiveWorkflowInput,
    PermitEvent,
    Withdrawal,
)
from schemas.incentives import (
    AuditView,
    CertificateInfo,
    Claim,
    CommitteeView,
    IncentiveStatus,
    RuleCheck,
    Tranche,
)
from schemas.status import TimelineEvent


class Phase(StrEnum):
    """The steps of an incentive; the workflow runs one at a time, and each returns the next."""

    assess = "assess"  # eligibility and the estimate
    call = "call"  # first-feature fund: the call ranks the applications at its deadline and awards grants
    reserve = "reserve"  # money from the fiscal year's fund, or a place on the waiting list
    waiting = "waiting"  # on the waiting list until a release makes room (or the reservation date passes)
    interim = "interim"  # the interim certificate
    photography = "photography"  # until the linked permit's photography begins; then the first tranche
    claim = "claim"  # the audited claim, the short report, or milestone reports
    audit = "audit"  # the independent audit firm audits the claim
    committee = "committee"  # two different officers approve (or one rejection returns it, a second ends it)
    settle = "settle"  # the final tranche, a clawback of an overpayment, and the release of the rest
    final = "final"  # the final certificate
    clawback_window = "clawback_window"  # an officer may claw back, with a reason, until the window closes
    closing = "closing"  # ends (not completed): what is still reserved is released
    done = "done"


class Closing(BaseModel):
    status: IncentiveStatus
    reason: str


class IncentiveState(BaseModel):
    """Everything the incentive workflow knows."""

    input: IncentiveWorkflowInput
    phase: Phase = Phase.assess
    status: IncentiveStatus = IncentiveStatus.submitted
    eligibility: list[RuleCheck] = Field(default_factory=list)
    rate: float | None = None
    estimated_idr: int = 0
    reserved_idr: int = Field(default=0, description="Reserved for it in the fund, as the ledger said")
    paid_idr: int = 0
    clawed_back_idr: int = 0
    holds_money: bool = Field(default=False, description="Compensation registered: closing releases what it holds")
    tranches: list[Tranche] = Field(default_factory=list)
    claim: Claim | None = None
    claims: list[ClaimSubmission] = Field(default_factory=list, description="Claims and reports not yet taken")
    audit: AuditView | None = None
    audit_round: int = 0
    audit_decisions: list[AuditDecision] = Field(default_factory=list)
    seen_decision_ids: list[str] = Field(default_factory=list)
    committee: CommitteeView = Field(default_factory=CommitteeView)
    certificates: list[CertificateInfo] = Field(default_factory=list)
    promotion: FundPromotion | None = None
    call_result: CallResult | None = None
    photography_started_at: dt.datetime | None = None
    photography_ended_at: dt.datetime | None = None
    shoot_dates: list[dt.date] = Field(default_factory=list, description="The permit's, as it last told")
    permit_closed: PermitEvent | None = None
    withdrawal: Withdrawal | None = None
    clawbacks: list[ClawbackOrder] = Field(default_factory=list, description="Clawbacks officers ordered, in order")
    clawbacks_pending: int = 0
    deadline: dt.datetime | None = Field(default=None, description="The deadline of the current phase, if any")
    closing: Closing | None = None
    timeline: list[TimelineEvent] = Field(default_factory=list)
    version: int = 0

    @property
    def incentive_id(self) -> str:
        return self.input.incentive_id

    @property
    def ended(self) -> bool:
        return self.status.is_final
