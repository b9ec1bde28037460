"""Amendments (design §3): which changes are allowed, which agencies are asked again, and what is due then.

Pure functions: the permit workflow's `amend` validator refuses with `problems(...)`, and its
handler applies `revise(...)` and `fee_change(...)`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from schemas.application import PermitApplication
from schemas.contracts import ApplicationPlan, PermitWorkflowInput, RoutedAgency
from schemas.decisions import AmendmentResult
from schemas.problems import Problem
from schemas.status import Fees
from workflows.permit.clearances import agency_inputs


def problems(old: PermitApplication, new: PermitApplication, today: dt.date) -> list[Problem]:
    """Why `new` cannot replace `old`, each at its field path; empty when the amendment is acceptable.

    A date before `today` (Jakarta) is refused unless the same location already had it (a day already shot).
    """
    found: list[Problem] = []
    if new.applicant.company != old.applicant.company:
        found.append(Problem(path="applicant.company", message=(
            f"{new.applicant.company!r} differs from {old.applicant.company!r}; an amendment cannot move the "
            "application to another company: submit a new application")))
    if new.applicant.country != old.applicant.country:
        found.append(Problem(path="applicant.country",
                             message=f"{new.applicant.country!r} differs from {old.applicant.country!r}"))
    had = {(loc.name, day.date) for loc in old.locations for day in loc.days}
    for i, loc in enumerate(new.locations):
        for j, day in enumerate(loc.days):
            if day.date < today and (loc.name, day.date) not in had:
                found.append(Problem(path=f"locations[{i}].days[{j}].date",
                                     message=f"{day.date} is before today ({today}, Asia/Jakarta); choose a date "
                                             "from today on"))
    if not found and new == old:
        found.append(Problem(path="application", message="the amendment changes nothing; send the changed application"))
    return found


def first_day_path(app: PermitApplication) -> str:
    """The field path of the application's first shoot day (where a too-short lead time is reported)."""
    for i, location in enumerate(app.locations):
        for j, day in enumerate(location.days):
            if day.date == app.first_shoot_date:
                return f"locations[{i}].days[{j}].date"
    return "locations"


@dataclass(frozen=True)
class Revision:
    """What a new revision does to the clearances: which are kept, which agencies are asked (again), which dropped."""

    result: AmendmentResult
    kept: dict[str, list[str]] = field(default_factory=dict)  # agency -> its dependencies under the new plan
    ask: list[RoutedAgency] = field(default_factory=list)  # a new request, in the new plan's order
    order: list[str] = field(default_factory=list)  # the new plan's agencies, in order


def revise(old: PermitWorkflowInput, old_plan: ApplicationPlan, new: PermitWorkflowInput, new_plan: ApplicationPlan,
           revision: int) -> Revision:
    """Compare what each agency sees before and after: the same inputs keep their clearance, others are asked again."""
    before = {r.agency.code.value: r for r in old_plan.agencies}
    result = AmendmentResult(revision=revision)
    kept: dict[str, list[str]] = {}
    ask: list[RoutedAgency] = []
    for routed in new_plan.agencies:
        code = routed.agency.code.value
        if code in before and agency_inputs(old, before[code]) == agency_inputs(new, routed):
            result.kept.append(code)
            kept[code] = list(routed.depends_on)
            continue
        (result.requested_again if code in before else result.added).append(code)
        ask.append(routed)
    now_routed = {r.agency.code.value for r in new_plan.agencies}
    result.withdrawn.extend(code for code in before if code not in now_routed)
    return Revision(result=result, kept=kept, ask=ask, order=[r.agency.code.value for r in new_plan.agencies])


@dataclass(frozen=True)
class FeeChange:
    fees: Fees
    due_idr: int
    detail: str | None  # the timeline's words for the change; None when the total did not change


def fee_change(old: Fees | None, new: Fees, paid_idr: int, revision: int) -> FeeChange:
    """The new revision's fees: what was paid counts, only a difference is due (an overpayment is refunded)."""
    due = max(new.total_idr - paid_idr, 0)
    if old is not None and old.total_idr == new.total_idr:
        return FeeChange(old.model_copy(update={"lines": new.lines, "schedule_version": new.schedule_version}), due, None)
    fees = new.model_copy(update={"paid_at": old.paid_at, "payment_id": old.payment_id}) if due == 0 and old else new
    detail = (f"revision {revision}: total {new.total_idr} IDR (was {old.total_idr if old else 0} IDR); "
              f"paid {paid_idr} IDR; due {due} IDR")
    if paid_idr > new.total_idr:
        detail += "; the overpayment is refunded by the commission"
    return FeeChange(fees, due, detail)
