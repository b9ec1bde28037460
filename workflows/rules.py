"""Deterministic helpers of the permit and clearance workflows: pure functions of their inputs.

Nothing here reads a clock, a calendar or the network, so the workflows stay replayable.
"""

from __future__ import annotations

import datetime as dt

from schemas.agency_api import ClearanceRequest
from schemas.application import PermitApplication
from schemas.catalog import AgencyCode
from schemas.contracts import PermitWorkflowInput, RoutedAgency, SlaDeadlines
from schemas.status import ApplicationStatus, ClearanceStatus, ClearanceView, SlaState

# Asia/Jakarta has kept UTC+7 without daylight saving since 1964: a fixed offset keeps the
# workflow sandbox away from tz database files.
JAKARTA = dt.timezone(dt.timedelta(hours=7), "WIB")

# Agencies that clear the foreign crew (design §2).
FOREIGN_CREW_AGENCIES = frozenset({AgencyCode.police.value, AgencyCode.culture_ministry.value})


def build_clearance_request(inp: PermitWorkflowInput, routed: RoutedAgency, revision: int, request_key: str) -> ClearanceRequest:
    """What we send to one agency: only its locations, the foreign crew only where that agency clears it."""
    app = inp.application
    code = routed.agency.code.value
    return ClearanceRequest(
        request_key=request_key,
        application_id=inp.application_id,
        agency=code,
        revision=revision,
        applicant_company=app.applicant.company,
        applicant_contact=app.applicant.contact_name,
        production=app.production,
        locations=[app.locations[i] for i in routed.location_indexes],
        foreign_crew=list(app.foreign_crew) if code in FOREIGN_CREW_AGENCIES else [],
        callback_url=f"{inp.callback_base_url.rstrip('/')}/v1/agencies/{code}/decisions",
    )


def agency_inputs(inp: PermitWorkflowInput, routed: RoutedAgency) -> ClearanceRequest:
    """What an agency sees of the application, without the revision-specific key: equal inputs need no new request."""
    return build_clearance_request(inp, routed, 0, "")


def amendment_problems(old: PermitApplication, new: PermitApplication, today: dt.date) -> list[str]:
    """Why `new` cannot replace `old` (field path: problem); empty when the amendment is acceptable.

    A date before `today` (Jakarta) is refused unless the same location already had it (a day already shot).
    """
    problems: list[str] = []
    if new.applicant.company != old.applicant.company:
        problems.append(
            f"applicant.company: {new.applicant.company!r} differs from {old.applicant.company!r}; "
            "an amendment cannot move the application to another company: submit a new application"
        )
    if new.applicant.country != old.applicant.country:
        problems.append(f"applicant.country: {new.applicant.country!r} differs from {old.applicant.country!r}")
    had = {(loc.name, day.date) for loc in old.locations for day in loc.days}
    for i, loc in enumerate(new.locations):
        for j, day in enumerate(loc.days):
            if day.date < today and (loc.name, day.date) not in had:
                problems.append(
                    f"locations[{i}].days[{j}].date: {day.date} is before today ({today}, Asia/Jakarta); "
                    "choose a date from today on"
                )
    if not problems and new == old:
        problems.append("application: the amendment changes nothing; send the changed application")
    return problems


def jakarta_today(now: dt.datetime) -> dt.date:
    return now.astimezone(JAKARTA).date()


def sla_by_time(deadlines: SlaDeadlines, now: dt.datetime) -> SlaState:
    """The SLA of an open clearance at `now`: breached after due_at, at risk from reminder_at."""
    if now > deadlines.due_at:
        return SlaState.breached
    if deadlines.reminder_at is not None and now >= deadlines.reminder_at:
        return SlaState.at_risk
    return SlaState.on_track


def sla_at_decision(decided_at: dt.datetime, due_at: dt.datetime | None) -> SlaState | None:
    """Met when decided by due_at, else breached; None when the SLA clock never started."""
    if due_at is None:
        return None
    return SlaState.met if decided_at <= due_at else SlaState.breached


def breached_at(view: ClearanceView, now: dt.datetime) -> dt.datetime | None:
    """When the breach of `view` was recorded: kept if already recorded, else `now` once its SLA reads breached."""
    if view.breached_at is not None or view.sla != SlaState.breached:
        return view.breached_at
    return now


def is_lapsed(view: ClearanceView) -> bool:
    """A clearance that ended while still waiting on the applicant (its workflow closed in that state)."""
    return view.status == ClearanceStatus.information_required and (view.reason or "").startswith("lapsed")


def review_status(views: list[ClearanceView]) -> ApplicationStatus:
    """The application's status while its clearances run."""
    if any(v.status == ClearanceStatus.information_required for v in views):
        return ApplicationStatus.awaiting_information
    if any(v.needs_officer and (not v.status.is_final or v.status == ClearanceStatus.rejected) for v in views):
        return ApplicationStatus.officer_review  # an open clearance an officer decides, or a rejection to confirm
    return ApplicationStatus.in_review


def dependencies_met(view: ClearanceView, views: list[ClearanceView]) -> bool:
    """Whether every agency `view` depends on has approved (approved, with conditions or deemed)."""
    by_code = {v.agency: v for v in views}
    return all(dep in by_code and by_code[dep].status.is_approval for dep in view.depends_on)


def next_deadline(views: list[ClearanceView], *others: dt.datetime | None) -> dt.datetime | None:
    """The earliest open deadline: due dates of open clearances, information and payment deadlines."""
    found: list[dt.datetime] = [o for o in others if o is not None]
    for v in views:
        if v.status.is_final:
            continue
        if v.status == ClearanceStatus.information_required:
            if v.information_deadline_at is not None and not is_lapsed(v):
                found.append(v.information_deadline_at)
        elif v.due_at is not None:
            found.append(v.due_at)
    return min(found) if found else None


def view_change_events(old: ClearanceView | None, new: ClearanceView) -> list[tuple[str, str]]:
    """Timeline events (event, detail) for what changed between two views of one clearance."""
    events: list[tuple[str, str]] = []
    who = new.agency
    if old is None or old.status != new.status:
        detail = who if not new.reason else f"{who}: {new.reason}"
        events.append((f"clearance_{new.status.value}", detail))
    if new.sla in (SlaState.at_risk, SlaState.breached) and (old is None or old.sla != new.sla):
        events.append((f"sla_{new.sla.value}", who))
    if new.needs_officer and (old is None or not old.needs_officer):
        events.append(("officer_needed", f"{who}: {new.reason or 'an officer decides'}"))
    return events


def day_after_last_shoot(last_shoot_date: dt.date) -> dt.datetime:
    """00:00 Asia/Jakarta on the day after the last shoot day: when an issued permit is completed."""
    return dt.datetime.combine(last_shoot_date + dt.timedelta(days=1), dt.time(0, 0), tzinfo=JAKARTA)
