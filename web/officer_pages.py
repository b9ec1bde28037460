"""The officer dashboard's other pages: the incentive committee and the funds, SLA per agency over a period with the
open breaches and the agencies' health. They read and act through the JSON API's functions (api.funds,
api.reports, api.incentive_officer), so the same account sees and may do the same things."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api import funds as funds_api
from api import reports as reports_api
from api.incentive_officer import CommitteeBody, committee_vote
from api.problems import ApiProblem
from store import incentive_reports, reports
from store.accounts import Role
from web.pages import PREFIX, PageRoute, render, see_other, signed_in
from web.routes import _body, _ctx, _form, _key, _pool

router = APIRouter(prefix=f"{PREFIX}/officer", route_class=PageRoute, include_in_schema=False)

Day = Annotated[str | None, Query(max_length=20)]
Year = Annotated[int | None, Query(ge=2020, le=2100)]


async def _committee_values(request: Request, year: int | None) -> dict:
    ctx, pool = _ctx(request), _pool(request)
    principal = await signed_in(request, Role.officer, Role.auditor)
    fiscal_year = year or ctx.today().year
    fund = await funds_api.fund_view(fiscal_year, ctx, principal, pool)
    return {
        "principal": principal, "items": await incentive_reports.committee_queue(pool, limit=200), "fund": fund,
        "fund_max": max([max(p.capacity_idr, p.reserved_idr + p.paid_idr) for p in fund.programmes] + [1]),
        "fiscal_year": fiscal_year, "form_key": str(uuid.uuid4()),
    }


@router.get("/committee", response_class=HTMLResponse)
async def committee(request: Request, year: Year = None) -> Response:
    """Claims before the committee, oldest first, with a vote form each; the funds of the fiscal year as a chart."""
    values = await _committee_values(request, year)
    return render(request, "committee.html", **values)


@router.post("/incentives/{incentive_id}/vote", response_class=HTMLResponse)
async def vote(request: Request, incentive_id: str) -> Response:
    principal = await signed_in(request, Role.officer)
    form = await _form(request)
    try:
        body = _body(CommitteeBody, {"outcome": form.get("outcome", ""), "reason": form.get("reason", "")}, "vote")
        await committee_vote(request, _ctx(request), principal, incentive_id, body, _key(form))
    except ApiProblem as problem:
        if problem.document.status not in (409, 422):
            raise
        values = await _committee_values(request, None)
        return render(request, "committee.html", problem.document.status, problem=problem.document,
                      problem_for=incentive_id, **values)
    return see_other(f"{PREFIX}/officer/committee")


def _day(value: str | None, name: str, errors: dict[str, str]) -> dt.date | None:
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        errors[name] = "not a date (YYYY-MM-DD)"
        return None
    if not reports.FIRST_REPORT_DATE <= day <= reports.LAST_REPORT_DATE:
        errors[name] = f"between {reports.FIRST_REPORT_DATE} and {reports.LAST_REPORT_DATE}"
        return None
    return day


@router.get("/sla", response_class=HTMLResponse)
async def sla(request: Request, start: Annotated[str | None, Query(alias="from", max_length=20)] = None,
              end: Annotated[str | None, Query(alias="to", max_length=20)] = None) -> Response:
    """SLA compliance per agency over the chosen Jakarta dates (the last 30 days unless chosen), the open breaches and
    each agency's health (minutes it could not be reached in the period)."""
    principal = await signed_in(request, Role.officer, Role.auditor)
    ctx, pool = _ctx(request), _pool(request)
    today = ctx.today()
    errors: dict[str, str] = {}
    first = _day(start, "from", errors) if start is not None else today - dt.timedelta(days=30)
    last = _day(end, "to", errors) if end is not None else today
    rows, status = [], 200
    if errors:
        status = 422
    else:
        try:
            rows = await reports_api.agency_sla(principal, ctx, pool, first, last)
        except ApiProblem as problem:
            if problem.document.status != 422:
                raise
            errors, status = {p.path: p.message for p in problem.document.problems}, 422
    breaches = await reports.breaches(pool, ctx.now(), open_only=True, limit=200)
    return render(request, "sla.html", status, principal=principal, rows=rows, breaches=breaches, errors=errors,
                  start=start if start is not None else first.isoformat(),
                  end=end if end is not None else last.isoformat(),
                  sla_max=max([row.requests for row in rows] + [1]),
                  outage_max=max([row.outage_minutes for row in rows] + [1.0]))
