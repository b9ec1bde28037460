"""What the read model reports: SLA figures per agency, breaches, pages of the permit list, the officer queue."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.status import ApplicationStatus


class AgencySla(BaseModel):
    """One agency's SLA figures over the clearances requested in a window (Jakarta dates)."""

    agency: str = Field(examples=["parks"])
    requests: int = Field(description="Clearances requested (or accepted) in the window")
    decided: int = Field(description="Of those, decided (whatever the outcome)")
    met: int = Field(description="Decided by their due time")
    breached: int = Field(description="Past their due time before a decision (decided since or not)")
    open: int = Field(description="Not decided yet")
    open_at_risk: int = Field(description="Not decided yet and past the reminder (the day before due)")
    median_turnaround_business_days: float | None = Field(
        description="Median business days from acceptance to decision; null when nothing was decided"
    )
    p90_turnaround_business_days: float | None = Field(
        description="90th percentile (continuous) of the same; null when nothing was decided"
    )
    deemed_approvals: int = Field(description="Approved by silence past the final deadline")
    outage_minutes: float = Field(
        description="Minutes the agency could not be reached within the window (overlapping episodes counted once)"
    )
    outages: int = Field(default=0, description="Outages seen within the window (overlapping episodes merged)")


class BreachRow(BaseModel):
    """A clearance that went past its due time, still open or decided late."""

    application_id: str
    production_title: str
    agency: str
    revision: int
    status: str = Field(description="The clearance's status")
    due_at: dt.datetime | None
    breached_at: dt.datetime
    decided_at: dt.datetime | None
    open: bool = Field(description="Not decided yet")
    hours_overdue: float = Field(description="Hours from due time to the decision, or to now while open")
    business_days_overdue: int = Field(
        description="Jakarta business days from the due date to the decision date (or today while open)"
    )


class PermitSummary(BaseModel):
    """One line of the permit list."""

    id: str
    status: ApplicationStatus
    production_title: str
    applicant_company: str
    submitted_at: dt.datetime
    permit_number: str | None
    next_deadline: dt.datetime | None
    agencies: list[str]


class PermitPage(BaseModel):
    """A page of the permit list, newest first; pass `next_cursor` back for the next page."""

    items: list[PermitSummary]
    next_cursor: str | None = Field(description="Opaque; null on the last page")


class QueueKind(StrEnum):
    """Why an application needs a person."""

    expedite = "expedite"  # the lead time is too short; the applicant asked for an expedite
    breach = "breach"  # an agency is past its due time and has not decided
    final_deadline = "final_deadline"  # past the final deadline, silence is not consent: an officer decides
    rejection_to_confirm = "rejection_to_confirm"  # an agency rejected; an officer confirms or overrides
    agency_refused = "agency_refused"  # the agency refused the request itself (a 4xx); an officer decides
    needs_officer = "needs_officer"  # anything else a clearance flagged for an officer
    refund = "refund"  # a payment the application could not take: the commission pays it back (open or closed)


class QueueItem(BaseModel):
    """One thing in the officer queue: an application, and the clearance (if any) that needs a person."""

    application_id: str
    production_title: str
    applicant_company: str
    organisation_id: str | None = Field(description="The applicant organisation that owns the application")
    application_status: ApplicationStatus
    kind: QueueKind
    agency: str | None = Field(description="The clearance's agency; null for an expedite request or a refund")
    revision: int | None = Field(description="The clearance's revision; null for an expedite request or a refund")
    due_at: dt.datetime = Field(
        description="The deadline the queue is ordered by: the due time of a breach, the final deadline, the "
        "clearance's due time, the first shoot day (expedite requests and clearances without one), or when a "
        "refund became due"
    )
    since: dt.datetime | None = Field(
        description="When it began needing a person, where known (breach, final deadline, decision, request)"
    )
    overdue_hours: float = Field(description="Hours from due_at to now; negative while the deadline is ahead")
    reason: str = Field(description="What happened, in words")
    payment_id: str | None = Field(default=None, description="The payment to refund; null but for a refund")
    amount_idr: int | None = Field(default=None, description="The amount to refund; null but for a refund")
