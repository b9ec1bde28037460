"""Officer reports from the read model: SLA figures per agency and the breach list (`/v1/sla/...`).

Officers and auditors read both. An agency clerk reads only its own agency's SLA row; the breach list,
which names other agencies' applications, is not for clerks (403). Applicants: 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Query, Request

from api.access import Reader, Staff
from api.auth import auth_responses
from api.context import Context
from api.problems import ApiProblem, responses
from schemas.problems import Problem
from schemas.reports import AgencySla, BreachRow
from store import reports

router = APIRouter(prefix="/v1/sla", tags=["reports"])


def read_model(request: Request) -> asyncpg.Pool:
    """The read model's pool; 503 when the API runs without one."""
    pool = getattr(request.app.state, "read_model", None)
    if pool is None:
        raise ApiProblem(
            503,
            "read model unavailable",
            "This API runs without its PostgreSQL read model, so reports and the permit list cannot be served; "
            "try again later (operators: check DATABASE_URL).",
            kind="read-model-unavailable",
        )
    return pool


ReadModel = Annotated[asyncpg.Pool, Depends(read_model)]


@router.get(
    "/agencies",
    response_model=list[AgencySla],
    summary="SLA figures per agency",
    description="Clearances requested (or accepted) on the Jakarta dates `from`..`to` (both inclusive, both "
    "optional): requests, decided, met, breached, open, open at risk, median and p90 turnaround in business "
    "days, deemed approvals, and minutes of outage within the window. Officers and auditors see every agency; "
    "an agency clerk only its own.",
    responses={**responses(422, 503), **auth_responses()},
)
async def agency_sla(
    principal: Reader,
    ctx: Context,
    pool: ReadModel,
    start: Annotated[dt.date | None, Query(alias="from", description="First Jakarta date (YYYY-MM-DD)",
                                           ge=reports.FIRST_REPORT_DATE, le=reports.LAST_REPORT_DATE)] = None,
    end: Annotated[dt.date | None, Query(alias="to", description="Last Jakarta date (YYYY-MM-DD), inclusive",
                                         ge=reports.FIRST_REPORT_DATE, le=reports.LAST_REPORT_DATE)] = None,
) -> list[AgencySla]:
    if start is not None and end is not None and start > end:
        message = f"the window runs backwards: from {start.isoformat()} is after to {end.isoformat()}"
        raise ApiProblem(
            422,
            "invalid request",
            f"{message}; swap them or move one.",
            kind="invalid-request",
            problems=[Problem(path="from", message=message), Problem(path="to", message=message)],
        )
    rows = await reports.agency_sla(pool, start, end, ctx.now())
    if principal.is_agency:
        rows = [row for row in rows if row.agency == principal.agency]
    return rows


@router.get(
    "/breaches",
    response_model=list[BreachRow],
    summary="Clearances past their due time, oldest first",
    description="Open breaches and those decided late, by due time (oldest first), at most `limit`. "
    "Officers and auditors.",
    responses={**responses(422, 503), **auth_responses()},
)
async def breach_list(
    principal: Staff,
    ctx: Context,
    pool: ReadModel,
    open_only: Annotated[bool, Query(alias="open", description="Only clearances not decided yet")] = False,
    limit: Annotated[int, Query(ge=1, le=reports.MAX_BREACHES)] = reports.DEFAULT_BREACHES,
) -> list[BreachRow]:
    return await reports.breaches(pool, ctx.now(), open_only=open_only, limit=limit)
