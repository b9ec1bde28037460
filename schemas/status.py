"""What anyone can read about an application: statuses, clearances, fees, permit, timeline."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.application import Location


class ApplicationStatus(StrEnum):
    submitted = "submitted"
    intake = "intake"
    awaiting_information = "awaiting_information"
    in_review = "in_review"
    officer_review = "officer_review"
    awaiting_payment = "awaiting_payment"
    issued = "issued"
    amended = "amended"
    completed = "completed"
    rejected = "rejected"
    withdrawn = "withdrawn"
    lapsed = "lapsed"


class ClearanceStatus(StrEnum):
    waiting_on_dependency = "waiting_on_dependency"
    submitting = "submitting"
    agency_unreachable = "agency_unreachable"
    submitted = "submitted"
    approved = "approved"
    approved_with_conditions = "approved_with_conditions"
    rejected = "rejected"
    information_required = "information_required"
    deemed_approved = "deemed_approved"
    withdrawn = "withdrawn"

    @property
    def is_final(self) -> bool:
        return self in FINAL_CLEARANCE_STATUSES

    @property
    def is_approval(self) -> bool:
        return self in APPROVALS


FINAL_CLEARANCE_STATUSES = frozenset(
    {
        ClearanceStatus.approved,
        ClearanceStatus.approved_with_conditions,
        ClearanceStatus.rejected,
        ClearanceStatus.deemed_approved,
        ClearanceStatus.withdrawn,
    }
)
APPROVALS = frozenset(
    {ClearanceStatus.approved, ClearanceStatus.approved_with_conditions, ClearanceStatus.deemed_approved}
)


class SlaState(StrEnum):
    on_track = "on_track"
    at_risk = "at_risk"
    breached = "breached"
    met = "met"
    paused = "paused"


class OutageEpisode(BaseModel):
    """One stretch of time an agency could not be reached for this clearance."""

    started_at: dt.datetime
    recovered_at: dt.datetime | None = None
    failed_attempts: int = 0


class ClearanceView(BaseModel):
    agency: str
    revision: int = 1
    status: ClearanceStatus
    reference: str | None = None
    requested_at: dt.datetime | None = None
    accepted_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    final_deadline_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    sla: SlaState | None = None
    conditions: list[str] = Field(default_factory=list)
    reason: str | None = None
    depends_on: list[str] = Field(default_factory=list)
    failed_attempts: int = 0
    information_request_id: str | None = None
    information_deadline_at: dt.datetime | None = Field(
        default=None, description="When the open information request lapses if the applicant has not answered"
    )
    needs_officer: bool = False
    rejection_to_confirm: bool = Field(
        default=False, description="The agency rejected: an officer confirms the rejection or overrides it"
    )
    decided_by: str | None = Field(
        default=None, description="The officer who decided in the agency's place (`officer:<account>`); None: the agency"
    )
    lapsed_at: dt.datetime | None = Field(
        default=None, description="When the open information request lapsed unanswered (the application lapses)"
    )
    reminded_at: dt.datetime | None = None
    breached_at: dt.datetime | None = None
    outages: list[OutageEpisode] = Field(default_factory=list)


class FeeLine(BaseModel):
    description: str
    location: str
    days: int
    unit_idr: int
    reduction: float = 0.0
    amount_idr: int


class Fees(BaseModel):
    schedule_version: str
    total_idr: int
    lines: list[FeeLine]
    paid_at: dt.datetime | None = None
    payment_id: str | None = None


class PaymentOutcome(StrEnum):
    """What became of a payment the provider reported."""

    pending = "pending"  # received; waits until the fee it pays is due
    matched = "matched"  # it settled what was due
    refund = "refund"  # not taken: the commission pays it back (`refund_reason` says why)


class RefundReason(StrEnum):
    wrong_amount = "wrong_amount"  # not exactly what was due
    already_paid = "already_paid"  # nothing was due: a second payment, or the fees were paid already
    application_closed = "application_closed"  # the application had ended or was closing
    other_application = "other_application"  # it names another application


class PaymentView(BaseModel):
    """A payment the payment provider reported for the application, and what became of it."""

    payment_id: str
    permit_id: str = Field(description="What the payment named: the application id or its permit number")
    amount_idr: int
    paid_at: dt.datetime
    received_at: dt.datetime = Field(description="When the application heard of it")
    outcome: PaymentOutcome
    refund_reason: RefundReason | None = None
    detail: str = Field(default="", description="What became of it, in words")
    decided_at: dt.datetime | None = Field(default=None, description="When it was matched or became a refund")


class PermitInfo(BaseModel):
    number: str
    issued_at: dt.datetime
    document_url: str
    verify_url: str


class TimelineEvent(BaseModel):
    at: dt.datetime
    event: str
    detail: str = ""
    actor: str | None = Field(
        default=None, description="Who acted (`officer:<account>`, `applicant:<account>`); None: the system or an agency"
    )


class ShootDayView(BaseModel):
    date: dt.date
    start: dt.time
    end: dt.time


class LocationView(BaseModel):
    """A location as anyone may see it (on the status page, the verify page and in search)."""

    name: str
    kind: str
    address: str
    city: str
    days: list[ShootDayView]


def location_views(locations: list[Location]) -> list[LocationView]:
    """The public view of an application's locations."""
    return [
        LocationView(
            name=loc.name, kind=loc.kind.value, address=loc.address, city=loc.city,
            days=[ShootDayView(date=d.date, start=d.start, end=d.end) for d in loc.days],
        )
        for loc in locations
    ]


class IssuedRevision(BaseModel):
    """What the last issued permit document says: the revision that was cleared and paid for.

    After an amendment the application's locations and clearances are the new revision's, still being cleared;
    the permit stays valid as issued, and the public verification page shows this.
    """

    revision: int
    issued_at: dt.datetime
    locations: list[LocationView] = Field(default_factory=list)
    clearances: list[ClearanceView] = Field(default_factory=list)
    fees: Fees | None = None


class PermitStatusView(BaseModel):
    """The answer of `GET /v1/permits/{id}` and of the workflow's status query."""

    id: str
    status: ApplicationStatus
    organisation_id: str | None = None
    revision: int = Field(default=1, description="1, then one more for each accepted amendment")
    awaiting_expedite: bool = False
    rule_set: str | None = None
    submitted_at: dt.datetime
    production_title: str
    applicant_company: str
    locations: list[LocationView] = Field(default_factory=list)
    clearances: list[ClearanceView] = Field(default_factory=list)
    fees: Fees | None = None
    payments: list[PaymentView] = Field(
        default_factory=list, description="Every payment reported for the application, in order, with its outcome"
    )
    permit: PermitInfo | None = None
    issued: IssuedRevision | None = Field(
        default=None, description="The revision the permit was last issued for (None until it is issued)"
    )
    timeline: list[TimelineEvent] = Field(default_factory=list)
    next_deadline: dt.datetime | None = None
    earliest_feasible_start: dt.date | None = None

    @property
    def amendment_pending(self) -> bool:
        """An issued permit was amended and the amendment is not issued yet (cleared and paid for)."""
        return self.issued is not None and self.revision > self.issued.revision
