"""Hand-made read-model rows for the report tests, written with plain INSERTs."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import asyncpg

JAKARTA = ZoneInfo("Asia/Jakarta")


def jkt(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A moment given in Asia/Jakarta wall time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=JAKARTA)


async def add_application(
    conn: asyncpg.Connection | asyncpg.Pool,
    application_id: str,
    *,
    submitted_at: dt.datetime,
    status: str = "in_review",
    title: str = "Senja di Kota",
    company: str = "PT Contoh Film",
    locations: str = "Taman Suropati",
    agencies: tuple[str, ...] = ("parks",),
    permit_number: str | None = None,
    next_deadline: dt.datetime | None = None,
    organisation_id: str | None = None,
) -> None:
    await conn.execute(
        """INSERT INTO applications (id, status, submitted_at, production_title, applicant_company, location_names,
                                     agencies, permit_number, next_deadline, organisation_id, snapshot, projected_seq)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '{}'::jsonb, 1)""",
        application_id, status, submitted_at, title, company, locations, list(agencies), permit_number, next_deadline,
        organisation_id,
    )


async def add_clearance(
    conn: asyncpg.Connection | asyncpg.Pool,
    application_id: str,
    agency: str,
    *,
    requested_at: dt.datetime | None,
    status: str = "submitted",
    revision: int = 1,
    accepted_at: dt.datetime | None = None,
    due_at: dt.datetime | None = None,
    breached_at: dt.datetime | None = None,
    decided_at: dt.datetime | None = None,
    sla: str | None = None,
    outcome: str | None = None,
    turnaround: int | None = None,
) -> None:
    await conn.execute(
        """INSERT INTO clearances (application_id, agency, revision, status, requested_at, accepted_at, due_at,
                                   breached_at, decided_at, sla, outcome, turnaround_business_days)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
        application_id, agency, revision, status, requested_at, accepted_at or requested_at, due_at, breached_at,
        decided_at, sla, outcome, turnaround,
    )


async def add_outage(
    conn: asyncpg.Connection | asyncpg.Pool,
    application_id: str,
    agency: str,
    episode: int,
    started_at: dt.datetime,
    recovered_at: dt.datetime | None,
) -> None:
    await conn.execute(
        """INSERT INTO agency_outages (application_id, agency, revision, episode, started_at, recovered_at,
                                       failed_attempts)
           VALUES ($1, $2, 1, $3, $4, $5, 3)""",
        application_id, agency, episode, started_at, recovered_at,
    )
