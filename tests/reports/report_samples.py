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


SLA_FIGURES = ("requests", "decided", "met", "breached", "open", "open_at_risk", "deemed_approvals")

# The SLA figures counted from the clearances themselves, per agency, Jakarta day or month ({period}) and turnaround.
_RECOUNT = """
SELECT agency, {period} AS period, coalesce(turnaround_business_days, -1) AS turnaround,
       count(*) AS requests,
       count(*) FILTER (WHERE decided_at IS NOT NULL) AS decided,
       count(*) FILTER (WHERE sla = 'met') AS met,
       count(*) FILTER (WHERE breached_at IS NOT NULL) AS breached,
       count(*) FILTER (WHERE decided_at IS NULL AND status <> 'withdrawn') AS open,
       count(*) FILTER (WHERE decided_at IS NULL AND status <> 'withdrawn' AND sla = 'at_risk') AS open_at_risk,
       count(*) FILTER (WHERE outcome = 'deemed_approved') AS deemed_approvals
FROM (SELECT *, (coalesce(requested_at, accepted_at) AT TIME ZONE 'Asia/Jakarta')::date AS day FROM clearances
      WHERE coalesce(requested_at, accepted_at) IS NOT NULL) c
GROUP BY 1, 2, 3
"""


async def assert_sla_figures_match_a_recount(db: asyncpg.Connection | asyncpg.Pool) -> None:
    """sla_daily and sla_monthly hold what counting the clearances gives, each clearance once (rows that went back
    to zero left out)."""

    def table(rows) -> dict[tuple, tuple]:
        return {(r["agency"], r["period"], r["turnaround"]): tuple(r[n] for n in SLA_FIGURES)
                for r in rows if any(r[n] for n in SLA_FIGURES)}

    figures = ", ".join(SLA_FIGURES)
    daily = table(await db.fetch(f"SELECT agency, day AS period, turnaround, {figures} FROM sla_daily"))
    monthly = table(await db.fetch(f"SELECT agency, month AS period, turnaround, {figures} FROM sla_monthly"))
    assert daily == table(await db.fetch(_RECOUNT.format(period="day")))
    assert monthly == table(await db.fetch(_RECOUNT.format(period="date_trunc('month', day::timestamp)::date")))
