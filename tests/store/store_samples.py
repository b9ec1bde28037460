"""A realistic PermitStatusView at three moments of one application, for the read-model tests."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from schemas.status import (
    ApplicationStatus,
    ClearanceStatus,
    ClearanceView,
    FeeLine,
    Fees,
    LocationView,
    OutageEpisode,
    PermitInfo,
    PermitStatusView,
    ShootDayView,
    SlaState,
    TimelineEvent,
)

JAKARTA = ZoneInfo("Asia/Jakarta")
APPLICATION_ID = "PRM-S6BMD76QI5RA"
WORKFLOW_ID = f"permit-{APPLICATION_ID}"
PERMIT_NUMBER = "JFC-2025-S6BMD76QI5RA-R"
ORGANISATION_ID = "ORG-LENSA001"


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in March 2025, Jakarta time (so the store has to normalise time zones)."""
    return dt.datetime(2025, 3, day, hour, minute, 15, 123456, tzinfo=JAKARTA)


def _locations() -> list[LocationView]:
    day = ShootDayView(date=dt.date(2025, 4, 14), start=dt.time(6), end=dt.time(18))
    return [
        LocationView(name="Kota Tua Fatahillah Square", kind="heritage", address="Jl. Taman Fatahillah 1",
                     city="Jakarta Barat", days=[day]),
        LocationView(name="Jl. MH Thamrin", kind="street", address="Jl. MH Thamrin", city="Jakarta Pusat", days=[day]),
    ]


def _timeline(n: int) -> list[TimelineEvent]:
    events = [
        TimelineEvent(at=at(3, 9), event="submitted"),
        TimelineEvent(at=at(3, 9, 1), event="planned", detail="rule set 2025.1; agencies: heritage, police"),
        TimelineEvent(at=at(3, 9, 2), event="in_review"),
        TimelineEvent(at=at(3, 9, 3), event="clearance_started", detail="heritage"),
        TimelineEvent(at=at(3, 9, 4), event="clearance_started", detail="police"),
        TimelineEvent(at=at(6, 11), event="information_answered", actor="applicant:ACC-SARI",
                      detail="heritage: request R-1 (as officer Budi asked by phone)"),
        TimelineEvent(at=at(7, 14), event="officer_decision", detail="police: approved", actor="officer:ACC-ANI"),
        TimelineEvent(at=at(11, 10), event="awaiting_payment"),
        TimelineEvent(at=at(12, 8), event="paid", detail="payment PAY-1: 3000000 IDR"),
        TimelineEvent(at=at(12, 8, 1), event="issued", detail=PERMIT_NUMBER),
    ]
    return events[:n]


def view_in_review() -> PermitStatusView:
    """Early: clearances open, heritage's agency has been down once, no fees paid, no permit."""
    return PermitStatusView(
        id=APPLICATION_ID,
        status=ApplicationStatus.in_review,
        organisation_id=ORGANISATION_ID,
        rule_set="2025.1",
        submitted_at=at(3, 9),
        production_title="Gadis Kretek: Musim Kedua",
        applicant_company="PT Lensa Nusantara",
        locations=_locations(),
        clearances=[
            ClearanceView(
                agency="heritage", status=ClearanceStatus.submitted, reference=f"{APPLICATION_ID}:heritage:r1",
                requested_at=at(3, 9, 3), accepted_at=at(4, 11), due_at=at(10, 17), final_deadline_at=at(14, 17),
                sla=SlaState.on_track, failed_attempts=3,
                outages=[OutageEpisode(started_at=at(3, 9, 3), recovered_at=at(4, 11), failed_attempts=3)],
            ),
            ClearanceView(
                agency="police", status=ClearanceStatus.submitted, reference=f"{APPLICATION_ID}:police:r1",
                requested_at=at(3, 9, 4), accepted_at=at(3, 9, 5), due_at=at(6, 17), sla=SlaState.on_track,
                depends_on=[], needs_officer=True, reason="the answer could not be delivered to the agency",
            ),
        ],
        fees=Fees(
            schedule_version="2025-01",
            total_idr=3_000_000,
            lines=[FeeLine(description="Heritage site, per day", location="Kota Tua Fatahillah Square", days=1,
                           unit_idr=2_500_000, amount_idr=2_500_000),
                   FeeLine(description="Street, per day", location="Jl. MH Thamrin", days=1, unit_idr=500_000,
                           amount_idr=500_000)],
        ),
        timeline=_timeline(5),
        next_deadline=at(6, 17),
        earliest_feasible_start=dt.date(2025, 3, 24),
    )


def view_issued() -> PermitStatusView:
    """Later: both clearances decided (police by an officer, after a breach), a second outage, fees paid, permit issued."""
    early = view_in_review()
    heritage, police = early.clearances
    heritage = heritage.model_copy(update={
        "status": ClearanceStatus.approved_with_conditions, "decided_at": at(11, 9), "sla": SlaState.met,
        "conditions": ["No drones over the museum", "Crew of at most 40"], "reminded_at": at(9, 9),
        "outages": [*heritage.outages, OutageEpisode(started_at=at(8, 10), recovered_at=at(8, 12), failed_attempts=2)],
    })
    police = police.model_copy(update={
        "status": ClearanceStatus.approved, "decided_at": at(7, 14), "sla": SlaState.breached,
        "breached_at": at(6, 17), "reminded_at": at(5, 17), "reason": "decided by officer Ani Susanti",
        "needs_officer": False,
    })
    return early.model_copy(update={
        "status": ApplicationStatus.issued,
        "revision": 2,
        "clearances": [heritage, police],
        "fees": early.fees.model_copy(update={"paid_at": at(12, 8), "payment_id": "PAY-1"}),
        "permit": PermitInfo(number=PERMIT_NUMBER, issued_at=at(12, 8, 1),
                             document_url="http://localhost:8080/v1/permits/x/document",
                             verify_url="http://localhost:8080/verify/x"),
        "timeline": _timeline(10),
        "next_deadline": None,
    })
