"""What the clearances say about the application while they run: pure functions of the clearance views."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from domain.jakarta import JAKARTA
from schemas.status import ApplicationStatus, ClearanceStatus, ClearanceView, SlaState


@dataclass(frozen=True)
class Verdict:
    """Where the review stands: `status` set when the application ends (with `reason`), `approved` when it goes on."""

    approved: bool = False
    status: ApplicationStatus | None = None
    reason: str = ""
    to_flag: list[str] = field(default_factory=list)  # agencies whose withdrawal outside the application needs an officer


def verdict(views: list[ClearanceView]) -> Verdict:
    """A final rejection rejects, a lapsed information request lapses, all approvals approve; else keep waiting."""
    rejected = [v for v in views if v.status == ClearanceStatus.rejected and not v.rejection_to_confirm]
    if rejected:
        return Verdict(status=ApplicationStatus.rejected,
                       reason="; ".join(f"{v.agency}: {v.reason or 'rejected'}" for v in rejected))
    lapsed = [v for v in views if v.lapsed_at is not None]
    if lapsed:
        return Verdict(status=ApplicationStatus.lapsed, reason="; ".join(f"{v.agency}: {v.reason}" for v in lapsed))
    if all(v.status.is_approval for v in views):  # no agency routed: nothing to wait for
        return Verdict(approved=True)
    # Only a cancellation of one clearance from outside the application withdraws it here: an officer decides.
    return Verdict(to_flag=[v.agency for v in views if v.status == ClearanceStatus.withdrawn and not v.needs_officer])


def review_status(views: list[ClearanceView]) -> ApplicationStatus:
    """The application's status while its clearances run."""
    if any(v.status == ClearanceStatus.information_required for v in views):
        return ApplicationStatus.awaiting_information
    if any(v.needs_officer and (not v.status.is_final or v.rejection_to_confirm) for v in views):
        return ApplicationStatus.officer_review  # an open clearance an officer decides, or a rejection to confirm
    return ApplicationStatus.in_review


def next_deadline(views: list[ClearanceView], *others: dt.datetime | None) -> dt.datetime | None:
    """The earliest open deadline: due dates of open clearances, information and payment deadlines."""
    found: list[dt.datetime] = [o for o in others if o is not None]
    for v in views:
        if v.status.is_final or v.lapsed_at is not None:
            continue
        if v.status == ClearanceStatus.information_required:
            if v.information_deadline_at is not None:
                found.append(v.information_deadline_at)
        elif v.due_at is not None:
            found.append(v.due_at)
    return min(found) if found else None


def view_change_events(old: ClearanceView | None, new: ClearanceView) -> list[tuple[str, str, str | None]]:
    """Timeline events (event, detail, actor) for what changed between two views of one clearance."""
    events: list[tuple[str, str, str | None]] = []
    who = new.agency
    if old is None or old.status != new.status:
        detail = who if not new.reason else f"{who}: {new.reason}"
        events.append((f"clearance_{new.status.value}", detail, new.decided_by if new.status.is_final else None))
    if new.sla in (SlaState.at_risk, SlaState.breached) and (old is None or old.sla != new.sla):
        events.append((f"sla_{new.sla.value}", who, None))
    if new.rejection_to_confirm and (old is None or not old.rejection_to_confirm):
        events.append(("rejection_to_confirm", f"{who}: {new.reason or 'rejected'}", None))
    elif new.needs_officer and (old is None or not old.needs_officer):
        events.append(("officer_needed", f"{who}: {new.reason or 'an officer decides'}", None))
    return events


def day_start(day: dt.date) -> dt.datetime:
    """00:00 Asia/Jakarta on `day`: when photography begins on a first shoot day."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=JAKARTA)


def day_after_last_shoot(last_shoot_date: dt.date) -> dt.datetime:
    """00:00 Asia/Jakarta on the day after the last shoot day: when an issued permit is completed."""
    return dt.datetime.combine(last_shoot_date + dt.timedelta(days=1), dt.time(0, 0), tzinfo=JAKARTA)
