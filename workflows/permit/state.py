"""What the permit workflow knows: one state model, and the phase of the lifecycle it is in (design §3)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.contracts import ApplicationPlan, PermitWorkflowInput
from schemas.decisions import CancelRequest, OfficerDecision, Payment
from schemas.status import ApplicationStatus, Fees, IssuedRevision, PaymentView, PermitInfo, TimelineEvent

ENDED = frozenset({ApplicationStatus.rejected, ApplicationStatus.withdrawn, ApplicationStatus.lapsed,
                   ApplicationStatus.completed})


class Phase(StrEnum):
    """The steps of an application; the workflow runs one step at a time, and each returns the next."""

    intake = "intake"  # plan: route, lead time, fees
    expedite = "expedite"  # the lead time is too short: an officer grants or refuses the expedite request
    review = "review"  # the clearances run, until every agency approved (or one rejection is final)
    payment = "payment"  # the fee (or an amendment's difference) is due
    issue = "issue"  # the permit document is made
    issued = "issued"  # valid until the day after the last shoot day; an amendment goes back to review
    closing = "closing"  # ends rejected, withdrawn or lapsed: open requests are withdrawn at their agencies
    done = "done"


class Closing(BaseModel):
    """How the application ends, once it is closing."""

    status: ApplicationStatus
    reason: str


class PermitState(BaseModel):
    """Everything the permit workflow knows but its clearance workflows (see `Clearances`)."""

    input: PermitWorkflowInput
    phase: Phase = Phase.intake
    status: ApplicationStatus = ApplicationStatus.submitted
    plan: ApplicationPlan | None = None
    revision: int = Field(default=1, description="1, then one more for each accepted amendment")
    fees: Fees | None = None
    paid_idr: int = Field(default=0, description="What the applicant has paid so far")
    permit: PermitInfo | None = None
    issued: IssuedRevision | None = Field(default=None, description="What the permit was last issued for")
    timeline: list[TimelineEvent] = Field(default_factory=list)
    expedite: OfficerDecision | None = Field(default=None, description="The officer's answer to an expedite request")
    cancel: CancelRequest | None = None
    amending: bool = Field(default=False, description="An amendment is being planned")
    back_to_review: bool = Field(default=False, description="An amendment or an override changed the clearances")
    payment_deadline: dt.datetime | None = None
    payments: list[Payment] = Field(default_factory=list, description="Payments received, not yet matched")
    seen_payment_ids: list[str] = Field(default_factory=list)
    received: list[PaymentView] = Field(default_factory=list, description="Every payment received, with its outcome")
    closing: Closing | None = None
    version: int = Field(default=0, description="Bumped by every change of the status view (the projection's seq)")

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def application_id(self) -> str:
        return self.input.application_id
