"""Officer decisions on an application (design §3): which are allowed, and what each does to a clearance.

Pure functions: the permit workflow's `decide` validator refuses with `problems(...)`, and its
handler applies `overridden`, `confirmed` or `decided_here`.
"""

from __future__ import annotations

import datetime as dt

from schemas.decisions import OfficerDecision, OfficerDecisionKind, Outcome
from schemas.problems import Problem
from schemas.status import ClearanceStatus, ClearanceView
from workflows import rules

OVERRIDABLE = frozenset({ClearanceStatus.approved, ClearanceStatus.approved_with_conditions, ClearanceStatus.rejected,
                         ClearanceStatus.deemed_approved})


def problems(decision: OfficerDecision, views: list[ClearanceView], *, application_id: str,
             expedite_waiting: bool) -> list[Problem]:
    """Why `decision` cannot be taken on an application whose current clearances are `views`; empty when it can."""
    if decision.kind == OfficerDecisionKind.expedite:
        if not expedite_waiting:
            return [Problem(path="kind", message=f"application {application_id} has no expedite request waiting "
                                                 "for a decision")]
        if decision.outcome == Outcome.information_required:
            return [Problem(path="outcome", message="an expedite request is granted (approved) or refused (rejected), "
                                                    "not questioned")]
        return []
    if not decision.agency:
        return [Problem(path="agency", message=f"a {decision.kind.value} decision names the agency whose clearance it "
                                               "decides")]
    view = next((v for v in views if v.agency == decision.agency), None)
    if view is None:
        agencies = ", ".join(v.agency for v in views) or "none yet"
        return [Problem(path="agency", message=f"{decision.agency!r} is not an agency of application {application_id} "
                                               f"(its agencies: {agencies})")]
    where = f"the {decision.agency} clearance of {application_id}"
    if decision.kind == OfficerDecisionKind.override:
        if view.rejection_to_confirm:
            return [Problem(path="kind", message=f"{where} is a rejection to confirm: decide it with kind clearance")]
        if view.status not in OVERRIDABLE:
            return [Problem(path="kind", message=f"{where} is {view.status.value}; only a final outcome (approved, "
                                                 "approved_with_conditions, rejected, deemed_approved) can be overridden")]
        if decision.outcome == Outcome.information_required:
            return [Problem(path="outcome", message="an override is approved, approved_with_conditions or rejected")]
        if view.status.value == decision.outcome.value:
            return [Problem(path="outcome", message=f"{where} is already {view.status.value}")]
        return []
    if view.rejection_to_confirm:
        if decision.outcome == Outcome.information_required:
            return [Problem(path="outcome", message=f"{where} is a rejection to confirm: confirm it (rejected) or "
                                                    "override it (approved, approved_with_conditions)")]
        return []
    if view.status.is_final:
        return [Problem(path="agency", message=f"{where} is already {view.status.value}; use kind override to change "
                                               "a final outcome")]
    if decision.outcome == Outcome.information_required and view.status == ClearanceStatus.information_required:
        return [Problem(path="outcome", message=f"{where} already waits on the applicant "
                                                f"(request {view.information_request_id})")]
    return []


def overridden(view: ClearanceView, decision: OfficerDecision, now: dt.datetime) -> ClearanceView:
    """The officer's outcome replaces a final one (or an agency's rejection to confirm), with the reason."""
    if view.rejection_to_confirm:
        before = f"agency rejected: {view.reason or 'rejected'}"
    else:
        before = f"was {view.status.value}" + (f": {view.reason}" if view.reason else "")
    return view.model_copy(update={
        "status": ClearanceStatus(decision.outcome.value),
        "conditions": list(decision.conditions),
        "reason": f"officer override by {decision.officer}: {decision.reason} ({before})",
        "decided_by": decision.officer,
        "needs_officer": False,
        "rejection_to_confirm": False,
        "decided_at": view.decided_at or now,
    })


def confirmed(view: ClearanceView) -> ClearanceView:
    """An agency's rejection, confirmed by an officer: final; it rejects the application."""
    return view.model_copy(update={"needs_officer": False, "rejection_to_confirm": False})


def decided_here(view: ClearanceView, decision: OfficerDecision, now: dt.datetime) -> ClearanceView:
    """An officer's outcome for a clearance without a running workflow (never sent, or its workflow failed)."""
    return rules.decided(view, ClearanceStatus(decision.outcome.value), now, now, conditions=decision.conditions,
                         reason=decision.reason, decided_by=decision.officer)
