"""Reading incentives from the read model: the list a caller may see, the committee queue, and the money per status."""

from __future__ import annotations

import datetime as dt

import asyncpg
from pydantic import BaseModel

from schemas.incentives import IncentiveStatus, Programme
from store.pool import acquire
from store.reports import MAX_PAGE, decode_cursor, encode_cursor


class IncentiveItem(BaseModel):
    id: str
    programme: Programme
    status: IncentiveStatus
    organisation_id: str | None
    permit_id: str
    fiscal_year: int
    production_title: str
    submitted_at: dt.datetime
    estimated_idr: int
    reserved_idr: int
    paid_idr: int
    clawed_back_idr: int
    committee_round: int
    approvals: int
    next_deadline: dt.datetime | None


class IncentivePage(BaseModel):
    items: list[IncentiveItem]
    next_cursor: str | None


class IncentiveFigure(BaseModel):
    """How many incentives of a programme are in a status, and their money."""

    programme: Programme
    status: IncentiveStatus
    count: int
    estimated_idr: int
    reserved_idr: int
    paid_idr: int
    clawed_back_idr: int


_COLUMNS = ("id, programme, status, organisation_id, permit_id, fiscal_year, production_title, submitted_at, "
            "estimated_idr, reserved_idr, paid_idr, clawed_back_idr, committee_round, approvals, next_deadline")


async def list_incentives(
    db: asyncpg.Pool | asyncpg.Connection, *, organisation_id: str | None = None, status: str | None = None,
    programme: str | None = None, cursor: str | None = None, limit: int = 50,
) -> IncentivePage:
    """Newest first; `organisation_id` scopes to one organisation (None: everyone's). A bad cursor is a ValueError."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    where, args = [], []
    if organisation_id is not None:
        args.append(organisation_id)
        where.append(f"organisation_id = ${len(args)}")
    if status is not None:
        args.append(status)
        where.append(f"status = ${len(args)}")
    if programme is not None:
        args.append(programme)
        where.append(f"programme = ${len(args)}")
    if cursor:
        after_time, after_id = decode_cursor(cursor)
        args.extend([after_time, after_id])
        where.append(f"(submitted_at, id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit + 1)
    sql = (f"SELECT {_COLUMNS} FROM incentives {'WHERE ' + ' AND '.join(where) if where else ''} "
           f"ORDER BY submitted_at DESC, id DESC LIMIT ${len(args)}")
    async with acquire(db) as conn:
        rows = await conn.fetch(sql, *args)
    items = [IncentiveItem(**dict(row)) for row in rows[:limit]]
    next_cursor = encode_cursor(items[-1].submitted_at, items[-1].id) if len(rows) > limit else None
    return IncentivePage(items=items, next_cursor=next_cursor)


async def committee_queue(db: asyncpg.Pool | asyncpg.Connection, limit: int = 200) -> list[IncentiveItem]:
    """Claims before the committee, the oldest application first."""
    async with acquire(db) as conn:
        rows = await conn.fetch(f"SELECT {_COLUMNS} FROM incentives WHERE status = 'committee' "
                                "ORDER BY submitted_at, id LIMIT $1", limit)
    return [IncentiveItem(**dict(row)) for row in rows]


async def figures(db: asyncpg.Pool | asyncpg.Connection, fiscal_year: int) -> list[IncentiveFigure]:
    """Per programme and status: how many, and the money estimated, reserved, paid and clawed back."""
    async with acquire(db) as conn:
        rows = await conn.fetch(
            """SELECT programme, status, count(*) AS count, sum(estimated_idr)::bigint AS estimated_idr,
                      sum(reserved_idr)::bigint AS reserved_idr, sum(paid_idr)::bigint AS paid_idr,
                      sum(clawed_back_idr)::bigint AS clawed_back_idr
               FROM incentives WHERE fiscal_year = $1 GROUP BY programme, status ORDER BY programme, status""",
            fiscal_year)
    return [IncentiveFigure(**dict(row)) for row in rows]
