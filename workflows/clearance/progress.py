"""Where a clearance stands, and what its clock and its polls say next: pure functions of its progress."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from temporalio.exceptions import ApplicationError

from schemas.agency_api import AgencyRequestState, AgencyRequestStatus
from schemas.catalog import Agency, DeliveryMode
from schemas.contracts import RETRY_AFTER_ASKED, ClearanceProgress
from schemas.decisions import AgencyDecision, Outcome
from schemas.status import ClearanceStatus, ClearanceView, OutageEpisode
from workflows.policies import OUTAGE_FIRST_BACKOFF, OUTAGE_MAX_BACKOFF


class Step(StrEnum):
    """What the clearance does next; derived from its progress, never stored."""

    submit = "submit"  # the agency has not accepted the request: send it (again, after an outage)
    refused = "refused"  # the agency refused the request (4xx): an officer decides
    decision = "decision"  # accepted: wait for the agency's decision on the SLA clock
    answer = "answer"  # an information request waits for the applicant's answer (the SLA is paused)
    done = "done"  # decided, withdrawn or lapsed


def step(p: ClearanceProgress) -> Step:
    v = p.view
    if v.status.is_final or v.lapsed_at is not None:
        return Step.done
    if v.status == ClearanceStatus.information_required:
        return Step.answer
    if v.accepted_at is None:
        return Step.refused if p.refused else Step.submit
    return Step.decision


@dataclass(frozen=True)
class ClockEvents:
    """What the time says for an open clearance: the reminder is due, the SLA is breached, silence has run out."""

    remind: bool = False
    breach: bool = False
    silence: bool = False


def clock_events(p: ClearanceProgress, now: dt.datetime) -> ClockEvents:
    d = p.deadlines
    if d is None:
        return ClockEvents()
    return ClockEvents(
        remind=not p.reminded and d.reminder_at is not None and now >= d.reminder_at,
        breach=not p.breach_escalated and now > d.due_at,
        silence=not p.silence_handled and now >= d.final_at,
    )


def next_wake(p: ClearanceProgress) -> dt.datetime | None:
    """The next moment the clearance must act on its own: a reminder, a breach, the final deadline or a poll."""
    d = p.deadlines
    moments = [p.next_poll_at]
    if d is not None:
        if d.reminder_at is not None and not p.reminded:
            moments.append(d.reminder_at)
        if not p.breach_escalated:
            moments.append(d.due_at + dt.timedelta(seconds=1))  # breached *after* due_at
        if not p.silence_handled:
            moments.append(d.final_at)
    found = [m for m in moments if m is not None]
    return min(found) if found else None


def failed_attempt(p: ClearanceProgress, now: dt.datetime, retry_after: dt.timedelta | None) -> dt.timedelta:
    """Count a failed submission in the current outage episode (a new one after a recovery); return the wait before
    the next attempt: doubling from the first backoff to the longest, or the agency's Retry-After when longer, but
    never longer than the longest backoff (an agency asking for a year is asked again in ten minutes)."""
    v = p.view
    v.failed_attempts += 1
    if not v.outages or v.outages[-1].recovered_at is not None:
        v.outages.append(OutageEpisode(started_at=now))
    v.outages[-1].failed_attempts += 1
    backoff = p.retry_delay or OUTAGE_FIRST_BACKOFF
    p.retry_delay = min(backoff * 2, OUTAGE_MAX_BACKOFF)
    return max(backoff, min(retry_after or dt.timedelta(0), OUTAGE_MAX_BACKOFF))


def asked_retry_after(error: BaseException | None) -> dt.timedelta | None:
    """The Retry-After the agency asked for, from an outage's failure: its details (`RETRY_AFTER_ASKED`, set when the
    activity capped it), else its next retry delay; None when it asked nothing."""
    if not isinstance(error, ApplicationError):
        return None
    for detail in error.details[:1]:
        seconds = detail.get(RETRY_AFTER_ASKED) if isinstance(detail, dict) else None
        if isinstance(seconds, int | float) and not isinstance(seconds, bool):
            return dt.timedelta(seconds=seconds)
    return error.next_retry_delay


def retry_after_to_tell(p: ClearanceProgress, asked: dt.timedelta | None) -> bool:
    """Whether the officer must hear that the agency asked to wait longer than we do: the first time only."""
    if asked is None or asked <= OUTAGE_MAX_BACKOFF or p.retry_after_told:
        return False
    p.retry_after_told = True
    return True


def recovered(p: ClearanceProgress, now: dt.datetime) -> None:
    """The agency answered: the open outage episode ends now, and the next outage starts from the first backoff."""
    if p.view.outages and p.view.outages[-1].recovered_at is None:
        p.view.outages[-1].recovered_at = now
    p.retry_delay = None


def poll_delay(agency: Agency, previous: dt.timedelta | None) -> dt.timedelta:
    """The wait before the next status poll: a poll-mode agency is asked soon after acceptance, a webhook-mode one
    only when its webhook is overdue (a lost webhook); then doubling up to the agency's poll interval."""
    longest = dt.timedelta(minutes=agency.poll_interval_minutes)
    if previous is None:
        if agency.mode == DeliveryMode.poll:
            return min(dt.timedelta(seconds=agency.first_poll_seconds), longest)
        return dt.timedelta(minutes=agency.reconcile_after_minutes)
    return min(previous * 2, longest)


def polled_decision(status: AgencyRequestStatus, request_key: str, now: dt.datetime) -> AgencyDecision | None:
    """The decision a status poll found, as the agency's webhook would have brought it; None while undecided.

    It carries the agency's decision_id, so a decision that also arrives by webhook counts once.
    """
    if status.status in (AgencyRequestState.received, AgencyRequestState.withdrawn):
        return None
    decided = status.decided_at.isoformat() if status.decided_at else ""
    return AgencyDecision(
        decision_id=status.decision_id or f"poll:{status.status.value}:{decided}",
        reference=status.reference,
        request_key=request_key,
        status=Outcome(status.status.value),
        conditions=status.conditions,
        reason=status.reason,
        decided_at=status.decided_at or now,
    )


def names_our_reference(p: ClearanceProgress, decision: AgencyDecision) -> bool:
    """Whether a decision names this request's reference at the agency (unknown yet: it may, until we know)."""
    return p.view.reference is None or decision.reference == p.view.reference


def worth_telling(published: ClearanceView | None, view: ClearanceView) -> bool:
    """Whether the parent must hear of `view`: anything changed but the count of failed attempts in an outage,
    so a days-long outage sends the parent one view when it starts and one when it ends."""
    if published is None:
        return True
    return _without_attempts(published) != _without_attempts(view)


def _without_attempts(view: ClearanceView) -> ClearanceView:
    return view.model_copy(update={
        "failed_attempts": 0,
        "outages": [o.model_copy(update={"failed_attempts": 0}) for o in view.outages],
    })
