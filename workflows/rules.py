"""SLA rules both workflows apply: pure functions of their inputs, so the workflows stay replayable.

Nothing here reads a clock, a calendar or the network; deadlines come from activities.
"""

from __future__ import annotations

import datetime as dt

from schemas.contracts import SlaDeadlines
from schemas.status import ClearanceStatus, ClearanceView, SlaState


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


def decided(view: ClearanceView, status: ClearanceStatus, decided_at: dt.datetime, now: dt.datetime, *, conditions: list[str],
            reason: str | None, decided_by: str | None) -> ClearanceView:
    """`view` with a final outcome: its SLA judged at `decided_at`, a breach kept or recorded now."""
    new = view.model_copy(update={
        "status": status,
        "decided_at": decided_at,
        "conditions": list(conditions),
        "reason": reason,
        "decided_by": decided_by,
        "needs_officer": False,
        "rejection_to_confirm": False,
        "information_request_id": None,
        "information_deadline_at": None,
        "sla": sla_at_decision(decided_at, view.due_at),
    })
    new.breached_at = breached_at(new, now)
    return new
